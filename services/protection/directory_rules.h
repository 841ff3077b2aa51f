// Directory rules: what a well-formed directory entry is, and whether a service fits a seeker.
#ifndef HAVEN_SERVICES_PROTECTION_DIRECTORY_RULES_H_
#define HAVEN_SERVICES_PROTECTION_DIRECTORY_RULES_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "haven/v1/protection.pb.h"

namespace haven::protection {

// INVALID_ARGUMENT naming the field and what to fix when an entry is not
// well formed (names, enums, ISO codes, times, e-mail, web address, places).
absl::Status CheckProfile(const haven::v1::ProviderProfile& profile);
absl::Status CheckLocation(const haven::v1::ProviderLocation& location);
absl::Status CheckService(const haven::v1::ProviderService& service);
// The same for a search.
absl::Status CheckSearch(const haven::v1::SearchServicesRequest& request);

// Whether the service is open at `when`: always when open all hours; else
// within one of its opening hours in its time zone (or `default_zone`).
// A service with no hours (by appointment) is never open at a given time.
bool OpenAt(const haven::v1::ProviderService& service, absl::Time when,
            absl::TimeZone default_zone);

// Whether a service (with its locations) answers a search: active, of the
// kind, in the language, taking the seeker (group, age, a family place for
// their children), with free places for them all when asked, open then,
// and with every accessibility feature asked at one of its locations.
bool Answers(const haven::v1::ServiceMatch& match, const haven::v1::SearchServicesRequest& request,
             absl::TimeZone default_zone);

}  // namespace haven::protection

#endif  // HAVEN_SERVICES_PROTECTION_DIRECTORY_RULES_H_
