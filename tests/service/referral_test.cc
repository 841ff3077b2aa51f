// ReferralService over an in-process channel, on a manual clock: the life
// cycle, consent or a lawful basis, and access that follows the referral.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "haven/v1/referral.grpc.pb.h"
#include "tests/service/service_fixture.h"

namespace haven::testing {
namespace {

namespace v1 = haven::v1;
using ::testing::HasSubstr;

class ReferralTest : public ServiceTest {
 protected:
  void Configure(v1::ServerConfig* config) override {
    config->set_session_minutes(60 * 24 * 7);  // the tests move the clock by days
  }

  void SetUp() override {
    ServiceTest::SetUp();
    referrals_ = v1::ReferralService::NewStub(channel_);
    ngo_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
    shelter_ = NewOrganisation(v1::ORGANISATION_TYPE_SERVICE_PROVIDER);
    caseworker_ = NewUser(ngo_, v1::ROLE_CASEWORKER);
    // Accepting a referral takes a caseworker or a supervisor of the
    // receiving organisation.
    staff_ = NewUser(shelter_, {v1::ROLE_CASEWORKER, v1::ROLE_SERVICE_PROVIDER_STAFF});
    case_ = CreateCase(caseworker_, "Amina");
  }

  // The facts every basis other than consent needs.
  static v1::BasisDetail FullDetail() {
    v1::BasisDetail detail;
    detail.set_reference("2026/1234");
    detail.set_court("District Court");
    detail.set_reason("Threatened by her exploiters tonight");
    return detail;
  }

  v1::CreateReferralRequest DraftRequest(v1::LawfulBasis basis) {
    v1::CreateReferralRequest req;
    v1::Referral* r = req.mutable_referral();
    r->set_case_id(case_.id());
    r->set_receiver_organisation_id(shelter_);
    r->set_purpose(v1::REFERRAL_PURPOSE_SHELTER);
    r->set_urgency(v1::URGENCY_URGENT);
    r->set_lawful_basis(basis);
    if (basis != v1::LAWFUL_BASIS_CONSENT) *r->mutable_basis_detail() = FullDetail();
    r->add_data_scope(v1::CONFIDENTIALITY_ADMINISTRATIVE);
    r->add_data_scope(v1::CONFIDENTIALITY_PSEUDONYMOUS);
    r->mutable_response_deadline()->set_seconds(absl::ToUnixSeconds(clock_.Now() + absl::Hours(48)));
    req.set_reason("Needs a safe place tonight");
    return req;
  }

