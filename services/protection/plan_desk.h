// PlanDesk: each case's service plan: planning, approval, referral of an item to its provider,
// and the provider's record of delivery, all through the CaseDoor.
#ifndef HAVEN_SERVICES_PROTECTION_PLAN_DESK_H_
#define HAVEN_SERVICES_PROTECTION_PLAN_DESK_H_

#include "absl/status/statusor.h"
#include "haven/v1/protection.pb.h"
#include "services/referral/referral_desk.h"
#include "storage/access/accounts.h"
#include "storage/access/case_door.h"
#include "storage/access/provider_directory.h"
#include "storage/clock.h"

namespace haven::protection {

class PlanDesk {
 public:
  PlanDesk(access::CaseDoor* door, referral::ReferralDesk* referrals,
           const access::Accounts* accounts, access::ProviderDirectory* directory,
           const Clock* clock)
      : door_(door),
        referrals_(referrals),
        accounts_(accounts),
        directory_(directory),
        clock_(clock) {}

  // Keeps each case's plan bookkeeping (the due watch, the services waited
  // on) right when a referral moves, in that move's passage: an item follows
  // its referral. Call once, before serving.
  void FollowReferrals();

  // The plan as the caller may see it: every item for the owning
  // organisation, only its own items for a provider.
  absl::StatusOr<haven::v1::ServicePlan> Get(const access::RequestContext& ctx,
                                             const haven::v1::GetServicePlanRequest& request);
  // The owning organisation's caseworkers and supervisors plan; each change
  // makes a new version of the plan, which needs approval again.
  absl::StatusOr<haven::v1::ServicePlan> AddItem(const access::RequestContext& ctx,
                                                 const haven::v1::AddPlanItemRequest& request);
  absl::StatusOr<haven::v1::ServicePlan> UpdateItem(const access::RequestContext& ctx,
                                                    const haven::v1::UpdatePlanItemRequest& request);
  // A supervisor of the owning organisation approves the version it read.
  absl::StatusOr<haven::v1::ServicePlan> Approve(const access::RequestContext& ctx,
                                                 const haven::v1::ApproveServicePlanRequest& request);
  // Refers a planned item of an approved plan to its provider: the referral
  // and the item's move in one transaction, or neither.
  absl::StatusOr<haven::v1::ReferPlanItemResponse> Refer(
      const access::RequestContext& ctx, const haven::v1::ReferPlanItemRequest& request);
  // The provider's staff (through the referral they accepted) or the owning
  // organisation record that an item was delivered.
  absl::StatusOr<haven::v1::ServicePlan> RecordDelivery(
      const access::RequestContext& ctx, const haven::v1::RecordServiceDeliveryRequest& request);
  // Items past their due time and not finished, on the cases the caller
  // reaches (a page of cases at a time).
  absl::StatusOr<haven::v1::ListOverduePlanItemsResponse> ListOverdue(
      const access::RequestContext& ctx, const haven::v1::ListOverduePlanItemsRequest& request);

 private:
  // Checks that the item's provider (and its directory service, if named)
  // can provide help.
  absl::Status CheckProvider(const access::RequestContext& ctx, const haven::v1::PlanItem& item);
  // The plan of the open scope as the caller may see it.
  absl::StatusOr<haven::v1::ServicePlan> Present(access::CaseScope& scope);

  access::CaseDoor* door_;
  referral::ReferralDesk* referrals_;
  const access::Accounts* accounts_;
  access::ProviderDirectory* directory_;
  const Clock* clock_;
};

}  // namespace haven::protection

#endif  // HAVEN_SERVICES_PROTECTION_PLAN_DESK_H_
