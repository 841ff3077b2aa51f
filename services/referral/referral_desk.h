// ReferralDesk: the rules of referrals between organisations: drafting,
// consent or a recorded lawful basis, the life cycle and its deadline, and
// the scoped, expiring access an accepted referral gives. Thread-safe.
#ifndef HAVEN_SERVICES_REFERRAL_REFERRAL_DESK_H_
#define HAVEN_SERVICES_REFERRAL_REFERRAL_DESK_H_

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "haven/v1/referral.pb.h"
#include "services/common/partners.h"
#include "storage/access/accounts.h"
#include "storage/access/case_door.h"

namespace haven::referral {

// The consents a referral to a partner mechanism in another country needs
// when its lawful basis is consent.
std::vector<haven::v1::ConsentPurpose> ConsentsNeededAbroad(haven::v1::ReferralPurpose purpose);

// The longest a receiver may be given to answer.
inline constexpr absl::Duration kMaxResponseTime = absl::Hours(24 * 90);

// INVALID_ARGUMENT naming the first of a referral's terms that is missing
// or unknown.
absl::Status CheckTerms(int purpose, int urgency, int lawful_basis);
// The classes of a data scope; INVALID_ARGUMENT when one is unknown or
// there is none.
absl::StatusOr<access::ClassSet> ScopeOf(const google::protobuf::RepeatedField<int>& data_scope);
// What a stored referral shares: its data scope and the administrative class.
access::ClassSet SharedClasses(const haven::v1::Referral& referral);

// Whether a referral is waiting for the receiver's answer.
bool IsOpen(haven::v1::ReferralStatus status);
// "referral <id> <what> (<purpose>, to <receiver>)": Haven's own words, ids
// and codes only.
std::string Summary(const haven::v1::Referral& referral, absl::string_view what);

// The referral as it stands at `now`: an open one past its response
// deadline has expired, whether or not anyone has touched it since.
haven::v1::Referral AsOf(haven::v1::Referral referral, absl::Time now);

class ReferralDesk {
 public:
  // `partners` may be null when none are configured.
  ReferralDesk(access::CaseDoor* door, const access::Accounts* accounts,
               const services::Partners* partners, const Clock* clock)
      : door_(door), accounts_(accounts), partners_(partners), clock_(clock) {}

  // Called after a change queued a message for a partner mechanism.
  void OnPartnerMessageQueued(std::function<void()> wake) { wake_partner_link_ = std::move(wake); }
  // What another service does, in the same passage, when a referral's
  // status moves here, by its sender or its receiver (the service plan: an
  // item follows its referral). Register before serving.
  using Moved = std::function<absl::Status(access::CaseWriter&, const haven::v1::Referral&)>;
  void OnMoved(Moved listener) { on_moved_.push_back(std::move(listener)); }

  absl::StatusOr<haven::v1::Referral> Create(const access::RequestContext& ctx,
                                             const haven::v1::CreateReferralRequest& request);
  absl::StatusOr<haven::v1::Referral> Send(const access::RequestContext& ctx,
                                           const haven::v1::ReferralTransitionRequest& request);
  // What a caller does on the case in the same passage as a referral it
  // makes (a service plan's item records the referral): all or nothing.
  using AlongWith = std::function<absl::Status(access::CaseScope&, const haven::v1::Referral&)>;
  // Drafts and sends in one passage, joining `within` (another door's
  // transaction) when given: for the hotline's escalation, all or nothing;
  // `along_with`, when given, runs in that passage once the referral is sent.
  absl::StatusOr<haven::v1::Referral> CreateAndSend(const access::RequestContext& ctx,
                                                    const haven::v1::CreateReferralRequest& request,
                                                    const access::Joint* within,
                                                    const AlongWith& along_with = nullptr);
  absl::StatusOr<haven::v1::Referral> Cancel(const access::RequestContext& ctx,
                                             const haven::v1::ReferralTransitionRequest& request);
  // Cancels, in the caller's passage on the referral's case (the sender's),
  // the referral when it is still a draft, open or accepted, ending its
  // grant; true when it was. Call WakePartnerLink() once the passage commits.
  absl::StatusOr<bool> CancelIfUnfinished(access::CaseScope& scope, absl::string_view referral_id,
                                          absl::string_view reason);
  // Tells the partner link that a message for a partner abroad is queued.
  void WakePartnerLink();
  absl::StatusOr<haven::v1::Referral> Acknowledge(
      const access::RequestContext& ctx, const haven::v1::ReferralTransitionRequest& request);
  absl::StatusOr<haven::v1::Referral> Accept(const access::RequestContext& ctx,
                                             const haven::v1::ReferralTransitionRequest& request);
  absl::StatusOr<haven::v1::Referral> Decline(const access::RequestContext& ctx,
                                              const haven::v1::ReferralTransitionRequest& request);
  absl::StatusOr<haven::v1::Referral> Complete(const access::RequestContext& ctx,
                                               const haven::v1::ReferralTransitionRequest& request);
  absl::StatusOr<haven::v1::Referral> Get(const access::RequestContext& ctx,
                                          const haven::v1::GetReferralRequest& request);
  absl::StatusOr<haven::v1::ListReferralsResponse> List(const access::RequestContext& ctx,
                                                        const haven::v1::ListReferralsRequest& request,
                                                        bool inbox);
  absl::StatusOr<haven::v1::GetReferralFiguresResponse> Figures(const access::RequestContext& ctx);
  absl::StatusOr<haven::v1::ListPartnersResponse> ListPartners(const access::RequestContext& ctx);

