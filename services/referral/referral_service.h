// ReferralServiceImpl: the gRPC face of ReferralService; thin handlers over
// the ReferralDesk.
#ifndef HAVEN_SERVICES_REFERRAL_REFERRAL_SERVICE_H_
#define HAVEN_SERVICES_REFERRAL_REFERRAL_SERVICE_H_

#include "haven/v1/referral.grpc.pb.h"
#include "services/common/authenticator.h"
#include "services/common/handler.h"
#include "services/referral/referral_desk.h"

namespace haven::referral {

class ReferralServiceImpl final : public haven::v1::ReferralService::Service {
 public:
  ReferralServiceImpl(const services::Authenticator* auth, access::CaseDoor* door,
                      const access::Accounts* accounts, const services::Partners* partners,
                      const Clock* clock)
      : auth_(auth), desk_(door, accounts, partners, clock) {}

  // For other desks that send referrals (the hotline's escalation).
  ReferralDesk& desk() { return desk_; }

  HAVEN_RPC(CreateReferral, CreateReferralRequest, Referral)
  HAVEN_RPC(SendReferral, ReferralTransitionRequest, Referral)
  HAVEN_RPC(CancelReferral, ReferralTransitionRequest, Referral)
  HAVEN_RPC(AcknowledgeReferral, ReferralTransitionRequest, Referral)
  HAVEN_RPC(AcceptReferral, ReferralTransitionRequest, Referral)
  HAVEN_RPC(DeclineReferral, ReferralTransitionRequest, Referral)
  HAVEN_RPC(CompleteReferral, ReferralTransitionRequest, Referral)
  HAVEN_RPC(GetReferral, GetReferralRequest, Referral)
  HAVEN_RPC(ListInbox, ListReferralsRequest, ListReferralsResponse)
  HAVEN_RPC(ListOutbox, ListReferralsRequest, ListReferralsResponse)
  HAVEN_RPC(GetReferralFigures, GetReferralFiguresRequest, GetReferralFiguresResponse)
  HAVEN_RPC(ListPartners, ListPartnersRequest, ListPartnersResponse)

 private:
  const services::Authenticator* auth_;
  ReferralDesk desk_;
};

}  // namespace haven::referral

#endif  // HAVEN_SERVICES_REFERRAL_REFERRAL_SERVICE_H_
