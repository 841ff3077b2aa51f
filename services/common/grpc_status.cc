// The one place that turns an absl::Status into a grpc::Status.
#include "services/common/grpc_status.h"

#include <string>

namespace haven::services {

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbers. Messages are written by
  // Haven and never carry personal data.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace haven::services
