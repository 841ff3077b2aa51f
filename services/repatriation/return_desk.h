// ReturnDesk: a case's return plans, from proposal through approval, travel and reception to
// reintegration follow-ups, all through the CaseDoor.
#ifndef HAVEN_SERVICES_REPATRIATION_RETURN_DESK_H_
#define HAVEN_SERVICES_REPATRIATION_RETURN_DESK_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "haven/v1/repatriation.pb.h"
#include "services/cases/case_file.h"
#include "services/referral/partner_desk.h"
#include "services/referral/referral_desk.h"
#include "storage/access/accounts.h"
#include "storage/access/case_door.h"
#include "storage/clock.h"

namespace haven::repatriation {

class ReturnDesk {
 public:
  struct Options {
    // Where calendar days (travel dates, follow-ups) are counted.
    absl::TimeZone time_zone = absl::UTCTimeZone();
  };

  ReturnDesk(access::CaseDoor* door, referral::ReferralDesk* referrals,
             const access::Accounts* accounts, const Clock* clock, Options options)
      : door_(door), referrals_(referrals), accounts_(accounts), clock_(clock), options_(options) {}

  // Registers with the case file: when the subject refuses or withdraws
  // consent to return, each open return plan of the case is suspended and
  // its return officer alerted in that same transaction.
  void WatchConsents(cases::CaseFile* file);
  // Registers with the partner desk: when the partner abroad completes a
  // reception (the person is received), the first follow-up's overdue time
  // is watched on the case in that same transaction; a follow-up it reports
  // is recorded on the plan handed over through that referral.
  void WatchReceptions(referral::PartnerDesk* partners);

  // The owning organisation's caseworkers and supervisors propose, assess,
  // and refer; its supervisors approve.
  absl::StatusOr<haven::v1::ReturnPlan> Create(const access::RequestContext& ctx,
                                               const haven::v1::CreateReturnPlanRequest& request);
  absl::StatusOr<haven::v1::ReturnPlan> Get(const access::RequestContext& ctx,
                                            const haven::v1::GetReturnPlanRequest& request);
  absl::StatusOr<haven::v1::ListReturnPlansResponse> List(
      const access::RequestContext& ctx, const haven::v1::ListReturnPlansRequest& request);
  absl::StatusOr<haven::v1::ReturnPlan> Assess(const access::RequestContext& ctx,
                                               const haven::v1::AssessReturnRisksRequest& request);
  absl::StatusOr<haven::v1::ReturnPlan> Approve(const access::RequestContext& ctx,
                                                const haven::v1::ApproveReturnRequest& request);
  // The return referral to an international organisation or consulate and
  // the plan's change, in one transaction.
  absl::StatusOr<haven::v1::ReferReturnPlanResponse> Refer(
      const access::RequestContext& ctx, const haven::v1::ReferReturnPlanRequest& request);
  // The owning organisation, or the organisation the plan was referred to
  // (its return officers, caseworkers and supervisors), record the journey.
  absl::StatusOr<haven::v1::ReturnPlan> TakeOn(const access::RequestContext& ctx,
                                               const haven::v1::TakeOnReturnPlanRequest& request);
  absl::StatusOr<haven::v1::ReturnPlan> RecordDocuments(
      const access::RequestContext& ctx, const haven::v1::RecordTravelDocumentsRequest& request);
  // Travel and reception; a reception by a partner mechanism is a
  // transnational referral made with the plan's move, in one transaction.
  absl::StatusOr<haven::v1::ScheduleReturnResponse> Schedule(
      const access::RequestContext& ctx, const haven::v1::ScheduleReturnRequest& request);
  absl::StatusOr<haven::v1::ReturnPlan> RecordDeparture(
      const access::RequestContext& ctx, const haven::v1::RecordDepartureRequest& request);
  absl::StatusOr<haven::v1::ReturnPlan> RecordArrival(
      const access::RequestContext& ctx, const haven::v1::RecordArrivalRequest& request);
  absl::StatusOr<haven::v1::ReturnPlan> RecordFollowUp(
      const access::RequestContext& ctx, const haven::v1::RecordFollowUpRequest& request);
  // The owning organisation holds, resumes, cancels and closes.
  absl::StatusOr<haven::v1::ReturnPlan> Suspend(
      const access::RequestContext& ctx, const haven::v1::ReturnStatusChangeRequest& request);
  absl::StatusOr<haven::v1::ReturnPlan> Resume(
      const access::RequestContext& ctx, const haven::v1::ReturnStatusChangeRequest& request);
  absl::StatusOr<haven::v1::ReturnPlan> Cancel(
      const access::RequestContext& ctx, const haven::v1::ReturnStatusChangeRequest& request);
  absl::StatusOr<haven::v1::ReturnPlan> Close(const access::RequestContext& ctx,
                                              const haven::v1::CloseReturnRequest& request);
  // Follow-ups due by a day across the cases the caller's organisation
  // reaches, a page of cases at a time. Only cases whose follow-up watch
  // falls due by then are opened; the server's due alerts tell the plan's
  // return officer (or the case's caseworkers) of an overdue one, once.
  absl::StatusOr<haven::v1::ListDueFollowUpsResponse> ListDueFollowUps(
      const access::RequestContext& ctx, const haven::v1::ListDueFollowUpsRequest& request);

