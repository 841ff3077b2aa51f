// Vault: the access layer opened on one store, and the audit head it signs.
#include "storage/access/vault.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "storage/access/indicator_shelf.h"
#include "storage/crypto.h"
#include "storage/store.h"
#include "tests/unit/test_util.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using ::haven::testing::MemStore;

class VaultTest : public ::testing::Test {
 protected:
  // Opens a vault on the memory env of db_ (whose own store stays closed).
  std::unique_ptr<Vault> Open(uint64_t checkpoint_interval = 16) {
    Vault::Options options;
    options.path = db_.path();
    options.env = db_.env();
    options.keys = &db_.keys();
    options.clock = &db_.clock();
    options.checkpoint_interval = checkpoint_interval;
    absl::StatusOr<std::unique_ptr<Vault>> vault = Vault::Open(options);
    EXPECT_THAT(vault, ::haven::testing::IsOk());
    return vault.ok() ? *std::move(vault) : nullptr;
  }

  MemStore db_;
};

TEST_F(VaultTest, SignsTheAuditHeadItsDoorsWrote) {
  std::unique_ptr<Vault> vault = Open();
  ASSERT_NE(vault, nullptr);
  EXPECT_EQ(vault->last_audit_sequence(), 0u);
  HAVEN_ASSERT_OK(vault->accounts().Bootstrap("Mechanism administration", "admin"));
  ASSERT_GT(vault->last_audit_sequence(), 0u);
  EXPECT_EQ(vault->store().last_audit_sequence(), vault->last_audit_sequence());

  v1::AuditCheckpoint head = vault->SignedAuditHead();
  EXPECT_EQ(head.sequence(), vault->last_audit_sequence());
  EXPECT_TRUE(crypto::VerifySignature(db_.keys().public_key(),
                                      storage::CheckpointMessage(head.sequence(), head.hash()),
                                      head.signature()));
}

TEST_F(VaultTest, ReopensWhatItStored) {
  v1::IndicatorSet set;
  set.set_id("general");
  set.set_version(1);
  {
    std::unique_ptr<Vault> vault = Open();
    ASSERT_NE(vault, nullptr);
    HAVEN_ASSERT_OK(vault->indicator_shelf().StoreNewVersions({set}));
  }
  std::unique_ptr<Vault> vault = Open();
  ASSERT_NE(vault, nullptr);
  absl::StatusOr<std::vector<v1::IndicatorSet>> stored = vault->indicator_shelf().LoadAll();
  HAVEN_ASSERT_OK(stored);
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].id(), "general");
}

TEST_F(VaultTest, KeepsTheCheckpointIntervalTheStoreWasCreatedWith) {
  ASSERT_NE(Open(16), nullptr);
  std::unique_ptr<Vault> reopened = Open(64);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->checkpoint_interval(), 16u);
}

}  // namespace
}  // namespace haven::access
