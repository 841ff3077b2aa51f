// ReferralServiceImpl: the gRPC face of ReferralService.
#include "services/referral/referral_service.h"

#include "services/common/handler.h"

namespace haven::referral {

namespace v1 = haven::v1;
using access::RequestContext;
using services::Into;
using services::Serve;

#define HAVEN_DESK_RPC(Name, Request, Response, Call)                                     \
  grpc::Status ReferralServiceImpl::Name(grpc::ServerContext* context,                    \
                                         const v1::Request* request, v1::Response* response) { \
    return Serve(*auth_, context, #Name, [&](const RequestContext& ctx) {                 \
      return Into(desk_.Call, response);                                                  \
    });                                                                                   \
  }
HAVEN_DESK_RPC(CreateReferral, CreateReferralRequest, Referral, Create(ctx, *request))
HAVEN_DESK_RPC(SendReferral, ReferralTransitionRequest, Referral, Send(ctx, *request))
HAVEN_DESK_RPC(CancelReferral, ReferralTransitionRequest, Referral, Cancel(ctx, *request))
HAVEN_DESK_RPC(AcknowledgeReferral, ReferralTransitionRequest, Referral, Acknowledge(ctx, *request))
HAVEN_DESK_RPC(AcceptReferral, ReferralTransitionRequest, Referral, Accept(ctx, *request))
HAVEN_DESK_RPC(DeclineReferral, ReferralTransitionRequest, Referral, Decline(ctx, *request))
HAVEN_DESK_RPC(CompleteReferral, ReferralTransitionRequest, Referral, Complete(ctx, *request))
HAVEN_DESK_RPC(GetReferral, GetReferralRequest, Referral, Get(ctx, *request))
HAVEN_DESK_RPC(ListInbox, ListReferralsRequest, ListReferralsResponse, List(ctx, *request, true))
HAVEN_DESK_RPC(ListOutbox, ListReferralsRequest, ListReferralsResponse, List(ctx, *request, false))
#undef HAVEN_DESK_RPC

grpc::Status ReferralServiceImpl::GetReferralFigures(grpc::ServerContext* context,
                                                     const v1::GetReferralFiguresRequest*,
                                                     v1::GetReferralFiguresResponse* response) {
  return Serve(*auth_, context, "GetReferralFigures", [&](const RequestContext& ctx) {
    return Into(desk_.Figures(ctx), response);
  });
}

}  // namespace haven::referral
