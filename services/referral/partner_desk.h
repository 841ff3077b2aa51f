// PartnerDesk: what partner mechanisms abroad send. A referral packet
// becomes a case and a referral in the inbox configured for that partner;
// a status change moves a referral shared with it. Thread-safe.
#ifndef HAVEN_SERVICES_REFERRAL_PARTNER_DESK_H_
#define HAVEN_SERVICES_REFERRAL_PARTNER_DESK_H_

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "haven/v1/partner.pb.h"
#include "services/common/partners.h"
#include "storage/access/accounts.h"
#include "storage/access/case_door.h"

namespace haven::referral {

class PartnerDesk {
 public:
  PartnerDesk(access::CaseDoor* door, const access::Accounts* accounts,
              const services::Partners* partners, const Clock* clock)
      : door_(door), accounts_(accounts), partners_(partners), clock_(clock) {}

  // `ctx` is a partner's (principal.partner_id set).
  absl::StatusOr<haven::v1::ReferralReceipt> Receive(const access::RequestContext& ctx,
                                                     const haven::v1::ReferralPacket& packet);
  absl::StatusOr<haven::v1::PartnerReferralUpdateResponse> Update(
      const access::RequestContext& ctx, const haven::v1::PartnerReferralUpdate& update);

  // What another service does, in the same passage, when a partner abroad
  // moves a referral sent to it (the return desk: a reception completed).
  // Register before serving.
  using Moved = std::function<absl::Status(access::CaseWriter&, const haven::v1::Referral&)>;
  void OnMoved(Moved listener) { on_moved_.push_back(std::move(listener)); }

  // What records a reintegration follow-up that the partner abroad reports
  // on a return referral sent to it and completed (the return desk), in a
  // passage that reads and writes the referral's scope. Without one, such
  // reports are refused. Register before serving.
  using FollowUpReported = std::function<absl::Status(
      access::CaseScope&, const haven::v1::Referral&, const haven::v1::FollowUp&)>;
  void OnFollowUpReported(FollowUpReported listener) { on_follow_up_ = std::move(listener); }

 private:
  // Records a notice about the subject of a referral received from the
  // partner, and alerts the receiving organisation's supervisors.
  absl::StatusOr<haven::v1::PartnerReferralUpdateResponse> ReceiveNotice(
      const access::RequestContext& ctx, const haven::v1::Referral& referral,
      haven::v1::PartnerNotice notice);
  absl::StatusOr<haven::v1::PartnerReferralUpdateResponse> ReceiveFollowUp(
      const access::RequestContext& ctx, const haven::v1::Referral& referral,
      const haven::v1::FollowUp& follow_up);

  // Takes one of the partner's referrals per hour (its
  // max_referrals_per_hour); false when it has used them all.
  bool TakeFromHourlyAllowance(const haven::v1::PartnerConfig& partner, absl::Time now);

  access::CaseDoor* door_;
  const access::Accounts* accounts_;
  const services::Partners* partners_;
  const Clock* clock_;
  std::vector<Moved> on_moved_;
  FollowUpReported on_follow_up_;
  std::mutex mu_;
  std::map<std::string, std::deque<absl::Time>> received_;  // per partner, last hour; mu_
};

}  // namespace haven::referral

#endif  // HAVEN_SERVICES_REFERRAL_PARTNER_DESK_H_
