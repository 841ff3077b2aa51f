// Grants under a lawful basis: consent checked when made and ended when
// withdrawn, a second person for court orders and emergencies, at most what
// the grantee's roles may receive, and timeline events withheld like the
// records they describe.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/service/service_fixture.h"

namespace haven::testing {
namespace {

namespace v1 = haven::v1;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr v1::ConfidentialityClass kAllClasses[] = {
    v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS,
    v1::CONFIDENTIALITY_IDENTIFYING,    v1::CONFIDENTIALITY_LOCATION,
    v1::CONFIDENTIALITY_HEALTH,         v1::CONFIDENTIALITY_NARRATIVE};

class LawfulBasisTest : public ServiceTest {
 protected:
  void Configure(v1::ServerConfig* config) override { config->set_emergency_access_max_hours(48); }

  void SetUp() override {
    ServiceTest::SetUp();
    ngo_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
    police_ = NewOrganisation(v1::ORGANISATION_TYPE_LAW_ENFORCEMENT);
    caseworker_ = NewUser(ngo_, v1::ROLE_CASEWORKER);
    supervisor_ = NewUser(ngo_, v1::ROLE_SUPERVISOR);
    officer_ = NewUser(police_, v1::ROLE_LAW_ENFORCEMENT_LIAISON);
    case_ = CreateCase(caseworker_, "Amina");
  }

  v1::CreateGrantRequest GrantRequest(const std::string& organisation_id, v1::LawfulBasis basis,
                                      absl::Duration lifetime = absl::Hours(24 * 365)) {
    v1::CreateGrantRequest req;
    v1::Grant* g = req.mutable_grant();
    g->set_case_id(case_.id());
    g->set_grantee_organisation_id(organisation_id);
    g->set_purpose("investigation");
    for (v1::ConfidentialityClass c : kAllClasses) g->add_classes(c);
    g->add_actions(v1::CASE_ACTION_READ);
    g->mutable_expire_time()->set_seconds(absl::ToUnixSeconds(clock_.Now() + lifetime));
    g->set_lawful_basis(basis);
    g->mutable_basis_detail()->set_reference("2026/1234");
    g->mutable_basis_detail()->set_court("District Court");
    g->mutable_basis_detail()->set_reason("She was seen with her exploiter");
    return req;
  }

  grpc::Status Grant(const Actor& actor, const v1::CreateGrantRequest& req, v1::Grant* out) {
    return cases_->CreateGrant(As(actor).get(), req, out);
  }

  grpc::Status Read(const Actor& actor, v1::Case* out) {
    v1::GetCaseRequest req;
    req.set_case_id(case_.id());
    return cases_->GetCase(As(actor).get(), req, out);
  }

