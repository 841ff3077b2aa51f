// Store: Haven's RocksDB TransactionDB with group commit and a hash-chained
// audit log.
#include "storage/store.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/transaction.h"
#include "rocksdb/utilities/transaction_db.h"
#include "rocksdb/write_batch.h"
#include "storage/keys.h"
#include "storage/timestamps.h"

namespace haven::storage {
namespace {

constexpr const char* kCfNames[] = {
    "meta",          "audit",           "audit_checkpoints", "audit_by_case",
    "audit_by_principal", "cases",      "case_keys",         "case_data",
    "grants",        "organisations",   "users",             "usernames",
    "sessions",      "service_accounts", "service_account_certs", "case_index",
    "name_index",    "alerts",          "indicator_sets",    "case_statistics",
    "referrals",     "contacts",        "contact_index",     "partner_outbox",
    "partner_referrals", "users_by_organisation", "directory",
    "liaison_pseudonyms", "liaison_followers", "liaison_events",
    "erasure_purges",
};
static_assert(sizeof(kCfNames) / sizeof(kCfNames[0]) == static_cast<int>(Cf::kCount),
              "every column family needs a name");

constexpr char kSchemaKey[] = "schema_version";
// Verification needs the interval the log was written with, so the store
// keeps the one it was created with.
constexpr char kCheckpointIntervalKey[] = "audit_checkpoint_interval";
constexpr char kInstanceIdKey[] = "instance_id";
const std::string kGenesisHash(32, '\0');

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// The one place that turns a RocksDB status into an absl::Status.
absl::Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain() || s.IsDeadlock()) {
    return absl::AbortedError("a concurrent change touched the same record; retry");
  }
  if (s.IsNotFound()) return absl::NotFoundError("not found");
  if (s.IsCorruption()) return absl::DataLossError("storage corruption detected");
  if (s.IsNoSpace()) return absl::ResourceExhaustedError("storage is out of space");
  if (s.IsIOError()) return absl::UnavailableError("storage I/O error");
  return absl::InternalError("storage error");
}

std::string SeqKey(uint64_t seq) {
  std::string k;
  keys::AppendU64(&k, seq);
  return k;
}

rocksdb::ColumnFamilyOptions CfOptions(Cf cf, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  switch (cf) {
    case Cf::kAudit:
    case Cf::kAuditCheckpoints:
    case Cf::kAuditByCase:
    case Cf::kAuditByPrincipal:
      // Append-mostly and read by range: larger memtables, no point filters.
      o.write_buffer_size = 32 << 20;
      break;
    default:
      // Looked up by key: a bloom filter saves reads of absent keys.
      table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      o.write_buffer_size = 8 << 20;
      break;
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return o;
}

}  // namespace

const char* CfName(Cf cf) { return kCfNames[static_cast<int>(cf)]; }

std::string AuditEntryHash(absl::string_view stored_bytes) {
  return crypto::Hash(absl::StrCat("haven-audit-entry-v1", stored_bytes));
}

std::string CheckpointMessage(uint64_t sequence, absl::string_view hash) {
  std::string m = "haven-audit-checkpoint-v1";
  keys::AppendU64(&m, sequence);
  m.append(hash.data(), hash.size());
  return m;
}

std::string CheckpointMessageV2(const haven::v1::AuditCheckpoint& checkpoint) {
  std::string m = "haven-audit-checkpoint-v2";
  keys::AppendU64(&m, checkpoint.sequence());
  m.append(checkpoint.hash());
  keys::AppendU64(&m, static_cast<uint64_t>(TimestampToMicros(checkpoint.time())));
  m.append(checkpoint.instance_id());
  return m;
}

bool CheckpointSignatureValid(const crypto::KeyRing& keys,
                              const haven::v1::AuditCheckpoint& checkpoint) {
  if (checkpoint.version() == 2) {
    return crypto::VerifySignature(keys.public_key(), CheckpointMessageV2(checkpoint),
                                   checkpoint.signature());
  }
  return checkpoint.version() == 0 &&
         crypto::VerifySignature(keys.legacy_public_key(),
                                 CheckpointMessage(checkpoint.sequence(), checkpoint.hash()),
                                 checkpoint.signature());
}

