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

// For the calls that need no credentials (Login).
grpc::Status ServeAnonymous(grpc::ServerContext* context, const char* method,
                            const DomainCall& call);

}  // namespace haven::services

#endif  // HAVEN_SERVICES_COMMON_HANDLER_H_
