// The one place that turns an absl::Status into a grpc::Status.
#ifndef HAVEN_SERVICES_COMMON_GRPC_STATUS_H_
#define HAVEN_SERVICES_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace haven::services {

grpc::Status ToGrpc(const absl::Status& status);

}  // namespace haven::services

#endif  // HAVEN_SERVICES_COMMON_GRPC_STATUS_H_
