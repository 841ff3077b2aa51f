// Protection around the proceedings, over an in-process channel on a manual clock: the
// reflection period read from identification; compensation claims and protective measures
// moving by their rules and refusing illegal moves without writing; an interpreter whose
// identity only those who may see identifying data see.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "haven/v1/identification.grpc.pb.h"
#include "haven/v1/protection.grpc.pb.h"
#include "storage/timestamps.h"
#include "tests/service/service_fixture.h"

namespace haven::testing {
namespace {

namespace v1 = haven::v1;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class MeasuresTest : public ServiceTest {
 protected:
  void Configure(v1::ServerConfig* config) override {
    clock_.Set(absl::FromCivil(absl::CivilHour(2027, 3, 1, 9), absl::UTCTimeZone()));
    config->set_session_minutes(60 * 24 * 90);
    config->mutable_jurisdiction()->set_reflection_period_days(30);
  }

  void SetUp() override {
    ServiceTest::SetUp();
    protection_ = v1::ProtectionService::NewStub(channel_);
    ident_ = v1::IdentificationService::NewStub(channel_);
    ngo_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
    caseworker_ = NewUser(ngo_, v1::ROLE_CASEWORKER);
    supervisor_ = NewUser(ngo_, v1::ROLE_SUPERVISOR);
    operator_ = NewUser(ngo_, v1::ROLE_HOTLINE_OPERATOR);
    case_id_ = CreateCase(caseworker_, "Canary-Measures-Amina").id();
  }

  void TearDown() override {
    protection_.reset();
    ident_.reset();
    ServiceTest::TearDown();
  }

  std::string RecordProceeding() {
    v1::RecordProceedingRequest request;
    request.set_case_id(case_id_);
    request.mutable_proceeding()->set_kind(v1::PROCEEDING_KIND_AGAINST_TRAFFICKERS);
    request.mutable_proceeding()->set_pending(true);
    v1::Identification ident;
    EXPECT_TRUE(ident_->RecordProceeding(As(caseworker_).get(), request, &ident).ok());
    v1::ListProceedingsRequest list;
    list.set_case_id(case_id_);
    v1::ListProceedingsResponse proceedings;
    EXPECT_TRUE(ident_->ListProceedings(As(caseworker_).get(), list, &proceedings).ok());
    return proceedings.proceedings_size() == 0 ? "" : proceedings.proceedings(0).id();
  }

  grpc::Status Claim(const v1::CompensationClaim& claim, v1::CompensationClaim* out,
                     std::initializer_list<const char*> mask = {}) {
    v1::RecordCompensationClaimRequest request;
    request.set_case_id(case_id_);
    *request.mutable_claim() = claim;
    for (const char* path : mask) request.mutable_update_mask()->add_paths(path);
    return protection_->RecordCompensationClaim(As(caseworker_).get(), request, out);
  }

  std::vector<v1::CompensationClaim> Claims(const Actor& as) {
    v1::ListCompensationClaimsRequest request;
    request.set_case_id(case_id_);
    v1::ListCompensationClaimsResponse out;
    EXPECT_TRUE(protection_->ListCompensationClaims(As(as).get(), request, &out).ok());
    return {out.claims().begin(), out.claims().end()};
  }

