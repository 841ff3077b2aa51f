// NextStatus: every (status x move x outcome), the reflection period, and children.
#include "services/identification/status_machine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace haven::identification {
namespace {

namespace v1 = haven::v1;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr v1::IdentificationStatus kUnspecified = v1::IDENTIFICATION_STATUS_UNSPECIFIED;
constexpr v1::IdentificationStatus kPotential = v1::IDENTIFICATION_STATUS_POTENTIAL_VICTIM;
constexpr v1::IdentificationStatus kPresumed = v1::IDENTIFICATION_STATUS_PRESUMED_VICTIM;
constexpr v1::IdentificationStatus kRg = v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS;
constexpr v1::IdentificationStatus kRgNegative = v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS_NEGATIVE;
constexpr v1::IdentificationStatus kConfirmed = v1::IDENTIFICATION_STATUS_CONFIRMED_VICTIM;
constexpr v1::IdentificationStatus kCgNegative = v1::IDENTIFICATION_STATUS_CONCLUSIVE_GROUNDS_NEGATIVE;
constexpr v1::IdentificationStatus kReconsideration =
    v1::IDENTIFICATION_STATUS_RECONSIDERATION_REQUESTED;

constexpr v1::DecisionKind kNone = v1::DECISION_KIND_UNSPECIFIED;
constexpr v1::DecisionKind kRgKind = v1::DECISION_KIND_REASONABLE_GROUNDS;
constexpr v1::DecisionKind kCgKind = v1::DECISION_KIND_CONCLUSIVE_GROUNDS;

constexpr Move kRefer = Move::kReferPresumedVictim;
constexpr Move kDecideRg = Move::kDecideReasonableGrounds;
constexpr Move kDecideCg = Move::kDecideConclusiveGrounds;
constexpr Move kReconsider = Move::kRequestReconsideration;

constexpr bool kNegative = false;
constexpr bool kPositive = true;

const absl::Time kNow = absl::FromCivil(absl::CivilSecond(2024, 3, 8, 10, 0, 0), absl::UTCTimeZone());

struct Expect {
  bool allowed;
  v1::IdentificationStatus status;
  v1::DecisionKind reconsidering;
};
constexpr Expect To(v1::IdentificationStatus status, v1::DecisionKind reconsidering = kNone) {
  return {true, status, reconsidering};
}
constexpr Expect kRefused = {false, kUnspecified, kNone};

struct Row {
  v1::IdentificationStatus status;
  v1::DecisionKind reconsidering;  // of the facts
  Move move;
  bool positive;
  Expect expect;
};

// The specification: every status (and, for RECONSIDERATION_REQUESTED, every
// decision being reconsidered) x every move x both outcomes, for an adult
// whose reflection period has ended.
const std::vector<Row> kTable = {
    // UNSPECIFIED behaves as POTENTIAL_VICTIM.
    {kUnspecified, kNone, kRefer, kNegative, To(kPresumed)},
    {kUnspecified, kNone, kRefer, kPositive, To(kPresumed)},
    {kUnspecified, kNone, kDecideRg, kNegative, kRefused},
    {kUnspecified, kNone, kDecideRg, kPositive, kRefused},
    {kUnspecified, kNone, kDecideCg, kNegative, kRefused},
    {kUnspecified, kNone, kDecideCg, kPositive, kRefused},
    {kUnspecified, kNone, kReconsider, kNegative, kRefused},
    {kUnspecified, kNone, kReconsider, kPositive, kRefused},

    {kPotential, kNone, kRefer, kNegative, To(kPresumed)},
    {kPotential, kNone, kRefer, kPositive, To(kPresumed)},
    {kPotential, kNone, kDecideRg, kNegative, kRefused},
    {kPotential, kNone, kDecideRg, kPositive, kRefused},
    {kPotential, kNone, kDecideCg, kNegative, kRefused},
    {kPotential, kNone, kDecideCg, kPositive, kRefused},
    {kPotential, kNone, kReconsider, kNegative, kRefused},
    {kPotential, kNone, kReconsider, kPositive, kRefused},

    {kPresumed, kNone, kRefer, kNegative, kRefused},
    {kPresumed, kNone, kRefer, kPositive, kRefused},
    {kPresumed, kNone, kDecideRg, kNegative, To(kRgNegative)},
    {kPresumed, kNone, kDecideRg, kPositive, To(kRg)},
    {kPresumed, kNone, kDecideCg, kNegative, kRefused},
    {kPresumed, kNone, kDecideCg, kPositive, kRefused},
    {kPresumed, kNone, kReconsider, kNegative, kRefused},
    {kPresumed, kNone, kReconsider, kPositive, kRefused},

    {kRg, kNone, kRefer, kNegative, kRefused},
    {kRg, kNone, kRefer, kPositive, kRefused},
    {kRg, kNone, kDecideRg, kNegative, kRefused},
    {kRg, kNone, kDecideRg, kPositive, kRefused},
    {kRg, kNone, kDecideCg, kNegative, To(kCgNegative)},
    {kRg, kNone, kDecideCg, kPositive, To(kConfirmed)},
    {kRg, kNone, kReconsider, kNegative, kRefused},
    {kRg, kNone, kReconsider, kPositive, kRefused},

    {kRgNegative, kNone, kRefer, kNegative, kRefused},
    {kRgNegative, kNone, kRefer, kPositive, kRefused},
    {kRgNegative, kNone, kDecideRg, kNegative, kRefused},
    {kRgNegative, kNone, kDecideRg, kPositive, kRefused},
    {kRgNegative, kNone, kDecideCg, kNegative, kRefused},
    {kRgNegative, kNone, kDecideCg, kPositive, kRefused},
    {kRgNegative, kNone, kReconsider, kNegative, To(kReconsideration, kRgKind)},
    {kRgNegative, kNone, kReconsider, kPositive, To(kReconsideration, kRgKind)},

    // CONFIRMED_VICTIM is final.
    {kConfirmed, kNone, kRefer, kNegative, kRefused},
    {kConfirmed, kNone, kRefer, kPositive, kRefused},
    {kConfirmed, kNone, kDecideRg, kNegative, kRefused},
    {kConfirmed, kNone, kDecideRg, kPositive, kRefused},
    {kConfirmed, kNone, kDecideCg, kNegative, kRefused},
    {kConfirmed, kNone, kDecideCg, kPositive, kRefused},
    {kConfirmed, kNone, kReconsider, kNegative, kRefused},
    {kConfirmed, kNone, kReconsider, kPositive, kRefused},

    {kCgNegative, kNone, kRefer, kNegative, kRefused},
    {kCgNegative, kNone, kRefer, kPositive, kRefused},
    {kCgNegative, kNone, kDecideRg, kNegative, kRefused},
    {kCgNegative, kNone, kDecideRg, kPositive, kRefused},
    {kCgNegative, kNone, kDecideCg, kNegative, kRefused},
    {kCgNegative, kNone, kDecideCg, kPositive, kRefused},
    {kCgNegative, kNone, kReconsider, kNegative, To(kReconsideration, kCgKind)},
    {kCgNegative, kNone, kReconsider, kPositive, To(kReconsideration, kCgKind)},

    // Reconsidering a reasonable-grounds decision: only that decision again.
    {kReconsideration, kRgKind, kRefer, kNegative, kRefused},
    {kReconsideration, kRgKind, kRefer, kPositive, kRefused},
    {kReconsideration, kRgKind, kDecideRg, kNegative, To(kRgNegative)},
    {kReconsideration, kRgKind, kDecideRg, kPositive, To(kRg)},
    {kReconsideration, kRgKind, kDecideCg, kNegative, kRefused},
    {kReconsideration, kRgKind, kDecideCg, kPositive, kRefused},
    {kReconsideration, kRgKind, kReconsider, kNegative, kRefused},
    {kReconsideration, kRgKind, kReconsider, kPositive, kRefused},

    // Reconsidering a conclusive-grounds decision: only that decision again.
    {kReconsideration, kCgKind, kRefer, kNegative, kRefused},
    {kReconsideration, kCgKind, kRefer, kPositive, kRefused},
    {kReconsideration, kCgKind, kDecideRg, kNegative, kRefused},
    {kReconsideration, kCgKind, kDecideRg, kPositive, kRefused},
    {kReconsideration, kCgKind, kDecideCg, kNegative, To(kCgNegative)},
    {kReconsideration, kCgKind, kDecideCg, kPositive, To(kConfirmed)},
    {kReconsideration, kCgKind, kReconsider, kNegative, kRefused},
    {kReconsideration, kCgKind, kReconsider, kPositive, kRefused},

    // A reconsideration that names no decision allows no decision.
    {kReconsideration, kNone, kRefer, kNegative, kRefused},
    {kReconsideration, kNone, kRefer, kPositive, kRefused},
    {kReconsideration, kNone, kDecideRg, kNegative, kRefused},
    {kReconsideration, kNone, kDecideRg, kPositive, kRefused},
    {kReconsideration, kNone, kDecideCg, kNegative, kRefused},
    {kReconsideration, kNone, kDecideCg, kPositive, kRefused},
    {kReconsideration, kNone, kReconsider, kNegative, kRefused},
    {kReconsideration, kNone, kReconsider, kPositive, kRefused},
};

std::string Describe(const Row& row) {
  static const char* const kMoves[] = {"refer", "decide-rg", "decide-cg", "reconsider"};
  return v1::IdentificationStatus_Name(row.status) + " reconsidering " +
         v1::DecisionKind_Name(row.reconsidering) + " " + kMoves[static_cast<int>(row.move)] +
         (row.positive ? " positive" : " negative");
}

TEST(NextStatusTest, FollowsTheTransitionTable) {
  for (const Row& row : kTable) {
    SCOPED_TRACE(Describe(row));
    IdentificationFacts facts;
    facts.status = row.status;
    facts.reconsidering = row.reconsidering;
    absl::StatusOr<MoveResult> result = NextStatus(facts, {row.move, row.positive}, kNow);
    if (row.expect.allowed) {
      ASSERT_TRUE(result.ok()) << result.status();
      EXPECT_EQ(result->status, row.expect.status);
      EXPECT_EQ(result->reconsidering, row.expect.reconsidering);
    } else {
      ASSERT_FALSE(result.ok());
      EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
      // The message names the current status by enum name, and the rule.
      const std::string message(result.status().message());
      EXPECT_THAT(message, HasSubstr(v1::IdentificationStatus_Name(row.status)));
      EXPECT_THAT(message, HasSubstr("refused: "));
      EXPECT_GT(message.size(), std::string("refused: ").size() + 40);
    }
  }
}

TEST(NextStatusTest, TableCoversEveryStatusMoveAndOutcome) {
  std::set<std::tuple<int, int, int, bool>> seen;
  for (const Row& row : kTable) {
    EXPECT_TRUE(seen.insert({row.status, row.reconsidering, static_cast<int>(row.move), row.positive})
                    .second)
        << "duplicate row " << Describe(row);
  }
  const google::protobuf::EnumDescriptor* statuses = v1::IdentificationStatus_descriptor();
  for (int i = 0; i < statuses->value_count(); ++i) {
    const int status = statuses->value(i)->number();
    const std::vector<int> kinds = status == kReconsideration
                                       ? std::vector<int>{kNone, kRgKind, kCgKind}
                                       : std::vector<int>{kNone};
    for (int kind : kinds) {
      for (Move move : {kRefer, kDecideRg, kDecideCg, kReconsider}) {
        for (bool positive : {false, true}) {
          EXPECT_EQ(seen.count({status, kind, static_cast<int>(move), positive}), 1u)
              << statuses->value(i)->name() << " kind " << kind << " move "
              << static_cast<int>(move) << " positive " << positive;
        }
      }
    }
  }
  EXPECT_EQ(kTable.size(), 80u);
}

TEST(NextStatusTest, UnknownStatusIsRefusedForEveryMove) {
  IdentificationFacts facts;
  facts.status = static_cast<v1::IdentificationStatus>(42);
  for (Move move : {kRefer, kDecideRg, kDecideCg, kReconsider}) {
    absl::StatusOr<MoveResult> result = NextStatus(facts, {move, true}, kNow);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(result.status().message()), HasSubstr("IdentificationStatus(42)"));
  }
}

