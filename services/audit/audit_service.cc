// AuditServiceImpl: the gRPC face of AuditService.
#include "services/audit/audit_service.h"

#include "services/common/handler.h"

namespace haven::audit {

namespace v1 = haven::v1;
using access::RequestContext;
using services::Into;
using services::Serve;

grpc::Status AuditServiceImpl::QueryAuditEntries(grpc::ServerContext* context,
                                                 const v1::QueryAuditEntriesRequest* request,
                                                 v1::QueryAuditEntriesResponse* response) {
  return Serve(*auth_, context, "QueryAuditEntries", [&](const RequestContext& ctx) {
    return Into(log_->Query(ctx, *request), response);
  });
}

grpc::Status AuditServiceImpl::VerifyAuditChain(grpc::ServerContext* context,
                                                const v1::VerifyAuditChainRequest*,
                                                v1::VerifyAuditChainResponse* response) {
  return Serve(*auth_, context, "VerifyAuditChain", [&](const RequestContext& ctx) {
    return Into(log_->Verify(ctx, *keys_), response);
  });
}

}  // namespace haven::audit