// ---------------------------------------------------------------- Txn

Txn::Txn(Store* store, rocksdb::Transaction* txn) : store_(store), txn_(txn) {}

Txn::~Txn() {
  if (txn_) txn_->Rollback();  // releases the locks; the data is already written
}

absl::StatusOr<std::optional<std::string>> Txn::Get(Cf cf, absl::string_view key) {
  store_->records_read_.fetch_add(1, std::memory_order_relaxed);
  std::string value;
  rocksdb::Status s = txn_->Get(rocksdb::ReadOptions(), store_->handle(cf), ToSlice(key), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocks(s);
  return value;
}

absl::StatusOr<std::optional<std::string>> Txn::GetForUpdate(Cf cf, absl::string_view key) {
  store_->records_read_.fetch_add(1, std::memory_order_relaxed);
  std::string value;
  rocksdb::Status s = txn_->GetForUpdate(rocksdb::ReadOptions(), store_->handle(cf),
                                         ToSlice(key), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocks(s);
  return value;
}

absl::Status Txn::Put(Cf cf, absl::string_view key, absl::string_view value) {
  absl::Status s = FromRocks(txn_->Put(store_->handle(cf), ToSlice(key), ToSlice(value)));
  if (s.ok()) ops_.push_back({cf, std::string(key), std::string(value), false});
  return s;
}

absl::Status Txn::Delete(Cf cf, absl::string_view key) {
  absl::Status s = FromRocks(txn_->Delete(store_->handle(cf), ToSlice(key)));
  if (s.ok()) ops_.push_back({cf, std::string(key), std::string(), true});
  return s;
}

namespace {
// The smallest key greater than every key that starts with `prefix`; empty
// when there is none (no prefix, or only 0xff bytes).
std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

// Read options for a scan of `prefix`: RocksDB stops at its end instead of
// stepping over the next keys (and their tombstones) to find that out.
struct ScanOptions {
  explicit ScanOptions(absl::string_view prefix) : end(PrefixEnd(prefix)), bound(end) {
    if (!end.empty()) read.iterate_upper_bound = &bound;
  }
  std::string end;
  rocksdb::Slice bound;
  rocksdb::ReadOptions read;
};

absl::Status ScanIterator(rocksdb::Iterator* it, absl::string_view prefix, absl::string_view after,
                          std::atomic<uint64_t>* records_read,
                          const std::function<bool(absl::string_view, absl::string_view)>& visit) {
  if (after.empty() || after < prefix) {
    it->Seek(ToSlice(prefix));
  } else {
    it->Seek(ToSlice(after));
    if (it->Valid() && it->key() == ToSlice(after)) it->Next();
  }
  for (; it->Valid(); it->Next()) {
    if (!it->key().starts_with(ToSlice(prefix))) break;
    records_read->fetch_add(1, std::memory_order_relaxed);
    if (!visit(absl::string_view(it->key().data(), it->key().size()), absl::string_view(it->value().data(), it->value().size()))) break;
  }
  return FromRocks(it->status());
}
}  // namespace

absl::Status Txn::Scan(Cf cf, absl::string_view prefix, absl::string_view after,
                       const std::function<bool(absl::string_view, absl::string_view)>& visit) {
  ScanOptions options(prefix);
  std::unique_ptr<rocksdb::Iterator> it(txn_->GetIterator(options.read, store_->handle(cf)));
  return ScanIterator(it.get(), prefix, after, &store_->records_read_, visit);
}

void Txn::Audit(haven::v1::AuditEntry entry) { audits_.push_back(std::move(entry)); }

// ---------------------------------------------------------------- Store

struct Store::Writer {
  Txn* txn;
  absl::Status status;
  bool done = false;
  std::condition_variable cv;
};

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const Options& options) {
  if (options.keys == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError("Store needs a key ring and a clock");
  }
  if (options.env == nullptr) {
    if (mkdir(options.path.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot create data directory ", options.path, ": ", std::strerror(errno)));
    }
    chmod(options.path.c_str(), 0700);
  }
  std::unique_ptr<Store> store(new Store());
  store->options_ = options;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 5;
  db_options.WAL_ttl_seconds = 0;
  db_options.WAL_size_limit_MB = 0;
  // The MANIFEST records every table file's first and last keys, which may
  // be an erased case's index keys. Writing a fresh one (live files only) at
  // every change of the file set, instead of appending, lets the erasure
  // purge leave none behind; the file set changes only at flushes and
  // compactions, so this costs little.
  db_options.max_manifest_file_size = 0;
  // RocksDB's own log (LOG in the data directory) prints the key ranges of
  // compactions, the erasure purge's among them: warnings and errors only.
  db_options.info_log_level = rocksdb::WARN_LEVEL;
  if (options.env != nullptr) db_options.env = options.env;

  auto cache = rocksdb::NewLRUCache(64 << 20);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    descriptors.emplace_back(kCfNames[i], CfOptions(static_cast<Cf>(i), cache));
  }
  rocksdb::TransactionDBOptions txn_options;
  txn_options.transaction_lock_timeout = 2000;  // ms; then ABORTED, retryable
  rocksdb::TransactionDB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s = rocksdb::TransactionDB::Open(db_options, txn_options, options.path,
                                                   descriptors, &handles, &db);
  if (!s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open the store at ", options.path, ": ", s.ToString()));
  }
  store->db_.reset(db);
  store->handles_ = std::move(handles);
  if (absl::Status init = store->Init(); !init.ok()) return init;
  return store;
}

absl::Status Store::SetSchemaVersion(uint32_t version) {
  std::string v;
  keys::AppendU32(&v, version);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (absl::Status s = FromRocks(db_->Put(wo, handle(Cf::kMeta), kSchemaKey, v)); !s.ok()) return s;
  schema_version_ = version;
  return absl::OkStatus();
}

absl::Status Store::Init() {
  absl::StatusOr<std::optional<std::string>> version = Get(Cf::kMeta, kSchemaKey);
  if (!version.ok()) return version.status();
  if (!version->has_value()) {
    if (absl::Status s = SetSchemaVersion(kSchemaVersion); !s.ok()) return s;
  } else {
    absl::string_view v = **version;
    uint32_t stored = 0;
    for (char c : v.substr(0, 4)) stored = (stored << 8) | static_cast<unsigned char>(c);
    if (v.size() != 4 || stored > kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the store has schema version ", stored, "; this havend understands up to ",
          kSchemaVersion));
    }
    schema_version_ = stored;
  }

  absl::StatusOr<std::optional<std::string>> interval = Get(Cf::kMeta, kCheckpointIntervalKey);
  if (!interval.ok()) return interval.status();
  if (interval->has_value()) {
    absl::string_view v = **interval;
    options_.checkpoint_interval = keys::ConsumeU64(&v).value_or(options_.checkpoint_interval);
  } else {
    std::string v;
    keys::AppendU64(&v, options_.checkpoint_interval);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (absl::Status s = FromRocks(db_->Put(wo, handle(Cf::kMeta), kCheckpointIntervalKey, v));
        !s.ok()) {
      return s;
    }
  }

  absl::StatusOr<std::optional<std::string>> instance = Get(Cf::kMeta, kInstanceIdKey);
  if (!instance.ok()) return instance.status();
  if (instance->has_value()) {
    instance_id_ = **instance;
  } else {
    std::string raw(16, '\0');
    randombytes_buf(raw.data(), raw.size());
    instance_id_ = absl::BytesToHexString(raw);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (absl::Status s = FromRocks(db_->Put(wo, handle(Cf::kMeta), kInstanceIdKey, instance_id_));
        !s.ok()) {
      return s;
    }
  }

  head_.hash = kGenesisHash;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handle(Cf::kAudit)));
  it->SeekToLast();
  if (it->Valid()) {
    absl::string_view key = absl::string_view(it->key().data(), it->key().size());
    head_.sequence = keys::ConsumeU64(&key).value_or(0);
    head_.hash = AuditEntryHash(absl::string_view(it->value().data(), it->value().size()));
    haven::v1::AuditEntry last;
    if (last.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      head_.time_micros = TimestampToMicros(last.time());
    }
  }
  if (!it->status().ok()) return FromRocks(it->status());
  std::unique_ptr<rocksdb::Iterator> cp(
      db_->NewIterator(rocksdb::ReadOptions(), handle(Cf::kAuditCheckpoints)));
  cp->SeekToLast();
  if (cp->Valid()) {
    absl::string_view key = absl::string_view(cp->key().data(), cp->key().size());
    last_checkpoint_ = keys::ConsumeU64(&key).value_or(0);
  }
  return FromRocks(cp->status());
}

