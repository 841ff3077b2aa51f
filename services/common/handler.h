// Serve: the shape of every Haven RPC handler. Authenticate the caller, run
// the domain call, log the outcome without personal data, and turn the
// result into a grpc::Status.
#ifndef HAVEN_SERVICES_COMMON_HANDLER_H_
#define HAVEN_SERVICES_COMMON_HANDLER_H_

#include <grpcpp/server_context.h>

#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/common/authenticator.h"
#include "services/common/grpc_status.h"

namespace haven::services {

using DomainCall = std::function<absl::Status(const access::RequestContext&)>;

grpc::Status Serve(const Authenticator& auth, grpc::ServerContext* context, const char* method,
                   const DomainCall& call,
                   Authenticator::Session session = Authenticator::Session::kFull);

// Stores a StatusOr's value in *out, or returns its error.
template <typename T>
absl::Status Into(absl::StatusOr<T> result, T* out) {
  if (!result.ok()) return result.status();
  *out = *std::move(result);
  return absl::OkStatus();
}

// Declares, in a service class, the override of one generated RPC method.
#define HAVEN_RPC(Name, Request, Response)                                          \
  grpc::Status Name(grpc::ServerContext* context, const haven::v1::Request* request, \
                    haven::v1::Response* response) override;

// Defines Class::Name as a thin handler: authenticate, evaluate `call` (an
// absl::StatusOr<Response> that may use `ctx` and `request`), answer.
#define HAVEN_RPC_HANDLER(Class, Name, Request, Response, call)                             \
  grpc::Status Class::Name(grpc::ServerContext* context, const haven::v1::Request* request,  \
                           haven::v1::Response* response) {                                 \
    return ::haven::services::Serve(                                                        \
        *auth_, context, #Name, [&](const ::haven::access::RequestContext& ctx) {           \
          return ::haven::services::Into(call, response);                                   \
        });                                                                                 \
  }

// For the calls that need no credentials (Login).
grpc::Status ServeAnonymous(grpc::ServerContext* context, const char* method,
                            const DomainCall& call);

// For the calls of LiaisonService: law-enforcement systems may call these
// (and no others).
grpc::Status ServeLiaison(const Authenticator& auth, grpc::ServerContext* context,
                          const char* method, const DomainCall& call);

// For the calls of partner mechanisms (PartnerService).
grpc::Status ServePartner(const Authenticator& auth, grpc::ServerContext* context,
                          const char* method, const DomainCall& call);

}  // namespace haven::services

#endif  // HAVEN_SERVICES_COMMON_HANDLER_H_
