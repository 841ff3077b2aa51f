// Store: Haven's RocksDB TransactionDB, its column families, and the group
// commit that writes every change with its audit entries, hash-chained, in
// one synced write.
//
// Thread-safety: a Store is safe to share; a Txn belongs to one thread.
// Nothing here includes a RocksDB header, so services never see one.
#ifndef HAVEN_STORAGE_STORE_H_
#define HAVEN_STORAGE_STORE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "haven/v1/audit.pb.h"
#include "storage/backup.h"
#include "storage/clock.h"
#include "storage/crypto.h"

namespace rocksdb {
class ColumnFamilyHandle;
class Env;
class Transaction;
class TransactionDB;
}  // namespace rocksdb

namespace haven::storage {

// One column family per kind of record and per index. DO NOT REORDER OR
// RENAME: the names are on disk.
enum class Cf : int {
  kMeta = 0,                // schema version and other store facts
  kAudit,                   // seq (u64) -> AuditEntry bytes (hash-chained)
  kAuditCheckpoints,        // seq (u64) -> AuditCheckpoint
  kAuditByCase,             // raw case id + seq -> ""
  kAuditByPrincipal,        // short string principal + seq -> ""
  kCases,                   // raw case id -> CaseRecord
  kCaseKeys,                // raw case id -> WrappedKey
  kCaseData,                // raw case id + kind byte + record id -> sealed message
  kGrants,                  // raw case id + raw grant id -> GrantRecord
  kOrganisations,           // org id (hex) -> Organisation
  kUsers,                   // user id (hex) -> UserRecord
  kUsernames,               // username -> user id
  kSessions,                // SHA-256 of token -> SessionRecord
  kServiceAccounts,         // id (hex) -> ServiceAccount
  kServiceAccountCerts,     // SHA-256 of certificate DER -> service account id
  kCaseIndex,               // tag byte + ids / deadline / blinded name + raw case id -> "" (no personal data)
  kNameIndex,               // blind-index key + raw case id -> ""
  kAlerts,                  // addressee + time (u64) + raw alert id -> Alert; 'i' + raw id -> that key
  kIndicatorSets,           // short string set id + version (u32) -> IndicatorSet
  kCaseStatistics,          // raw statistics id (random; schema < 3: raw case id) -> CaseStatistics sealed with the statistics key
  kReferrals,               // raw referral id -> ReferralRecord (administrative, no personal data)
  kContacts,                // raw contact id -> ContactRecord (hotline; details sealed inside)
  kContactIndex,            // tag byte + key + raw contact id -> "" (no personal data)
  kPartnerOutbox,           // enqueue time (u64) + counter (u64) -> PartnerOutboxRecord (ids only)
  kPartnerReferrals,        // short string partner id + their referral id -> raw referral id
  kUsersByOrganisation,     // short string organisation id + user id -> ""
  kDirectory,               // the service-provider directory (no personal data): see provider_directory.cc
  // Law-enforcement liaison (storage/access/liaison_door.h); no personal data:
  kLiaisonPseudonyms,       // short string agency org id + raw pseudonym -> raw case id
  kLiaisonFollowers,        // raw case id + short string agency org id -> LiaisonFollower
  kLiaisonEvents,           // short string agency org id + seq (u64) -> LiaisonEventRecord; the id alone -> last seq
  kErasurePurges,           // raw case id -> key ranges its erasure left to push out of the files (see erasure.cc)
  kCount,
};
const char* CfName(Cf cf);

// 2: alerts kept by addressee, deadlines and names indexed per organisation,
// users indexed by organisation.
// 3: statistics records kept for every case, keyed by a random statistics id.
// 4: contacts indexed by the case they were escalated to; erased cases keep
// no derived key, grant or contact details.
inline constexpr uint32_t kSchemaVersion = 4;

class Store;

// A transaction: reads see its own writes; GetForUpdate locks a key until the
// transaction is committed or dropped. Nothing is written until
// Store::Commit, which also appends the audit entries given to Audit().
class Txn {
 public:
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  absl::StatusOr<std::optional<std::string>> Get(Cf cf, absl::string_view key);
  absl::StatusOr<std::optional<std::string>> GetForUpdate(Cf cf, absl::string_view key);
  absl::Status Put(Cf cf, absl::string_view key, absl::string_view value);
  absl::Status Delete(Cf cf, absl::string_view key);
  // Visits, in key order, the keys starting with `prefix` that are greater
  // than `after` (when non-empty) until `visit` returns false.
  absl::Status Scan(Cf cf, absl::string_view prefix, absl::string_view after,
                    const std::function<bool(absl::string_view key, absl::string_view value)>& visit);
  // Appends an entry to the audit log when this transaction commits;
  // sequence, time and hashes are filled in then.
  void Audit(haven::v1::AuditEntry entry);