IdentificationFacts InReflectionPeriod(absl::Time end) {
  IdentificationFacts facts;
  facts.status = kRg;
  facts.reflection_period_end = end;
  return facts;
}

TEST(NextStatusTest, RejectsConclusiveDecisionBeforeReflectionPeriodEnds) {
  const absl::Time end = kNow;
  absl::StatusOr<MoveResult> result =
      NextStatus(InReflectionPeriod(end), {kDecideCg, true}, end - absl::Microseconds(1));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("reflection and recovery period"));
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("IDENTIFICATION_STATUS_REASONABLE_GROUNDS"));
}

TEST(NextStatusTest, AllowsConclusiveDecisionWhenReflectionPeriodEnds) {
  const absl::Time end = kNow;
  for (bool positive : {false, true}) {
    absl::StatusOr<MoveResult> result =
        NextStatus(InReflectionPeriod(end), {kDecideCg, positive}, end);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->status, positive ? kConfirmed : kCgNegative);
    EXPECT_EQ(result->reconsidering, kNone);
  }
}

TEST(NextStatusTest, AllowsWaivedConclusiveDecisionDuringReflectionPeriod) {
  const absl::Time end = kNow + absl::Hours(24 * 20);
  MoveRequest request{kDecideCg, true, /*waive_reflection_period=*/true};
  absl::StatusOr<MoveResult> result = NextStatus(InReflectionPeriod(end), request, kNow);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->status, kConfirmed);
}