  // Calls `rpc` as a caseworker of another organisation on this case and on
  // a case that does not exist: both NOT_FOUND, with the same message.
  template <typename Request, typename Response>
  void ExpectStrangerSeesNoCase(
      grpc::Status (v1::ProtectionService::Stub::*rpc)(grpc::ClientContext*, const Request&,
                                                       Response*),
      Request request) {
    const Actor stranger =
        NewUser(NewOrganisation(v1::ORGANISATION_TYPE_NGO), v1::ROLE_CASEWORKER);
    Response out;
    request.set_case_id(case_id_);
    grpc::Status other = (protection_.get()->*rpc)(As(stranger).get(), request, &out);
    request.set_case_id(std::string(32, 'e'));
    grpc::Status missing = (protection_.get()->*rpc)(As(stranger).get(), request, &out);
    EXPECT_EQ(other.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(other.error_message(), missing.error_message());
  }

  // Refers the case to a new competent authority, whose decision maker
  // (returned) decides reasonable grounds: the reflection period starts now.
  Actor StartReflectionPeriod(v1::Identification* ident) {
    const std::string authority = NewOrganisation(v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY);
    const Actor decision_maker = NewUser(authority, v1::ROLE_DECISION_MAKER);
    v1::ReferPresumedVictimRequest refer;
    refer.set_case_id(case_id_);
    refer.set_competent_authority_organisation_id(authority);
    EXPECT_TRUE(ident_->ReferPresumedVictim(As(caseworker_).get(), refer, ident).ok());
    v1::DecideRequest decide;
    decide.set_case_id(case_id_);
    decide.set_positive(true);
    decide.set_reasons("Consistent account; indicators of deception and debt bondage");
    grpc::Status s = ident_->DecideReasonableGrounds(As(decision_maker).get(), decide, ident);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return decision_maker;
  }

  grpc::Status Extend(const Actor& as, absl::Time new_end, const std::string& reasons,
                      v1::Identification* out) {
    v1::ExtendReflectionPeriodRequest request;
    request.set_case_id(case_id_);
    request.mutable_new_end()->set_seconds(absl::ToUnixSeconds(new_end));
    request.set_reasons(reasons);
    return ident_->ExtendReflectionPeriod(As(as).get(), request, out);
  }

  v1::ReflectionPeriod Reflection(const Actor& as, const std::string& purpose = "") {
    v1::GetReflectionPeriodRequest request;
    request.set_case_id(case_id_);
    v1::ReflectionPeriod period;
    grpc::Status s = protection_->GetReflectionPeriod(As(as, purpose).get(), request, &period);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return period;
  }

  std::unique_ptr<v1::ProtectionService::Stub> protection_;
  std::unique_ptr<v1::IdentificationService::Stub> ident_;
  std::string ngo_, case_id_;
  Actor caseworker_, supervisor_, operator_;
};

TEST_F(MeasuresTest, TheReflectionPeriodIsIdentificationsNotACopy) {
  v1::ReflectionPeriod period = Reflection(caseworker_);
  EXPECT_FALSE(period.granted()) << "no reasonable-grounds decision yet";
  EXPECT_THAT(period.rights(), HasSubstr("may not be removed"));

  v1::Identification ident;
  const absl::Time decided = clock_.Now();
  StartReflectionPeriod(&ident);

  clock_.Advance(absl::Hours(24 * 10));
  period = Reflection(caseworker_);
  EXPECT_TRUE(period.granted());
  EXPECT_EQ(period.start_time().seconds(), absl::ToUnixSeconds(decided))
      << "the positive reasonable-grounds decision";
  EXPECT_EQ(period.end_time().seconds(), ident.reflection_period_end().seconds())
      << "read from identification";
  EXPECT_EQ(period.days_left(), 20);
  EXPECT_FALSE(period.waived());
  EXPECT_THAT(period.extensions(), ::testing::IsEmpty());

  // A week before it ends, the organisation's supervisors (no one is
  // assigned) are told, once.
  server_->RaiseDueAlerts();
  EXPECT_THAT(Alerts(supervisor_, v1::ALERT_KIND_REFLECTION_ENDING), SizeIs(0)) << "20 days left";
  clock_.Advance(absl::Hours(24 * 14));
  server_->RaiseDueAlerts();
  server_->RaiseDueAlerts();
  EXPECT_THAT(Alerts(supervisor_, v1::ALERT_KIND_REFLECTION_ENDING), SizeIs(1)) << "6 days left";

  // Another organisation: exactly a missing case.
  ExpectStrangerSeesNoCase(&v1::ProtectionService::Stub::GetReflectionPeriod,
                           v1::GetReflectionPeriodRequest());
}

TEST_F(MeasuresTest, AnExtensionMovesTheEndAndTheAlertAndKeepsItsReasons) {
  v1::Identification ident;
  const Actor decision_maker = StartReflectionPeriod(&ident);
  const absl::Time first_end = FromTimestamp(ident.reflection_period_end());  // in 30 days
  clock_.Advance(absl::Hours(24 * 20));
  const absl::Time new_end = first_end + absl::Hours(24 * 30);
  const std::string reasons = "Canary-Reflection-Reasons: still in hospital after the raid";
  grpc::Status s = Extend(decision_maker, new_end, reasons, &ident);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ident.reflection_period_end().seconds(), absl::ToUnixSeconds(new_end))
      << "one copy: the end as it stands";
  ASSERT_THAT(ident.reflection_extensions(), SizeIs(1));
  EXPECT_EQ(ident.reflection_extensions(0).previous_end().seconds(),
            absl::ToUnixSeconds(first_end));
  EXPECT_EQ(ident.reflection_extensions(0).granted_by(), decision_maker.user_id);

