// Permit rules: how a residence permit's decision moves it, and which permits are in force.
#ifndef HAVEN_SERVICES_PROTECTION_PERMIT_RULES_H_
#define HAVEN_SERVICES_PROTECTION_PERMIT_RULES_H_

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "haven/v1/protection.pb.h"

namespace haven::protection {

// OK when a permit may move from `from` to `to` (applied → granted, refused
// or withdrawn; granted → withdrawn); FAILED_PRECONDITION naming the rule.
absl::Status CheckPermitMove(haven::v1::PermitStatus from, haven::v1::PermitStatus to);

// INVALID_ARGUMENT naming the field when a permit's fields do not hold
// together: a known type, a granted permit's expiry (unless permanent)
// after its start, times not in the future beyond `now`, short texts.
absl::Status CheckPermit(const haven::v1::ResidencePermit& permit, absl::Time now);

// Each permit with in_force and days_left set as of `now`: in force when
// granted and not renewed by another granted permit of the list.
std::vector<haven::v1::ResidencePermit> AsOf(std::vector<haven::v1::ResidencePermit> permits,
                                             absl::Time now);

// The first expiry of the permits in force (as AsOf gives them), if any.
std::optional<absl::Time> FirstExpiry(const std::vector<haven::v1::ResidencePermit>& permits);

}  // namespace haven::protection

#endif  // HAVEN_SERVICES_PROTECTION_PERMIT_RULES_H_