TEST(NextStatusTest, ReconsideredConclusiveDecisionIsNotHeldToThePeriodAgain) {
  IdentificationFacts facts;
  facts.status = kReconsideration;
  facts.reconsidering = kCgKind;
  facts.reflection_period_end = kNow + absl::Hours(1);
  absl::StatusOr<MoveResult> result = NextStatus(facts, {kDecideCg, true}, kNow);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->status, kConfirmed);
}

TEST(NextStatusTest, ReflectionPeriodDoesNotHoldReasonableGroundsDecisions) {
  IdentificationFacts facts;
  facts.status = kPresumed;
  facts.reflection_period_end = absl::InfiniteFuture();
  EXPECT_TRUE(NextStatus(facts, {kDecideRg, true}, kNow).ok());
}

TEST(CheckReflectionExtensionTest, OnlyARunningPeriodIsExtended) {
  const absl::Time end = kNow + absl::Hours(24 * 10);
  // The period runs from a positive reasonable-grounds decision until a
  // conclusive one, waived or not; before and after, there is none to extend.
  const std::vector<std::pair<v1::IdentificationStatus, bool>> rows = {
      {kUnspecified, false}, {kPotential, false},   {kPresumed, false},
      {kRg, true},           {kRgNegative, false},  {kConfirmed, false},
      {kCgNegative, false},  {kReconsideration, false}};
  for (const auto& [status, allowed] : rows) {
    IdentificationFacts facts = InReflectionPeriod(end);
    facts.status = status;
    const absl::Status result = CheckReflectionExtension(facts, end + absl::Hours(24 * 30), kNow);
    if (allowed) {
      EXPECT_TRUE(result.ok()) << v1::IdentificationStatus_Name(status) << ": " << result;
      continue;
    }
    EXPECT_EQ(result.code(), absl::StatusCode::kFailedPrecondition)
        << v1::IdentificationStatus_Name(status);
    EXPECT_THAT(std::string(result.message()), HasSubstr("only a running reflection"));
    EXPECT_THAT(std::string(result.message()), HasSubstr(v1::IdentificationStatus_Name(status)));
  }
}