Store::~Store() {
  if (!db_) return;
  if (head_.sequence > last_checkpoint_) {
    rocksdb::WriteBatch batch;
    if (WriteCheckpoint(head_, &batch).ok()) {
      rocksdb::WriteOptions wo;
      wo.sync = options_.sync;
      db_->GetRootDB()->Write(wo, &batch);
    }
  }
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  db_.reset();
}

rocksdb::ColumnFamilyHandle* Store::handle(Cf cf) const {
  return handles_[static_cast<int>(cf) + 1];  // handles_[0] is "default"
}

Passage::Passage(Store* store, Txn* within)
    : store_(store),
      own_(within == nullptr ? store->Begin() : nullptr),
      txn_(within == nullptr ? own_.get() : within) {}

void Passage::Abandon() { own_.reset(); }

absl::Status Passage::Commit() {
  if (own_ == nullptr) return absl::OkStatus();
  return store_->Commit(std::move(own_));
}

std::unique_ptr<Txn> Store::Begin() {
  rocksdb::TransactionOptions to;
  to.deadlock_detect = true;
  return std::unique_ptr<Txn>(new Txn(this, db_->BeginTransaction(rocksdb::WriteOptions(), to)));
}

haven::v1::AuditCheckpoint Store::Sign(const ChainHead& head) const {
  haven::v1::AuditCheckpoint cp;
  cp.set_version(2);
  cp.set_sequence(head.sequence);
  cp.set_hash(head.hash);
  cp.set_instance_id(instance_id_);
  // Whole microseconds: what the signature covers is what is stored.
  *cp.mutable_time() = MicrosToTimestamp(absl::ToUnixMicros(options_.clock->Now()));
  cp.set_signature(options_.keys->Sign(CheckpointMessageV2(cp)));
  return cp;
}

