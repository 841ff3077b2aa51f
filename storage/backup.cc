// Backups with RocksDB's BackupEngine: Store::Backup, listing, restoring,
// verifying.
#include "storage/backup.h"

#include <sys/stat.h>

#include <memory>
#include <mutex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/env.h"
#include "rocksdb/utilities/backup_engine.h"
#include "rocksdb/utilities/transaction_db.h"
#include "storage/store.h"

namespace haven::storage {
namespace {

// A failed backup operation as a status naming `what` failed.
absl::Status BackupError(const rocksdb::Status& s, const std::string& what) {
  std::string message = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(message);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  return absl::UnavailableError(message);
}

rocksdb::Env* EnvOrDisk(rocksdb::Env* env) { return env != nullptr ? env : rocksdb::Env::Default(); }

// On the disk, a directory only its owner may enter: backups hold sealed
// personal data.
void MakePrivateDirectory(const std::string& dir, rocksdb::Env* env) {
  if (env != nullptr) {
    env->CreateDirIfMissing(dir);
    return;
  }
  mkdir(dir.c_str(), 0700);
  chmod(dir.c_str(), 0700);
}

absl::StatusOr<std::unique_ptr<rocksdb::BackupEngine>> OpenEngine(const std::string& dir,
                                                                 rocksdb::Env* env) {
  MakePrivateDirectory(dir, env);
  rocksdb::BackupEngineOptions options(dir);
  options.max_background_operations = 2;
  rocksdb::BackupEngine* engine = nullptr;
  rocksdb::IOStatus s = rocksdb::BackupEngine::Open(options, EnvOrDisk(env), &engine);
  if (!s.ok()) return BackupError(s, absl::StrCat("cannot open the backup directory ", dir));
  return std::unique_ptr<rocksdb::BackupEngine>(engine);
}

BackupSummary Summarize(const rocksdb::BackupInfo& info) {
  BackupSummary summary;
  summary.id = info.backup_id;
  summary.unix_seconds = info.timestamp;
  summary.bytes = info.size;
  summary.files = info.number_files;
  if (!absl::SimpleAtoi(info.app_metadata, &summary.audit_sequence)) summary.audit_sequence = 0;
  return summary;
}

absl::StatusOr<BackupSummary> Find(rocksdb::BackupEngine& engine, const std::string& dir,
                                   uint32_t id) {
  std::vector<rocksdb::BackupInfo> infos;
  engine.GetBackupInfo(&infos);
  for (auto it = infos.rbegin(); it != infos.rend(); ++it) {
    if (id == 0 || it->backup_id == id) return Summarize(*it);
  }
  return absl::NotFoundError(id == 0 ? absl::StrCat("there is no backup in ", dir)
                                     : absl::StrCat("there is no backup ", id, " in ", dir));
}

// Whether `dir` is missing or empty.
absl::StatusOr<bool> MissingOrEmpty(const std::string& dir, rocksdb::Env* env) {
  std::vector<std::string> children;
  rocksdb::Status s = EnvOrDisk(env)->GetChildren(dir, &children);
  if (s.IsNotFound()) return true;
  if (!s.ok()) return BackupError(s, absl::StrCat("cannot read ", dir));
  for (const std::string& child : children) {
    if (child != "." && child != "..") return false;
  }
  return true;
}

// The engine on a directory that holds backups; NOT_FOUND when it holds
// nothing (it is not created).
absl::StatusOr<std::unique_ptr<rocksdb::BackupEngine>> OpenExisting(const std::string& dir,
                                                                   rocksdb::Env* env) {
  absl::StatusOr<bool> missing = MissingOrEmpty(dir, env);
  if (!missing.ok()) return missing.status();
  if (*missing) return absl::NotFoundError(absl::StrCat("there is no backup in ", dir));
  return OpenEngine(dir, env);
}

// Removes a restored copy: a directory of files.
void RemoveCopy(const std::string& dir, rocksdb::Env* env) {
  rocksdb::Env* e = EnvOrDisk(env);
  std::vector<std::string> children;
  if (!e->GetChildren(dir, &children).ok()) return;
  for (const std::string& child : children) {
    if (child != "." && child != "..") e->DeleteFile(absl::StrCat(dir, "/", child));
  }
  e->DeleteDir(dir);
}

absl::StatusOr<BackupSummary> RestoreWith(rocksdb::BackupEngine& engine, const std::string& dir,
                                          uint32_t id, const std::string& to, rocksdb::Env* env) {
  absl::StatusOr<BackupSummary> backup = Find(engine, dir, id);
  if (!backup.ok()) return backup.status();
  absl::StatusOr<bool> empty = MissingOrEmpty(to, env);
  if (!empty.ok()) return empty.status();
  if (!*empty) {
    return absl::FailedPreconditionError(
        absl::StrCat(to, " is not empty; restore into a new or empty directory"));
  }
  MakePrivateDirectory(to, env);
  rocksdb::IOStatus s = engine.RestoreDBFromBackup(rocksdb::RestoreOptions(), backup->id, to, to);
  if (!s.ok()) {
    return BackupError(s, absl::StrCat("cannot restore backup ", backup->id, " into ", to));
  }
  return backup;
}

}  // namespace

absl::StatusOr<BackupSummary> Store::Backup(const std::string& dir, int keep) {
  std::lock_guard<std::mutex> one_at_a_time(backup_mu_);
  absl::StatusOr<std::unique_ptr<rocksdb::BackupEngine>> engine = OpenEngine(dir, options_.env);
  if (!engine.ok()) return engine.status();
  // Whatever was acknowledged before now is in the backup: it is taken from
  // the live files and the write-ahead log at one point after this.
  const uint64_t sequence = last_audit_sequence();
  rocksdb::BackupID id = 0;
  rocksdb::IOStatus s = (*engine)->CreateNewBackupWithMetadata(
      rocksdb::CreateBackupOptions(), db_->GetRootDB(), std::to_string(sequence), &id);
  if (!s.ok()) return BackupError(s, absl::StrCat("cannot back the store up into ", dir));
  if (keep > 0) {
    s = (*engine)->PurgeOldBackups(static_cast<uint32_t>(keep));
    if (!s.ok()) return BackupError(s, absl::StrCat("cannot delete old backups in ", dir));
  }
  return Find(**engine, dir, id);
}

absl::StatusOr<std::vector<BackupSummary>> ListBackups(const std::string& dir, rocksdb::Env* env) {
  absl::StatusOr<std::unique_ptr<rocksdb::BackupEngine>> engine = OpenExisting(dir, env);
  if (!engine.ok()) return engine.status();
  std::vector<rocksdb::BackupInfo> infos;
  (*engine)->GetBackupInfo(&infos);
  std::vector<BackupSummary> out;
  for (const rocksdb::BackupInfo& info : infos) out.push_back(Summarize(info));
  return out;
}

absl::StatusOr<BackupSummary> RestoreBackup(const std::string& dir, uint32_t id,
                                            const std::string& to, rocksdb::Env* env) {
  absl::StatusOr<std::unique_ptr<rocksdb::BackupEngine>> engine = OpenExisting(dir, env);
  if (!engine.ok()) return engine.status();
  return RestoreWith(**engine, dir, id, to, env);
}

absl::StatusOr<BackupCheck> VerifyBackup(const std::string& dir, uint32_t id,
                                         const std::string& scratch, const crypto::KeyRing* keys,
                                         const Clock* clock, rocksdb::Env* env) {
  absl::StatusOr<std::unique_ptr<rocksdb::BackupEngine>> engine = OpenExisting(dir, env);
  if (!engine.ok()) return engine.status();
  absl::StatusOr<BackupSummary> backup = Find(**engine, dir, id);
  if (!backup.ok()) return backup.status();
  rocksdb::IOStatus files = (*engine)->VerifyBackup(backup->id, /*verify_with_checksum=*/true);
  if (!files.ok()) {
    return absl::DataLossError(
        absl::StrCat("backup ", backup->id, ": a file is missing or damaged: ", files.ToString()));
  }
  absl::StatusOr<BackupSummary> restored = RestoreWith(**engine, dir, backup->id, scratch, env);
  if (!restored.ok()) {
    // What a failed restore left in the scratch directory goes; a directory
    // that was not empty was never touched.
    if (!absl::IsFailedPrecondition(restored.status())) RemoveCopy(scratch, env);
    return restored.status();
  }

  BackupCheck check;
  check.backup = *backup;
  absl::Status status;
  {
    Store::Options options;
    options.path = scratch;
    options.env = env;
    options.keys = keys;
    options.clock = clock;
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    if (!store.ok()) {
      status = absl::DataLossError(absl::StrCat("backup ", backup->id,
                                                " does not open: ", store.status().message()));
    } else {
      AuditVerification chain = (*store)->VerifyAudit();
      check.audit_entries = chain.entries;
      check.audit_checkpoints = chain.checkpoints;
      if (!chain.ok) {
        status = absl::DataLossError(absl::StrCat("backup ", backup->id, ": audit entry ",
                                                  chain.first_bad_sequence, ": ", chain.problem));
      } else if ((*store)->last_audit_sequence() < backup->audit_sequence) {
        status = absl::DataLossError(absl::StrCat(
            "backup ", backup->id, " ends at audit entry ", (*store)->last_audit_sequence(),
            " but was begun at ", backup->audit_sequence));
      }
    }
  }
  RemoveCopy(scratch, env);
  if (!status.ok()) return status;
  return check;
}

}  // namespace haven::storage
