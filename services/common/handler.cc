// Serve: the shape of every Haven RPC handler.
#include "services/common/handler.h"

#include <chrono>

#include "absl/time/clock.h"
#include "services/common/log.h"

namespace haven::services {
namespace {

grpc::Status Finish(const char* method, const access::RequestContext* ctx, absl::Time start,
                    const absl::Status& status) {
  // Successful calls are many and say little: only failures are logged.
  if (!status.ok()) {
    Log(LogLevel::kInfo, "rpc",
        {{"method", method},
         {"code", absl::StatusCodeToString(status.code())},
         {"request_id", ctx != nullptr ? ctx->request_id : ""},
         {"principal", ctx != nullptr ? ctx->principal.id : ""},
         {"micros", std::to_string(absl::ToInt64Microseconds(absl::Now() - start))}});
  }
  return ToGrpc(status);
}

}  // namespace

// A call whose client has already given up is not started: its answer
// would go nowhere, and a write would be done that nobody knows of.
absl::Status CheckStillWanted(grpc::ServerContext* context) {
  if (context->IsCancelled() || context->deadline() <= std::chrono::system_clock::now()) {
    return absl::DeadlineExceededError("the call's deadline passed before it was started");
  }
  return absl::OkStatus();
}

namespace {

// Checks the call is still wanted, authenticates, runs, answers.
grpc::Status ServeAs(grpc::ServerContext* context, const char* method,
                     const std::function<absl::StatusOr<access::RequestContext>()>& authenticate,
                     const DomainCall& call) {
  absl::Time start = absl::Now();
  if (absl::Status wanted = CheckStillWanted(context); !wanted.ok()) {
    return Finish(method, nullptr, start, wanted);
  }
  absl::StatusOr<access::RequestContext> ctx = authenticate();
  if (!ctx.ok()) return Finish(method, nullptr, start, ctx.status());
  return Finish(method, &*ctx, start, call(*ctx));
}

}  // namespace

grpc::Status Serve(const Authenticator& auth, grpc::ServerContext* context, const char* method,
                   const DomainCall& call, Authenticator::Session session) {
  return ServeAs(context, method, [&] { return auth.Authenticate(context, session); }, call);
}

grpc::Status ServeAnonymous(grpc::ServerContext* context, const char* method,
                            const DomainCall& call) {
  return ServeAs(context, method, [&] { return Authenticator::Anonymous(context); }, call);
}

grpc::Status ServeLiaison(const Authenticator& auth, grpc::ServerContext* context,
                          const char* method, const DomainCall& call) {
  return ServeAs(context, method, [&] { return auth.AuthenticateLiaison(context); }, call);
}

grpc::Status ServePartner(const Authenticator& auth, grpc::ServerContext* context,
                          const char* method, const DomainCall& call) {
  return ServeAs(context, method, [&] { return auth.AuthenticatePartner(context); }, call);
}

}  // namespace haven::services