  void RecordConsent(v1::ConsentPurpose purpose, bool given) {
    v1::RecordConsentRequest req;
    req.set_case_id(case_.id());
    req.mutable_consent()->set_purpose(purpose);
    req.mutable_consent()->set_given(given);
    req.mutable_consent()->set_language("en");
    v1::Consent out;
    grpc::Status s = cases_->RecordConsent(As(caseworker_).get(), req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  std::vector<v1::TimelineEvent> Timeline(const Actor& actor) {
    v1::ListTimelineRequest req;
    req.set_case_id(case_.id());
    v1::ListTimelineResponse out;
    grpc::Status s = cases_->ListTimeline(As(actor).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {out.events().begin(), out.events().end()};
  }

  std::string ngo_, police_;
  Actor caseworker_, supervisor_, officer_;
  v1::Case case_;
};

TEST_F(LawfulBasisTest, AGrantUnderConsentNeedsItAndEndsWhenItIsWithdrawn) {
  // The leak that was: a caseworker could give the police who she is, where
  // she stays and her account, for a year, though she refused.
  RecordConsent(v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT, false);
  v1::Grant grant;
  grpc::Status s = Grant(caseworker_, GrantRequest(police_, v1::LAWFUL_BASIS_CONSENT), &grant);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT"));
  v1::Case read;
  EXPECT_EQ(Read(officer_, &read).error_code(), grpc::StatusCode::NOT_FOUND);

  RecordConsent(v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT, true);
  ASSERT_TRUE(Grant(caseworker_, GrantRequest(police_, v1::LAWFUL_BASIS_CONSENT), &grant).ok());
  EXPECT_EQ(grant.consent_purpose(), v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT);
  ASSERT_TRUE(Read(officer_, &read).ok());
  EXPECT_EQ(read.subject().given_name(), "Amina");

  v1::WithdrawConsentRequest withdraw;
  withdraw.set_case_id(case_.id());
  withdraw.set_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT);
  v1::Consent withdrawn;
  ASSERT_TRUE(cases_->WithdrawConsent(As(caseworker_).get(), withdraw, &withdrawn).ok());
  EXPECT_EQ(Read(officer_, &read).error_code(), grpc::StatusCode::NOT_FOUND)
      << "the withdrawal ended the grant in the same transaction";
  v1::ListGrantsRequest list;
  list.set_case_id(case_.id());
  v1::ListGrantsResponse grants;
  ASSERT_TRUE(cases_->ListGrants(As(caseworker_).get(), list, &grants).ok());
  ASSERT_EQ(grants.grants_size(), 1);
  EXPECT_TRUE(grants.grants(0).revoked());
}

TEST_F(LawfulBasisTest, AGrantServesOnlyItsPurposeAndTheAuditSaysWhich) {
  RecordConsent(v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT, true);
  v1::Grant grant;
  ASSERT_TRUE(Grant(caseworker_, GrantRequest(police_, v1::LAWFUL_BASIS_CONSENT), &grant).ok());
  v1::GetCaseRequest req;
  req.set_case_id(case_.id());
  v1::Case read;
  // Declared for another purpose than the grant's: as if there were no case.
  grpc::Status other = cases_->GetCase(As(officer_, "immigration-check").get(), req, &read);
  req.set_case_id(std::string(32, 'a'));
  grpc::Status missing = cases_->GetCase(As(officer_, "immigration-check").get(), req, &read);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(other.error_code(), missing.error_code());
  EXPECT_EQ(other.error_message(), missing.error_message());
  // Declared for the grant's purpose, or none: the grant's classes.
  req.set_case_id(case_.id());
  ASSERT_TRUE(cases_->GetCase(As(officer_, "investigation").get(), req, &read).ok());
  ASSERT_TRUE(Read(officer_, &read).ok());
  EXPECT_EQ(read.subject().given_name(), "Amina");

  Actor auditor = NewUser(ngo_, v1::ROLE_AUDITOR);
  v1::QueryAuditEntriesRequest audit_req;
  audit_req.set_case_id(case_.id());
  v1::QueryAuditEntriesResponse audit;
  ASSERT_TRUE(audit_->QueryAuditEntries(As(auditor).get(), audit_req, &audit).ok());
  std::vector<std::string> officer_reads;
  for (const v1::AuditEntry& e : audit.entries()) {
    if (e.principal_id() == officer_.user_id && e.action() == "case.read") {
      officer_reads.push_back(absl::StrCat(v1::AuditOutcome_Name(e.outcome()), " ", e.purpose()));
    }
  }
  EXPECT_THAT(officer_reads, ::testing::UnorderedElementsAre(
                                 "AUDIT_OUTCOME_DENIED immigration-check",
                                 "AUDIT_OUTCOME_ALLOWED investigation",
                                 "AUDIT_OUTCOME_ALLOWED investigation"))
      << "an access with no declared purpose is audited under the grant's";
}

TEST_F(LawfulBasisTest, AGranteeReceivesNoMoreThanItsRolesMayUnderTheBasis) {
  // Every class offered; law enforcement under a legal obligation receives
  // who she is, never her health, where she stays or her account.
  v1::Grant grant;
  ASSERT_TRUE(
      Grant(caseworker_, GrantRequest(police_, v1::LAWFUL_BASIS_LEGAL_OBLIGATION), &grant).ok());
  EXPECT_FALSE(grant.awaiting_approval());
  // The audit names the basis; its facts stay sealed on the timeline.
  EXPECT_EQ(LastAudit().lawful_basis(), "LAWFUL_BASIS_LEGAL_OBLIGATION");
  v1::Case read;
  ASSERT_TRUE(Read(officer_, &read).ok());
  EXPECT_EQ(read.subject().given_name(), "Amina");
  std::vector<v1::TimelineEvent> events = Timeline(officer_);
  ASSERT_FALSE(events.empty());
  for (const v1::TimelineEvent& e : events) EXPECT_EQ(e.detail(), "") << e.summary();
  v1::AuditEntry entry = LastAudit();
  EXPECT_EQ(entry.principal_id(), officer_.user_id);
  EXPECT_THAT(entry.classes(), Not(Contains(v1::CONFIDENTIALITY_NARRATIVE)));

  // The owner sees the basis's facts, sealed on the timeline.
  bool facts_recorded = false;
  for (const v1::TimelineEvent& e : Timeline(caseworker_)) {
    facts_recorded |= e.kind() == v1::TIMELINE_EVENT_ACCESS_GRANTED &&
                      e.detail().find("2026/1234") != std::string::npos;
  }
  EXPECT_TRUE(facts_recorded);
}

TEST_F(LawfulBasisTest, ACourtOrderOrAnEmergencyWaitsForASecondSupervisor) {
  for (v1::LawfulBasis basis : {v1::LAWFUL_BASIS_JUDICIAL_ORDER, v1::LAWFUL_BASIS_VITAL_INTERESTS}) {
    v1::Grant asked;
    ASSERT_TRUE(Grant(caseworker_, GrantRequest(police_, basis, absl::Hours(24)), &asked).ok());
    EXPECT_TRUE(asked.awaiting_approval());
    v1::Case read;
    EXPECT_EQ(Read(officer_, &read).error_code(), grpc::StatusCode::NOT_FOUND)
        << "nothing before the approval";

    v1::ListAlertsResponse alerts;
    ASSERT_TRUE(cases_->ListAlerts(As(supervisor_).get(), v1::ListAlertsRequest(), &alerts).ok());
    bool alerted = false;
    for (const v1::Alert& a : alerts.alerts()) {
      alerted |= a.kind() == v1::ALERT_KIND_ACCESS_APPROVAL_NEEDED && a.case_ids(0) == case_.id();
    }
    EXPECT_TRUE(alerted) << "the owning organisation's supervisors are told";

    v1::ApproveGrantRequest approve;
    approve.set_case_id(case_.id());
    approve.set_grant_id(asked.id());
    v1::Grant approved;
    EXPECT_EQ(cases_->ApproveGrant(As(caseworker_).get(), approve, &approved).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    ASSERT_TRUE(cases_->ApproveGrant(As(supervisor_).get(), approve, &approved).ok());
    EXPECT_FALSE(approved.awaiting_approval());
    EXPECT_EQ(approved.approved_by(), supervisor_.user_id);
    ASSERT_TRUE(Read(officer_, &read).ok());
    EXPECT_EQ(read.subject().given_name(), "Amina");
    EXPECT_EQ(cases_->ApproveGrant(As(supervisor_).get(), approve, &approved).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
    v1::RevokeGrantRequest revoke;
    revoke.set_case_id(case_.id());
    revoke.set_grant_id(asked.id());
    v1::Grant revoked;
    ASSERT_TRUE(cases_->RevokeGrant(As(supervisor_).get(), revoke, &revoked).ok());
  }
  // A supervisor who asks cannot approve her own.
  v1::Grant own;
  ASSERT_TRUE(Grant(supervisor_, GrantRequest(police_, v1::LAWFUL_BASIS_JUDICIAL_ORDER), &own).ok());
  v1::ApproveGrantRequest approve;
  approve.set_case_id(case_.id());
  approve.set_grant_id(own.id());
  v1::Grant approved;
  EXPECT_EQ(cases_->ApproveGrant(As(supervisor_).get(), approve, &approved).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(LawfulBasisTest, AGrantThatRanOutWhileAwaitingApprovalCannotBeApproved) {
  v1::Grant asked;
  ASSERT_TRUE(Grant(caseworker_, GrantRequest(police_, v1::LAWFUL_BASIS_JUDICIAL_ORDER,
                                              absl::Hours(2)),
                    &asked)
                  .ok());
  clock_.Advance(absl::Hours(2));
  v1::ApproveGrantRequest approve;
  approve.set_case_id(case_.id());
  approve.set_grant_id(asked.id());
  v1::Grant approved;
  grpc::Status s = cases_->ApproveGrant(As(supervisor_).get(), approve, &approved);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("ran out"));
  v1::Case read;
  EXPECT_EQ(Read(officer_, &read).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(LawfulBasisTest, ApproveGrantRefusesOtherOrganisationsAndBadIdsAndWritesNothing) {
  v1::Grant asked;
  ASSERT_TRUE(Grant(caseworker_, GrantRequest(police_, v1::LAWFUL_BASIS_JUDICIAL_ORDER), &asked).ok());
  v1::ApproveGrantRequest approve;
  approve.set_case_id(case_.id());
  approve.set_grant_id(asked.id());
  v1::Grant approved;
  Actor stranger = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_NGO), v1::ROLE_SUPERVISOR);
  EXPECT_EQ(cases_->ApproveGrant(As(stranger).get(), approve, &approved).error_code(),
            grpc::StatusCode::NOT_FOUND);
  const uint64_t before = AuditSequence();
  v1::ApproveGrantRequest bad = approve;
  bad.set_grant_id("not-a-grant");
  EXPECT_EQ(cases_->ApproveGrant(As(supervisor_).get(), bad, &approved).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(AuditSequence(), before) << "refused before anything was written";
  v1::Case read;
  EXPECT_EQ(Read(officer_, &read).error_code(), grpc::StatusCode::NOT_FOUND)
      << "still awaiting a supervisor of the owning organisation";
}

TEST_F(LawfulBasisTest, EachBasisNeedsItsFactsAndAnEmergencyIsShort) {
  v1::Grant grant;
  v1::CreateGrantRequest no_court = GrantRequest(police_, v1::LAWFUL_BASIS_JUDICIAL_ORDER);
  no_court.mutable_grant()->mutable_basis_detail()->clear_court();
  grpc::Status s = Grant(caseworker_, no_court, &grant);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("court"));
  v1::CreateGrantRequest no_basis = GrantRequest(police_, v1::LAWFUL_BASIS_UNSPECIFIED);
  EXPECT_EQ(Grant(caseworker_, no_basis, &grant).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // emergency_access_max_hours is 48 here.
  s = Grant(caseworker_, GrantRequest(police_, v1::LAWFUL_BASIS_VITAL_INTERESTS, absl::Hours(49)),
            &grant);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("emergency"));
  EXPECT_TRUE(
      Grant(caseworker_, GrantRequest(police_, v1::LAWFUL_BASIS_VITAL_INTERESTS, absl::Hours(47)),
            &grant)
          .ok());
  // A child-protection emergency is no basis for an adult (born 2001).
  s = Grant(caseworker_,
            GrantRequest(police_, v1::LAWFUL_BASIS_CHILD_PROTECTION_EMERGENCY, absl::Hours(24)),
            &grant);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("child"));
}

TEST_F(LawfulBasisTest, ATimelineEventIsWithheldLikeTheRecordItDescribes) {
  // The leak that was: a shelter with administrative access read "consent
  // refused for law enforcement" in the timeline.
  std::string shelter = NewOrganisation(v1::ORGANISATION_TYPE_SERVICE_PROVIDER);
  Actor shelter_worker = NewUser(shelter, v1::ROLE_CASEWORKER);
  ASSERT_TRUE(
      GrantRead(caseworker_, case_.id(), shelter, "referral", {v1::CONFIDENTIALITY_ADMINISTRATIVE})
          .ok());
  RecordConsent(v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT, false);
  auto consent_summary = [&](const Actor& actor) {
    std::string summary = "(no consent event)";
    for (const v1::TimelineEvent& e : Timeline(actor)) {
      if (e.kind() == v1::TIMELINE_EVENT_CONSENT_RECORDED) summary = e.summary();
    }
    return summary;
  };
  EXPECT_THAT(consent_summary(caseworker_), HasSubstr("refused"));
  EXPECT_EQ(consent_summary(shelter_worker), "");

  // Nor does the consent record itself say it: that a consent exists for a
  // purpose is administrative, what the person decided is not.
  v1::ListConsentsRequest list;
  list.set_case_id(case_.id());
  v1::ListConsentsResponse seen_by_owner, seen_by_shelter;
  RecordConsent(v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS, true);
  ASSERT_TRUE(cases_->ListConsents(As(caseworker_).get(), list, &seen_by_owner).ok());
  ASSERT_TRUE(cases_->ListConsents(As(shelter_worker).get(), list, &seen_by_shelter).ok());
  ASSERT_EQ(seen_by_owner.consents_size(), 2);
  ASSERT_EQ(seen_by_shelter.consents_size(), 2);
  for (int i = 0; i < 2; ++i) {
    const v1::Consent& owner = seen_by_owner.consents(i);
    const v1::Consent& shelter_view = seen_by_shelter.consents(i);
    EXPECT_EQ(owner.given(), owner.purpose() == v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS);
    EXPECT_EQ(shelter_view.purpose(), owner.purpose());
    EXPECT_FALSE(shelter_view.given()) << "withheld, so the shelter cannot tell a yes from a no";
    EXPECT_FALSE(shelter_view.has_withdraw_time());
  }
}

TEST_F(LawfulBasisTest, FieldsThisServerDoesNotKnowNeverComeBack) {
  // The leak that was: bytes in field 100 of a Subject were sealed and
  // handed back, unredacted, to every reader.
  v1::CreateCaseRequest req;
  *req.mutable_subject() = SampleSubject("Mariam");
  req.mutable_subject()->GetReflection()->MutableUnknownFields(req.mutable_subject())
      ->AddLengthDelimited(100, "smuggled");
  v1::Case created;
  ASSERT_TRUE(cases_->CreateCase(As(caseworker_).get(), req, &created).ok());
  ASSERT_TRUE(GrantRead(caseworker_, created.id(), police_, "investigation",
                        {v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS})
                  .ok());
  for (const Actor* reader : {&caseworker_, &officer_}) {
    v1::GetCaseRequest get;
    get.set_case_id(created.id());
    v1::Case read;
    ASSERT_TRUE(cases_->GetCase(As(*reader).get(), get, &read).ok());
    EXPECT_EQ(read.subject().GetReflection()->GetUnknownFields(read.subject()).field_count(), 0);
  }
  EXPECT_EQ(created.subject().GetReflection()->GetUnknownFields(created.subject()).field_count(), 0);
}

}  // namespace
}  // namespace haven::testing