  bool empty() const { return ops_.empty() && audits_.empty(); }

 private:
  friend class Store;
  struct Op {
    Cf cf;
    std::string key;
    std::string value;
    bool is_delete;
  };
  Txn(Store* store, rocksdb::Transaction* txn);
  Store* store_;
  std::unique_ptr<rocksdb::Transaction> txn_;
  std::vector<Op> ops_;
  std::vector<haven::v1::AuditEntry> audits_;
};

// The transaction a door's passage runs in: its own, committed at its end,
// or one it joins (a passage inside another door's, committed by that one).
class Passage {
 public:
  Passage(Store* store, Txn* within);
  Txn& txn() { return *txn_; }
  // Drops the passage's own transaction unwritten; a joined one is its
  // owner's to drop.
  void Abandon();
  // Commits the passage's own transaction; a joined one commits later.
  absl::Status Commit();

 private:
  Store* store_;
  std::unique_ptr<Txn> own_;
  Txn* txn_;
};

// Result of checking the audit chain from its first entry.
struct AuditVerification {
  bool ok = true;
  uint64_t entries = 0;
  uint64_t checkpoints = 0;
  // Of those, version-1 checkpoints (signed with the key derived from the
  // master key, before audit keys had files of their own): weaker.
  uint64_t legacy_checkpoints = 0;
  // The witnessed head checked against, 0 when none was given.
  uint64_t witnessed_sequence = 0;
  uint64_t first_bad_sequence = 0;
  std::string problem;
};

class Store {
 public:
  struct Options {
    std::string path;
    // Null: the default (POSIX) env. Tests pass a memory env.
    rocksdb::Env* env = nullptr;
    const crypto::KeyRing* keys = nullptr;  // signs audit checkpoints
    const Clock* clock = nullptr;
    // A signed checkpoint every this many audit entries. Used when the
    // store is created; an existing store keeps the interval it was made with.
    uint64_t checkpoint_interval = 256;
    // Set false only by benchmarks that measure what syncing costs.
    bool sync = true;
  };

  static absl::StatusOr<std::unique_ptr<Store>> Open(const Options& options);
  ~Store();  // writes a final checkpoint and closes

  std::unique_ptr<Txn> Begin();
  // Writes the transaction's changes and audit entries atomically, synced,
  // sharing the write (and its fsync) with concurrent commits. On error
  // the outcome is unknown: nothing is visible now, but a write whose log
  // sync failed may be found after a restart. After a failed write every
  // later commit is refused (UNAVAILABLE) until the store is reopened.
  absl::Status Commit(std::unique_ptr<Txn> txn);
  // Calls `listener` on the committing thread after every commit that wrote
  // to `cf`, once the write is visible. Set before the store is shared; a
  // listener must be quick and must not commit.
  void OnCommit(Cf cf, std::function<void()> listener);
  // Calls `listener` once, on the writing thread, when a write first fails
  // and the store starts refusing commits. Set before the store is shared.
  void OnWriteFailure(std::function<void()> listener);

  // Reads outside any transaction (latest committed data).
  absl::StatusOr<std::optional<std::string>> Get(Cf cf, absl::string_view key);
  absl::Status Scan(Cf cf, absl::string_view prefix, absl::string_view after,
                    const std::function<bool(absl::string_view key, absl::string_view value)>& visit);

