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
        // the door's bell wakes the stream when one commits. Without a ring
        // the log is read again this often anyway (and a watcher that left
        // is noticed), so that a missed ring would only delay.
        constexpr absl::Duration kFallback = absl::Seconds(1);
        uint64_t after = request->after_sequence();
        // Taken before each read of the log: an event committed after the
        // read moves it on, and the wait below returns at once.
        uint64_t generation = desk_->EventGeneration();
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
          if (static_cast<int>(events->size()) < kBatch) {
            generation = desk_->WaitForEvents(generation, kFallback);
          }
        }
      });
}

}  // namespace haven::liaison
