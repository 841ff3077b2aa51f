// LiaisonServiceImpl: thin handlers over the LiaisonDesk.
#include "services/liaison/liaison_service.h"

namespace haven::liaison {

namespace v1 = haven::v1;

// Every call goes through ServeLiaison: law-enforcement systems may use
// this service (and no other); the desk and the door decide the rest.
#define LIAISON_RPC_HANDLER(Name, Request, Response, call)                                  \
  grpc::Status LiaisonServiceImpl::Name(grpc::ServerContext* context,                       \
                                        const v1::Request* request, v1::Response* response) { \
    return ::haven::services::ServeLiaison(                                                 \
        *auth_, context, #Name, [&](const ::haven::access::RequestContext& ctx) {           \
          return ::haven::services::Into(call, response);                                   \
        });                                                                                 \
  }

LIAISON_RPC_HANDLER(Refer, ReferRequest, ReferResponse, desk_->Refer(ctx, *request))
LIAISON_RPC_HANDLER(GetCase, GetLiaisonCaseRequest, LiaisonCase, desk_->GetCase(ctx, *request))
LIAISON_RPC_HANDLER(RequestDisclosure, RequestDisclosureRequest, Disclosure,
                    desk_->RequestDisclosure(ctx, *request))
LIAISON_RPC_HANDLER(AskNonPunishment, AskNonPunishmentRequest, AskNonPunishmentResponse,
                    desk_->AskNonPunishment(ctx, *request))
LIAISON_RPC_HANDLER(IntroduceCase, IntroduceCaseRequest, IntroduceCaseResponse,
                    desk_->IntroduceCase(ctx, *request))

grpc::Status LiaisonServiceImpl::Watch(grpc::ServerContext* context,
                                       const v1::WatchRequest* request,
                                       grpc::ServerWriter<v1::LiaisonEvent>* writer) {
  return services::ServeLiaison(
      *auth_, context, "Watch", [&](const access::RequestContext& ctx) -> absl::Status {
        constexpr int kBatch = 100;
        // Events are written by whatever changes a case, in its transaction;
        // the log is polled (one seek in the agency's range) this often.
        constexpr absl::Duration kPoll = absl::Milliseconds(50);
        uint64_t after = request->after_sequence();
        while (true) {
          if (context->IsCancelled()) return absl::CancelledError("the watcher left");
          if (desk_->stopping()) {
            return absl::UnavailableError(
                "the server is stopping: reconnect and resume after the last sequence received");
          }
          absl::StatusOr<std::vector<v1::LiaisonEvent>> events = desk_->Events(ctx, after, kBatch);
          if (!events.ok()) return events.status();
          for (const v1::LiaisonEvent& event : *events) {
            if (!writer->Write(event)) return absl::CancelledError("the watcher left");
            after = event.sequence();
          }
          if (static_cast<int>(events->size()) < kBatch) desk_->WaitForEvents(kPoll);
        }
      });
}

}  // namespace haven::liaison