TEST(CheckReflectionExtensionTest, TheNewEndIsLaterThanTheCurrentEndAndNow) {
  const absl::Time end = kNow + absl::Hours(24 * 10);
  struct Case {
    const char* what;
    absl::Time current_end;
    absl::Time new_end;
    bool allowed;
  };
  const std::vector<Case> rows = {
      {"a month later", end, end + absl::Hours(24 * 30), true},
      {"a second later", end, end + absl::Seconds(1), true},
      {"the same end", end, end, false},
      {"an earlier end", end, end - absl::Hours(24), false},
      // An end already passed, with no conclusive decision yet: still
      // extended, but into the future.
      {"past end, new end in the future", kNow - absl::Hours(24), kNow + absl::Hours(24), true},
      {"past end, new end still past", kNow - absl::Hours(48), kNow - absl::Hours(24), false},
  };
  for (const Case& row : rows) {
    const absl::Status result =
        CheckReflectionExtension(InReflectionPeriod(row.current_end), row.new_end, kNow);
    if (row.allowed) {
      EXPECT_TRUE(result.ok()) << row.what << ": " << result;
    } else {
      EXPECT_EQ(result.code(), absl::StatusCode::kInvalidArgument) << row.what;
      EXPECT_THAT(std::string(result.message()), HasSubstr("new_end must be later")) << row.what;
    }
  }
}

