// CaseService over an in-process channel: the case core, redaction, grants,
// and the errors a caller gets for bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/service/service_fixture.h"

namespace haven::testing {
namespace {

namespace v1 = haven::v1;
using ::testing::HasSubstr;
using ::testing::Not;

class CaseServiceTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    ngo_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
    caseworker_ = NewUser(ngo_, v1::ROLE_CASEWORKER);
  }

  grpc::Status Get(const Actor& actor, const std::string& id, v1::Case* out) {
    v1::GetCaseRequest req;
    req.set_case_id(id);
    return cases_->GetCase(As(actor).get(), req, out);
  }

  std::string ngo_;
  Actor caseworker_;
};

TEST_F(CaseServiceTest, CaseworkerReadsBackTheSubjectSheRecorded) {
  v1::Case created = CreateCase(caseworker_, "Amina");
  EXPECT_EQ(created.id().size(), 32u);
  EXPECT_EQ(created.owning_organisation_id(), ngo_);
  EXPECT_EQ(created.status(), v1::CASE_STATUS_OPEN);
  v1::Case read;
  ASSERT_TRUE(Get(caseworker_, created.id(), &read).ok());
  EXPECT_EQ(read.subject().given_name(), "Amina");
  EXPECT_EQ(read.subject().date_of_birth().year(), 2001);
  EXPECT_EQ(read.version(), 1u);
}

TEST_F(CaseServiceTest, ReadIsAuditedWithPurposeAndClasses) {
  v1::Case created = CreateCase(caseworker_);
  v1::Case read;
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + caseworker_.token);
  ctx.AddMetadata("x-haven-purpose", "assessment");
  ctx.AddMetadata("x-request-id", "req-42");
  v1::GetCaseRequest req;
  req.set_case_id(created.id());
  ASSERT_TRUE(cases_->GetCase(&ctx, req, &read).ok());
  v1::AuditEntry entry = LastAudit();
  EXPECT_EQ(entry.action(), "case.read");
  EXPECT_EQ(entry.case_id(), created.id());
  EXPECT_EQ(entry.principal_id(), caseworker_.user_id);
  EXPECT_EQ(entry.organisation_id(), ngo_);
  EXPECT_EQ(entry.purpose(), "assessment");
  EXPECT_EQ(entry.request_id(), "req-42");
  EXPECT_EQ(entry.outcome(), v1::AUDIT_OUTCOME_ALLOWED);
  EXPECT_THAT(entry.classes(), ::testing::Contains(v1::CONFIDENTIALITY_IDENTIFYING));
}

TEST_F(CaseServiceTest, AnotherOrganisationSeesTheSameAnswerAsForAMissingCase) {
  v1::Case created = CreateCase(caseworker_);
  Actor outsider = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_NGO), v1::ROLE_CASEWORKER);
  v1::Case read;
  grpc::Status denied = Get(outsider, created.id(), &read);
  grpc::Status missing = Get(outsider, std::string(32, 'a'), &read);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(denied.error_message(), missing.error_message());
  EXPECT_FALSE(read.has_subject());
  v1::AuditEntry entry = LastAudit();
  EXPECT_EQ(entry.outcome(), v1::AUDIT_OUTCOME_DENIED);
  EXPECT_EQ(entry.principal_id(), outsider.user_id);
}

