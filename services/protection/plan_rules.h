// Plan rules: how a service plan's items move, and how their referrals move them.
#ifndef HAVEN_SERVICES_PROTECTION_PLAN_RULES_H_
#define HAVEN_SERVICES_PROTECTION_PLAN_RULES_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "haven/v1/protection.pb.h"
#include "haven/v1/referral.pb.h"

namespace haven::protection {

// OK when an item may move from `from` to `to`; FAILED_PRECONDITION naming
// the move and the rule otherwise. Referring is ReferPlanItem's move alone.
absl::Status CheckItemMove(haven::v1::PlanItemStatus from, haven::v1::PlanItemStatus to);

// Where an item stands, given its referral as it stands now (nullopt when it
// has none): a referred item follows its referral (accepted: in progress;
// completed: delivered; declined or expired: declined; cancelled:
// cancelled).
haven::v1::PlanItemStatus StatusOf(const haven::v1::PlanItem& item,
                                   const std::optional<haven::v1::Referral>& referral);

// Whether an item is delivered, declined or cancelled.
bool IsFinished(haven::v1::PlanItemStatus status);

// Whether an item (with its status as it stands) is past its due time and
// not finished.
bool IsOverdue(const haven::v1::PlanItem& item, absl::Time now);

// The referral purpose for help of `kind`.
haven::v1::ReferralPurpose PurposeFor(haven::v1::ServiceKind kind);

// INVALID_ARGUMENT naming the field when a planned item's own fields
// (kind, need, provider, due time) are not well formed.
absl::Status CheckPlannedItem(const haven::v1::PlanItem& item);

}  // namespace haven::protection

#endif  // HAVEN_SERVICES_PROTECTION_PLAN_RULES_H_