  v1::Referral Draft(v1::LawfulBasis basis = v1::LAWFUL_BASIS_CONSENT,
                     absl::Duration deadline = absl::Hours(48),
                     absl::Duration access = absl::Hours(24 * 30)) {
    v1::CreateReferralRequest req;
    v1::Referral* r = req.mutable_referral();
    if (basis != v1::LAWFUL_BASIS_CONSENT) *r->mutable_basis_detail() = FullDetail();
    r->set_case_id(case_.id());
    r->set_receiver_organisation_id(shelter_);
    r->set_purpose(v1::REFERRAL_PURPOSE_SHELTER);
    r->set_urgency(v1::URGENCY_URGENT);
    r->set_lawful_basis(basis);
    r->add_data_scope(v1::CONFIDENTIALITY_ADMINISTRATIVE);
    r->add_data_scope(v1::CONFIDENTIALITY_PSEUDONYMOUS);
    r->mutable_response_deadline()->set_seconds(absl::ToUnixSeconds(clock_.Now() + deadline));
    r->mutable_access_until()->set_seconds(absl::ToUnixSeconds(clock_.Now() + access));
    req.set_reason("Needs a safe place tonight");
    v1::Referral out;
    grpc::Status s = referrals_->CreateReferral(As(caseworker_).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status Move(const Actor& actor, const std::string& id,
                    grpc::Status (v1::ReferralService::Stub::*rpc)(
                        grpc::ClientContext*, const v1::ReferralTransitionRequest&, v1::Referral*),
                    v1::Referral* out = nullptr, const std::string& reason = "") {
    v1::ReferralTransitionRequest req;
    req.set_referral_id(id);
    req.set_reason(reason);
    v1::Referral ignored;
    return (referrals_.get()->*rpc)(As(actor).get(), req, out ? out : &ignored);
  }

  void Consent(v1::ConsentPurpose purpose) { GiveConsent(caseworker_, case_.id(), purpose); }

  grpc::Status ReadCase(const Actor& actor, v1::Case* out) {
    v1::GetCaseRequest req;
    req.set_case_id(case_.id());
    return cases_->GetCase(As(actor).get(), req, out);
  }

  using Stub = v1::ReferralService::Stub;
  std::unique_ptr<Stub> referrals_;
  std::string ngo_, shelter_;
  Actor caseworker_, staff_;
  v1::Case case_;
};

TEST_F(ReferralTest, AcceptedReferralGivesScopedAccessUntilItCompletes) {
  v1::Referral r = Draft();
  EXPECT_EQ(r.status(), v1::REFERRAL_STATUS_DRAFT);
  // Without consent to share with service providers, it is not sent.
  grpc::Status refused = Move(caseworker_, r.id(), &Stub::SendReferral);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS"));
  Consent(v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS);
  ASSERT_TRUE(Move(caseworker_, r.id(), &Stub::SendReferral).ok());

  v1::Case read;
  EXPECT_EQ(ReadCase(staff_, &read).error_code(), grpc::StatusCode::NOT_FOUND)
      << "nothing is disclosed before acceptance";
  v1::ListReferralsResponse inbox;
  ASSERT_TRUE(referrals_->ListInbox(As(staff_).get(), v1::ListReferralsRequest(), &inbox).ok());
  ASSERT_EQ(inbox.referrals_size(), 1);
  EXPECT_EQ(inbox.referrals(0).id(), r.id());

  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(Move(staff_, r.id(), &Stub::AcknowledgeReferral).ok());
  clock_.Advance(absl::Hours(2));
  v1::Referral accepted;
  ASSERT_TRUE(Move(staff_, r.id(), &Stub::AcceptReferral, &accepted).ok());
  EXPECT_EQ(accepted.status(), v1::REFERRAL_STATUS_ACCEPTED);
  EXPECT_FALSE(accepted.grant_id().empty());

  // Exactly the scoped classes: who she is stays hidden.
  ASSERT_TRUE(ReadCase(staff_, &read).ok());
  EXPECT_EQ(read.subject().given_name(), "");
  EXPECT_EQ(read.subject().sex(), v1::SEX_FEMALE);
  EXPECT_EQ(read.subject().citizenships(0), "NG");

  // A third organisation sees nothing of it.
  Actor third = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_NGO), v1::ROLE_CASEWORKER);
  EXPECT_EQ(ReadCase(third, &read).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::GetReferralRequest get;
  get.set_referral_id(r.id());
  v1::Referral seen;
  EXPECT_EQ(referrals_->GetReferral(As(third).get(), get, &seen).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Move(third, r.id(), &Stub::AcceptReferral).error_code(), grpc::StatusCode::NOT_FOUND);

  ASSERT_TRUE(Move(staff_, r.id(), &Stub::CompleteReferral).ok());
  EXPECT_EQ(ReadCase(staff_, &read).error_code(), grpc::StatusCode::NOT_FOUND)
      << "access ends when the referral completes";

  v1::GetReferralFiguresResponse figures;
  ASSERT_TRUE(referrals_
                  ->GetReferralFigures(As(caseworker_).get(), v1::GetReferralFiguresRequest(),
                                       &figures)
                  .ok());
  ASSERT_EQ(figures.figures_size(), 1);
  EXPECT_EQ(figures.figures(0).receiver_organisation_id(), shelter_);
  EXPECT_EQ(figures.figures(0).accepted(), 1);
  EXPECT_DOUBLE_EQ(figures.figures(0).acceptance_rate(), 1.0);
  EXPECT_DOUBLE_EQ(figures.figures(0).mean_hours_to_acknowledge(), 1.0);
  EXPECT_DOUBLE_EQ(figures.figures(0).mean_hours_to_accept(), 3.0);
}

TEST_F(ReferralTest, ALawfulBasisWithoutConsentIsRecordedInTheAudit) {
  v1::Referral r = Draft(v1::LAWFUL_BASIS_LEGAL_OBLIGATION);
  ASSERT_TRUE(Move(caseworker_, r.id(), &Stub::SendReferral).ok());
  v1::AuditEntry entry = LastAudit();
  EXPECT_EQ(entry.action(), "referral.send");
  EXPECT_EQ(entry.lawful_basis(), "LAWFUL_BASIS_LEGAL_OBLIGATION");
}

TEST_F(ReferralTest, EachBasisNeedsItsFactsAndNothingIsWrittenWithout) {
  struct Case {
    v1::LawfulBasis basis;
    void (*strip)(v1::BasisDetail*);
    const char* names;
  } cases[] = {
      {v1::LAWFUL_BASIS_JUDICIAL_ORDER, [](v1::BasisDetail* d) { d->clear_reference(); }, "reference"},
      {v1::LAWFUL_BASIS_JUDICIAL_ORDER, [](v1::BasisDetail* d) { d->clear_court(); }, "court"},
      {v1::LAWFUL_BASIS_LEGAL_OBLIGATION, [](v1::BasisDetail* d) { d->clear_reference(); }, "reference"},
      {v1::LAWFUL_BASIS_VITAL_INTERESTS, [](v1::BasisDetail* d) { d->clear_reason(); }, "reason"},
      {v1::LAWFUL_BASIS_CHILD_PROTECTION_EMERGENCY, [](v1::BasisDetail* d) { d->clear_reason(); },
       "reason"},
  };
  const uint64_t before = AuditSequence();
  for (const Case& c : cases) {
    v1::CreateReferralRequest req = DraftRequest(c.basis);
    c.strip(req.mutable_referral()->mutable_basis_detail());
    v1::Referral out;
    grpc::Status s = referrals_->CreateReferral(As(caseworker_).get(), req, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << v1::LawfulBasis_Name(c.basis);
    EXPECT_THAT(s.error_message(), ::testing::HasSubstr(c.names)) << v1::LawfulBasis_Name(c.basis);
  }
  EXPECT_EQ(AuditSequence(), before) << "refused before anything was written";
}

TEST_F(ReferralTest, AnEmergencyOrACourtOrderIsSentByASecondPerson) {
  Actor supervisor = NewUser(ngo_, v1::ROLE_SUPERVISOR);
  for (v1::LawfulBasis basis : {v1::LAWFUL_BASIS_VITAL_INTERESTS, v1::LAWFUL_BASIS_JUDICIAL_ORDER}) {
    v1::Referral r = Draft(basis);
    grpc::Status alone = Move(caseworker_, r.id(), &Stub::SendReferral);
    EXPECT_EQ(alone.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << v1::LawfulBasis_Name(basis);
    EXPECT_THAT(alone.error_message(), ::testing::HasSubstr("supervisor other than"));
    v1::Referral sent;
    ASSERT_TRUE(Move(supervisor, r.id(), &Stub::SendReferral, &sent).ok());
    EXPECT_EQ(sent.status(), v1::REFERRAL_STATUS_SENT);
    EXPECT_EQ(sent.sent_by(), supervisor.user_id);
    EXPECT_EQ(LastAudit().lawful_basis(), v1::LawfulBasis_Name(basis));
  }
  // A supervisor's own draft needs another supervisor.
  v1::CreateReferralRequest req = DraftRequest(v1::LAWFUL_BASIS_VITAL_INTERESTS);
  v1::Referral own;
  ASSERT_TRUE(referrals_->CreateReferral(As(supervisor).get(), req, &own).ok());
  EXPECT_EQ(Move(supervisor, own.id(), &Stub::SendReferral).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ReferralTest, AChildProtectionEmergencyIsNoBasisForAnAdult) {
  Actor supervisor = NewUser(ngo_, v1::ROLE_SUPERVISOR);
  v1::Referral r = Draft(v1::LAWFUL_BASIS_CHILD_PROTECTION_EMERGENCY);
  grpc::Status s = Move(supervisor, r.id(), &Stub::SendReferral);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("child"));

  v1::Case child_case = CreateCase(caseworker_, "Mariam");
  v1::UpdateCaseRequest update;
  update.mutable_case_()->set_id(child_case.id());
  update.mutable_case_()->mutable_subject()->mutable_date_of_birth()->set_year(
      static_cast<int32_t>(absl::ToCivilYear(clock_.Now(), absl::UTCTimeZone()).year()) - 15);
  update.mutable_case_()->mutable_subject()->mutable_date_of_birth()->set_month(1);
  update.mutable_case_()->mutable_subject()->mutable_date_of_birth()->set_day(1);
  update.mutable_update_mask()->add_paths("subject.date_of_birth");
  v1::Case updated;
  ASSERT_TRUE(cases_->UpdateCase(As(caseworker_).get(), update, &updated).ok());
  v1::CreateReferralRequest req = DraftRequest(v1::LAWFUL_BASIS_CHILD_PROTECTION_EMERGENCY);
  req.mutable_referral()->set_case_id(child_case.id());
  v1::Referral for_child;
  ASSERT_TRUE(referrals_->CreateReferral(As(caseworker_).get(), req, &for_child).ok());
  EXPECT_TRUE(Move(supervisor, for_child.id(), &Stub::SendReferral).ok());
}

TEST_F(ReferralTest, OnlyCaseworkersAndSupervisorsAcceptForTheirOrganisation) {
  Consent(v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS);
  v1::Referral r = Draft();
  ASSERT_TRUE(Move(caseworker_, r.id(), &Stub::SendReferral).ok());
  for (v1::Role role : {v1::ROLE_SERVICE_PROVIDER_STAFF, v1::ROLE_HOTLINE_OPERATOR,
                        v1::ROLE_RETURN_OFFICER, v1::ROLE_DECISION_MAKER}) {
    Actor other = NewUser(shelter_, role);
    EXPECT_EQ(Move(other, r.id(), &Stub::AcceptReferral).error_code(),
              grpc::StatusCode::PERMISSION_DENIED)
        << v1::Role_Name(role);
  }
  v1::GetReferralRequest get;
  get.set_referral_id(r.id());
  v1::Referral still;
  ASSERT_TRUE(referrals_->GetReferral(As(caseworker_).get(), get, &still).ok());
  EXPECT_EQ(still.status(), v1::REFERRAL_STATUS_SENT);
  EXPECT_TRUE(Move(NewUser(shelter_, v1::ROLE_SUPERVISOR), r.id(), &Stub::AcceptReferral).ok());
}

TEST_F(ReferralTest, UnansweredReferralExpiresOnTheServerClock) {
  Consent(v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS);
  v1::Referral r = Draft(v1::LAWFUL_BASIS_CONSENT, absl::Hours(2));
  ASSERT_TRUE(Move(caseworker_, r.id(), &Stub::SendReferral).ok());
  clock_.Advance(absl::Hours(3));
  v1::GetReferralRequest get;
  get.set_referral_id(r.id());
  v1::Referral seen;
  ASSERT_TRUE(referrals_->GetReferral(As(caseworker_).get(), get, &seen).ok());
  EXPECT_EQ(seen.status(), v1::REFERRAL_STATUS_EXPIRED);
  grpc::Status late = Move(staff_, r.id(), &Stub::AcceptReferral);
  EXPECT_EQ(late.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(late.error_message(), HasSubstr("EXPIRED"));
  v1::ListReferralsRequest overdue;
  overdue.set_overdue_only(true);
  v1::ListReferralsResponse outbox;
  ASSERT_TRUE(referrals_->ListOutbox(As(caseworker_).get(), overdue, &outbox).ok());
  ASSERT_EQ(outbox.referrals_size(), 1);
  v1::Case read;
  EXPECT_EQ(ReadCase(staff_, &read).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ReferralTest, AccessEndsWhenItsExpiryPassesOrTheSenderCancels) {
  Consent(v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS);
  v1::Referral r = Draft(v1::LAWFUL_BASIS_CONSENT, absl::Hours(48), absl::Hours(24));
  ASSERT_TRUE(Move(caseworker_, r.id(), &Stub::SendReferral).ok());
  ASSERT_TRUE(Move(staff_, r.id(), &Stub::AcceptReferral).ok());
  v1::Case read;
  ASSERT_TRUE(ReadCase(staff_, &read).ok());
  clock_.Advance(absl::Hours(25));
  EXPECT_EQ(ReadCase(staff_, &read).error_code(), grpc::StatusCode::NOT_FOUND)
      << "no one acted: the access expired";

  v1::Referral again = Draft();
  ASSERT_TRUE(Move(caseworker_, again.id(), &Stub::SendReferral).ok());
  ASSERT_TRUE(Move(staff_, again.id(), &Stub::AcceptReferral).ok());
  ASSERT_TRUE(ReadCase(staff_, &read).ok());
  ASSERT_TRUE(Move(caseworker_, again.id(), &Stub::CancelReferral).ok());
  EXPECT_EQ(ReadCase(staff_, &read).error_code(), grpc::StatusCode::NOT_FOUND)
      << "a cancelled referral's receiver is denied from the next call on";
}

TEST_F(ReferralTest, ADraftCancelledUnsentNeverReachesTheReceiver) {
  v1::Referral r = Draft();
  ASSERT_TRUE(Move(caseworker_, r.id(), &Stub::CancelReferral).ok());
  v1::ListReferralsResponse inbox;
  ASSERT_TRUE(referrals_->ListInbox(As(staff_).get(), v1::ListReferralsRequest(), &inbox).ok());
  EXPECT_EQ(inbox.referrals_size(), 0);
  v1::GetReferralRequest get;
  get.set_referral_id(r.id());
  v1::Referral seen;
  EXPECT_EQ(referrals_->GetReferral(As(staff_).get(), get, &seen).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Move(staff_, r.id(), &Stub::AcknowledgeReferral).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ReferralTest, IllegalMovesNameTheRule) {
  v1::Referral r = Draft();
  EXPECT_EQ(Move(staff_, r.id(), &Stub::AcceptReferral).error_code(), grpc::StatusCode::NOT_FOUND)
      << "a draft is the sender's alone";
  Consent(v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS);
  ASSERT_TRUE(Move(caseworker_, r.id(), &Stub::SendReferral).ok());
  grpc::Status early = Move(staff_, r.id(), &Stub::CompleteReferral);
  EXPECT_EQ(early.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(early.error_message(), HasSubstr("only an accepted referral can be completed"));
  EXPECT_EQ(Move(staff_, r.id(), &Stub::DeclineReferral).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT)
      << "declining needs a reason";
  ASSERT_TRUE(Move(staff_, r.id(), &Stub::DeclineReferral, nullptr, "No beds tonight").ok());
  EXPECT_EQ(Move(staff_, r.id(), &Stub::AcceptReferral).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Move(caseworker_, r.id(), &Stub::SendReferral).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Only the receiver acts as the receiver.
  v1::Referral second = Draft();
  ASSERT_TRUE(Move(caseworker_, second.id(), &Stub::SendReferral).ok());
  EXPECT_EQ(Move(caseworker_, second.id(), &Stub::AcceptReferral).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ReferralTest, BadDraftsGetInvalidArgumentAndWriteNothing) {
  uint64_t before = AuditSequence();
  auto create = [&](std::function<void(v1::Referral*)> edit) {
    v1::CreateReferralRequest req;
    v1::Referral* r = req.mutable_referral();
    r->set_case_id(case_.id());
    r->set_receiver_organisation_id(shelter_);
    r->set_purpose(v1::REFERRAL_PURPOSE_SHELTER);
    r->set_urgency(v1::URGENCY_ROUTINE);
    r->set_lawful_basis(v1::LAWFUL_BASIS_CONSENT);
    r->add_data_scope(v1::CONFIDENTIALITY_ADMINISTRATIVE);
    r->mutable_response_deadline()->set_seconds(absl::ToUnixSeconds(clock_.Now() + absl::Hours(5)));
    edit(r);
    v1::Referral out;
    return referrals_->CreateReferral(As(caseworker_).get(), req, &out).error_code();
  };
  EXPECT_EQ(create([](v1::Referral* r) { r->set_purpose(static_cast<v1::ReferralPurpose>(77)); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(create([](v1::Referral* r) { r->clear_data_scope(); }), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(create([](v1::Referral* r) { r->clear_response_deadline(); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(create([&](v1::Referral* r) { r->set_receiver_organisation_id(ngo_); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(create([](v1::Referral* r) { r->set_receiver_organisation_id(std::string(32, 'e')); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(create([](v1::Referral* r) { r->set_lawful_basis(v1::LAWFUL_BASIS_UNSPECIFIED); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(AuditSequence(), before);
  v1::ListReferralsResponse outbox;
  ASSERT_TRUE(referrals_->ListOutbox(As(caseworker_).get(), v1::ListReferralsRequest(), &outbox).ok());
  EXPECT_EQ(outbox.referrals_size(), 0);
}

}  // namespace
}  // namespace haven::testing
