// IdentificationService over an in-process channel, on a manual clock: the
// path from potential to confirmed victim, its deadlines across weekends and
// holidays, the rules for children, and non-punishment alerts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "haven/v1/identification.grpc.pb.h"
#include "tests/service/service_fixture.h"

namespace haven::testing {
namespace {

namespace v1 = haven::v1;
using ::testing::HasSubstr;

absl::Time Utc(int y, int m, int d, int h = 0) {
  return absl::FromCivil(absl::CivilHour(y, m, d, h), absl::UTCTimeZone());
}

class IdentificationTest : public ServiceTest {
 protected:
  void Configure(v1::ServerConfig* config) override {
    clock_.Set(Utc(2026, 12, 18, 10));  // a Friday
    config->set_session_minutes(60 * 24 * 90);  // the test spans weeks on the clock
    auto* rules = config->mutable_jurisdiction();
    rules->set_reasonable_grounds_working_days(5);
    rules->set_reflection_period_days(30);
    rules->add_public_holidays("2026-12-24");
    rules->add_public_holidays("2026-12-25");
  }

  void SetUp() override {
    ServiceTest::SetUp();
    ident_ = v1::IdentificationService::NewStub(channel_);
    ngo_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
    authority_ = NewOrganisation(v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY);
    caseworker_ = NewUser(ngo_, v1::ROLE_CASEWORKER);
    supervisor_ = NewUser(ngo_, v1::ROLE_SUPERVISOR);
    decision_maker_ = NewUser(authority_, v1::ROLE_DECISION_MAKER);
  }

  grpc::Status Refer(const std::string& case_id, v1::Identification* out) {
    v1::ReferPresumedVictimRequest req;
    req.set_case_id(case_id);
    req.set_competent_authority_organisation_id(authority_);
    req.set_note("Met at a car wash during a labour inspection");
    return ident_->ReferPresumedVictim(As(caseworker_).get(), req, out);
  }

  grpc::Status Decide(bool conclusive, const std::string& case_id, bool positive,
                      v1::Identification* out, bool waive = false, const Actor* who = nullptr) {
    v1::DecideRequest req;
    req.set_case_id(case_id);
    req.set_positive(positive);
    req.set_reasons("Consistent account; indicators of forced labour and deception");
    if (waive) {
      req.set_waive_reflection_period(true);
      req.set_waiver_reasons("The subject asked for an early decision to start work legally");
    }
    const Actor& actor = who != nullptr ? *who : decision_maker_;
    return conclusive ? ident_->DecideConclusiveGrounds(As(actor).get(), req, out)
                      : ident_->DecideReasonableGrounds(As(actor).get(), req, out);
  }

