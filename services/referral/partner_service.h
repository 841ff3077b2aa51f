// PartnerServiceImpl: the gRPC face of PartnerService, for partner
// mechanisms abroad; thin handlers over the PartnerDesk.
#ifndef HAVEN_SERVICES_REFERRAL_PARTNER_SERVICE_H_
#define HAVEN_SERVICES_REFERRAL_PARTNER_SERVICE_H_

#include "haven/v1/partner.grpc.pb.h"
#include "services/common/authenticator.h"
#include "services/common/handler.h"
#include "services/referral/partner_desk.h"

namespace haven::referral {

class PartnerServiceImpl final : public haven::v1::PartnerService::Service {
 public:
  PartnerServiceImpl(const services::Authenticator* auth, access::CaseDoor* door,
                     const access::Accounts* accounts, const services::Partners* partners,
                     const Clock* clock)
      : auth_(auth), desk_(door, accounts, partners, clock) {}

  HAVEN_RPC(ReceiveReferral, ReferralPacket, ReferralReceipt)
  HAVEN_RPC(UpdateReferral, PartnerReferralUpdate, PartnerReferralUpdateResponse)

  PartnerDesk& desk() { return desk_; }

 private:
  const services::Authenticator* auth_;
  PartnerDesk desk_;
};

}  // namespace haven::referral

#endif  // HAVEN_SERVICES_REFERRAL_PARTNER_SERVICE_H_