absl::Status Store::WriteCheckpoint(const ChainHead& head, void* batch_ptr) {
  auto* batch = static_cast<rocksdb::WriteBatch*>(batch_ptr);
  return FromRocks(batch->Put(handle(Cf::kAuditCheckpoints), SeqKey(head.sequence),
                              Sign(head).SerializeAsString()));
}

haven::v1::AuditCheckpoint Store::SignedHead() const {
  ChainHead head;
  {
    std::lock_guard<std::mutex> lock(mu_);
    head = head_;
  }
  return Sign(head);
}

void Store::OnCommit(Cf cf, std::function<void()> listener) {
  commit_listeners_.emplace_back(cf, std::move(listener));
}

void Store::OnWriteFailure(std::function<void()> listener) {
  failure_listeners_.push_back(std::move(listener));
}

absl::Status Store::Commit(std::unique_ptr<Txn> txn) {
  if (txn->empty()) return absl::OkStatus();
  std::vector<const std::function<void()>*> told;
  for (const auto& [cf, listener] : commit_listeners_) {
    for (const Txn::Op& op : txn->ops_) {
      if (op.cf == cf) {
        told.push_back(&listener);
        break;
      }
    }
  }
  absl::Status status = WriteInGroup(txn.get());
  if (status.ok()) {
    for (const std::function<void()>* listener : told) (*listener)();
  }
  return status;
}

