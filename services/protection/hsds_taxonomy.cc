// The Haven taxonomy's terms (see hsds_taxonomy.h and docs/hsds.md).
#include "services/protection/hsds_taxonomy.h"

#include "services/protection/hsds_format.h"

namespace haven::protection::hsds {
namespace {

using G = TermGroup;

// DO NOT CHANGE THE CODES: other systems hold them. New terms are added.
constexpr Term kTerms[] = {
    {"service-kind/shelter", "Shelter", "Safe accommodation.", G::kServiceKind, 1},
    {"service-kind/medical", "Medical care", "Medical examination and care.", G::kServiceKind, 2},
    {"service-kind/psychological", "Psychological support",
     "Counselling, psychological and psychiatric support.", G::kServiceKind, 3},
    {"service-kind/legal-aid", "Legal aid", "Legal advice and representation.", G::kServiceKind, 4},
    {"service-kind/interpretation", "Interpretation", "Interpreters and translation.",
     G::kServiceKind, 5},
    {"service-kind/education", "Education", "Schooling and language courses.", G::kServiceKind, 6},
    {"service-kind/vocational-training", "Vocational training", "Training for work.",
     G::kServiceKind, 7},
    {"service-kind/housing", "Housing", "Help to find longer-term housing.", G::kServiceKind, 8},
    {"service-kind/financial-assistance", "Financial assistance", "Allowances and grants.",
     G::kServiceKind, 9},
    {"service-kind/family-tracing", "Family tracing", "Tracing and reuniting family members.",
     G::kServiceKind, 10},
    {"service-kind/other", "Other help", "Help of another kind.", G::kServiceKind, 11},
    {"shelter-group/women", "Women", "Takes adult women.", G::kShelterGroup, 1},
    {"shelter-group/men", "Men", "Takes adult men.", G::kShelterGroup, 2},
    {"shelter-group/children", "Unaccompanied children", "Takes unaccompanied children.",
     G::kShelterGroup, 3},
    {"shelter-group/families", "Families", "Takes adults with their children.", G::kShelterGroup,
     4},
    {"accessibility/wheelchair", "Wheelchair access", "Wheelchair users can enter and move about.",
     G::kAccessibility, 1},
    {"accessibility/step-free", "Step-free access", "No steps on the way in.", G::kAccessibility,
     2},
    {"accessibility/accessible-toilet", "Accessible toilet", "A toilet for disabled people.",
     G::kAccessibility, 3},
    {"accessibility/hearing-loop", "Hearing loop", "An induction loop for hearing aids.",
     G::kAccessibility, 4},
    {"accessibility/sign-language", "Sign language", "Staff or interpreters who sign.",
     G::kAccessibility, 5},
    {"accessibility/braille", "Braille", "Signs and papers in Braille.", G::kAccessibility, 6},
    {"organisation-type/ngo", "Non-governmental organisation", "An NGO.", G::kOrganisationType, 1},
    {"organisation-type/law-enforcement", "Law enforcement", "Police or border police.",
     G::kOrganisationType, 2},
    {"organisation-type/competent-authority", "Competent authority",
     "The authority that identifies victims.", G::kOrganisationType, 3},
    {"organisation-type/service-provider", "Service provider",
     "Provides shelter, care or other help.", G::kOrganisationType, 4},
    {"organisation-type/hotline", "Hotline", "A helpline.", G::kOrganisationType, 5},
    {"organisation-type/international-organisation", "International organisation",
     "An intergovernmental organisation.", G::kOrganisationType, 6},
    {"organisation-type/consulate", "Consulate", "A foreign state's consulate or embassy.",
     G::kOrganisationType, 7},
    {"country", "Country", "The ISO 3166-1 alpha-2 code of the country it works in (value).",
     G::kCountry, 0},
    {"time-zone", "Time zone", "The IANA time zone of the service's schedules (value).",
     G::kTimeZone, 0},
    {"free-places-by", "Free places given by",
     "The Haven user id of who last gave the free places (value).", G::kFreePlacesBy, 0},
};

}  // namespace

const Term* TermFor(TermGroup group, int enum_value) {
  for (const Term& term : kTerms) {
    if (term.group == group && term.enum_value == enum_value) return &term;
  }
  return nullptr;
}

const Term* TermWithCode(absl::string_view code) {
  for (const Term& term : kTerms) {
    if (term.code == code) return &term;
  }
  return nullptr;
}

std::string TermId(const Term& term) { return DerivedUuid("taxonomy", term.code, 0); }

absl::string_view LinkType(TermGroup group) {
  switch (group) {
    case G::kServiceKind:
      return "service_kind";
    case G::kShelterGroup:
      return "eligibility";
    case G::kAccessibility:
      return "accessibility";
    case G::kOrganisationType:
      return "organization_type";
    case G::kCountry:
      return "country";
    case G::kTimeZone:
      return "time_zone";
    case G::kFreePlacesBy:
      return "free_places_by";
  }
  return "";
}

bool CarriesValue(TermGroup group) {
  return group == G::kCountry || group == G::kTimeZone || group == G::kFreePlacesBy;
}

}  // namespace haven::protection::hsds
