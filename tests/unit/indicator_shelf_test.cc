// IndicatorShelf: stored indicator set versions stay as they were stored.
#include "storage/access/indicator_shelf.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/store.h"
#include "tests/unit/test_util.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using ::haven::testing::MemStore;
using ::haven::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

v1::IndicatorSet Set(const std::string& id, uint32_t version, const std::string& title) {
  v1::IndicatorSet set;
  set.set_id(id);
  set.set_version(version);
  set.set_title(title);
  return set;
}

// "id/version: title" of each set.
std::vector<std::string> Names(const std::vector<v1::IndicatorSet>& sets) {
  std::vector<std::string> names;
  for (const v1::IndicatorSet& set : sets) {
    names.push_back(absl::StrCat(set.id(), "/", set.version(), ": ", set.title()));
  }
  return names;
}

class IndicatorShelfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(db_.Open(), nullptr);
    shelf_ = std::make_unique<IndicatorShelf>(db_.store());
  }

  std::vector<std::string> Stored() {
    absl::StatusOr<std::vector<v1::IndicatorSet>> sets = shelf_->LoadAll();
    EXPECT_THAT(sets, ::haven::testing::IsOk());
    return sets.ok() ? Names(*sets) : std::vector<std::string>();
  }

  MemStore db_;
  std::unique_ptr<IndicatorShelf> shelf_;
};

TEST_F(IndicatorShelfTest, StoresNewVersionsAndKeepsOldOnes) {
  HAVEN_ASSERT_OK(shelf_->StoreNewVersions({Set("general", 1, "General"), Set("children", 1, "C")}));
  HAVEN_ASSERT_OK(shelf_->StoreNewVersions({Set("general", 2, "General, revised")}));
  EXPECT_THAT(Stored(), ::testing::UnorderedElementsAre("general/1: General", "children/1: C",
                                                        "general/2: General, revised"));
}

TEST_F(IndicatorShelfTest, VersionsOfASetLoadInOrder) {
  HAVEN_ASSERT_OK(shelf_->StoreNewVersions({Set("general", 10, "ten"), Set("general", 9, "nine")}));
  EXPECT_THAT(Stored(), ::testing::ElementsAre("general/9: nine", "general/10: ten"));
}

TEST_F(IndicatorShelfTest, StoringTheSameVersionAgainChangesNothing) {
  HAVEN_ASSERT_OK(shelf_->StoreNewVersions({Set("general", 1, "General")}));
  const uint64_t audited = db_.store()->last_audit_sequence();
  HAVEN_ASSERT_OK(shelf_->StoreNewVersions({Set("general", 1, "General")}));
  EXPECT_THAT(Stored(), ::testing::ElementsAre("general/1: General"));
  EXPECT_EQ(db_.store()->last_audit_sequence(), audited);  // no personal data: nothing audited
}

TEST_F(IndicatorShelfTest, RefusesAChangedSetUnderAStoredVersionAndStoresNothing) {
  HAVEN_ASSERT_OK(shelf_->StoreNewVersions({Set("general", 1, "General")}));
  EXPECT_THAT(
      shelf_->StoreNewVersions({Set("children", 1, "Children"), Set("general", 1, "Changed")}),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("needs a new version number")));
  EXPECT_THAT(Stored(), ::testing::ElementsAre("general/1: General"));
}

TEST_F(IndicatorShelfTest, AnUnreadableVersionIsDataLoss) {
  std::unique_ptr<storage::Txn> txn = db_.store()->Begin();
  HAVEN_ASSERT_OK(txn->Put(storage::Cf::kIndicatorSets, "unreadable", "\xff\xff\xff"));
  HAVEN_ASSERT_OK(db_.store()->Commit(std::move(txn)));
  EXPECT_THAT(shelf_->LoadAll(), StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

TEST_F(IndicatorShelfTest, AnEmptyShelfLoadsNothing) { EXPECT_THAT(Stored(), IsEmpty()); }

}  // namespace
}  // namespace haven::access
