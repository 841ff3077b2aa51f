// Return plans over an in-process channel: an adult's return from proposal to closure; a child's
// safeguards; consent withdrawn mid-plan; the high-risk override; what the return officer of the
// receiving organisation sees; bad input; overdue follow-ups on the manual clock.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "haven/v1/identification.grpc.pb.h"
#include "haven/v1/referral.grpc.pb.h"
#include "haven/v1/repatriation.grpc.pb.h"
#include "storage/ids.h"
#include "tests/service/service_fixture.h"

namespace haven::testing {
namespace {

namespace v1 = haven::v1;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;
using C = v1::ConfidentialityClass;

class RepatriationTest : public ServiceTest {
 protected:
  // Sessions outlive the year of follow-ups the tests walk through.
  void Configure(v1::ServerConfig* config) override { config->set_session_minutes(60 * 24 * 400); }

  void SetUp() override {
    ServiceTest::SetUp();
    returns_ = v1::RepatriationService::NewStub(channel_);
    referrals_ = v1::ReferralService::NewStub(channel_);
    identification_ = v1::IdentificationService::NewStub(channel_);
    ngo_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
    caseworker_ = NewUser(ngo_, v1::ROLE_CASEWORKER);
    supervisor_ = NewUser(ngo_, v1::ROLE_SUPERVISOR);
    iom_ = NewOrganisation(v1::ORGANISATION_TYPE_INTERNATIONAL_ORGANISATION);
    iom_intake_ = NewUser(iom_, v1::ROLE_CASEWORKER);
    officer_ = NewUser(iom_, v1::ROLE_RETURN_OFFICER);
    consulate_ = NewOrganisation(v1::ORGANISATION_TYPE_CONSULATE);
    consulate_officer_ = NewUser(consulate_, v1::ROLE_RETURN_OFFICER);
    case_id_ = CreateCase(caseworker_, "Canary-Return-Amina").id();
  }

  void TearDown() override {
    returns_.reset();
    referrals_.reset();
    identification_.reset();
    ServiceTest::TearDown();
  }

  grpc::Status CreatePlan(v1::ReturnPlan* plan, const std::string& country = "NG") {
    v1::CreateReturnPlanRequest request;
    request.set_case_id(case_id_);
    request.mutable_plan()->set_destination_country(country);
    request.mutable_plan()->set_destination_region("Edo State");
    return returns_->CreateReturnPlan(As(caseworker_).get(), request, plan);
  }

  v1::ReturnPlan Plan(const Actor& as, grpc::Status* status = nullptr) {
    v1::GetReturnPlanRequest request;
    request.set_case_id(case_id_);
    request.set_plan_id(plan_id_);
    v1::ReturnPlan plan;
    grpc::Status s = returns_->GetReturnPlan(As(as).get(), request, &plan);
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return plan;
  }

  grpc::Status Assess(v1::RiskLevel retaliation, v1::ReturnPlan* plan,
                      const std::string& family_assessment = "", bool guardian_agrees = false) {
    v1::AssessReturnRisksRequest request;
    request.set_case_id(case_id_);
    request.set_plan_id(plan_id_);
    v1::RiskAssessment* risks = request.mutable_risks();
    risks->mutable_re_trafficking()->set_level(v1::RISK_LEVEL_LOW);
    risks->mutable_re_trafficking()->set_reasons("Canary-Reasons: recruiter convicted");
    risks->mutable_retaliation()->set_level(retaliation);
    risks->mutable_retaliation()->set_reasons("Canary-Reasons: the recruiter's brother lives near");
    risks->mutable_family_situation()->set_level(v1::RISK_LEVEL_MEDIUM);
    risks->mutable_health_needs()->set_level(v1::RISK_LEVEL_LOW);
    risks->mutable_health_needs()->set_reasons("Canary-Health: asthma, controlled");
    risks->set_family_assessment(family_assessment);
    risks->set_guardian_agrees(guardian_agrees);
    return returns_->AssessReturnRisks(As(caseworker_).get(), request, plan);
  }

  grpc::Status Approve(const Actor& as, v1::ReturnPlan* plan, const std::string& reasons = "") {
    v1::ApproveReturnRequest request;
    request.set_case_id(case_id_);
    request.set_plan_id(plan_id_);
    request.set_risk_override_reasons(reasons);
    return returns_->ApproveReturn(As(as).get(), request, plan);
  }