  v1::ReflectionPeriod period = Reflection(caseworker_);
  EXPECT_EQ(period.end_time().seconds(), absl::ToUnixSeconds(new_end));
  EXPECT_EQ(period.days_left(), 40);
  ASSERT_THAT(period.extensions(), SizeIs(1));
  EXPECT_EQ(period.extensions(0).new_end().seconds(), absl::ToUnixSeconds(new_end));
  EXPECT_EQ(period.extensions(0).reasons(), reasons);
  EXPECT_EQ(period.extensions(0).grant_time().seconds(), absl::ToUnixSeconds(clock_.Now()));

  // The reasons are narrative: a grantee of administrative data sees that
  // the period was extended, and to when, not why.
  const std::string police = NewOrganisation(v1::ORGANISATION_TYPE_LAW_ENFORCEMENT);
  const Actor officer = NewUser(police, v1::ROLE_LAW_ENFORCEMENT_LIAISON);
  ASSERT_TRUE(GrantRead(caseworker_, case_id_, police, "investigation",
                        {v1::CONFIDENTIALITY_ADMINISTRATIVE})
                  .ok());
  period = Reflection(officer, "investigation");
  ASSERT_THAT(period.extensions(), SizeIs(1));
  EXPECT_EQ(period.extensions(0).new_end().seconds(), absl::ToUnixSeconds(new_end));
  EXPECT_TRUE(period.extensions(0).reasons().empty());

  // On the timeline: the dates in Haven's words, the reasons as the detail.
  v1::ListTimelineRequest timeline;
  timeline.set_case_id(case_id_);
  v1::ListTimelineResponse events;
  ASSERT_TRUE(cases_->ListTimeline(As(caseworker_).get(), timeline, &events).ok());
  std::vector<v1::TimelineEvent> extended;
  for (const v1::TimelineEvent& e : events.events()) {
    if (e.kind() == v1::TIMELINE_EVENT_REFLECTION_EXTENDED) extended.push_back(e);
  }
  ASSERT_THAT(extended, SizeIs(1));
  EXPECT_THAT(extended[0].summary(), HasSubstr("extended from"));
  EXPECT_THAT(extended[0].summary(), ::testing::Not(HasSubstr("Canary")));
  EXPECT_EQ(extended[0].detail(), reasons);