  std::unique_ptr<v1::IdentificationService::Stub> ident_;
  std::string ngo_, authority_;
  Actor caseworker_, supervisor_, decision_maker_;
};

TEST_F(IdentificationTest, FromReferralToConclusiveDecisionWithTimelineAndAudit) {
  ASSERT_EQ(clock_.Now(), Utc(2026, 12, 18, 10));  // a Friday
  v1::Case c = CreateCase(caseworker_);

  v1::CreateScreeningRequest screen;
  v1::Screening* s = screen.mutable_screening();
  s->set_case_id(c.id());
  s->set_indicator_set_id("forced-labour");
  s->set_setting(v1::SCREENING_SETTING_LABOUR_INSPECTION);
  s->set_language("ro");
  s->set_interpreter_used(true);
  s->add_forms_suspected(v1::EXPLOITATION_FORM_FORCED_LABOUR);
  v1::GetIndicatorSetRequest get_set;
  get_set.set_id("forced-labour");
  v1::IndicatorSet set;
  ASSERT_TRUE(ident_->GetIndicatorSet(As(caseworker_).get(), get_set, &set).ok());
  for (const auto& indicator : set.indicators()) {
    v1::Observation* o = s->add_observations();
    o->set_indicator_code(indicator.code());
    o->set_observed(indicator.strength() == v1::INDICATOR_STRENGTH_STRONG);
  }
  v1::Screening screening;
  grpc::Status st = ident_->CreateScreening(As(caseworker_).get(), screen, &screening);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(screening.indicator_set_version(), set.version());
  EXPECT_EQ(screening.strength().level(), v1::INDICATION_LEVEL_STRONG);
  EXPECT_FALSE(screening.strength().explanation().empty());

  v1::Identification ident;
  ASSERT_TRUE(Refer(c.id(), &ident).ok());
  EXPECT_EQ(ident.status(), v1::IDENTIFICATION_STATUS_PRESUMED_VICTIM);
  // Five working days after Friday 18 December, skipping the weekends and
  // the holidays of 24 and 25 December: Mon 21, Tue 22, Wed 23, Mon 28,
  // Tue 29; due at the end of Tuesday 29 December.
  EXPECT_EQ(ident.reasonable_grounds_due().seconds(), absl::ToUnixSeconds(Utc(2026, 12, 30)));

  // The decision is due: the competent authority sees it, a day late.
  clock_.Set(Utc(2026, 12, 30, 9));
  v1::ListDueDecisionsRequest due_req;
  v1::ListDueDecisionsResponse due;
  ASSERT_TRUE(ident_->ListDueDecisions(As(decision_maker_).get(), due_req, &due).ok());
  ASSERT_EQ(due.decisions_size(), 1);
  EXPECT_EQ(due.decisions(0).case_id(), c.id());
  EXPECT_EQ(due.decisions(0).kind(), v1::DECISION_KIND_REASONABLE_GROUNDS);
  EXPECT_TRUE(due.decisions(0).overdue());

  // Only the competent authority's decision maker decides.
  EXPECT_EQ(Decide(false, c.id(), true, &ident, false, &caseworker_).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Decide(false, c.id(), true, &ident).ok());
  EXPECT_EQ(ident.status(), v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS);
  EXPECT_EQ(ident.reflection_period_end().seconds(),
            absl::ToUnixSeconds(Utc(2026, 12, 30, 9) + absl::Hours(24 * 30)));

  // Not before the reflection and recovery period has run.
  clock_.Advance(absl::Hours(24 * 29));
  grpc::Status early = Decide(true, c.id(), true, &ident);
  EXPECT_EQ(early.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(early.error_message(), HasSubstr("reflection"));
  clock_.Advance(absl::Hours(24));
  ASSERT_TRUE(Decide(true, c.id(), true, &ident).ok());
  EXPECT_EQ(ident.status(), v1::IDENTIFICATION_STATUS_CONFIRMED_VICTIM);

  v1::GetIdentificationRequest get;
  get.set_case_id(c.id());
  ASSERT_TRUE(ident_->GetIdentification(As(caseworker_).get(), get, &ident).ok());
  ASSERT_EQ(ident.decisions_size(), 2);
  EXPECT_EQ(ident.decisions(0).kind(), v1::DECISION_KIND_REASONABLE_GROUNDS);
  EXPECT_EQ(ident.decisions(1).kind(), v1::DECISION_KIND_CONCLUSIVE_GROUNDS);
  EXPECT_EQ(ident.decisions(1).decided_by(), decision_maker_.user_id);

  v1::ListTimelineRequest tl;
  tl.set_case_id(c.id());
  v1::ListTimelineResponse timeline;
  ASSERT_TRUE(cases_->ListTimeline(As(caseworker_).get(), tl, &timeline).ok());
  std::vector<v1::TimelineEventKind> kinds;
  for (const auto& e : timeline.events()) kinds.push_back(e.kind());
  EXPECT_THAT(kinds, ::testing::ElementsAre(
                         v1::TIMELINE_EVENT_OPENED, v1::TIMELINE_EVENT_SCREENED,
                         v1::TIMELINE_EVENT_ACCESS_GRANTED, v1::TIMELINE_EVENT_STATUS_CHANGED,
                         v1::TIMELINE_EVENT_STATUS_CHANGED, v1::TIMELINE_EVENT_STATUS_CHANGED));

  Actor auditor = NewUser(ngo_, v1::ROLE_AUDITOR);
  v1::QueryAuditEntriesRequest audit_req;
  audit_req.set_case_id(c.id());
  v1::QueryAuditEntriesResponse audit;
  ASSERT_TRUE(audit_->QueryAuditEntries(As(auditor).get(), audit_req, &audit).ok());
  std::vector<std::string> actions;
  for (const auto& e : audit.entries()) {
    if (e.outcome() == v1::AUDIT_OUTCOME_ALLOWED) actions.push_back(e.action());
  }
  for (const char* step : {"identification.screen", "identification.refer",
                           "identification.decide_reasonable_grounds",
                           "identification.decide_conclusive_grounds"}) {
    EXPECT_THAT(actions, ::testing::Contains(std::string(step)));
  }
}

TEST_F(IdentificationTest, IllegalMovesNameTheRuleAndChangeNothing) {
  v1::Case c = CreateCase(caseworker_);
  v1::Identification ident;
  grpc::Status s = Decide(false, c.id(), true, &ident);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << "the authority has no access yet";
  ASSERT_TRUE(Refer(c.id(), &ident).ok());
  s = Refer(c.id(), &ident);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("PRESUMED_VICTIM"));
  s = Decide(true, c.id(), true, &ident);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::RequestReconsiderationRequest recon;
  recon.set_case_id(c.id());
  recon.set_reasons("New evidence of coercion");
  EXPECT_EQ(ident_->RequestReconsideration(As(caseworker_).get(), recon, &ident).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::DecideRequest no_reasons;
  no_reasons.set_case_id(c.id());
  EXPECT_EQ(ident_->DecideReasonableGrounds(As(decision_maker_).get(), no_reasons, &ident)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::GetIdentificationRequest get;
  get.set_case_id(c.id());
  ASSERT_TRUE(ident_->GetIdentification(As(caseworker_).get(), get, &ident).ok());
  EXPECT_EQ(ident.status(), v1::IDENTIFICATION_STATUS_PRESUMED_VICTIM);
  EXPECT_EQ(ident.decisions_size(), 0);
}

TEST_F(IdentificationTest, NegativeDecisionCanBeReconsideredOnRequest) {
  v1::Case c = CreateCase(caseworker_);
  v1::Identification ident;
  ASSERT_TRUE(Refer(c.id(), &ident).ok());
  ASSERT_TRUE(Decide(false, c.id(), false, &ident).ok());
  EXPECT_EQ(ident.status(), v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS_NEGATIVE);
  v1::RequestReconsiderationRequest recon;
  recon.set_case_id(c.id());
  recon.set_reasons("New evidence of coercion");
  ASSERT_TRUE(ident_->RequestReconsideration(As(caseworker_).get(), recon, &ident).ok());
  EXPECT_EQ(ident.status(), v1::IDENTIFICATION_STATUS_RECONSIDERATION_REQUESTED);
  EXPECT_EQ(ident.reconsidering(), v1::DECISION_KIND_REASONABLE_GROUNDS);
  ASSERT_TRUE(Decide(false, c.id(), true, &ident).ok());
  EXPECT_EQ(ident.status(), v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS);
}

TEST_F(IdentificationTest, ChildNeedsAGuardianAndABestInterestsAssessment) {
  v1::CreateCaseRequest req;
  *req.mutable_subject() = SampleSubject("Mira");
  req.mutable_subject()->mutable_date_of_birth()->set_year(2012);  // 14 on the test clock
  v1::Case c;
  ASSERT_TRUE(cases_->CreateCase(As(caseworker_).get(), req, &c).ok());
  v1::Identification ident;
  ASSERT_TRUE(Refer(c.id(), &ident).ok());
  EXPECT_TRUE(ident.presumed_child());
  grpc::Status s = Decide(false, c.id(), true, &ident);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("guardian"));

  v1::RecordGuardianRequest guardian;
  guardian.set_case_id(c.id());
  guardian.mutable_guardian()->set_name("Appointed guardian");
  guardian.mutable_guardian()->set_organisation("Child protection service");
  ASSERT_TRUE(ident_->RecordGuardian(As(caseworker_).get(), guardian, &ident).ok());
  ASSERT_TRUE(Decide(false, c.id(), true, &ident).ok());

  s = Decide(true, c.id(), true, &ident, /*waive=*/true);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("best-interests"));
  v1::RecordBestInterestsAssessmentRequest bia;
  bia.set_case_id(c.id());
  bia.mutable_assessment()->set_summary("Stay with foster family; no return for now");
  ASSERT_TRUE(ident_->RecordBestInterestsAssessment(As(caseworker_).get(), bia, &ident).ok());
  ASSERT_TRUE(Decide(true, c.id(), true, &ident, /*waive=*/true).ok());
  EXPECT_EQ(ident.status(), v1::IDENTIFICATION_STATUS_CONFIRMED_VICTIM);
}

TEST_F(IdentificationTest, PendingProceedingsAgainstAPresumedVictimAlertSupervisorAndAuthority) {
  v1::Case c = CreateCase(caseworker_);
  v1::AssignCaseRequest assign;
  assign.set_case_id(c.id());
  assign.set_supervisor_id(supervisor_.user_id);
  v1::Case assigned;
  ASSERT_TRUE(cases_->AssignCase(As(supervisor_).get(), assign, &assigned).ok());
  v1::RecordProceedingRequest proceeding;
  proceeding.set_case_id(c.id());
  proceeding.mutable_proceeding()->set_kind(v1::PROCEEDING_KIND_IMMIGRATION);
  proceeding.mutable_proceeding()->set_pending(true);
  v1::Identification ident;
  ASSERT_TRUE(ident_->RecordProceeding(As(caseworker_).get(), proceeding, &ident).ok());

  auto alerts_of = [&](const Actor& actor) {
    v1::ListAlertsResponse resp;
    EXPECT_TRUE(cases_->ListAlerts(As(actor).get(), v1::ListAlertsRequest(), &resp).ok());
    return resp;
  };
  EXPECT_EQ(alerts_of(supervisor_).alerts_size(), 0) << "a potential victim: no alert yet";
  ASSERT_TRUE(Refer(c.id(), &ident).ok());
  v1::ListAlertsResponse theirs = alerts_of(supervisor_);
  ASSERT_EQ(theirs.alerts_size(), 1);
  EXPECT_EQ(theirs.alerts(0).kind(), v1::ALERT_KIND_NON_PUNISHMENT);
  EXPECT_EQ(theirs.alerts(0).case_ids(0), c.id());
  v1::ListAlertsResponse authority = alerts_of(decision_maker_);
  ASSERT_EQ(authority.alerts_size(), 1);
  EXPECT_EQ(alerts_of(caseworker_).alerts_size(), 0);
  // Another competent authority was not referred the case: it learns nothing.
  Actor elsewhere =
      NewUser(NewOrganisation(v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY), v1::ROLE_DECISION_MAKER);
  EXPECT_EQ(alerts_of(elsewhere).alerts_size(), 0);
}

TEST_F(IdentificationTest, AnotherOrganisationCannotScreenOrReadIdentification) {
  v1::Case c = CreateCase(caseworker_);
  Actor outsider = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_NGO), v1::ROLE_CASEWORKER);
  v1::GetIdentificationRequest get;
  get.set_case_id(c.id());
  v1::Identification ident;
  EXPECT_EQ(ident_->GetIdentification(As(outsider).get(), get, &ident).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::CreateScreeningRequest screen;
  screen.mutable_screening()->set_case_id(c.id());
  screen.mutable_screening()->set_indicator_set_id("general");
  screen.mutable_screening()->set_setting(v1::SCREENING_SETTING_OUTREACH);
  v1::Screening out;
  EXPECT_EQ(ident_->CreateScreening(As(outsider).get(), screen, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  screen.mutable_screening()->set_indicator_set_id("no-such-set");
  EXPECT_EQ(ident_->CreateScreening(As(caseworker_).get(), screen, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace haven::testing