  // Proposed, consented, assessed with low risks, approved.
  void PlanApproved() {
    v1::ReturnPlan plan;
    ASSERT_TRUE(CreatePlan(&plan).ok());
    plan_id_ = plan.id();
    ASSERT_NO_FATAL_FAILURE(GiveConsent(caseworker_, case_id_, v1::CONSENT_PURPOSE_RETURN));
    ASSERT_TRUE(Assess(v1::RISK_LEVEL_LOW, &plan).ok());
    grpc::Status s = Approve(supervisor_, &plan);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // Refers the plan to the international organisation with `scope`; its
  // intake accepts and its return officer takes the plan on.
  void ReferToIom(std::vector<C> scope = {C::CONFIDENTIALITY_ADMINISTRATIVE,
                                          C::CONFIDENTIALITY_PSEUDONYMOUS,
                                          C::CONFIDENTIALITY_IDENTIFYING,
                                          C::CONFIDENTIALITY_LOCATION}) {
    v1::ReferReturnPlanRequest request;
    request.set_case_id(case_id_);
    request.set_plan_id(plan_id_);
    v1::Referral* r = request.mutable_referral();
    r->set_receiver_organisation_id(iom_);
    r->set_urgency(v1::URGENCY_ROUTINE);
    r->set_lawful_basis(v1::LAWFUL_BASIS_CONSENT);
    for (C c : scope) r->add_data_scope(c);
    r->mutable_response_deadline()->set_seconds(absl::ToUnixSeconds(clock_.Now() + absl::Hours(72)));
    r->mutable_access_until()->set_seconds(absl::ToUnixSeconds(clock_.Now() + absl::Hours(24 * 365)));
    request.set_reason("Assisted voluntary return");
    v1::ReferReturnPlanResponse response;
    grpc::Status s = returns_->ReferReturnPlan(As(caseworker_).get(), request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.plan().return_organisation_id(), iom_);
    EXPECT_EQ(response.referral().purpose(), v1::REFERRAL_PURPOSE_RETURN);
    v1::ReferralTransitionRequest accept;
    accept.set_referral_id(response.referral().id());
    v1::Referral accepted;
    s = referrals_->AcceptReferral(As(iom_intake_).get(), accept, &accepted);
    ASSERT_TRUE(s.ok()) << s.error_message();
    v1::TakeOnReturnPlanRequest take;
    take.set_case_id(case_id_);
    take.set_plan_id(plan_id_);
    v1::ReturnPlan plan;
    s = returns_->TakeOnReturnPlan(As(officer_).get(), take, &plan);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(plan.return_officer_id(), officer_.user_id);
  }

  grpc::Status Documents(const Actor& as, v1::TravelDocumentStatus status, v1::ReturnPlan* plan) {
    v1::RecordTravelDocumentsRequest request;
    request.set_case_id(case_id_);
    request.set_plan_id(plan_id_);
    v1::TravelDocument* d = request.add_documents();
    d->set_kind(v1::TRAVEL_DOCUMENT_KIND_EMERGENCY_TRAVEL_DOCUMENT);
    d->set_status(status);
    d->set_consulate("Consulate of Nigeria, The Hague");
    d->mutable_request_time()->set_seconds(absl::ToUnixSeconds(clock_.Now()));
    if (status == v1::TRAVEL_DOCUMENT_STATUS_ISSUED) {
      d->mutable_issue_time()->set_seconds(absl::ToUnixSeconds(clock_.Now()));
      d->set_number("ETD-0042");
    }
    return returns_->RecordTravelDocuments(As(as).get(), request, plan);
  }

  grpc::Status Schedule(const Actor& as, v1::ReturnPlan* plan, int days_ahead = 7) {
    v1::ScheduleReturnRequest request;
    request.set_case_id(case_id_);
    request.set_plan_id(plan_id_);
    const absl::CivilDay day =
        absl::ToCivilDay(clock_.Now(), absl::UTCTimeZone()) + days_ahead;
    request.mutable_travel()->mutable_date()->set_year(static_cast<int>(day.year()));
    request.mutable_travel()->mutable_date()->set_month(day.month());
    request.mutable_travel()->mutable_date()->set_day(day.day());
    request.mutable_travel()->set_route("AMS-IST-LOS");
    request.mutable_travel()->set_escorted(true);
    request.mutable_travel()->set_escort("IOM operations staff");
    if (as.organisation_id == ngo_) {
      request.mutable_travel()->set_medical_needs("Canary-Health: inhaler in cabin luggage");
    }
    request.mutable_reception()->set_receiving_organisation("NAPTIP shelter, Benin City");
    request.mutable_reception()->set_handover_place("Lagos airport, arrivals hall");
    v1::ScheduleReturnResponse response;
    grpc::Status s = returns_->ScheduleReturn(As(as).get(), request, &response);
    *plan = response.plan();
    return s;
  }

  using PlanRpc = grpc::Status (v1::RepatriationService::Stub::*)(
      grpc::ClientContext*, const v1::ReturnStatusChangeRequest&, v1::ReturnPlan*);
  grpc::Status Change(const Actor& as, PlanRpc rpc, const std::string& reason,
                      v1::ReturnPlan* plan) {
    v1::ReturnStatusChangeRequest request;
    request.set_case_id(case_id_);
    request.set_plan_id(plan_id_);
    request.set_reason(reason);
    return (returns_.get()->*rpc)(As(as).get(), request, plan);
  }

  grpc::Status Depart(const Actor& as, v1::ReturnPlan* plan) {
    v1::RecordDepartureRequest request;
    request.set_case_id(case_id_);
    request.set_plan_id(plan_id_);
    return returns_->RecordDeparture(As(as).get(), request, plan);
  }

  grpc::Status Arrive(const Actor& as, v1::ReturnPlan* plan) {
    v1::RecordArrivalRequest request;
    request.set_case_id(case_id_);
    request.set_plan_id(plan_id_);
    return returns_->RecordArrival(As(as).get(), request, plan);
  }

  grpc::Status FollowUp(const Actor& as, int months, v1::ReturnPlan* plan,
                        const std::string& situation = "", bool reached = true) {
    v1::RecordFollowUpRequest request;
    request.set_case_id(case_id_);
    request.set_plan_id(plan_id_);
    request.mutable_follow_up()->set_months(months);
    request.mutable_follow_up()->set_reached(reached);
    request.mutable_follow_up()->set_situation(situation);
    return returns_->RecordFollowUp(As(as).get(), request, plan);
  }

  // From approval to arrival, the journey recorded by the officer.
  void TravelledAndReceived() {
    v1::ReturnPlan plan;
    ASSERT_TRUE(Documents(officer_, v1::TRAVEL_DOCUMENT_STATUS_ISSUED, &plan).ok());
    grpc::Status s = Schedule(caseworker_, &plan);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_TRUE(Depart(officer_, &plan).ok());
    ASSERT_TRUE(Arrive(officer_, &plan).ok());
    ASSERT_EQ(plan.status(), v1::RETURN_STATUS_RECEIVED);
  }

  std::vector<v1::Alert> Alerts(const Actor& as) {
    v1::ListAlertsResponse alerts;
    EXPECT_TRUE(cases_->ListAlerts(As(as).get(), v1::ListAlertsRequest(), &alerts).ok());
    return {alerts.alerts().begin(), alerts.alerts().end()};
  }

  v1::ListDueFollowUpsResponse Due(const Actor& as, int page_size = 0) {
    v1::ListDueFollowUpsRequest request;
    request.set_page_size(page_size);
    v1::ListDueFollowUpsResponse due;
    grpc::Status s = returns_->ListDueFollowUps(As(as).get(), request, &due);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return due;
  }

  std::vector<std::string> Timeline() {
    v1::ListTimelineRequest request;
    request.set_case_id(case_id_);
    request.set_page_size(200);
    v1::ListTimelineResponse out;
    EXPECT_TRUE(cases_->ListTimeline(As(caseworker_).get(), request, &out).ok());
    std::vector<std::string> lines;
    for (const auto& e : out.events()) lines.push_back(e.summary() + " | " + e.detail());
    return lines;
  }

  std::unique_ptr<v1::RepatriationService::Stub> returns_;
  std::unique_ptr<v1::ReferralService::Stub> referrals_;
  std::unique_ptr<v1::IdentificationService::Stub> identification_;
  std::string ngo_, iom_, consulate_;
  Actor caseworker_, supervisor_, iom_intake_, officer_, consulate_officer_;
  std::string case_id_;
  std::string plan_id_;
};

TEST_F(RepatriationTest, AnAdultsReturnFromProposalToClosure) {
  v1::ReturnPlan plan;
  ASSERT_TRUE(CreatePlan(&plan).ok());
  plan_id_ = plan.id();
  EXPECT_EQ(plan.status(), v1::RETURN_STATUS_PROPOSED);
  EXPECT_EQ(plan.consent(), v1::RETURN_CONSENT_STATE_NOT_RECORDED);
  ASSERT_TRUE(Assess(v1::RISK_LEVEL_LOW, &plan).ok());
  EXPECT_EQ(plan.status(), v1::RETURN_STATUS_ASSESSED);
  EXPECT_EQ(plan.risks().assessed_by(), caseworker_.user_id);

  // No approval without the subject's consent, and only by a supervisor.
  grpc::Status s = Approve(supervisor_, &plan);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("consent"));
  ASSERT_NO_FATAL_FAILURE(GiveConsent(caseworker_, case_id_, v1::CONSENT_PURPOSE_RETURN));
  plan = Plan(caseworker_);
  EXPECT_EQ(plan.consent(), v1::RETURN_CONSENT_STATE_GIVEN);
  EXPECT_EQ(plan.consent_language(), "en");
  EXPECT_EQ(Approve(caseworker_, &plan).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Approve(supervisor_, &plan).ok());
  EXPECT_EQ(plan.status(), v1::RETURN_STATUS_APPROVED);
  EXPECT_EQ(plan.approved_by(), supervisor_.user_id);

