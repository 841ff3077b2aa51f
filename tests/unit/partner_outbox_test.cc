// PartnerOutbox: due messages in order per partner, removal, rescheduling.
#include "storage/access/partner_outbox.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "tests/unit/test_util.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using ::haven::testing::MemStore;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class PartnerOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(db_.Open(), nullptr);
    outbox_ = std::make_unique<PartnerOutbox>(db_.store());
  }

  // Queues, as the `n`th message, one for `partner` about `referral`, due at
  // `due`; returns its key.
  std::string Queue(uint64_t n, const std::string& partner, const std::string& referral,
                    absl::Time due) {
    v1::PartnerOutboxRecord record;
    record.set_partner_id(partner);
    record.set_referral_id(referral);
    record.set_next_attempt_micros(absl::ToUnixMicros(due));
    return Put(n, record.SerializeAsString());
  }
  std::string Put(uint64_t n, const std::string& value) {
    std::string key;
    keys::AppendU64(&key, n);
    std::unique_ptr<storage::Txn> txn = db_.store()->Begin();
    EXPECT_TRUE(txn->Put(storage::Cf::kPartnerOutbox, key, value).ok());
    EXPECT_TRUE(db_.store()->Commit(std::move(txn)).ok());
    return key;
  }

  // The referral ids visited at `now`; `keep` returns false for those kept
  // for a retry.
  std::vector<std::string> Due(absl::Time now,
                               const std::function<bool(const PartnerOutbox::Message&)>& keep =
                                   [](const PartnerOutbox::Message&) { return true; }) {
    std::vector<std::string> visited;
    HAVEN_EXPECT_OK(outbox_->VisitDue(now, [&](const PartnerOutbox::Message& message) {
      visited.push_back(message.record.referral_id());
      return keep(message);
    }));
    return visited;
  }

  MemStore db_;
  std::unique_ptr<PartnerOutbox> outbox_;
  const absl::Time now_ = absl::FromUnixSeconds(1700000000);
};

TEST_F(PartnerOutboxTest, VisitsDueMessagesInTheOrderTheyWereQueued) {
  Queue(1, "nl", "r1", now_);
  Queue(2, "be", "r2", now_ - absl::Seconds(5));
  Queue(3, "nl", "r3", now_);
  EXPECT_THAT(Due(now_), ElementsAre("r1", "r2", "r3"));
}

TEST_F(PartnerOutboxTest, APartnersMessagesWaitBehindItsFirstNotDue) {
  Queue(1, "nl", "r1", now_ + absl::Seconds(1));
  Queue(2, "nl", "r2", now_);
  Queue(3, "be", "r3", now_);
  EXPECT_THAT(Due(now_), ElementsAre("r3"));
  EXPECT_THAT(Due(now_ + absl::Seconds(1)), ElementsAre("r1", "r2", "r3"));
}

TEST_F(PartnerOutboxTest, APartnersMessagesWaitBehindOneKeptForARetry) {
  Queue(1, "nl", "r1", now_);
  Queue(2, "nl", "r2", now_);
  Queue(3, "be", "r3", now_);
  EXPECT_THAT(Due(now_, [](const PartnerOutbox::Message& m) { return m.record.referral_id() != "r1"; }),
              ElementsAre("r1", "r3"));
}

TEST_F(PartnerOutboxTest, RemovedMessagesAreGone) {
  const std::string key = Queue(1, "nl", "r1", now_);
  Queue(2, "nl", "r2", now_);
  HAVEN_ASSERT_OK(outbox_->Remove(key));
  HAVEN_ASSERT_OK(outbox_->Remove(key));  // gone already: nothing to do
  EXPECT_THAT(Due(now_), ElementsAre("r2"));
}

TEST_F(PartnerOutboxTest, AVisitMayRemoveTheMessageItIsGiven) {
  Queue(1, "nl", "r1", now_);
  Queue(2, "nl", "r2", now_);
  EXPECT_THAT(Due(now_, [&](const PartnerOutbox::Message& m) { return outbox_->Remove(m.key).ok(); }),
              ElementsAre("r1", "r2"));
  EXPECT_THAT(Due(now_), IsEmpty());
}

TEST_F(PartnerOutboxTest, RescheduledMessagesCountTheAttemptAndWait) {
  Queue(1, "nl", "r1", now_);
  HAVEN_ASSERT_OK(outbox_->VisitDue(now_, [&](const PartnerOutbox::Message& m) {
    EXPECT_EQ(m.record.attempts(), 0);
    EXPECT_TRUE(outbox_->Reschedule(m, now_ + absl::Seconds(2)).ok());
    return false;
  }));
  EXPECT_THAT(Due(now_ + absl::Seconds(1)), IsEmpty());
  HAVEN_ASSERT_OK(outbox_->VisitDue(now_ + absl::Seconds(2), [&](const PartnerOutbox::Message& m) {
    EXPECT_EQ(m.record.attempts(), 1);
    EXPECT_EQ(m.record.next_attempt_micros(), absl::ToUnixMicros(now_ + absl::Seconds(2)));
    return true;
  }));
}

TEST_F(PartnerOutboxTest, ReschedulingAMessageThatLeftTheQueueChangesNothing) {
  PartnerOutbox::Message message;
  message.key = Queue(1, "nl", "r1", now_);
  HAVEN_ASSERT_OK(outbox_->Remove(message.key));
  HAVEN_ASSERT_OK(outbox_->Reschedule(message, now_ + absl::Seconds(2)));
  EXPECT_THAT(Due(now_ + absl::Seconds(2)), IsEmpty());
}

TEST_F(PartnerOutboxTest, AnUnreadableMessageIsPassedOver) {
  Put(1, "\xff\xff\xff");
  Queue(2, "nl", "r2", now_);
  EXPECT_THAT(Due(now_), ElementsAre("r2"));
}

}  // namespace
}  // namespace haven::access