TEST_F(CaseServiceTest, AdministratorAndAuditorReadNoCaseContent) {
  v1::Case created = CreateCase(caseworker_);
  Actor auditor = NewUser(ngo_, v1::ROLE_AUDITOR);
  Actor administrator = NewUser(ngo_, v1::ROLE_ADMINISTRATOR);
  v1::Case read;
  EXPECT_EQ(Get(auditor, created.id(), &read).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Get(administrator, created.id(), &read).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CaseServiceTest, LawEnforcementSeesOnlyPseudonymousDataOfItsOwnReferrals) {
  std::string police = NewOrganisation(v1::ORGANISATION_TYPE_LAW_ENFORCEMENT);
  Actor liaison = NewUser(police, v1::ROLE_LAW_ENFORCEMENT_LIAISON);
  v1::CreateCaseRequest req;
  *req.mutable_subject() = SampleSubject("Amina");
  v1::Case created;
  ASSERT_TRUE(cases_->CreateCase(As(liaison).get(), req, &created).error_code() ==
              grpc::StatusCode::PERMISSION_DENIED)
      << "a liaison may not record identifying data";
  req.mutable_subject()->clear_given_name();
  req.mutable_subject()->clear_family_name();
  req.mutable_subject()->clear_date_of_birth();
  ASSERT_TRUE(cases_->CreateCase(As(liaison).get(), req, &created).ok());
  v1::Case read;
  ASSERT_TRUE(Get(liaison, created.id(), &read).ok());
  EXPECT_EQ(read.subject().sex(), v1::SEX_FEMALE);
  EXPECT_EQ(read.subject().citizenships(0), "NG");
}

TEST_F(CaseServiceTest, UpdateWritesOnlyTheMaskedFields) {
  v1::Case created = CreateCase(caseworker_, "Amina");
  v1::UpdateCaseRequest req;
  req.mutable_case_()->set_id(created.id());
  req.mutable_case_()->mutable_subject()->set_given_name("Aminata");
  req.mutable_case_()->mutable_subject()->set_family_name("ignored");
  req.mutable_update_mask()->add_paths("subject.given_name");
  v1::Case updated;
  grpc::Status s = cases_->UpdateCase(As(caseworker_).get(), req, &updated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(updated.subject().given_name(), "Aminata");
  EXPECT_EQ(updated.subject().family_name(), "Okafor");
  EXPECT_EQ(updated.version(), 2u);
  v1::Case read;
  ASSERT_TRUE(Get(caseworker_, created.id(), &read).ok());
  EXPECT_EQ(read.subject().given_name(), "Aminata");
  EXPECT_EQ(read.subject().family_name(), "Okafor");
  EXPECT_EQ(read.version(), 2u);
}

TEST_F(CaseServiceTest, UpdateAtAStaleVersionIsAbortedAndChangesNothing) {
  v1::Case created = CreateCase(caseworker_, "Amina");
  v1::UpdateCaseRequest req;
  req.mutable_case_()->set_id(created.id());
  req.mutable_case_()->mutable_subject()->set_given_name("Other");
  req.mutable_update_mask()->add_paths("subject.given_name");
  req.set_expected_version(7);
  v1::Case updated;
  EXPECT_EQ(cases_->UpdateCase(As(caseworker_).get(), req, &updated).error_code(),
            grpc::StatusCode::ABORTED);
  v1::Case read;
  ASSERT_TRUE(Get(caseworker_, created.id(), &read).ok());
  EXPECT_EQ(read.subject().given_name(), "Amina");
  EXPECT_EQ(read.version(), 1u);
}

TEST_F(CaseServiceTest, BadInputGetsInvalidArgumentWithoutEchoingPersonalData) {
  v1::Case created = CreateCase(caseworker_);
  uint64_t before = AuditSequence();
  v1::Case out;
  struct Bad {
    const char* what;
    std::function<grpc::Status()> call;
  };
  const std::string secret = "Zeynep-Secret-Name";
  std::vector<Bad> bad = {
      {"short id", [&] { return Get(caseworker_, "abc", &out); }},
      {"non-hex id", [&] { return Get(caseworker_, std::string(32, 'z'), &out); }},
      {"no subject",
       [&] {
         v1::CreateCaseRequest req;
         return cases_->CreateCase(As(caseworker_).get(), req, &out);
       }},
      {"unknown sex",
       [&] {
         v1::CreateCaseRequest req;
         *req.mutable_subject() = SampleSubject(secret);
         req.mutable_subject()->set_sex(static_cast<v1::Sex>(99));
         return cases_->CreateCase(As(caseworker_).get(), req, &out);
       }},
      {"future birth",
       [&] {
         v1::CreateCaseRequest req;
         *req.mutable_subject() = SampleSubject(secret);
         req.mutable_subject()->mutable_date_of_birth()->set_year(2999);
         return cases_->CreateCase(As(caseworker_).get(), req, &out);
       }},
      {"bad country",
       [&] {
         v1::CreateCaseRequest req;
         *req.mutable_subject() = SampleSubject(secret);
         req.mutable_subject()->add_citizenships("nigeria");
         return cases_->CreateCase(As(caseworker_).get(), req, &out);
       }},
      {"mask outside subject",
       [&] {
         v1::UpdateCaseRequest req;
         req.mutable_case_()->set_id(created.id());
         req.mutable_update_mask()->add_paths("owning_organisation_id");
         return cases_->UpdateCase(As(caseworker_).get(), req, &out);
       }},
      {"unknown mask path",
       [&] {
         v1::UpdateCaseRequest req;
         req.mutable_case_()->set_id(created.id());
         req.mutable_case_()->mutable_subject()->set_given_name(secret);
         req.mutable_update_mask()->add_paths("subject.nickname");
         return cases_->UpdateCase(As(caseworker_).get(), req, &out);
       }},
      {"empty mask",
       [&] {
         v1::UpdateCaseRequest req;
         req.mutable_case_()->set_id(created.id());
         return cases_->UpdateCase(As(caseworker_).get(), req, &out);
       }},
      {"free-text purpose",
       [&] {
         auto ctx = As(caseworker_, "Checking on Zeynep-Secret-Name!");
         v1::GetCaseRequest req;
         req.set_case_id(created.id());
         return cases_->GetCase(ctx.get(), req, &out);
       }},
  };
  for (const Bad& b : bad) {
    grpc::Status s = b.call();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << b.what;
    EXPECT_THAT(s.error_message(), Not(HasSubstr(secret))) << b.what;
    EXPECT_FALSE(s.error_message().empty()) << b.what;
  }
  // Only denials and reads are audited, never a half-done write: bad input
  // wrote nothing at all.
  EXPECT_EQ(AuditSequence(), before);
  v1::Case read;
  ASSERT_TRUE(Get(caseworker_, created.id(), &read).ok());
  EXPECT_EQ(read.version(), 1u);
}

TEST_F(CaseServiceTest, ErasureNeedsASupervisorAndLeavesNothingReadable) {
  v1::Case created = CreateCase(caseworker_);
  v1::EraseCaseRequest erase;
  erase.set_case_id(created.id());
  v1::EraseCaseResponse erased;
  EXPECT_EQ(cases_->EraseCase(As(caseworker_).get(), erase, &erased).error_code(),
            grpc::StatusCode::NOT_FOUND);
  Actor supervisor = NewUser(ngo_, v1::ROLE_SUPERVISOR);
  EXPECT_EQ(cases_->EraseCase(As(supervisor).get(), erase, &erased).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION)
      << "an erasure must be requested first";
  v1::RequestErasureRequest request;
  request.set_case_id(created.id());
  request.set_reason("the subject withdrew from the mechanism");
  v1::Case requested;
  ASSERT_TRUE(cases_->RequestErasure(As(supervisor).get(), request, &requested).ok());
  EXPECT_EQ(cases_->EraseCase(As(supervisor).get(), erase, &erased).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION)
      << "the requester cannot approve";
  Actor second = NewUser(ngo_, v1::ROLE_SUPERVISOR);
  ASSERT_TRUE(cases_->EraseCase(As(second).get(), erase, &erased).ok());
  EXPECT_EQ(LastAudit().action(), "case.erase");
  v1::Case read;
  EXPECT_EQ(Get(second, created.id(), &read).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Get(caseworker_, created.id(), &read).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CaseServiceTest, GrantGivesScopedClassesUntilItExpires) {
  v1::Case created = CreateCase(caseworker_, "Amina");
  std::string shelter = NewOrganisation(v1::ORGANISATION_TYPE_SERVICE_PROVIDER);
  Actor staff = NewUser(shelter, v1::ROLE_SERVICE_PROVIDER_STAFF);
  v1::Case read;
  ASSERT_EQ(Get(staff, created.id(), &read).error_code(), grpc::StatusCode::NOT_FOUND);

  grpc::Status s = GrantRead(caseworker_, created.id(), shelter, "shelter",
                             {v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS},
                             absl::Hours(2));
  ASSERT_TRUE(s.ok()) << s.error_message();

  ASSERT_TRUE(Get(staff, created.id(), &read).ok());
  EXPECT_EQ(read.subject().given_name(), "") << "identifying data was not granted";
  EXPECT_EQ(read.subject().sex(), v1::SEX_FEMALE);
  EXPECT_EQ(read.id(), created.id());

  clock_.Advance(absl::Hours(3));
  EXPECT_EQ(Get(staff, created.id(), &read).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CaseServiceTest, RevokedGrantEndsAccessOnTheNextCall) {
  v1::Case created = CreateCase(caseworker_);
  std::string other = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
  Actor reader = NewUser(other, v1::ROLE_CASEWORKER);
  v1::CreateGrantRequest req;
  v1::Grant* g = req.mutable_grant();
  g->set_case_id(created.id());
  g->set_grantee_user_id(reader.user_id);
  g->set_purpose("referral");
  g->add_classes(v1::CONFIDENTIALITY_ADMINISTRATIVE);
  g->add_actions(v1::CASE_ACTION_READ);
  g->mutable_expire_time()->set_seconds(absl::ToUnixSeconds(clock_.Now() + absl::Hours(24)));
  g->set_lawful_basis(v1::LAWFUL_BASIS_LEGAL_OBLIGATION);
  g->mutable_basis_detail()->set_reference("Act 12, art. 3");
  v1::Grant grant;
  ASSERT_TRUE(cases_->CreateGrant(As(caseworker_).get(), req, &grant).ok());
  v1::Case read;
  ASSERT_TRUE(Get(reader, created.id(), &read).ok());
  v1::RevokeGrantRequest revoke;
  revoke.set_case_id(created.id());
  revoke.set_grant_id(grant.id());
  v1::Grant revoked;
  ASSERT_TRUE(cases_->RevokeGrant(As(caseworker_).get(), revoke, &revoked).ok());
  EXPECT_TRUE(revoked.revoked());
  EXPECT_EQ(Get(reader, created.id(), &read).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CaseServiceTest, GrantsAreCheckedBeforeAnythingIsWritten) {
  v1::Case created = CreateCase(caseworker_);
  std::string other = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
  auto grant_with = [&](std::function<void(v1::Grant*)> edit) {
    v1::CreateGrantRequest req;
    v1::Grant* g = req.mutable_grant();
    g->set_case_id(created.id());
    g->set_grantee_organisation_id(other);
    g->set_purpose("referral");
    g->add_classes(v1::CONFIDENTIALITY_ADMINISTRATIVE);
    g->add_actions(v1::CASE_ACTION_READ);
    g->mutable_expire_time()->set_seconds(absl::ToUnixSeconds(clock_.Now() + absl::Hours(24)));
    g->set_lawful_basis(v1::LAWFUL_BASIS_LEGAL_OBLIGATION);
    g->mutable_basis_detail()->set_reference("Act 12, art. 3");
    edit(g);
    v1::Grant out;
    return cases_->CreateGrant(As(caseworker_).get(), req, &out).error_code();
  };
  uint64_t before = AuditSequence();
  EXPECT_EQ(grant_with([](v1::Grant* g) { g->clear_grantee_organisation_id(); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(grant_with([](v1::Grant* g) { g->add_classes(static_cast<v1::ConfidentialityClass>(42)); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(grant_with([](v1::Grant* g) { g->add_actions(v1::CASE_ACTION_ERASE); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(grant_with([&](v1::Grant* g) { g->mutable_expire_time()->set_seconds(absl::ToUnixSeconds(clock_.Now()) - 1); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(grant_with([](v1::Grant* g) { g->set_purpose("Because I said so"); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(AuditSequence(), before);
  EXPECT_EQ(grant_with([](v1::Grant* g) { g->set_grantee_organisation_id(std::string(32, 'b')); }),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace haven::testing