  ASSERT_NO_FATAL_FAILURE(ReferToIom());
  // Documents asked for, then issued: ready.
  ASSERT_TRUE(Documents(officer_, v1::TRAVEL_DOCUMENT_STATUS_REQUESTED, &plan).ok());
  EXPECT_EQ(plan.status(), v1::RETURN_STATUS_APPROVED);
  ASSERT_TRUE(Documents(officer_, v1::TRAVEL_DOCUMENT_STATUS_ISSUED, &plan).ok());
  EXPECT_EQ(plan.status(), v1::RETURN_STATUS_DOCUMENTS_READY);
  EXPECT_EQ(plan.documents(0).number(), "ETD-0042");

  // Departure before scheduling is refused, naming the move.
  s = Depart(officer_, &plan);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("from DOCUMENTS_READY to TRAVELLED"));

  s = Schedule(caseworker_, &plan);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(plan.status(), v1::RETURN_STATUS_SCHEDULED);
  EXPECT_EQ(plan.travel().medical_needs(), "Canary-Health: inhaler in cabin luggage");
  EXPECT_EQ(plan.reception().receiving_organisation(), "NAPTIP shelter, Benin City");

  ASSERT_TRUE(Depart(officer_, &plan).ok());
  EXPECT_EQ(plan.status(), v1::RETURN_STATUS_TRAVELLED);
  clock_.Advance(absl::Hours(9));
  ASSERT_TRUE(Arrive(officer_, &plan).ok());
  EXPECT_EQ(plan.status(), v1::RETURN_STATUS_RECEIVED);
  ASSERT_THAT(plan.follow_ups(), SizeIs(4));
  EXPECT_EQ(plan.follow_ups(3).months(), 12);
  EXPECT_FALSE(plan.follow_ups(0).overdue());

