// PartnerServiceImpl: the gRPC face of PartnerService.
#include "services/referral/partner_service.h"

namespace haven::referral {

namespace v1 = haven::v1;
using access::RequestContext;
using services::Into;
using services::ServePartner;

grpc::Status PartnerServiceImpl::ReceiveReferral(grpc::ServerContext* context,
                                                 const v1::ReferralPacket* request,
                                                 v1::ReferralReceipt* response) {
  return ServePartner(*auth_, context, "ReceiveReferral", [&](const RequestContext& ctx) {
    return Into(desk_.Receive(ctx, *request), response);
  });
}

grpc::Status PartnerServiceImpl::UpdateReferral(grpc::ServerContext* context,
                                                const v1::PartnerReferralUpdate* request,
                                                v1::PartnerReferralUpdateResponse* response) {
  return ServePartner(*auth_, context, "UpdateReferral", [&](const RequestContext& ctx) {
    return Into(desk_.Update(ctx, *request), response);
  });
}

}  // namespace haven::referral