absl::Status Store::WriteInGroup(Txn* txn) {
  Writer self;
  self.txn = txn;
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&self);
  self.cv.wait(lock, [&] { return self.done || queue_.front() == &self; });
  if (self.done) return self.status;

  // This writer leads: it writes its own and every queued change in one
  // batch, so that they share one fsync, and chains their audit entries in
  // the order they are written.
  constexpr size_t kMaxGroup = 256;
  std::vector<Writer*> group(queue_.begin(),
                             queue_.begin() + std::min(queue_.size(), kMaxGroup));
  const bool refused = write_failed_;
  lock.unlock();

  rocksdb::WriteBatch batch;
  ChainHead head = head_;
  uint64_t last_checkpoint = last_checkpoint_;
  absl::Status status;
  if (refused) {
    status = absl::UnavailableError(
        "an earlier write to the store failed; nothing more is written until havend restarts");
  }
  // Entries' times follow their sequence even if the clock steps back, so
  // that a time range is a range of sequence numbers.
  const int64_t now = std::max(absl::ToUnixMicros(options_.clock->Now()), head.time_micros);
  head.time_micros = now;
  for (Writer* w : group) {
    for (const Txn::Op& op : w->txn->ops_) {
      rocksdb::Status s = op.is_delete ? batch.Delete(handle(op.cf), op.key)
                                       : batch.Put(handle(op.cf), op.key, op.value);
      if (!s.ok()) status.Update(FromRocks(s));
    }
    for (haven::v1::AuditEntry& entry : w->txn->audits_) {
      entry.set_sequence(++head.sequence);
      *entry.mutable_time() = MicrosToTimestamp(now);
      entry.set_previous_hash(head.hash);
      entry.clear_hash();
      std::string bytes = entry.SerializeAsString();
      head.hash = AuditEntryHash(bytes);
      std::string seq = SeqKey(head.sequence);
      batch.Put(handle(Cf::kAudit), seq, bytes);
      if (!entry.case_id().empty()) {
        batch.Put(handle(Cf::kAuditByCase), absl::StrCat(entry.case_id(), seq), "");
      }
      std::string by_principal;
      keys::AppendShortString(&by_principal, entry.principal_id());
      batch.Put(handle(Cf::kAuditByPrincipal), by_principal + seq, "");
      if (head.sequence - last_checkpoint >= options_.checkpoint_interval) {
        status.Update(WriteCheckpoint(head, &batch));
        last_checkpoint = head.sequence;
      }
    }
  }
  bool write_failed = false;
  if (status.ok()) {
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    status = FromRocks(db_->GetRootDB()->Write(wo, &batch));
    write_failed = !status.ok();
  }

  lock.lock();
  if (status.ok()) {
    head_ = head;
    last_checkpoint_ = last_checkpoint;
  }
  // The failed batch may yet be in the log (appended, its sync failed) and
  // come back at the next open: a later batch must not take its audit
  // sequence numbers, so nothing more is written until the store reopens.
  const bool first_failure = write_failed && !write_failed_;
  if (write_failed) write_failed_ = true;
  for (Writer* w : group) {
    queue_.pop_front();
    w->status = status;
    w->done = true;
    if (w != &self) w->cv.notify_one();
  }
  if (!queue_.empty()) queue_.front()->cv.notify_one();
  lock.unlock();
  if (first_failure) {
    for (const std::function<void()>& listener : failure_listeners_) listener();
  }
  return status;
}

absl::StatusOr<std::optional<std::string>> Store::Get(Cf cf, absl::string_view key) {
  records_read_.fetch_add(1, std::memory_order_relaxed);
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handle(cf), ToSlice(key), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocks(s);
  return value;
}

absl::Status Store::Scan(Cf cf, absl::string_view prefix, absl::string_view after,
                         const std::function<bool(absl::string_view, absl::string_view)>& visit) {
  ScanOptions options(prefix);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options.read, handle(cf)));
  return ScanIterator(it.get(), prefix, after, &records_read_, visit);
}