  // The alert comes a week before the new end, not the old one.
  clock_.Advance(absl::Hours(24 * 4));  // 6 days before the old end
  server_->RaiseDueAlerts();
  EXPECT_THAT(Alerts(supervisor_, v1::ALERT_KIND_REFLECTION_ENDING), SizeIs(0)) << "36 days left";
  clock_.Set(new_end - absl::Hours(24 * 8));
  server_->RaiseDueAlerts();
  EXPECT_THAT(Alerts(supervisor_, v1::ALERT_KIND_REFLECTION_ENDING), SizeIs(0)) << "8 days left";
  clock_.Set(new_end - absl::Hours(24 * 6));
  server_->RaiseDueAlerts();
  EXPECT_THAT(Alerts(supervisor_, v1::ALERT_KIND_REFLECTION_ENDING), SizeIs(1)) << "6 days left";
}

TEST_F(MeasuresTest, AnExtensionOutsideTheRulesIsRefusedAndWritesNothing) {
  const std::string authority = NewOrganisation(v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY);
  const Actor early_decision_maker = NewUser(authority, v1::ROLE_DECISION_MAKER);
  v1::Identification ident;
  const absl::Time later = clock_.Now() + absl::Hours(24 * 60);
  // No reflection period yet: the authority has no access to the case.
  EXPECT_EQ(Extend(early_decision_maker, later, "More time", &ident).error_code(),
            grpc::StatusCode::NOT_FOUND);

  const Actor decision_maker = StartReflectionPeriod(&ident);
  const absl::Time end = FromTimestamp(ident.reflection_period_end());
  v1::GetIdentificationRequest get;
  get.set_case_id(case_id_);
  v1::Identification before;
  ASSERT_TRUE(ident_->GetIdentification(As(caseworker_).get(), get, &before).ok());
  v1::Case case_before;
  v1::GetCaseRequest get_case;
  get_case.set_case_id(case_id_);
  ASSERT_TRUE(cases_->GetCase(As(caseworker_).get(), get_case, &case_before).ok());

  struct Row {
    const char* what;
    const Actor* as;
    std::optional<absl::Time> new_end;
    std::string reasons;
    grpc::StatusCode code;
    const char* message;
  };
  const std::vector<Row> rows = {
      {"no reasons", &decision_maker, later, "", grpc::StatusCode::INVALID_ARGUMENT, "reasons"},
      {"no new end", &decision_maker, std::nullopt, "More time",
       grpc::StatusCode::INVALID_ARGUMENT, "new_end is required"},
      {"the same end", &decision_maker, end, "More time", grpc::StatusCode::INVALID_ARGUMENT,
       "new_end must be later"},
      {"an earlier end", &decision_maker, end - absl::Hours(24), "More time",
       grpc::StatusCode::INVALID_ARGUMENT, "new_end must be later"},
      {"the caseworker", &caseworker_, later, "More time", grpc::StatusCode::PERMISSION_DENIED,
       "decision maker"},
  };
  for (const Row& row : rows) {
    v1::ExtendReflectionPeriodRequest request;
    request.set_case_id(case_id_);
    if (row.new_end.has_value()) {
      request.mutable_new_end()->set_seconds(absl::ToUnixSeconds(*row.new_end));
    }
    request.set_reasons(row.reasons);
    grpc::Status s = ident_->ExtendReflectionPeriod(As(*row.as).get(), request, &ident);
    EXPECT_EQ(s.error_code(), row.code) << row.what;
    EXPECT_THAT(s.error_message(), HasSubstr(row.message)) << row.what;
  }
  // Another organisation's decision maker: exactly a missing case.
  const Actor stranger =
      NewUser(NewOrganisation(v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY), v1::ROLE_DECISION_MAKER);
  grpc::Status other = Extend(stranger, later, "More time", &ident);
  v1::ExtendReflectionPeriodRequest missing_case;
  missing_case.set_case_id(std::string(32, 'c'));
  missing_case.mutable_new_end()->set_seconds(absl::ToUnixSeconds(later));
  missing_case.set_reasons("More time");
  grpc::Status missing = ident_->ExtendReflectionPeriod(As(stranger).get(), missing_case, &ident);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(other.error_message(), missing.error_message());

  v1::Identification after;
  ASSERT_TRUE(ident_->GetIdentification(As(caseworker_).get(), get, &after).ok());
  EXPECT_EQ(after.SerializeAsString(), before.SerializeAsString()) << "nothing was written";
  v1::Case case_after;
  ASSERT_TRUE(cases_->GetCase(As(caseworker_).get(), get_case, &case_after).ok());
  EXPECT_EQ(case_after.version(), case_before.version());

  // A conclusive decision, waived or not, ends the period: no more extensions.
  v1::DecideRequest decide;
  decide.set_case_id(case_id_);
  decide.set_positive(true);
  decide.set_reasons("Confirmed by the labour inspection's findings");
  decide.set_waive_reflection_period(true);
  decide.set_waiver_reasons("The person asked for an early decision");
  ASSERT_TRUE(ident_->DecideConclusiveGrounds(As(decision_maker).get(), decide, &ident).ok());
  grpc::Status ended = Extend(decision_maker, later, "More time", &ident);
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(ended.error_message(), HasSubstr("only a running reflection"));
  EXPECT_THAT(ended.error_message(), HasSubstr("CONFIRMED_VICTIM"));
  EXPECT_TRUE(Reflection(caseworker_).waived());
}

TEST_F(MeasuresTest, AClaimMovesByItsRulesAndAnIllegalMoveWritesNothing) {
  v1::CompensationClaim claim;
  claim.set_route(v1::COMPENSATION_ROUTE_STATE_FUND);
  claim.set_status(v1::COMPENSATION_STATUS_FILED);
  claim.set_currency("EUR");
  claim.set_claimed_minor(1'200'000);
  claim.set_reference("Canary-Claim-Ref 2027/77");
  v1::CompensationClaim filed;
  grpc::Status s = Claim(claim, &filed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(filed.id().empty());
  EXPECT_EQ(filed.file_time().seconds(), absl::ToUnixSeconds(clock_.Now())) << "filed now";

  v1::CompensationClaim award;
  award.set_id(filed.id());
  award.set_status(v1::COMPENSATION_STATUS_AWARDED);
  award.set_awarded_minor(800'000);
  v1::CompensationClaim awarded;
  ASSERT_TRUE(Claim(award, &awarded, {"status", "awarded_minor"}).ok());
  EXPECT_EQ(awarded.status(), v1::COMPENSATION_STATUS_AWARDED);
  EXPECT_EQ(awarded.claimed_minor(), 1'200'000) << "fields not named are kept";
  EXPECT_TRUE(awarded.has_decide_time());

  // More paid than awarded, and a move back: refused, nothing written.
  v1::CompensationClaim overpaid;
  overpaid.set_id(filed.id());
  overpaid.set_status(v1::COMPENSATION_STATUS_PAID);
  overpaid.set_paid_minor(900'000);
  v1::CompensationClaim out;
  s = Claim(overpaid, &out, {"status", "paid_minor"});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("paid_minor"));
  v1::CompensationClaim back;
  back.set_id(filed.id());
  back.set_status(v1::COMPENSATION_STATUS_PREPARING);
  s = Claim(back, &out, {"status"});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("COMPENSATION_STATUS_AWARDED"));
  std::vector<v1::CompensationClaim> stored = Claims(caseworker_);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].SerializeAsString(), awarded.SerializeAsString());

