// AuditServiceImpl: the gRPC face of AuditService; thin handlers over AuditLog.
#ifndef HAVEN_SERVICES_AUDIT_AUDIT_SERVICE_H_
#define HAVEN_SERVICES_AUDIT_AUDIT_SERVICE_H_

#include "haven/v1/audit.grpc.pb.h"
#include "services/common/authenticator.h"
#include "storage/access/audit_log.h"

namespace haven::audit {

class AuditServiceImpl final : public haven::v1::AuditService::Service {
 public:
  AuditServiceImpl(const services::Authenticator* auth, access::AuditLog* log,
                   const crypto::KeyRing* keys)
      : auth_(auth), log_(log), keys_(keys) {}

  grpc::Status QueryAuditEntries(grpc::ServerContext* context,
                                 const haven::v1::QueryAuditEntriesRequest* request,
                                 haven::v1::QueryAuditEntriesResponse* response) override;
  grpc::Status VerifyAuditChain(grpc::ServerContext* context,
                                const haven::v1::VerifyAuditChainRequest* request,
                                haven::v1::VerifyAuditChainResponse* response) override;

 private:
  const services::Authenticator* auth_;
  access::AuditLog* log_;
  const crypto::KeyRing* keys_;
};

}  // namespace haven::audit

#endif  // HAVEN_SERVICES_AUDIT_AUDIT_SERVICE_H_
