// The Haven taxonomy: the HSDS taxonomy terms by which Haven's enums and extra values
// (service kind, whom a shelter takes, accessibility, organisation type, country, time zone,
// who last gave the free places) travel as HSDS attributes. Listed in docs/hsds.md.
#ifndef HAVEN_SERVICES_PROTECTION_HSDS_TAXONOMY_H_
#define HAVEN_SERVICES_PROTECTION_HSDS_TAXONOMY_H_

#include <string>

#include "absl/strings/string_view.h"

namespace haven::protection::hsds {

// taxonomy_term.taxonomy of every Haven term.
inline constexpr absl::string_view kHavenTaxonomy = "urn:haven:hsds:taxonomy:1";

// What a term says; the first four stand for an enum value, the rest carry the attribute's
// `value`.
enum class TermGroup {
  kServiceKind,       // v1::ServiceKind, on a service
  kShelterGroup,      // v1::ShelterGroup, on a service
  kAccessibility,     // v1::AccessibilityFeature, on an accessibility record
  kOrganisationType,  // v1::OrganisationType, on an organization
  kCountry,           // Organisation.country, on an organization
  kTimeZone,          // ProviderService.time_zone, on a service
  kFreePlacesBy,      // ShelterPlaces.free_places_by, on a service
};

struct Term {
  absl::string_view code;
  absl::string_view name;
  absl::string_view description;
  TermGroup group;
  int enum_value;  // the enum's number for the enum groups; 0 for the others
};

// The term for an enum value of `group` (0 for the groups that carry a value); nullptr for
// UNSPECIFIED and unknown values.
const Term* TermFor(TermGroup group, int enum_value);
// The term with `code`; nullptr when Haven's taxonomy has none.
const Term* TermWithCode(absl::string_view code);
// The term's taxonomy_term id (derived from its code).
std::string TermId(const Term& term);
// attribute.link_type for the group's terms.
absl::string_view LinkType(TermGroup group);
// Whether the group's terms carry a value rather than stand for an enum value.
bool CarriesValue(TermGroup group);

}  // namespace haven::protection::hsds

#endif  // HAVEN_SERVICES_PROTECTION_HSDS_TAXONOMY_H_
