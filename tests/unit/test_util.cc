// Helpers shared by Haven's unit tests.
#include "tests/unit/test_util.h"

#include "storage/keys.h"

namespace haven::testing {
namespace {

class CryptoEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_TRUE(crypto::Init().ok()); }
};

// Registered before gtest_main runs the tests.
[[maybe_unused]] ::testing::Environment* const kCryptoEnvironment =
    ::testing::AddGlobalTestEnvironment(new CryptoEnvironment);

}  // namespace

std::string SeqKey(uint64_t sequence) {
  std::string key;
  keys::AppendU64(&key, sequence);
  return key;
}

MemStore::MemStore(uint64_t checkpoint_interval)
    : env_(rocksdb::NewMemEnv(rocksdb::Env::Default())),
      checkpoint_interval_(checkpoint_interval) {
  // Init is idempotent; key generation below needs it even before the
  // global environment has run (fixtures built at test registration).
  (void)crypto::Init();
  // The audit signing key apart from the master key, as havend has it.
  master_ = crypto::SecretKey::Random();
  keys_ = crypto::KeyRing::FromKeys(master_, crypto::SecretKey::Random(), {});
}

MemStore::~MemStore() { store_.reset(); }

storage::Store::Options MemStore::options() const {
  storage::Store::Options o;
  o.path = path_;
  o.env = env_override_ != nullptr ? env_override_ : env_.get();
  o.keys = keys_.get();
  o.clock = &clock_;
  o.checkpoint_interval = checkpoint_interval_;
  return o;
}

absl::StatusOr<std::unique_ptr<storage::Store>> MemStore::TryOpen() {
  return storage::Store::Open(options());
}

storage::Store* MemStore::Open() {
  absl::StatusOr<std::unique_ptr<storage::Store>> opened = TryOpen();
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  if (!opened.ok()) return nullptr;
  store_ = *std::move(opened);
  return store_.get();
}

void MemStore::Close() { store_.reset(); }

std::vector<haven::v1::AuditEntry> MemStore::AuditEntries() {
  std::vector<haven::v1::AuditEntry> out;
  const uint64_t last = store_->last_audit_sequence();
  for (uint64_t seq = 1; seq <= last; ++seq) {
    absl::StatusOr<haven::v1::AuditEntry> entry = store_->ReadAuditEntry(seq);
    EXPECT_TRUE(entry.ok()) << "audit entry " << seq << ": " << entry.status().ToString();
    if (entry.ok()) out.push_back(*std::move(entry));
  }
  return out;
}

}  // namespace haven::testing