 private:
  absl::StatusOr<haven::v1::Referral> Draft(const access::RequestContext& ctx,
                                            const haven::v1::CreateReferralRequest& request,
                                            bool send, const access::Joint* within,
                                            const AlongWith& along_with);
  // Sends a draft: checks the consent it needs (or names its lawful basis in
  // the audit entry), then SENT, on the timeline.
  absl::Status SendDraft(access::CaseScope& scope, haven::v1::Referral& referral,
                         absl::string_view reason);
  // A draft, open or accepted referral: its sender may still cancel it.
  static bool Cancellable(const haven::v1::Referral& referral);
  // Cancels: ends the referral's grant, CANCELLED, on the timeline.
  static absl::Status CancelReferral(access::CaseScope& scope, haven::v1::Referral& referral,
                                     absl::string_view reason);
  // Queues what a partner mechanism abroad must hear of a change from
  // `before`: the packet when sent, then each status.
  absl::Status QueueIfAbroad(access::CaseWriter& scope, const haven::v1::Referral& referral,
                             haven::v1::ReferralStatus before);

  // A move of a referral: the sender's on its own case, the receiver's as a
  // referral party that may not read the case (until it accepts, and then
  // only the scope).
  using SenderChange = std::function<absl::Status(access::CaseScope&, haven::v1::Referral&)>;
  using ReceiverChange = std::function<absl::Status(access::CaseWriter&, haven::v1::Referral&)>;
  // Finds the referral if the caller's organisation is on that side of it
  // (NOT_FOUND otherwise, as for a missing one), and runs the change on it
  // in one transaction with the case; returns the referral as stored.
  absl::StatusOr<haven::v1::Referral> AsSender(const access::RequestContext& ctx,
                                               absl::string_view referral_id,
                                               absl::string_view audit_action,
                                               const SenderChange& change);
  absl::StatusOr<haven::v1::Referral> AsReceiver(const access::RequestContext& ctx,
                                                 absl::string_view referral_id,
                                                 absl::string_view audit_action,
                                                 const ReceiverChange& change);
  enum class Side { kSender, kReceiver };
  absl::StatusOr<haven::v1::Referral> FindForParty(const access::RequestContext& ctx,
                                                   absl::string_view referral_id, Side side);
  // Runs `change` on the referral as stored now, stores it and queues what
  // a partner abroad must hear; sets `result` to it.
  absl::Status Apply(access::CaseWriter& scope, absl::string_view referral_id,
                     const std::function<absl::Status(haven::v1::Referral&)>& change,
                     haven::v1::Referral* result);
  // The answer of a move: NOT_FOUND as for a missing referral, or the
  // referral (waking the partner link for one abroad).
  absl::StatusOr<haven::v1::Referral> Answer(const absl::Status& status,
                                             const haven::v1::Referral& result);

  access::CaseDoor* door_;
  const access::Accounts* accounts_;
  const services::Partners* partners_;
  const Clock* clock_;
  std::function<void()> wake_partner_link_;
  std::vector<Moved> on_moved_;
};

}  // namespace haven::referral

#endif  // HAVEN_SERVICES_REFERRAL_REFERRAL_DESK_H_
