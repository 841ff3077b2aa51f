// ReferralServiceImpl: the gRPC face of ReferralService.
#include "services/referral/referral_service.h"

#include "services/common/handler.h"

namespace haven::referral {

namespace v1 = haven::v1;
using access::RequestContext;
using services::Into;
using services::Serve;

HAVEN_RPC_HANDLER(ReferralServiceImpl, CreateReferral, CreateReferralRequest, Referral, desk_.Create(ctx, *request))
HAVEN_RPC_HANDLER(ReferralServiceImpl, SendReferral, ReferralTransitionRequest, Referral, desk_.Send(ctx, *request))
HAVEN_RPC_HANDLER(ReferralServiceImpl, CancelReferral, ReferralTransitionRequest, Referral, desk_.Cancel(ctx, *request))
HAVEN_RPC_HANDLER(ReferralServiceImpl, AcknowledgeReferral, ReferralTransitionRequest, Referral, desk_.Acknowledge(ctx, *request))
HAVEN_RPC_HANDLER(ReferralServiceImpl, AcceptReferral, ReferralTransitionRequest, Referral, desk_.Accept(ctx, *request))
HAVEN_RPC_HANDLER(ReferralServiceImpl, DeclineReferral, ReferralTransitionRequest, Referral, desk_.Decline(ctx, *request))
HAVEN_RPC_HANDLER(ReferralServiceImpl, CompleteReferral, ReferralTransitionRequest, Referral, desk_.Complete(ctx, *request))
HAVEN_RPC_HANDLER(ReferralServiceImpl, GetReferral, GetReferralRequest, Referral, desk_.Get(ctx, *request))
HAVEN_RPC_HANDLER(ReferralServiceImpl, ListInbox, ListReferralsRequest, ListReferralsResponse, desk_.List(ctx, *request, true))
HAVEN_RPC_HANDLER(ReferralServiceImpl, ListOutbox, ListReferralsRequest, ListReferralsResponse, desk_.List(ctx, *request, false))

grpc::Status ReferralServiceImpl::GetReferralFigures(grpc::ServerContext* context,
                                                     const v1::GetReferralFiguresRequest*,
                                                     v1::GetReferralFiguresResponse* response) {
  return Serve(*auth_, context, "GetReferralFigures", [&](const RequestContext& ctx) {
    return Into(desk_.Figures(ctx), response);
  });
}

grpc::Status ReferralServiceImpl::ListPartners(grpc::ServerContext* context,
                                               const v1::ListPartnersRequest*,
                                               v1::ListPartnersResponse* response) {
  return Serve(*auth_, context, "ListPartners", [&](const RequestContext& ctx) {
    return Into(desk_.ListPartners(ctx), response);
  });
}

}  // namespace haven::referral
