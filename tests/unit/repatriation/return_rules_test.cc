// Return rules: every pair of statuses against the table, the approval gate, and follow-ups
// falling due on fixed calendar dates.
#include "services/repatriation/return_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <utility>

namespace haven::repatriation {
namespace {

namespace v1 = haven::v1;
using ::testing::HasSubstr;

constexpr v1::ReturnStatus P = v1::RETURN_STATUS_PROPOSED;
constexpr v1::ReturnStatus AS = v1::RETURN_STATUS_ASSESSED;
constexpr v1::ReturnStatus AP = v1::RETURN_STATUS_APPROVED;
constexpr v1::ReturnStatus DR = v1::RETURN_STATUS_DOCUMENTS_READY;
constexpr v1::ReturnStatus SC = v1::RETURN_STATUS_SCHEDULED;
constexpr v1::ReturnStatus TR = v1::RETURN_STATUS_TRAVELLED;
constexpr v1::ReturnStatus RE = v1::RETURN_STATUS_RECEIVED;
constexpr v1::ReturnStatus RI = v1::RETURN_STATUS_REINTEGRATING;
constexpr v1::ReturnStatus CL = v1::RETURN_STATUS_CLOSED;
constexpr v1::ReturnStatus SU = v1::RETURN_STATUS_SUSPENDED;
constexpr v1::ReturnStatus CA = v1::RETURN_STATUS_CANCELLED;

TEST(ReturnMoveTest, EveryPairFollowsTheTable) {
  // The whole table, written out: anything not here is refused.
  const std::set<std::pair<v1::ReturnStatus, v1::ReturnStatus>> allowed = {
      {P, AS},  {AS, AP}, {AP, DR}, {DR, SC}, {SC, TR}, {TR, RE}, {RE, RI}, {RI, CL}, {RE, CL},
      {P, SU},  {AS, SU}, {AP, SU}, {DR, SU}, {SC, SU}, {TR, SU}, {RE, SU}, {RI, SU},
      {P, CA},  {AS, CA}, {AP, CA}, {DR, CA}, {SC, CA}, {TR, CA}, {RE, CA}, {RI, CA}, {SU, CA},
      {SU, P},  {SU, AS}, {SU, AP}, {SU, DR}, {SU, SC}, {SU, TR}, {SU, RE}, {SU, RI},
  };
  int checked = 0;
  for (int from = v1::ReturnStatus_MIN; from <= v1::ReturnStatus_MAX; ++from) {
    for (int to = v1::ReturnStatus_MIN; to <= v1::ReturnStatus_MAX; ++to) {
      const auto f = static_cast<v1::ReturnStatus>(from);
      const auto t = static_cast<v1::ReturnStatus>(to);
      const absl::Status s = CheckReturnMove(f, t);
      const bool expected = allowed.count({f, t}) > 0;
      EXPECT_EQ(s.ok(), expected) << v1::ReturnStatus_Name(f) << " -> " << v1::ReturnStatus_Name(t);
      if (!expected) {
        EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
        // The refusal names the move.
        EXPECT_THAT(s.message(), HasSubstr("cannot move from"));
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 12 * 12);
}

TEST(ReturnMoveTest, RefusalNamesTheMoveAndTheRule) {
  absl::Status s = CheckReturnMove(P, AP);
  EXPECT_THAT(s.message(), HasSubstr("from PROPOSED to APPROVED"));
  EXPECT_THAT(s.message(), HasSubstr("one step forward"));
  EXPECT_THAT(CheckReturnMove(CL, P).message(), HasSubstr("final"));
  EXPECT_THAT(CheckReturnMove(SU, CL).message(), HasSubstr("resumes, or is cancelled"));
}

TEST(StatusAsItStandsTest, ConsentRefusedOrWithdrawnSuspendsAnOpenPlanOnly) {
  for (auto consent : {v1::RETURN_CONSENT_STATE_REFUSED, v1::RETURN_CONSENT_STATE_WITHDRAWN}) {
    EXPECT_EQ(StatusAsItStands(AP, consent, std::nullopt), SU);
    EXPECT_EQ(StatusAsItStands(CL, consent, std::nullopt), CL);
    EXPECT_EQ(StatusAsItStands(CA, consent, std::nullopt), CA);
  }
  EXPECT_EQ(StatusAsItStands(AP, v1::RETURN_CONSENT_STATE_GIVEN, std::nullopt), AP);
  EXPECT_EQ(StatusAsItStands(P, v1::RETURN_CONSENT_STATE_NOT_RECORDED, std::nullopt), P);
}

TEST(StatusAsItStandsTest, ATravelledPlanIsReceivedWhenThePartnerCompletesTheReferral) {
  v1::Referral reception;
  reception.set_status(v1::REFERRAL_STATUS_ACCEPTED);
  EXPECT_EQ(StatusAsItStands(TR, v1::RETURN_CONSENT_STATE_GIVEN, reception), TR);
  reception.set_status(v1::REFERRAL_STATUS_COMPLETED);
  EXPECT_EQ(StatusAsItStands(TR, v1::RETURN_CONSENT_STATE_GIVEN, reception), RE);
  // Not before the person has travelled.
  EXPECT_EQ(StatusAsItStands(SC, v1::RETURN_CONSENT_STATE_GIVEN, reception), SC);
}

v1::RiskAssessment Risks(v1::RiskLevel level) {
  v1::RiskAssessment risks;
  risks.mutable_re_trafficking()->set_level(v1::RISK_LEVEL_LOW);
  risks.mutable_retaliation()->set_level(level);
  risks.mutable_family_situation()->set_level(v1::RISK_LEVEL_MEDIUM);
  risks.mutable_health_needs()->set_level(v1::RISK_LEVEL_LOW);
  return risks;
}

ApprovalFacts Adult() {
  ApprovalFacts facts;
  facts.consent_given = true;
  return facts;
}

TEST(RiskGateTest, HighRiskNeedsAnOverride) {
  EXPECT_TRUE(CheckApproval(Risks(v1::RISK_LEVEL_MEDIUM), Adult(), false).ok());
  absl::Status s = CheckApproval(Risks(v1::RISK_LEVEL_HIGH), Adult(), false);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("risk_override_reasons"));
  EXPECT_TRUE(CheckApproval(Risks(v1::RISK_LEVEL_HIGH), Adult(), true).ok());
}

TEST(RiskGateTest, AHighHealthRiskCountsToo) {
  v1::RiskAssessment risks = Risks(v1::RISK_LEVEL_LOW);
  risks.mutable_health_needs()->set_level(v1::RISK_LEVEL_HIGH);
  EXPECT_TRUE(HasHighRisk(risks));
  EXPECT_FALSE(CheckApproval(risks, Adult(), false).ok());
}

TEST(RiskGateTest, EveryRiskMustBeScored) {
  v1::RiskAssessment risks = Risks(v1::RISK_LEVEL_LOW);
  risks.mutable_family_situation()->clear_level();
  EXPECT_THAT(CheckApproval(risks, Adult(), true).message(), HasSubstr("every risk"));
  EXPECT_THAT(CheckRiskAssessment(risks).message(), HasSubstr("risks.family_situation.level"));
}

TEST(RiskGateTest, NoApprovalWithoutConsent) {
  ApprovalFacts facts;
  EXPECT_THAT(CheckApproval(Risks(v1::RISK_LEVEL_LOW), facts, false).message(),
              HasSubstr("consent"));
}

TEST(RiskGateTest, AChildNeedsBestInterestsFamilyAssessmentAndGuardian) {
  ApprovalFacts facts = Adult();
  facts.child = true;
  v1::RiskAssessment risks = Risks(v1::RISK_LEVEL_LOW);
  EXPECT_THAT(CheckApproval(risks, facts, false).message(), HasSubstr("best-interests"));
  facts.best_interests_assessed = true;
  EXPECT_THAT(CheckApproval(risks, facts, false).message(), HasSubstr("did not find return"));
  facts.return_in_best_interests = true;
  EXPECT_THAT(CheckApproval(risks, facts, false).message(), HasSubstr("family assessment"));
  risks.set_family_assessment("Family visited by the partner's social worker");
  EXPECT_THAT(CheckApproval(risks, facts, false).message(), HasSubstr("guardian"));
  facts.guardian_recorded = true;
  EXPECT_THAT(CheckApproval(risks, facts, false).message(), HasSubstr("guardian"));
  risks.set_guardian_agrees(true);
  EXPECT_TRUE(CheckApproval(risks, facts, false).ok());
}

TEST(FollowUpTest, ThirtyFirstOfJanuaryFallsDueOnTheLastDayOfShorterMonths) {
  const absl::CivilDay arrival(2025, 1, 31);
  EXPECT_EQ(FollowUpDue(arrival, 1), absl::CivilDay(2025, 2, 28));
  EXPECT_EQ(FollowUpDue(arrival, 3), absl::CivilDay(2025, 4, 30));
  EXPECT_EQ(FollowUpDue(arrival, 6), absl::CivilDay(2025, 7, 31));
  EXPECT_EQ(FollowUpDue(arrival, 12), absl::CivilDay(2026, 1, 31));
  // In a leap year, February has a 29th.
  EXPECT_EQ(FollowUpDue(absl::CivilDay(2024, 1, 31), 1), absl::CivilDay(2024, 2, 29));
}

TEST(FollowUpTest, TwentyNinthOfFebruaryOfALeapYear) {
  const absl::CivilDay arrival(2024, 2, 29);
  EXPECT_EQ(FollowUpDue(arrival, 1), absl::CivilDay(2024, 3, 29));
  EXPECT_EQ(FollowUpDue(arrival, 3), absl::CivilDay(2024, 5, 29));
  EXPECT_EQ(FollowUpDue(arrival, 6), absl::CivilDay(2024, 8, 29));
  // A year on there is no 29 February.
  EXPECT_EQ(FollowUpDue(arrival, 12), absl::CivilDay(2025, 2, 28));
}

TEST(FollowUpTest, ThirtyFirstOfAugustAcrossTheYearEnd) {
  const absl::CivilDay arrival(2025, 8, 31);
  EXPECT_EQ(FollowUpDue(arrival, 1), absl::CivilDay(2025, 9, 30));
  EXPECT_EQ(FollowUpDue(arrival, 3), absl::CivilDay(2025, 11, 30));
  EXPECT_EQ(FollowUpDue(arrival, 6), absl::CivilDay(2026, 2, 28));
  EXPECT_EQ(FollowUpDue(arrival, 12), absl::CivilDay(2026, 8, 31));
}

TEST(FollowUpTest, TheScheduleIsOneThreeSixAndTwelveMonths) {
  EXPECT_EQ(FollowUpMonths(), (std::vector<int>{1, 3, 6, 12}));
}

TEST(InputTest, CountryCodesAndDocumentsNameTheField) {
  EXPECT_TRUE(CheckCountryCode("NG", "plan.destination_country").ok());
  for (const char* bad : {"", "ng", "NGA", "N1"}) {
    absl::Status s = CheckCountryCode(bad, "plan.destination_country");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("plan.destination_country"));
  }
  google::protobuf::RepeatedPtrField<v1::TravelDocument> documents;
  v1::TravelDocument* d = documents.Add();
  d->set_kind(v1::TRAVEL_DOCUMENT_KIND_EMERGENCY_TRAVEL_DOCUMENT);
  d->set_status(v1::TRAVEL_DOCUMENT_STATUS_ISSUED);
  d->set_consulate("Consulate of Nigeria, The Hague");
  EXPECT_THAT(CheckDocuments(documents).message(), HasSubstr("documents[0].issue_time"));
  d->mutable_issue_time()->set_seconds(1700000000);
  EXPECT_TRUE(CheckDocuments(documents).ok());
  EXPECT_TRUE(DocumentsReady(documents));
  documents.Add()->CopyFrom(*d);
  documents[1].set_status(v1::TRAVEL_DOCUMENT_STATUS_REQUESTED);
  EXPECT_FALSE(DocumentsReady(documents));
  documents[1].clear_consulate();
  EXPECT_THAT(CheckDocuments(documents).message(), HasSubstr("documents[1].consulate"));
}

}  // namespace
}  // namespace haven::repatriation
