// AuditLog: reading and verifying the audit log, for auditors.
#ifndef HAVEN_STORAGE_ACCESS_AUDIT_LOG_H_
#define HAVEN_STORAGE_ACCESS_AUDIT_LOG_H_

#include "absl/status/statusor.h"
#include "haven/v1/audit.pb.h"
#include "storage/access/principal.h"
#include "storage/crypto.h"

namespace haven::storage {
class AuditWitness;
class Store;
}

namespace haven::access {

class AuditLog {
 public:
  // `witness` may be null (no witness file): then verification cannot tell
  // a log cut back after a restart.
  AuditLog(storage::Store* store, const storage::AuditWitness* witness)
      : store_(store), witness_(witness) {}

  // Auditors only (PERMISSION_DENIED otherwise). Entries in sequence order.
  absl::StatusOr<haven::v1::QueryAuditEntriesResponse> Query(
      const RequestContext& ctx, const haven::v1::QueryAuditEntriesRequest& request);
  // Auditors and administrators. Checks the chain, its indexes and the
  // last witnessed head (Store::VerifyAudit).
  absl::StatusOr<haven::v1::VerifyAuditChainResponse> Verify(const RequestContext& ctx,
                                                             const crypto::KeyRing& keys);

 private:
  // The first sequence whose entry is at or after `time_micros` (one past
  // the last when there is none).
  absl::StatusOr<uint64_t> FirstSequenceAtOrAfter(int64_t time_micros);

  storage::Store* store_;
  const storage::AuditWitness* witness_;
};

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_AUDIT_LOG_H_