  v1::CompensationClaim paid = overpaid;
  paid.set_paid_minor(800'000);
  ASSERT_TRUE(Claim(paid, &out, {"status", "paid_minor"}).ok());
  EXPECT_EQ(out.status(), v1::COMPENSATION_STATUS_PAID);
  EXPECT_TRUE(out.has_pay_time());

  // Bad input names the field; an unknown claim is NOT_FOUND.
  v1::CompensationClaim no_route;
  no_route.set_status(v1::COMPENSATION_STATUS_FILED);
  EXPECT_EQ(Claim(no_route, &out).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::CompensationClaim bad_currency = claim;
  bad_currency.set_currency("euro");
  s = Claim(bad_currency, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("currency"));
  v1::CompensationClaim unknown = award;
  unknown.set_id(std::string(32, 'c'));
  EXPECT_EQ(Claim(unknown, &out, {"status"}).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Claims(caseworker_).size(), 1u);

  // A hotline operator of the same organisation reads within its classes
  // (no narrative, so no notes) but does not record claims.
  v1::RecordCompensationClaimRequest by_operator;
  by_operator.set_case_id(case_id_);
  *by_operator.mutable_claim() = claim;
  EXPECT_EQ(protection_->RecordCompensationClaim(As(operator_).get(), by_operator, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Another organisation: exactly a missing case, reading or writing.
  ExpectStrangerSeesNoCase(&v1::ProtectionService::Stub::RecordCompensationClaim, by_operator);
  ExpectStrangerSeesNoCase(&v1::ProtectionService::Stub::ListCompensationClaims,
                           v1::ListCompensationClaimsRequest());
  EXPECT_EQ(Claims(caseworker_).size(), 1u);
}

TEST_F(MeasuresTest, AProtectiveMeasureBelongsToAProceedingAndItsPlaceIsLocationData) {
  const std::string proceeding = RecordProceeding();
  ASSERT_FALSE(proceeding.empty());
  v1::RecordProtectiveMeasureRequest request;
  request.set_case_id(case_id_);
  request.mutable_measure()->set_kind(v1::PROTECTIVE_MEASURE_KIND_RELOCATION);
  request.mutable_measure()->set_status(v1::PROTECTIVE_MEASURE_STATUS_REQUESTED);
  request.mutable_measure()->set_relocation_place("Canary-Measures-Place, 12 Harbour Road");
  v1::ProtectiveMeasure measure;
  grpc::Status s = protection_->RecordProtectiveMeasure(As(caseworker_).get(), request, &measure);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "no proceeding named";
  EXPECT_THAT(s.error_message(), HasSubstr("proceeding_id"));
  request.mutable_measure()->set_proceeding_id(std::string(32, 'd'));
  s = protection_->RecordProtectiveMeasure(As(caseworker_).get(), request, &measure);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << "not this case's";
  request.mutable_measure()->set_proceeding_id(proceeding);
  s = protection_->RecordProtectiveMeasure(As(caseworker_).get(), request, &measure);
  ASSERT_TRUE(s.ok()) << s.error_message();

  v1::RecordProtectiveMeasureRequest grant;
  grant.set_case_id(case_id_);
  grant.mutable_measure()->set_id(measure.id());
  grant.mutable_measure()->set_status(v1::PROTECTIVE_MEASURE_STATUS_GRANTED);
  grant.mutable_measure()->set_decided_by("Regional Court, 3rd chamber");
  grant.mutable_update_mask()->add_paths("status");
  grant.mutable_update_mask()->add_paths("decided_by");
  ASSERT_TRUE(protection_->RecordProtectiveMeasure(As(caseworker_).get(), grant, &measure).ok());
  EXPECT_EQ(measure.status(), v1::PROTECTIVE_MEASURE_STATUS_GRANTED);
  EXPECT_TRUE(measure.has_decide_time());
  grant.mutable_measure()->set_status(v1::PROTECTIVE_MEASURE_STATUS_REQUESTED);
  EXPECT_EQ(protection_->RecordProtectiveMeasure(As(caseworker_).get(), grant, &measure)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // A shelter granted pseudonymous data knows there is a relocation, not where.
  const std::string shelter = NewOrganisation(v1::ORGANISATION_TYPE_SERVICE_PROVIDER);
  const Actor shelter_worker = NewUser(shelter, v1::ROLE_CASEWORKER);
  ASSERT_TRUE(GrantRead(caseworker_, case_id_, shelter, "referral",
                        {v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS})
                  .ok());
  v1::ListProtectiveMeasuresRequest list;
  list.set_case_id(case_id_);
  v1::ListProtectiveMeasuresResponse owner_view, shelter_view;
  ASSERT_TRUE(protection_->ListProtectiveMeasures(As(caseworker_).get(), list, &owner_view).ok());
  ASSERT_TRUE(protection_->ListProtectiveMeasures(As(shelter_worker).get(), list, &shelter_view).ok());
  ASSERT_EQ(shelter_view.measures_size(), 1);
  EXPECT_EQ(owner_view.measures(0).relocation_place(), "Canary-Measures-Place, 12 Harbour Road");
  EXPECT_EQ(shelter_view.measures(0).kind(), v1::PROTECTIVE_MEASURE_KIND_RELOCATION);
  EXPECT_EQ(shelter_view.measures(0).relocation_place(), "");

  ExpectStrangerSeesNoCase(&v1::ProtectionService::Stub::RecordProtectiveMeasure, request);
  ExpectStrangerSeesNoCase(&v1::ProtectionService::Stub::ListProtectiveMeasures, list);
  const Actor stranger = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_NGO), v1::ROLE_CASEWORKER);
  v1::ListProceedingsRequest proceedings;
  proceedings.set_case_id(case_id_);
  v1::ListProceedingsResponse none;
  EXPECT_EQ(ident_->ListProceedings(As(stranger).get(), proceedings, &none).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(MeasuresTest, TheInterpretersIdentityReachesOnlyThoseWhoMaySeeIdentifyingData) {
  v1::SetLanguageNeedsRequest needs;
  needs.set_case_id(case_id_);
  needs.add_languages("ti");
  needs.add_languages("ar");
  needs.set_preferences("a woman interpreter, not from her home region");
  v1::Interpretation interpretation;
  ASSERT_TRUE(protection_->SetLanguageNeeds(As(caseworker_).get(), needs, &interpretation).ok());
  needs.add_languages("not a tag!");
  EXPECT_EQ(protection_->SetLanguageNeeds(As(caseworker_).get(), needs, &interpretation)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::AssignInterpreterRequest assign;
  assign.set_case_id(case_id_);
  assign.mutable_interpreter()->set_language("ti");
  assign.mutable_interpreter()->set_interpreter_name("Canary-Interpreter-Selam");
  assign.mutable_interpreter()->set_interpreter_contact("+31 6 0000 0000");
  ASSERT_TRUE(protection_->AssignInterpreter(As(caseworker_).get(), assign, &interpretation).ok());
  ASSERT_EQ(interpretation.interpreters_size(), 1);
  const std::string interpreter_id = interpretation.interpreters(0).id();
  EXPECT_EQ(interpretation.languages_size(), 2) << "the refused change wrote nothing";

  v1::RecordInterpretationSessionRequest session;
  session.set_case_id(case_id_);
  session.set_interpreter_id(interpreter_id);
  session.mutable_session()->set_minutes(90);
  session.mutable_session()->set_purpose("interview with the police");
  ASSERT_TRUE(
      protection_->RecordInterpretationSession(As(caseworker_).get(), session, &interpretation)
          .ok());
  session.mutable_session()->set_minutes(0);
  EXPECT_EQ(protection_->RecordInterpretationSession(As(caseworker_).get(), session,
                                                      &interpretation)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // The police, granted pseudonymous data, see the language and the sessions,
  // never who interprets; the timeline never names the interpreter.
  const std::string police = NewOrganisation(v1::ORGANISATION_TYPE_LAW_ENFORCEMENT);
  const Actor officer = NewUser(police, v1::ROLE_LAW_ENFORCEMENT_LIAISON);
  ASSERT_TRUE(GrantRead(caseworker_, case_id_, police, "investigation",
                        {v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS})
                  .ok());
  v1::GetInterpretationRequest get;
  get.set_case_id(case_id_);
  v1::Interpretation seen;
  ASSERT_TRUE(protection_->GetInterpretation(As(officer).get(), get, &seen).ok());
  ASSERT_EQ(seen.interpreters_size(), 1);
  EXPECT_EQ(seen.interpreters(0).language(), "ti");
  EXPECT_EQ(seen.interpreters(0).interpreter_name(), "");
  EXPECT_EQ(seen.interpreters(0).interpreter_contact(), "");
  EXPECT_EQ(seen.interpreters(0).sessions_size(), 1);
  EXPECT_EQ(seen.preferences(), "") << "narrative";
  ASSERT_TRUE(protection_->GetInterpretation(As(caseworker_).get(), get, &seen).ok());
  EXPECT_EQ(seen.interpreters(0).interpreter_name(), "Canary-Interpreter-Selam");

  v1::ListTimelineRequest timeline;
  timeline.set_case_id(case_id_);
  v1::ListTimelineResponse events;
  ASSERT_TRUE(cases_->ListTimeline(As(caseworker_).get(), timeline, &events).ok());
  for (const v1::TimelineEvent& e : events.events()) {
    EXPECT_EQ(e.summary().find("Canary-Interpreter"), std::string::npos) << e.summary();
    EXPECT_EQ(e.detail().find("Canary-Interpreter"), std::string::npos) << e.detail();
  }
  const v1::AuditEntry audit = LastAudit();
  EXPECT_EQ(audit.SerializeAsString().find("Canary-Interpreter"), std::string::npos);

  ExpectStrangerSeesNoCase(&v1::ProtectionService::Stub::GetInterpretation, get);
  ExpectStrangerSeesNoCase(&v1::ProtectionService::Stub::AssignInterpreter, assign);
  needs.mutable_languages()->RemoveLast();  // well-formed again: the shape is checked first
  ExpectStrangerSeesNoCase(&v1::ProtectionService::Stub::SetLanguageNeeds, needs);
  session.mutable_session()->set_minutes(30);
  ExpectStrangerSeesNoCase(&v1::ProtectionService::Stub::RecordInterpretationSession, session);
  ASSERT_TRUE(protection_->GetInterpretation(As(caseworker_).get(), get, &seen).ok());
  EXPECT_EQ(seen.interpreters_size(), 1) << "the strangers wrote nothing";
  EXPECT_EQ(seen.interpreters(0).sessions_size(), 1);
}

}  // namespace
}  // namespace haven::testing
