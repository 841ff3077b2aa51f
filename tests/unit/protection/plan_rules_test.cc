// Plan rules: every move of a plan item as a table, and how a referral's answer moves an item.
#include "services/protection/plan_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <utility>

namespace haven::protection {
namespace {

namespace v1 = haven::v1;
using ::testing::HasSubstr;

TEST(PlanRulesTest, EveryMoveOfAnItem) {
  using S = v1::PlanItemStatus;
  const S kAll[] = {v1::PLAN_ITEM_STATUS_PLANNED,   v1::PLAN_ITEM_STATUS_REFERRED,
                    v1::PLAN_ITEM_STATUS_IN_PROGRESS, v1::PLAN_ITEM_STATUS_DELIVERED,
                    v1::PLAN_ITEM_STATUS_DECLINED,  v1::PLAN_ITEM_STATUS_CANCELLED};
  // The allowed moves; every other pair is refused.
  const std::set<std::pair<S, S>> allowed = {
      {v1::PLAN_ITEM_STATUS_PLANNED, v1::PLAN_ITEM_STATUS_DELIVERED},
      {v1::PLAN_ITEM_STATUS_PLANNED, v1::PLAN_ITEM_STATUS_DECLINED},
      {v1::PLAN_ITEM_STATUS_PLANNED, v1::PLAN_ITEM_STATUS_CANCELLED},
      {v1::PLAN_ITEM_STATUS_REFERRED, v1::PLAN_ITEM_STATUS_DELIVERED},
      {v1::PLAN_ITEM_STATUS_REFERRED, v1::PLAN_ITEM_STATUS_DECLINED},
      {v1::PLAN_ITEM_STATUS_REFERRED, v1::PLAN_ITEM_STATUS_CANCELLED},
      {v1::PLAN_ITEM_STATUS_IN_PROGRESS, v1::PLAN_ITEM_STATUS_DELIVERED},
      {v1::PLAN_ITEM_STATUS_IN_PROGRESS, v1::PLAN_ITEM_STATUS_DECLINED},
      {v1::PLAN_ITEM_STATUS_IN_PROGRESS, v1::PLAN_ITEM_STATUS_CANCELLED},
  };
  for (S from : kAll) {
    for (S to : kAll) {
      absl::Status s = CheckItemMove(from, to);
      if (allowed.count({from, to}) > 0) {
        EXPECT_TRUE(s.ok()) << v1::PlanItemStatus_Name(from) << " -> " << v1::PlanItemStatus_Name(to);
      } else {
        EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition)
            << v1::PlanItemStatus_Name(from) << " -> " << v1::PlanItemStatus_Name(to);
        // The message names the move.
        const std::string from_name = v1::PlanItemStatus_Name(from).substr(17);
        EXPECT_THAT(std::string(s.message()), HasSubstr("from " + from_name));
      }
    }
  }
  EXPECT_THAT(std::string(CheckItemMove(v1::PLAN_ITEM_STATUS_DELIVERED,
                                        v1::PLAN_ITEM_STATUS_CANCELLED)
                              .message()),
              HasSubstr("final"));
  EXPECT_THAT(std::string(CheckItemMove(v1::PLAN_ITEM_STATUS_PLANNED, v1::PLAN_ITEM_STATUS_REFERRED)
                              .message()),
              HasSubstr("ReferPlanItem"));
}

TEST(PlanRulesTest, AReferredItemFollowsItsReferral) {
  v1::PlanItem item;
  item.set_status(v1::PLAN_ITEM_STATUS_REFERRED);
  const std::map<v1::ReferralStatus, v1::PlanItemStatus> expected = {
      {v1::REFERRAL_STATUS_SENT, v1::PLAN_ITEM_STATUS_REFERRED},
      {v1::REFERRAL_STATUS_ACKNOWLEDGED, v1::PLAN_ITEM_STATUS_REFERRED},
      {v1::REFERRAL_STATUS_ACCEPTED, v1::PLAN_ITEM_STATUS_IN_PROGRESS},
      {v1::REFERRAL_STATUS_COMPLETED, v1::PLAN_ITEM_STATUS_DELIVERED},
      {v1::REFERRAL_STATUS_DECLINED, v1::PLAN_ITEM_STATUS_DECLINED},
      {v1::REFERRAL_STATUS_EXPIRED, v1::PLAN_ITEM_STATUS_DECLINED},
      {v1::REFERRAL_STATUS_CANCELLED, v1::PLAN_ITEM_STATUS_CANCELLED},
  };
  for (const auto& [referral_status, item_status] : expected) {
    v1::Referral referral;
    referral.set_status(referral_status);
    EXPECT_EQ(StatusOf(item, referral), item_status) << v1::ReferralStatus_Name(referral_status);
  }
  EXPECT_EQ(StatusOf(item, std::nullopt), v1::PLAN_ITEM_STATUS_REFERRED);
  // What the plan says of a finished item stands, whatever the referral does.
  item.set_status(v1::PLAN_ITEM_STATUS_CANCELLED);
  v1::Referral accepted;
  accepted.set_status(v1::REFERRAL_STATUS_ACCEPTED);
  EXPECT_EQ(StatusOf(item, accepted), v1::PLAN_ITEM_STATUS_CANCELLED);
}

TEST(PlanRulesTest, AnItemIsOverdueOnlyWhenDueAndUnfinished) {
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  v1::PlanItem item;
  item.set_status(v1::PLAN_ITEM_STATUS_REFERRED);
  EXPECT_FALSE(IsOverdue(item, now)) << "no due time";
  item.mutable_due_time()->set_seconds(absl::ToUnixSeconds(now) - 1);
  EXPECT_TRUE(IsOverdue(item, now));
  item.mutable_due_time()->set_seconds(absl::ToUnixSeconds(now) + 1);
  EXPECT_FALSE(IsOverdue(item, now));
  item.mutable_due_time()->set_seconds(absl::ToUnixSeconds(now) - 1);
  for (v1::PlanItemStatus done : {v1::PLAN_ITEM_STATUS_DELIVERED, v1::PLAN_ITEM_STATUS_DECLINED,
                                  v1::PLAN_ITEM_STATUS_CANCELLED}) {
    item.set_status(done);
    EXPECT_FALSE(IsOverdue(item, now)) << v1::PlanItemStatus_Name(done);
  }
}

TEST(PlanRulesTest, APlannedItemNamesItsKindAndAWellFormedProvider) {
  v1::PlanItem item;
  EXPECT_THAT(std::string(CheckPlannedItem(item).message()), HasSubstr("kind"));
  item.set_kind(v1::SERVICE_KIND_PSYCHOLOGICAL);
  EXPECT_TRUE(CheckPlannedItem(item).ok());
  item.set_provider_service_id("0123456789abcdef0123456789abcdef");
  EXPECT_THAT(std::string(CheckPlannedItem(item).message()), HasSubstr("provider_organisation_id"));
  item.set_provider_organisation_id("not-an-id");
  EXPECT_EQ(CheckPlannedItem(item).code(), absl::StatusCode::kInvalidArgument);
  item.set_provider_organisation_id("fedcba9876543210fedcba9876543210");
  EXPECT_TRUE(CheckPlannedItem(item).ok());
  item.set_need(std::string(4001, 'x'));
  EXPECT_THAT(std::string(CheckPlannedItem(item).message()), HasSubstr("need"));
  EXPECT_EQ(PurposeFor(v1::SERVICE_KIND_SHELTER), v1::REFERRAL_PURPOSE_SHELTER);
  EXPECT_EQ(PurposeFor(v1::SERVICE_KIND_PSYCHOLOGICAL), v1::REFERRAL_PURPOSE_PSYCHOLOGICAL);
}

}  // namespace
}  // namespace haven::protection
