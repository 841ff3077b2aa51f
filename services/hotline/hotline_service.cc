// HotlineServiceImpl: the gRPC face of HotlineService.
#include "services/hotline/hotline_service.h"

#include <chrono>

#include "services/common/handler.h"

namespace haven::hotline {

namespace v1 = haven::v1;
using access::RequestContext;
using services::Into;
using services::Serve;

HotlineServiceImpl::~HotlineServiceImpl() { StopPurger(); }

void HotlineServiceImpl::StartPurger(absl::Duration interval) {
  if (interval <= absl::ZeroDuration()) interval = absl::Minutes(60);
  desk_->PurgeExpiredDetails().IgnoreError();  // at start-up; logged by the desk
  purger_.Start(interval, [this] { desk_->PurgeExpiredDetails().IgnoreError(); });
}

void HotlineServiceImpl::StopPurger() { purger_.Stop(); }

// The handlers that hand the request to one HotlineDesk method.
#define HAVEN_HOTLINE_RPC(Name, Request, Response, Method)                                 \
  grpc::Status HotlineServiceImpl::Name(grpc::ServerContext* context,                      \
                                        const v1::Request* request, v1::Response* response) { \
    return Serve(*auth_, context, #Name, [&](const RequestContext& ctx) {                   \
      return Into(desk_->Method(ctx, *request), response);                                \
    });                                                                                     \
  }
HAVEN_HOTLINE_RPC(LogContact, LogContactRequest, Contact, LogContact)
HAVEN_HOTLINE_RPC(GetContact, GetContactRequest, Contact, GetContact)
HAVEN_HOTLINE_RPC(EscalateContact, EscalateContactRequest, Contact, EscalateContact)
HAVEN_HOTLINE_RPC(EscalateContactToReferral, EscalateContactToReferralRequest,
                  EscalateContactToReferralResponse, EscalateContactToReferral)
HAVEN_HOTLINE_RPC(ScheduleCallback, ScheduleCallbackRequest, Callback, ScheduleCallback)
HAVEN_HOTLINE_RPC(CloseCallback, CloseCallbackRequest, Callback, CloseCallback)
HAVEN_HOTLINE_RPC(ListCallbacks, ListCallbacksRequest, ListCallbacksResponse, ListCallbacks)
HAVEN_HOTLINE_RPC(GetHotlineDashboard, GetHotlineDashboardRequest, HotlineDashboard, GetDashboard)
#undef HAVEN_HOTLINE_RPC

}  // namespace haven::hotline