uint64_t Store::last_audit_sequence() const {
  std::lock_guard<std::mutex> lock(mu_);
  return head_.sequence;
}

AuditVerification Store::VerifyAudit(const haven::v1::AuditCheckpoint* witnessed) {
  AuditVerification result;
  auto fail = [&](uint64_t seq, std::string problem) {
    if (!result.ok) return;
    result.ok = false;
    result.first_bad_sequence = seq;
    result.problem = std::move(problem);
  };
  std::map<uint64_t, haven::v1::AuditCheckpoint> checkpoints;
  bool seen_v2 = false;
  absl::Status s = Scan(Cf::kAuditCheckpoints, "", "", [&](absl::string_view key, absl::string_view value) {
    uint64_t seq = keys::ConsumeU64(&key).value_or(0);
    haven::v1::AuditCheckpoint cp;
    if (!cp.ParseFromArray(value.data(), static_cast<int>(value.size())) || cp.sequence() != seq) {
      fail(seq, "checkpoint is unreadable");
    } else if (!CheckpointSignatureValid(*options_.keys, cp)) {
      fail(seq, "checkpoint signature does not verify");
    } else if (cp.version() == 2 && cp.instance_id() != instance_id_) {
      fail(seq, "checkpoint was signed for another store instance");
    } else if (cp.version() == 0 && seen_v2) {
      fail(seq, "a version-1 checkpoint follows version-2 ones");
    }
    if (cp.version() == 2) seen_v2 = true;
    if (cp.version() == 0) ++result.legacy_checkpoints;
    checkpoints.emplace(seq, std::move(cp));
    return true;
  });
  if (!s.ok()) fail(0, "cannot read checkpoints");

  ChainHead head;
  {
    std::lock_guard<std::mutex> lock(mu_);
    head = head_;
  }
  std::string head_hash_seen;
  std::string witnessed_hash_seen;
  uint64_t last_checkpoint_seen = 0;
  uint64_t expected = 1;
  std::string previous = kGenesisHash;
  // Each entry's index keys, checked as the chain is read; then the indexes
  // must hold no more than these.
  uint64_t by_case_expected = 0;
  auto indexed = [&](Cf cf, const std::string& key) {
    absl::StatusOr<std::optional<std::string>> found = Get(cf, key);
    return found.ok() && found->has_value();
  };
  s = Scan(Cf::kAudit, "", "", [&](absl::string_view key, absl::string_view value) {
    uint64_t seq = keys::ConsumeU64(&key).value_or(0);
    if (seq != expected) {
      fail(expected, "an entry is missing");
      return false;
    }
    haven::v1::AuditEntry entry;
    if (!entry.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
        entry.sequence() != seq) {
      fail(seq, "entry is unreadable or out of place");
      return false;
    }
    if (entry.previous_hash() != previous) {
      // Either the entry before was altered or this one was: name the first.
      fail(seq - 1, "an entry does not chain to the one before it");
      return false;
    }
    previous = AuditEntryHash(value);
    auto cp = checkpoints.find(seq);
    if (cp != checkpoints.end()) {
      if (cp->second.hash() != previous) {
        fail(seq, "entry differs from what its checkpoint signed");
        return false;
      }
      ++result.checkpoints;
      last_checkpoint_seen = seq;
    }
    if (seq > last_checkpoint_seen + options_.checkpoint_interval) {
      fail(last_checkpoint_seen + 1, "signed checkpoints are missing");
      return false;
    }
    const std::string seq_key = SeqKey(seq);
    if (!entry.case_id().empty()) {
      ++by_case_expected;
      if (!indexed(Cf::kAuditByCase, absl::StrCat(entry.case_id(), seq_key))) {
        fail(seq, "the by-case index lacks an entry of the chain");
        return false;
      }
    }
    std::string by_principal;
    keys::AppendShortString(&by_principal, entry.principal_id());
    if (!indexed(Cf::kAuditByPrincipal, by_principal + seq_key)) {
      fail(seq, "the by-principal index lacks an entry of the chain");
      return false;
    }
    if (seq == head.sequence) head_hash_seen = previous;
    if (witnessed != nullptr && seq == witnessed->sequence()) witnessed_hash_seen = previous;
    ++result.entries;
    ++expected;
    return true;
  });
  if (!s.ok()) fail(expected, "cannot read the audit log");
  if (!checkpoints.empty() && checkpoints.rbegin()->first >= expected) {
    fail(expected, "entries signed by a checkpoint are missing from the end of the log");
  }
  if (expected <= head.sequence) {
    fail(expected, "entries this store wrote are missing from the end of the log");
  } else if (head.sequence > 0 && head_hash_seen != head.hash) {
    fail(head.sequence, "entry differs from what this store wrote");
  }

  // Every chain entry has its index keys; an index holding more points at
  // entries that are not in the chain (or not with that case or principal).
  auto count = [&](Cf cf) {
    uint64_t n = 0;
    if (!Scan(cf, "", "", [&](absl::string_view, absl::string_view) { return ++n, true; }).ok()) {
      fail(0, "cannot read the audit indexes");
    }
    return n;
  };
  if (result.ok && count(Cf::kAuditByCase) != by_case_expected) {
    fail(0, "the by-case index holds entries that are not in the chain");
  }
  if (result.ok && count(Cf::kAuditByPrincipal) != result.entries) {
    fail(0, "the by-principal index holds entries that are not in the chain");
  }

  if (witnessed != nullptr) {
    result.witnessed_sequence = witnessed->sequence();
    if (witnessed->version() != 2 || !CheckpointSignatureValid(*options_.keys, *witnessed)) {
      fail(witnessed->sequence(), "the witnessed head's signature does not verify");
    } else if (witnessed->instance_id() != instance_id_) {
      fail(witnessed->sequence(), "the witness file is another store's");
    } else if (witnessed->sequence() >= expected) {
      fail(expected, absl::StrCat("the log ends before its last witnessed head (sequence ",
                                  witnessed->sequence(), "): entries were removed"));
    } else if (witnessed->sequence() > 0 && witnessed_hash_seen != witnessed->hash()) {
      fail(witnessed->sequence(), "entry differs from the witnessed head");
    }
  }
  return result;
}