  // A return received from a partner mechanism abroad (its return referral,
  // completed here when the person arrived): the receiving organisation's
  // caseworkers and supervisors record the follow-ups, each queued for the
  // partner in the same transaction.
  absl::StatusOr<haven::v1::ReceivedReturn> GetReceived(
      const access::RequestContext& ctx, const haven::v1::GetReceivedReturnRequest& request);
  absl::StatusOr<haven::v1::ReceivedReturn> RecordReceivedFollowUp(
      const access::RequestContext& ctx, const haven::v1::RecordReceivedFollowUpRequest& request);

 private:
  // Runs `change` on the plan in one passage and returns the plan as the
  // caller may see it afterwards.
  using Change = std::function<absl::Status(access::CaseScope&, haven::v1::ReturnPlan&,
                                            const std::string& raw_plan_id)>;
  absl::StatusOr<haven::v1::ReturnPlan> OnPlan(const access::RequestContext& ctx,
                                               absl::string_view case_id,
                                               absl::string_view plan_id,
                                               absl::string_view audit_action,
                                               const Change& change);
  // The plan with its status as it stands and its follow-ups (Compose), and
  // as the caller may see it (Present).
  absl::StatusOr<haven::v1::ReturnPlan> Compose(access::CaseScope& scope,
                                                haven::v1::ReturnPlan plan,
                                                const std::string& raw_plan_id);
  absl::StatusOr<haven::v1::ReturnPlan> Present(access::CaseScope& scope,
                                                haven::v1::ReturnPlan plan,
                                                const std::string& raw_plan_id);
  // Records a received plan's follow-up `in`, moves the plan to
  // REINTEGRATING and alerts when the person was not reached. A repeat of a
  // follow-up the partner reported (`over_partner_link`) is accepted as done.
  absl::Status SaveFollowUp(access::CaseScope& scope, const haven::v1::ReturnPlan& plan,
                            const std::string& raw_plan_id, const haven::v1::FollowUp& in,
                            bool over_partner_link);
  // The follow-up a partner abroad reported on `referral`, recorded on the
  // plan handed over through it.
  absl::Status RecordReportedFollowUp(access::CaseScope& scope, const haven::v1::Referral& referral,
                                      haven::v1::FollowUp in);
  // Runs `change` (may be null) on a return received from abroad and
  // returns it as the caller may see it.
  using ReceivedChange = std::function<absl::Status(
      access::CaseScope&, const haven::v1::Referral&, const std::string& raw_referral_id,
      absl::Time arrival)>;
  absl::StatusOr<haven::v1::ReceivedReturn> OnReceived(const access::RequestContext& ctx,
                                                       absl::string_view case_id,
                                                       absl::string_view referral_id,
                                                       absl::string_view audit_action,
                                                       const ReceivedChange& change);
  // The follow-up `in` as the caller records it now, due `in.months()`
  // after `arrival`.
  haven::v1::FollowUp Recorded(const access::CaseScope& scope, const haven::v1::FollowUp& in,
                               absl::Time arrival) const;
  // The 1-, 3-, 6- and 12-month follow-ups after `arrival`, with what of
  // them is recorded under `raw_followed_id` in records of `kind`.
  absl::StatusOr<std::vector<haven::v1::FollowUp>> FollowUpsAfter(
      access::CaseScope& scope, access::RecordKind kind, const std::string& raw_followed_id,
      absl::Time arrival, bool open);
  // Suspends the case's open plans and alerts their officers.
  absl::Status SuspendForConsent(access::CaseScope& scope, haven::v1::ConsentPurpose purpose);
  // Sets the case's follow-up watch to the first overdue time of a
  // follow-up not recorded on its open plans (none: cleared).
  absl::Status RefreshFollowUpWatch(access::CaseScope& scope);
  // The moment a follow-up due on `day` becomes overdue: the next day's start.
  absl::Time OverdueFrom(absl::CivilDay day) const;
  absl::CivilDay Today() const;

  access::CaseDoor* door_;
  referral::ReferralDesk* referrals_;
  const access::Accounts* accounts_;
  const Clock* clock_;
  Options options_;
};

}  // namespace haven::repatriation

#endif  // HAVEN_SERVICES_REPATRIATION_RETURN_DESK_H_