  // Recomputes the audit chain, checks every checkpoint's signature, that
  // the by-case and by-principal indexes hold exactly the chain's entries,
  // and, given the last head witnessed outside the store, that the chain
  // reaches it with the same hash (so a log cut back is caught even after a
  // restart).
  AuditVerification VerifyAudit(const haven::v1::AuditCheckpoint* witnessed = nullptr);
  // The entry stored at `sequence`, with its hash filled in.
  absl::StatusOr<haven::v1::AuditEntry> ReadAuditEntry(uint64_t sequence);
  uint64_t last_audit_sequence() const;
  // The chain's head now, signed like a checkpoint but not stored: havend
  // logs it, so that a log kept elsewhere witnesses how long the chain was
  // (a store cut back after its last checkpoint no longer reaches it).
  haven::v1::AuditCheckpoint SignedHead() const;
  uint64_t checkpoint_interval() const { return options_.checkpoint_interval; }
  // This store's random id (hex), made when it was created (or first
  // opened by a havend that signs version-2 checkpoints); in every
  // checkpoint's signature.
  const std::string& instance_id() const { return instance_id_; }
  // The layout version of what is stored: kSchemaVersion for a new store;
  // older for one made by an earlier havend, until its migration is done.
  uint32_t schema_version() const { return schema_version_; }
  // Records (synced) that the store now has `version`'s layout.
  absl::Status SetSchemaVersion(uint32_t version);
  // Records read (got, or visited by a scan) since the store was opened:
  // the work a request costs, measured.
  uint64_t records_read() const { return records_read_.load(std::memory_order_relaxed); }

  // Backs the store up into `dir` while it serves (RocksDB's BackupEngine,
  // incremental: files an earlier backup holds are not copied again) and
  // deletes all but the newest `keep` backups (0: keeps every one). The
  // backup is one point in time, every column family and the audit chain
  // together, no earlier than the call. One backup runs at a time.
  absl::StatusOr<BackupSummary> Backup(const std::string& dir, int keep);

  // Pushes deleted values (a destroyed data key, shredded details) under
  // each (column family, key prefix) out of the files on disk: flushes every
  // column family, so that no log file still holds them, then compacts only
  // those key ranges (an empty prefix: the whole family), to the bottom
  // level. Slow: for background jobs and offline commands.
  absl::Status PurgePrefixes(const std::vector<std::pair<Cf, std::string>>& prefixes);

  // Raw handle for benchmarks that compare against plain synced RocksDB
  // writes; not for services.
  absl::Status RawSyncedPut(absl::string_view key, absl::string_view value);

 private:
  struct Writer;
  struct ChainHead {
    uint64_t sequence = 0;
    std::string hash;  // 32 zero bytes before the first entry
    int64_t time_micros = 0;  // of the last entry; entries' times never go back
  };
  Store() = default;
  absl::Status Init();
  // Commit's write, shared with the writers queued beside it.
  absl::Status WriteInGroup(Txn* txn);
  haven::v1::AuditCheckpoint Sign(const ChainHead& head) const;
  absl::Status WriteCheckpoint(const ChainHead& head, void* batch);
  rocksdb::ColumnFamilyHandle* handle(Cf cf) const;
  friend class Txn;

  Options options_;
  std::unique_ptr<rocksdb::TransactionDB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;

  uint32_t schema_version_ = kSchemaVersion;
  std::string instance_id_;
  std::atomic<uint64_t> records_read_{0};
  mutable std::mutex mu_;
  std::deque<Writer*> queue_;  // guarded by mu_; front is the leader
  ChainHead head_;             // written only by the leader
  uint64_t last_checkpoint_ = 0;
  std::mutex backup_mu_;  // held by Backup
  bool write_failed_ = false;  // guarded by mu_: a group's write failed; refuse every later one
  std::vector<std::pair<Cf, std::function<void()>>> commit_listeners_;
  std::vector<std::function<void()>> failure_listeners_;
};

// The hash that chains an audit entry: BLAKE2b-256 of its stored bytes,
// which include the previous entry's hash.
std::string AuditEntryHash(absl::string_view stored_bytes);
// What a version-1 checkpoint's signature covers.
std::string CheckpointMessage(uint64_t sequence, absl::string_view hash);
// What a version-2 checkpoint's signature covers (see AuditCheckpoint).
std::string CheckpointMessageV2(const haven::v1::AuditCheckpoint& checkpoint);
// Whether `checkpoint` is signed by `keys`' audit signing key (version 2)
// or, for version 1, by the key derived from the master key.
bool CheckpointSignatureValid(const crypto::KeyRing& keys,
                              const haven::v1::AuditCheckpoint& checkpoint);

}  // namespace haven::storage

#endif  // HAVEN_STORAGE_STORE_H_