  // The officer records what it may (no narrative in its scope); the first
  // follow-up starts reintegration.
  clock_.Advance(absl::Hours(24 * 30));
  ASSERT_TRUE(FollowUp(officer_, 1, &plan).ok());
  EXPECT_EQ(plan.status(), v1::RETURN_STATUS_REINTEGRATING);
  EXPECT_EQ(FollowUp(officer_, 3, &plan, "Canary-Situation: working at a salon").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(FollowUp(officer_, 1, &plan).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  for (int months : {3, 6, 12}) {
    ASSERT_TRUE(FollowUp(caseworker_, months, &plan, "Canary-Situation: working at a salon").ok());
  }
  EXPECT_TRUE(plan.follow_ups(1).has_done_time());
  EXPECT_EQ(plan.follow_ups(1).situation(), "Canary-Situation: working at a salon");

  // Only the owning organisation closes, with the outcome.
  v1::CloseReturnRequest close;
  close.set_case_id(case_id_);
  close.set_plan_id(plan_id_);
  close.set_outcome(v1::RETURN_OUTCOME_REINTEGRATED);
  EXPECT_EQ(returns_->CloseReturn(As(officer_).get(), close, &plan).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(returns_->CloseReturn(As(caseworker_).get(), close, &plan).ok());
  EXPECT_EQ(plan.status(), v1::RETURN_STATUS_CLOSED);
  EXPECT_EQ(plan.outcome(), v1::RETURN_OUTCOME_REINTEGRATED);
  EXPECT_EQ(LastAudit().action(), "repatriation.close");

  const std::vector<std::string> timeline = Timeline();
  for (const char* step : {"proposed", "PROPOSED -> ASSESSED", "ASSESSED -> APPROVED",
                           "APPROVED -> DOCUMENTS_READY", "DOCUMENTS_READY -> SCHEDULED",
                           "SCHEDULED -> TRAVELLED", "TRAVELLED -> RECEIVED",
                           "RECEIVED -> REINTEGRATING", "REINTEGRATING -> CLOSED",
                           "12-month follow-up recorded"}) {
    EXPECT_THAT(timeline, ::testing::Contains(HasSubstr(step))) << step;
  }
  // A closed return is final; a new one may be planned.
  EXPECT_EQ(Change(caseworker_, &v1::RepatriationService::Stub::CancelReturn, "changed mind", &plan)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(CreatePlan(&plan).ok());
}

TEST_F(RepatriationTest, AChildIsNotApprovedWithoutBestInterestsAndGuardian) {
  v1::CreateCaseRequest create;
  *create.mutable_subject() = SampleSubject("Canary-Return-Child");
  create.mutable_subject()->mutable_date_of_birth()->set_year(2014);
  v1::Case child;
  ASSERT_TRUE(cases_->CreateCase(As(caseworker_).get(), create, &child).ok());
  case_id_ = child.id();
  v1::ReturnPlan plan;
  ASSERT_TRUE(CreatePlan(&plan).ok());
  plan_id_ = plan.id();
  ASSERT_NO_FATAL_FAILURE(GiveConsent(caseworker_, case_id_, v1::CONSENT_PURPOSE_RETURN));
  ASSERT_TRUE(Assess(v1::RISK_LEVEL_LOW, &plan).ok());

  grpc::Status s = Approve(supervisor_, &plan);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("best-interests determination"));

  v1::RecordBestInterestsAssessmentRequest bia;
  bia.set_case_id(case_id_);
  bia.mutable_assessment()->set_summary("Canary-BID: mother and aunt able to care");
  bia.mutable_assessment()->set_return_in_best_interests(true);
  v1::Identification ident;
  ASSERT_TRUE(identification_->RecordBestInterestsAssessment(As(caseworker_).get(), bia, &ident).ok());
  s = Approve(supervisor_, &plan);
  EXPECT_THAT(s.error_message(), HasSubstr("family assessment"));

  ASSERT_TRUE(Assess(v1::RISK_LEVEL_LOW, &plan, "Canary-Family: home visit by partner NGO").ok());
  s = Approve(supervisor_, &plan);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("guardian"));

  v1::RecordGuardianRequest guardian;
  guardian.set_case_id(case_id_);
  guardian.mutable_guardian()->set_name("Canary-Guardian");
  ASSERT_TRUE(identification_->RecordGuardian(As(caseworker_).get(), guardian, &ident).ok());
  s = Approve(supervisor_, &plan);
  EXPECT_THAT(s.error_message(), HasSubstr("agree"));
  EXPECT_EQ(Plan(caseworker_).status(), v1::RETURN_STATUS_ASSESSED);

  ASSERT_TRUE(Assess(v1::RISK_LEVEL_LOW, &plan, "Canary-Family: home visit by partner NGO", true).ok());
  s = Approve(supervisor_, &plan);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(plan.status(), v1::RETURN_STATUS_APPROVED);
}

TEST_F(RepatriationTest, ConsentWithdrawnMidPlanSuspendsTheReturnAndAlertsTheOfficer) {
  ASSERT_NO_FATAL_FAILURE(PlanApproved());
  ASSERT_NO_FATAL_FAILURE(ReferToIom());
  EXPECT_THAT(Alerts(officer_), SizeIs(0));

  v1::WithdrawConsentRequest withdraw;
  withdraw.set_case_id(case_id_);
  withdraw.set_purpose(v1::CONSENT_PURPOSE_RETURN);
  v1::Consent consent;
  ASSERT_TRUE(cases_->WithdrawConsent(As(caseworker_).get(), withdraw, &consent).ok());

  v1::ReturnPlan plan = Plan(caseworker_);
  EXPECT_EQ(plan.status(), v1::RETURN_STATUS_SUSPENDED);
  EXPECT_EQ(plan.resume_status(), v1::RETURN_STATUS_APPROVED);
  EXPECT_EQ(plan.consent(), v1::RETURN_CONSENT_STATE_WITHDRAWN);
  std::vector<v1::Alert> alerts = Alerts(officer_);
  ASSERT_THAT(alerts, SizeIs(1));
  EXPECT_EQ(alerts[0].kind(), v1::ALERT_KIND_RETURN_SUSPENDED);
  EXPECT_THAT(alerts[0].case_ids(), ::testing::ElementsAre(case_id_));
  // The officer's access rested on that consent and ended with it.
  grpc::Status s;
  Plan(officer_, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);

  // Nothing moves while consent is withdrawn, except a cancellation.
  s = Documents(caseworker_, v1::TRAVEL_DOCUMENT_STATUS_ISSUED, &plan);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  s = Change(caseworker_, &v1::RepatriationService::Stub::ResumeReturn, "", &plan);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("consent"));

  // Consent given again: the plan is where it was.
  ASSERT_NO_FATAL_FAILURE(GiveConsent(caseworker_, case_id_, v1::CONSENT_PURPOSE_RETURN));
  plan = Plan(caseworker_);
  EXPECT_EQ(plan.status(), v1::RETURN_STATUS_APPROVED);
  EXPECT_EQ(plan.resume_status(), v1::RETURN_STATUS_UNSPECIFIED);

  // A refusal recorded later suspends it again, and tells the officer.
  v1::RecordConsentRequest refuse;
  refuse.set_case_id(case_id_);
  refuse.mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_RETURN);
  refuse.mutable_consent()->set_given(false);
  refuse.mutable_consent()->set_language("en");
  ASSERT_TRUE(cases_->RecordConsent(As(caseworker_).get(), refuse, &consent).ok());
  EXPECT_EQ(Plan(caseworker_).status(), v1::RETURN_STATUS_SUSPENDED);
  EXPECT_THAT(Alerts(officer_), SizeIs(2));
}

TEST_F(RepatriationTest, AHighRiskNeedsASupervisorsOverrideWhichIsAuditedAndSealed) {
  v1::ReturnPlan plan;
  ASSERT_TRUE(CreatePlan(&plan).ok());
  plan_id_ = plan.id();
  ASSERT_NO_FATAL_FAILURE(GiveConsent(caseworker_, case_id_, v1::CONSENT_PURPOSE_RETURN));
  ASSERT_TRUE(Assess(v1::RISK_LEVEL_HIGH, &plan).ok());

  grpc::Status s = Approve(supervisor_, &plan);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("HIGH"));
  const std::string reasons = "Canary-Override: family moved to Lagos, police protection arranged";
  EXPECT_EQ(Approve(caseworker_, &plan, reasons).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Plan(caseworker_).status(), v1::RETURN_STATUS_ASSESSED);

