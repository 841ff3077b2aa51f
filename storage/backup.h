// Backups of the store with RocksDB's BackupEngine: incremental and
// checksummed, made by Store::Backup while the store serves; restored into
// an empty directory; verified by checking every file, restoring a scratch
// copy and checking its audit chain. A backup holds what the store holds:
// personal data only sealed, and never the master key, kept apart.
#ifndef HAVEN_STORAGE_BACKUP_H_
#define HAVEN_STORAGE_BACKUP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/clock.h"
#include "storage/crypto.h"

namespace rocksdb {
class Env;
}

namespace haven::storage {

// One backup in a backup directory.
struct BackupSummary {
  uint32_t id = 0;
  int64_t unix_seconds = 0;  // when it was made
  uint64_t bytes = 0;        // of its files, some shared with other backups
  uint32_t files = 0;
  // The audit chain's length when the backup began: every write
  // acknowledged before then is in it.
  uint64_t audit_sequence = 0;
};

// What VerifyBackup found.
struct BackupCheck {
  BackupSummary backup;
  uint64_t audit_entries = 0;      // in the restored copy
  uint64_t audit_checkpoints = 0;  // signed checkpoints checked
};

// Every backup in `dir`, oldest first. `env` null: the disk.
absl::StatusOr<std::vector<BackupSummary>> ListBackups(const std::string& dir, rocksdb::Env* env);

// Restores backup `id` (0: the latest) from `dir` into `to`, which must be
// missing or empty (FAILED_PRECONDITION otherwise: nothing is overwritten).
absl::StatusOr<BackupSummary> RestoreBackup(const std::string& dir, uint32_t id,
                                            const std::string& to, rocksdb::Env* env);

// Checks backup `id` (0: the latest) in `dir`: every file against its
// checksum, then a copy restored into `scratch` (missing or empty; removed
// afterwards) is opened and its audit chain verified from the first entry
// with the signing key of `keys`, and must reach the sequence the backup
// recorded. DATA_LOSS names what is wrong.
absl::StatusOr<BackupCheck> VerifyBackup(const std::string& dir, uint32_t id,
                                         const std::string& scratch, const crypto::KeyRing* keys,
                                         const Clock* clock, rocksdb::Env* env);

}  // namespace haven::storage

#endif  // HAVEN_STORAGE_BACKUP_H_