absl::StatusOr<haven::v1::AuditEntry> Store::ReadAuditEntry(uint64_t sequence) {
  absl::StatusOr<std::optional<std::string>> value = Get(Cf::kAudit, SeqKey(sequence));
  if (!value.ok()) return value.status();
  if (!value->has_value()) return absl::NotFoundError("no audit entry with that sequence");
  haven::v1::AuditEntry entry;
  if (!entry.ParseFromString(**value)) return absl::DataLossError("audit entry is unreadable");
  entry.set_hash(AuditEntryHash(**value));
  return entry;
}

absl::Status Store::PurgePrefixes(const std::vector<std::pair<Cf, std::string>>& prefixes) {
  rocksdb::FlushOptions fo;
  std::vector<rocksdb::ColumnFamilyHandle*> all(handles_.begin() + 1, handles_.end());
  if (absl::Status s = FromRocks(db_->Flush(fo, all)); !s.ok()) return s;
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (const auto& [cf, prefix] : prefixes) {
    const std::string end = keys::PrefixEnd(prefix);
    const rocksdb::Slice begin_slice = ToSlice(prefix);
    const rocksdb::Slice end_slice = ToSlice(end);
    if (absl::Status s = FromRocks(db_->CompactRange(co, handle(cf), &begin_slice,
                                                     end.empty() ? nullptr : &end_slice));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Store::RawSyncedPut(absl::string_view key, absl::string_view value) {
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  return FromRocks(db_->GetRootDB()->Put(wo, handles_[0], ToSlice(key), ToSlice(value)));
}

}  // namespace haven::storage