  const uint64_t before = AuditSequence();
  s = Approve(supervisor_, &plan, reasons);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(plan.status(), v1::RETURN_STATUS_APPROVED);
  EXPECT_EQ(plan.risk_override_reasons(), reasons);
  EXPECT_EQ(AuditSequence(), before + 1);
  const v1::AuditEntry entry = LastAudit();
  EXPECT_EQ(entry.action(), "repatriation.approve_risk_override");
  EXPECT_EQ(entry.principal_id(), supervisor_.user_id);
  EXPECT_EQ(entry.case_id(), case_id_);
  EXPECT_THAT(entry.SerializeAsString(), Not(HasSubstr("Canary-Override")));
  // The reasons stay with the case, sealed: on its timeline for those who
  // may read narrative data, never for the officer.
  EXPECT_THAT(Timeline(), ::testing::Contains(HasSubstr(reasons)));
  ASSERT_NO_FATAL_FAILURE(ReferToIom());
  EXPECT_EQ(Plan(officer_).risk_override_reasons(), "");
}

TEST_F(RepatriationTest, TheReturnOfficerSeesOnlyTheScopeAndOnlyPlansReferredToIt) {
  ASSERT_NO_FATAL_FAILURE(PlanApproved());
  // A narrower scope: nothing pseudonymous.
  ASSERT_NO_FATAL_FAILURE(ReferToIom({C::CONFIDENTIALITY_ADMINISTRATIVE,
                                      C::CONFIDENTIALITY_IDENTIFYING,
                                      C::CONFIDENTIALITY_LOCATION}));
  v1::ReturnPlan plan;
  grpc::Status s = Schedule(caseworker_, &plan);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);  // documents first
  ASSERT_TRUE(Documents(officer_, v1::TRAVEL_DOCUMENT_STATUS_ISSUED, &plan).ok());
  ASSERT_TRUE(Schedule(caseworker_, &plan).ok());

  const v1::ReturnPlan full = Plan(caseworker_);
  const v1::ReturnPlan seen = Plan(officer_);
  EXPECT_EQ(full.destination_country(), "NG");
  EXPECT_EQ(seen.destination_country(), "") << "pseudonymous: outside the referral's scope";
  EXPECT_EQ(seen.consent_language(), "");
  EXPECT_EQ(seen.risks().retaliation().level(), v1::RISK_LEVEL_UNSPECIFIED);
  EXPECT_EQ(seen.destination_region(), "Edo State");
  EXPECT_EQ(seen.travel().route(), "AMS-IST-LOS");
  EXPECT_EQ(seen.documents(0).number(), "ETD-0042");
  EXPECT_EQ(full.travel().medical_needs(), "Canary-Health: inhaler in cabin luggage");
  EXPECT_EQ(seen.travel().medical_needs(), "") << "health: never the officer's";
  EXPECT_EQ(seen.risks().retaliation().reasons(), "") << "narrative";
  EXPECT_EQ(seen.risks().health_needs().reasons(), "");
  EXPECT_EQ(seen.status(), v1::RETURN_STATUS_SCHEDULED);
  EXPECT_EQ(seen.consent(), v1::RETURN_CONSENT_STATE_GIVEN);
  // Its writes keep what it cannot see.
  ASSERT_TRUE(Depart(officer_, &plan).ok());
  EXPECT_EQ(Plan(caseworker_).travel().medical_needs(), "Canary-Health: inhaler in cabin luggage");
  EXPECT_EQ(Plan(caseworker_).risks().retaliation().reasons(),
            "Canary-Reasons: the recruiter's brother lives near");

  // Another organisation's officer: exactly a missing case.
  grpc::Status other;
  Plan(consulate_officer_, &other);
  v1::GetReturnPlanRequest missing;
  missing.set_case_id(NewId());
  missing.set_plan_id(plan_id_);
  grpc::Status absent = returns_->GetReturnPlan(As(consulate_officer_).get(), missing, &plan);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(absent.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(other.error_message(), absent.error_message());
  v1::ListReturnPlansRequest list;
  list.set_case_id(case_id_);
  v1::ListReturnPlansResponse listed;
  EXPECT_EQ(returns_->ListReturnPlans(As(consulate_officer_).get(), list, &listed).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(Due(consulate_officer_).follow_ups().empty());

  // Another case of the NGO, never referred: not the officer's.
  case_id_ = CreateCase(caseworker_, "Canary-Return-Other").id();
  ASSERT_TRUE(CreatePlan(&plan).ok());
  plan_id_ = plan.id();
  Plan(officer_, &other);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(other.error_message(), absent.error_message());
}

TEST_F(RepatriationTest, ACancelledReturnEndsItsReferralAndTheOfficersAccess) {
  ASSERT_NO_FATAL_FAILURE(PlanApproved());
  ASSERT_NO_FATAL_FAILURE(ReferToIom());
  v1::ReturnPlan plan = Plan(officer_);
  ASSERT_FALSE(plan.return_referral_id().empty());
  ASSERT_TRUE(
      Change(caseworker_, &v1::RepatriationService::Stub::CancelReturn, "she chose to stay", &plan)
          .ok());
  EXPECT_EQ(plan.status(), v1::RETURN_STATUS_CANCELLED);

  v1::GetReferralRequest get;
  get.set_referral_id(plan.return_referral_id());
  v1::Referral referral;
  ASSERT_TRUE(referrals_->GetReferral(As(caseworker_).get(), get, &referral).ok());
  EXPECT_EQ(referral.status(), v1::REFERRAL_STATUS_CANCELLED)
      << "the organisation organising the return is told to stop";
  grpc::Status officer_read;
  Plan(officer_, &officer_read);
  EXPECT_EQ(officer_read.error_code(), grpc::StatusCode::NOT_FOUND)
      << "the referral's grant ended with the plan";
  v1::GetCaseRequest read_case;
  read_case.set_case_id(case_id_);
  v1::Case seen;
  EXPECT_EQ(cases_->GetCase(As(iom_intake_).get(), read_case, &seen).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(RepatriationTest, BadInputGetsTheSpecificCodeNamesTheFieldAndWritesNothing) {
  v1::ReturnPlan plan;
  ASSERT_TRUE(CreatePlan(&plan).ok());
  plan_id_ = plan.id();
  const v1::ReturnPlan stored = Plan(caseworker_);
  const uint64_t before = AuditSequence();

  auto expect_refused = [&](const grpc::Status& s, grpc::StatusCode code, const std::string& field) {
    EXPECT_EQ(s.error_code(), code) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(field));
    EXPECT_THAT(s.error_message(), Not(HasSubstr("Canary")));
    EXPECT_EQ(AuditSequence(), before) << field;
  };
  expect_refused(CreatePlan(&plan, "Canary-Nigeria"), grpc::StatusCode::INVALID_ARGUMENT,
                 "plan.destination_country");
  v1::AssessReturnRisksRequest assess;
  assess.set_case_id(case_id_);
  assess.set_plan_id(plan_id_);
  assess.mutable_risks()->mutable_re_trafficking()->set_level(v1::RISK_LEVEL_LOW);
  assess.mutable_risks()->mutable_retaliation()->set_level(v1::RISK_LEVEL_LOW);
  assess.mutable_risks()->mutable_family_situation()->set_level(static_cast<v1::RiskLevel>(9));
  expect_refused(returns_->AssessReturnRisks(As(caseworker_).get(), assess, &plan),
                 grpc::StatusCode::INVALID_ARGUMENT, "risks.family_situation.level");
  v1::GetReturnPlanRequest get;
  get.set_case_id(case_id_);
  get.set_plan_id("Canary-not-an-id");
  expect_refused(returns_->GetReturnPlan(As(caseworker_).get(), get, &plan),
                 grpc::StatusCode::INVALID_ARGUMENT, "plan_id");
  expect_refused(FollowUp(caseworker_, 2, &plan), grpc::StatusCode::INVALID_ARGUMENT,
                 "follow_up.months");
  expect_refused(Schedule(caseworker_, &plan, -1), grpc::StatusCode::INVALID_ARGUMENT,
                 "travel.date");
  v1::ScheduleReturnRequest abroad;
  abroad.set_case_id(case_id_);
  abroad.set_plan_id(plan_id_);
  const absl::CivilDay next_week = absl::ToCivilDay(clock_.Now(), absl::UTCTimeZone()) + 7;
  abroad.mutable_travel()->mutable_date()->set_year(static_cast<int>(next_week.year()));
  abroad.mutable_travel()->mutable_date()->set_month(next_week.month());
  abroad.mutable_travel()->mutable_date()->set_day(next_week.day());
  abroad.mutable_reception()->set_partner_id("nowhere");
  abroad.mutable_referral()->set_urgency(v1::URGENCY_ROUTINE);
  abroad.mutable_referral()->set_lawful_basis(v1::LAWFUL_BASIS_CONSENT);
  abroad.mutable_referral()->add_data_scope(C::CONFIDENTIALITY_ADMINISTRATIVE);
  abroad.mutable_referral()->mutable_response_deadline()->set_seconds(
      absl::ToUnixSeconds(clock_.Now() + absl::Hours(48)));
  v1::ScheduleReturnResponse scheduled;
  expect_refused(returns_->ScheduleReturn(As(caseworker_).get(), abroad, &scheduled),
                 grpc::StatusCode::INVALID_ARGUMENT, "partner_id");
  expect_refused(Change(caseworker_, &v1::RepatriationService::Stub::SuspendReturn, "", &plan),
                 grpc::StatusCode::INVALID_ARGUMENT, "reason");
  v1::CloseReturnRequest close;
  close.set_case_id(case_id_);
  close.set_plan_id(plan_id_);
  expect_refused(returns_->CloseReturn(As(caseworker_).get(), close, &plan),
                 grpc::StatusCode::INVALID_ARGUMENT, "outcome");
  // A move the table refuses names the move and the rule.
  expect_refused(Depart(caseworker_, &plan), grpc::StatusCode::FAILED_PRECONDITION,
                 "from PROPOSED to TRAVELLED");

  const v1::ReturnPlan after = Plan(caseworker_);
  EXPECT_EQ(after.SerializeAsString(), stored.SerializeAsString());
}

TEST_F(RepatriationTest, OverdueFollowUpsAreListedAndAlertedOnce) {
  clock_.Set(absl::FromCivil(absl::CivilSecond(2027, 1, 20, 9, 0, 0), absl::UTCTimeZone()));
  ASSERT_NO_FATAL_FAILURE(PlanApproved());
  ASSERT_NO_FATAL_FAILURE(ReferToIom());
  v1::ReturnPlan plan;
  ASSERT_TRUE(Documents(officer_, v1::TRAVEL_DOCUMENT_STATUS_ISSUED, &plan).ok());
  ASSERT_TRUE(Schedule(caseworker_, &plan, 10).ok());
  clock_.Set(absl::FromCivil(absl::CivilSecond(2027, 1, 30, 22, 0, 0), absl::UTCTimeZone()));
  ASSERT_TRUE(Depart(officer_, &plan).ok());
  clock_.Set(absl::FromCivil(absl::CivilSecond(2027, 1, 31, 8, 0, 0), absl::UTCTimeZone()));
  ASSERT_TRUE(Arrive(officer_, &plan).ok());
  ASSERT_THAT(plan.follow_ups(), SizeIs(4));
  EXPECT_EQ(plan.follow_ups(0).due_date().month(), 2);
  EXPECT_EQ(plan.follow_ups(0).due_date().day(), 28);
  EXPECT_TRUE(Due(officer_).follow_ups().empty());

  // Due on 28 February, not yet overdue.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2027, 2, 28, 12, 0, 0), absl::UTCTimeZone()));
  v1::ListDueFollowUpsResponse due = Due(officer_);
  ASSERT_THAT(due.follow_ups(), SizeIs(1));
  EXPECT_EQ(due.follow_ups(0).months(), 1);
  EXPECT_FALSE(due.follow_ups(0).overdue());
  EXPECT_THAT(Alerts(officer_), SizeIs(0));

  server_->RaiseDueAlerts();
  EXPECT_THAT(Alerts(officer_), SizeIs(0));

  // On 1 March it is overdue, and the server's due alerts tell its officer,
  // once, whether or not anyone lists what is due.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2027, 3, 1, 0, 30, 0), absl::UTCTimeZone()));
  server_->RaiseDueAlerts();
  server_->RaiseDueAlerts();
  std::vector<v1::Alert> alerts = Alerts(officer_);
  ASSERT_THAT(alerts, SizeIs(1));
  EXPECT_EQ(alerts[0].kind(), v1::ALERT_KIND_RETURN_FOLLOW_UP_OVERDUE);
  due = Due(officer_);
  ASSERT_THAT(due.follow_ups(), SizeIs(1));
  EXPECT_TRUE(due.follow_ups(0).overdue());
  EXPECT_EQ(due.follow_ups(0).case_id(), case_id_);
  EXPECT_THAT(Due(caseworker_).follow_ups(), SizeIs(1)) << "the owner sees it too";

  // A case with nothing due is not even opened: one case, one page.
  const std::string first_case = case_id_;
  CreateCase(caseworker_, "Canary-Return-Second");
  v1::ListDueFollowUpsResponse page = Due(caseworker_, 1);
  EXPECT_THAT(page.follow_ups(), SizeIs(1));
  EXPECT_TRUE(page.next_page_token().empty());

  // Recorded: no longer due; the watch moves to the 3-month follow-up.
  case_id_ = first_case;
  ASSERT_TRUE(FollowUp(officer_, 1, &plan).ok());
  EXPECT_TRUE(Due(officer_).follow_ups().empty());
  clock_.Set(absl::FromCivil(absl::CivilSecond(2027, 5, 1, 9, 0, 0), absl::UTCTimeZone()));
  server_->RaiseDueAlerts();
  alerts = Alerts(officer_);
  ASSERT_THAT(alerts, SizeIs(2)) << "the 3-month follow-up, due 30 April";
  due = Due(officer_);
  ASSERT_THAT(due.follow_ups(), SizeIs(1));
  EXPECT_EQ(due.follow_ups(0).months(), 3);

  // A person not reached is alerted at once, to the plan's officer.
  ASSERT_TRUE(FollowUp(officer_, 3, &plan, "", /*reached=*/false).ok());
  alerts = Alerts(officer_);
  ASSERT_THAT(alerts, SizeIs(3));
  EXPECT_EQ(std::count_if(alerts.begin(), alerts.end(),
                          [&](const v1::Alert& a) {
                            return a.kind() == v1::ALERT_KIND_RETURN_PERSON_NOT_REACHED &&
                                   a.addressee_user_id() == officer_.user_id;
                          }),
            1);
  EXPECT_FALSE(plan.follow_ups(1).reached());
}

}  // namespace
}  // namespace haven::testing
