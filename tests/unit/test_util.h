// Helpers shared by Haven's unit tests: a status matcher, libsodium set up
// once, and a Store on a RocksDB memory env with a manual clock.
#ifndef HAVEN_TESTS_UNIT_TEST_UTIL_H_
#define HAVEN_TESTS_UNIT_TEST_UTIL_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "haven/v1/audit.pb.h"
#include "rocksdb/env.h"
#include "storage/clock.h"
#include "storage/crypto.h"
#include "storage/store.h"

namespace haven::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

// Matches an absl::Status or absl::StatusOr<T> whose code is `code` and
// whose message matches `message_matcher`.
MATCHER_P2(StatusIs, code, message_matcher,
           absl::StrCat("has code ", absl::StatusCodeToString(code))) {
  const absl::Status& status = GetStatus(arg);
  if (status.code() != code) {
    *result_listener << "whose status is " << status.ToString();
    return false;
  }
  return ::testing::ExplainMatchResult(message_matcher, std::string(status.message()),
                                       result_listener);
}


// Matches an OK absl::Status or absl::StatusOr<T>, printing the status
// otherwise.
MATCHER(IsOk, "is OK") {
  const absl::Status& status = GetStatus(arg);
  if (!status.ok()) *result_listener << "whose status is " << status.ToString();
  return status.ok();
}

#define HAVEN_ASSERT_OK(expr) ASSERT_THAT((expr), ::haven::testing::IsOk())
#define HAVEN_EXPECT_OK(expr) EXPECT_THAT((expr), ::haven::testing::IsOk())

// The key of audit entry (and checkpoint) `sequence`: 8 bytes big-endian.
std::string SeqKey(uint64_t sequence);

// A Store on its own memory env, opened and reopened on demand. The env
// outlives every store opened on it.
class MemStore {
 public:
  explicit MemStore(uint64_t checkpoint_interval = 16);
  ~MemStore();

  // Opens (or reopens after Close) the store; fails the test on error.
  storage::Store* Open();
  absl::StatusOr<std::unique_ptr<storage::Store>> TryOpen();
  // Destroys the store (which writes its final checkpoint).
  void Close();

  storage::Store* store() const { return store_.get(); }
  const crypto::KeyRing& keys() const { return *keys_; }
  // The master key the key ring was made from (for stores made the old way).
  const crypto::SecretKey& master() const { return master_; }
  ManualClock& clock() { return clock_; }
  rocksdb::Env* env() const { return env_.get(); }
  const std::string& path() const { return path_; }
  storage::Store::Options options() const;

  // Every audit entry in sequence order, read with Store::ReadAuditEntry.
  std::vector<haven::v1::AuditEntry> AuditEntries();

  // Replaces the env the store is opened on (for fault injection); the
  // replacement must outlive the store.
  void set_env_override(rocksdb::Env* env) { env_override_ = env; }

 private:
  std::unique_ptr<rocksdb::Env> env_;
  rocksdb::Env* env_override_ = nullptr;
  crypto::SecretKey master_;
  std::unique_ptr<crypto::KeyRing> keys_;
  ManualClock clock_;
  std::string path_ = "/haven-unit-db";
  uint64_t checkpoint_interval_;
  std::unique_ptr<storage::Store> store_;
};

}  // namespace haven::testing

#endif  // HAVEN_TESTS_UNIT_TEST_UTIL_H_