IdentificationFacts Child(v1::IdentificationStatus status, bool guardian, bool best_interests) {
  IdentificationFacts facts;
  facts.status = status;
  facts.presumed_child = true;
  facts.guardian_recorded = guardian;
  facts.best_interests_assessed = best_interests;
  return facts;
}

TEST(NextStatusTest, ChildIsReferredWithoutGuardian) {
  absl::StatusOr<MoveResult> result = NextStatus(Child(kPotential, false, false), {kRefer}, kNow);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->status, kPresumed);
}

TEST(NextStatusTest, ChildNeedsGuardianBeforeReasonableGroundsDecision) {
  for (bool positive : {false, true}) {
    absl::StatusOr<MoveResult> result =
        NextStatus(Child(kPresumed, false, true), {kDecideRg, positive}, kNow);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(result.status().message()), HasSubstr("guardian"));
    EXPECT_THAT(std::string(result.status().message()), HasSubstr("presumed child"));
  }
  EXPECT_TRUE(NextStatus(Child(kPresumed, true, false), {kDecideRg, true}, kNow).ok());
}

TEST(NextStatusTest, ChildNeedsGuardianOnReconsideredReasonableGroundsDecision) {
  IdentificationFacts facts = Child(kReconsideration, false, false);
  facts.reconsidering = kRgKind;
  EXPECT_EQ(NextStatus(facts, {kDecideRg, true}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
  facts.guardian_recorded = true;
  EXPECT_TRUE(NextStatus(facts, {kDecideRg, true}, kNow).ok());
}

TEST(NextStatusTest, ChildNeedsGuardianAndBestInterestsBeforeConclusiveDecision) {
  for (auto [guardian, best_interests] : {std::pair{false, false}, std::pair{true, false},
                                          std::pair{false, true}}) {
    SCOPED_TRACE(testing::Message() << "guardian " << guardian << " bia " << best_interests);
    absl::StatusOr<MoveResult> result =
        NextStatus(Child(kRg, guardian, best_interests), {kDecideCg, true, true}, kNow);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(result.status().message()), HasSubstr("best-interests assessment"));
  }
  absl::StatusOr<MoveResult> result = NextStatus(Child(kRg, true, true), {kDecideCg, true}, kNow);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->status, kConfirmed);
}

TEST(NextStatusTest, ChildRulesDoNotApplyToAdults) {
  IdentificationFacts facts;
  facts.status = kRg;
  EXPECT_TRUE(NextStatus(facts, {kDecideCg, false}, kNow).ok());
}

TEST(NextStatusTest, MessagesNameTheMoveAndTheRule) {
  IdentificationFacts confirmed;
  confirmed.status = kConfirmed;
  const std::string message(NextStatus(confirmed, {kReconsider}, kNow).status().message());
  EXPECT_THAT(message, HasSubstr("RequestReconsideration"));
  EXPECT_THAT(message, HasSubstr("final"));
  EXPECT_THAT(message, HasSubstr("IDENTIFICATION_STATUS_CONFIRMED_VICTIM"));

  IdentificationFacts unspecified;
  const std::string decide(NextStatus(unspecified, {kDecideRg}, kNow).status().message());
  EXPECT_THAT(decide, HasSubstr("DecideReasonableGrounds"));
  EXPECT_THAT(decide, HasSubstr("presumed victim"));
  EXPECT_THAT(decide, HasSubstr("IDENTIFICATION_STATUS_UNSPECIFIED"));
  EXPECT_THAT(decide, Not(HasSubstr("IDENTIFICATION_STATUS_POTENTIAL_VICTIM")));
}

}  // namespace
}  // namespace haven::identification
