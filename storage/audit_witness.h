// AuditWitness: the audit chain's signed heads kept outside the store, in
// a file of their own (appended, fsynced) and in syslog, so that a store cut
// back or rewritten no longer matches what was witnessed.
#ifndef HAVEN_STORAGE_AUDIT_WITNESS_H_
#define HAVEN_STORAGE_AUDIT_WITNESS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "haven/v1/audit.pb.h"

namespace haven::storage {

class AuditWitness {
 public:
  explicit AuditWitness(std::string path) : path_(std::move(path)) {}

  // Appends `head` as one line (sequence, hash, time, instance id,
  // signature: no personal data), fsynced, and logs the same line to
  // syslog (which journald keeps).
  absl::Status Append(const haven::v1::AuditCheckpoint& head) const;
  // The last head in the file; nullopt when the file is missing or empty.
  // DATA_LOSS when its last line is malformed.
  absl::StatusOr<std::optional<haven::v1::AuditCheckpoint>> Latest() const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace haven::storage

#endif  // HAVEN_STORAGE_AUDIT_WITNESS_H_
