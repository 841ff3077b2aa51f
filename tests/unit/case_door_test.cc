// CaseDoor: the one door to a case's personal data. Authorization, sealing,
// redaction and audit, seen from the outside on a real store.
#include "storage/access/case_door.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <iostream>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "haven/v1/admin.pb.h"
#include "haven/v1/case.pb.h"
#include "haven/v1/records.pb.h"
#include "storage/access/names.h"
#include "storage/ids.h"
#include "storage/keys.h"
#include "tests/unit/test_util.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using ::haven::testing::MemStore;
using ::haven::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using storage::Cf;

constexpr char kCanary[] = "Zephyrine-Canary-7f3a";
constexpr char kFamilyCanary[] = "Oyelaran-Canary-91c2";

v1::Subject CanarySubject() {
  v1::Subject s;
  s.set_given_name(kCanary);
  s.set_family_name(kFamilyCanary);
  s.set_sex(v1::SEX_FEMALE);
  s.mutable_date_of_birth()->set_year(2005);
  s.add_citizenships("NG");
  s.add_languages("en");
  return s;
}

class CaseDoorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(db_.Open(), nullptr);
    door_ = std::make_unique<CaseDoor>(db_.store(), &db_.keys(), &db_.clock());
    org_a_ = NewOrganisation();
    org_b_ = NewOrganisation();
    caseworker_a_ = As(org_a_, {v1::ROLE_CASEWORKER});
    caseworker_b_ = As(org_b_, {v1::ROLE_CASEWORKER});
  }

  storage::Store* store() { return db_.store(); }

  // An organisation as Accounts stores it (keyed by its hex id).
  std::string NewOrganisation() {
    v1::Organisation org;
    org.set_id(NewId());
    org.set_display_name("Test organisation");
    org.set_type(v1::ORGANISATION_TYPE_NGO);
    std::unique_ptr<storage::Txn> txn = store()->Begin();
    EXPECT_TRUE(txn->Put(Cf::kOrganisations, org.id(), org.SerializeAsString()).ok());
    EXPECT_TRUE(store()->Commit(std::move(txn)).ok());
    return org.id();
  }

  static RequestContext As(const std::string& org, std::vector<v1::Role> roles) {
    RequestContext ctx;
    ctx.principal.id = NewId();
    ctx.principal.organisation_id = org;
    ctx.principal.organisation_type = v1::ORGANISATION_TYPE_NGO;
    ctx.principal.roles = std::move(roles);
    ctx.purpose = kNoDeclaredPurpose;  // grants then serve their own purpose
    ctx.request_id = NewId();
    return ctx;
  }

  // Creates a case holding CanarySubject(); returns its hex id.
  std::string CreateCase(const RequestContext& ctx) {
    absl::StatusOr<v1::CaseRecord> record =
        door_->CreateCase(ctx, "case.create", [](CaseScope& scope) {
          return scope.Save(RecordKind::kSubject, "", CanarySubject());
        });
    EXPECT_TRUE(record.ok()) << record.status().ToString();
    return record.ok() ? ToHex(record->id()) : std::string();
  }

  // Reads the subject as `ctx` would through CaseService.GetCase.
  absl::Status ReadSubject(const RequestContext& ctx, const std::string& case_id,
                           v1::Subject* out, bool* work_ran = nullptr) {
    return door_->WithCase(ctx, case_id, v1::CASE_ACTION_READ, "case.read",
                           [&](CaseScope& scope) -> absl::Status {
                             if (work_ran != nullptr) *work_ran = true;
                             absl::StatusOr<bool> found = scope.Load(RecordKind::kSubject, "", out);
                             if (!found.ok()) return found.status();
                             if (!*found) return absl::NotFoundError("no subject");
                             return absl::OkStatus();
                           });
  }

  absl::StatusOr<v1::Grant> Grant(const RequestContext& granter, const std::string& case_id,
                                  const std::string& org, std::vector<v1::ConfidentialityClass> classes,
                                  std::vector<v1::CaseAction> actions, absl::Duration lifetime) {
    v1::Grant g;
    g.set_case_id(case_id);
    g.set_grantee_organisation_id(org);
    g.set_purpose("referral");
    for (auto c : classes) g.add_classes(c);
    for (auto a : actions) g.add_actions(a);
    g.mutable_expire_time()->set_seconds(absl::ToUnixSeconds(db_.clock().Now() + lifetime));
    g.set_lawful_basis(v1::LAWFUL_BASIS_LEGAL_OBLIGATION);
    g.mutable_basis_detail()->set_reference("Act 12, art. 3");
    return door_->CreateGrant(granter, g);
  }

  v1::AuditEntry LastAudit() {
    absl::StatusOr<v1::AuditEntry> e = store()->ReadAuditEntry(store()->last_audit_sequence());
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? *e : v1::AuditEntry();
  }

  std::string RawId(const std::string& hex) {
    absl::StatusOr<std::string> raw = ParseId(hex, "case_id");
    EXPECT_TRUE(raw.ok());
    return raw.ok() ? *raw : std::string();
  }

  v1::CaseRecord StoredRecord(const std::string& hex) {
    absl::StatusOr<std::optional<std::string>> v = store()->Get(Cf::kCases, RawId(hex));
    v1::CaseRecord r;
    EXPECT_TRUE(v.ok() && v->has_value());
    if (v.ok() && v->has_value()) {
      EXPECT_TRUE(r.ParseFromString(**v));
    }
    return r;
  }

  std::vector<std::pair<std::string, std::string>> ScanAll(Cf cf, absl::string_view prefix = "") {
    std::vector<std::pair<std::string, std::string>> out;
    EXPECT_TRUE(store()
                    ->Scan(cf, prefix, "",
                           [&](absl::string_view k, absl::string_view v) {
                             out.emplace_back(std::string(k), std::string(v));
                             return true;
                           })
                    .ok());
    return out;
  }

  MemStore db_;
  std::unique_ptr<CaseDoor> door_;
  std::string org_a_, org_b_;
  RequestContext caseworker_a_, caseworker_b_;
};

TEST_F(CaseDoorTest, CreatedCaseIsOwnedOpenAndAtVersionOne) {
  absl::StatusOr<v1::CaseRecord> record = door_->CreateCase(
      caseworker_a_, "case.create",
      [](CaseScope& scope) { return scope.Save(RecordKind::kSubject, "", CanarySubject()); });
  HAVEN_ASSERT_OK(record);
  EXPECT_EQ(record->id().size(), kIdBytes);
  EXPECT_EQ(record->owning_organisation_id(), org_a_);
  EXPECT_EQ(record->status(), v1::CASE_STATUS_OPEN);
  EXPECT_EQ(record->version(), 1u);
  EXPECT_EQ(record->create_time_micros(), absl::ToUnixMicros(db_.clock().Now()));
  EXPECT_EQ(StoredRecord(ToHex(record->id())).SerializeAsString(), record->SerializeAsString());
}

TEST_F(CaseDoorTest, SameOrganisationReadsTheCaseBack) {
  std::string id = CreateCase(caseworker_a_);
  RequestContext colleague = As(org_a_, {v1::ROLE_CASEWORKER});
  v1::Subject subject;
  HAVEN_ASSERT_OK(ReadSubject(colleague, id, &subject));
  EXPECT_EQ(subject.SerializeAsString(), CanarySubject().SerializeAsString());
}

TEST_F(CaseDoorTest, CaseIdIsAcceptedInUpperCase) {
  std::string id = CreateCase(caseworker_a_);
  std::string upper = id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  v1::Subject subject;
  HAVEN_ASSERT_OK(ReadSubject(caseworker_a_, upper, &subject));
  EXPECT_EQ(LastAudit().case_id(), id) << "audit uses the canonical id";
}

TEST_F(CaseDoorTest, MalformedCaseIdIsInvalidArgument) {
  v1::Subject subject;
  EXPECT_THAT(ReadSubject(caseworker_a_, "not-an-id", &subject),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("case_id")));
}

TEST_F(CaseDoorTest, CreateIsAuditedWithTheClassesWritten) {
  std::string id = CreateCase(caseworker_a_);
  v1::AuditEntry e = LastAudit();
  EXPECT_EQ(e.action(), "case.create");
  EXPECT_EQ(e.outcome(), v1::AUDIT_OUTCOME_ALLOWED);
  EXPECT_EQ(e.case_id(), id);
  EXPECT_EQ(e.record(), "cases/" + id);
  EXPECT_EQ(e.principal_id(), caseworker_a_.principal.id);
  EXPECT_EQ(e.organisation_id(), org_a_);
  EXPECT_THAT(e.classes(), Contains(v1::CONFIDENTIALITY_IDENTIFYING));
  EXPECT_THAT(e.classes(), Contains(v1::CONFIDENTIALITY_PSEUDONYMOUS));
}

TEST_F(CaseDoorTest, AllowedReadIsAuditedWithTheIdentifyingClassListed) {
  std::string id = CreateCase(caseworker_a_);
  const uint64_t before = store()->last_audit_sequence();
  v1::Subject subject;
  RequestContext reader = caseworker_a_;
  reader.purpose = "case-management";
  HAVEN_ASSERT_OK(ReadSubject(reader, id, &subject));
  EXPECT_EQ(store()->last_audit_sequence(), before + 1);
  v1::AuditEntry e = LastAudit();
  EXPECT_EQ(e.action(), "case.read");
  EXPECT_EQ(e.outcome(), v1::AUDIT_OUTCOME_ALLOWED);
  EXPECT_EQ(e.case_id(), id);
  EXPECT_EQ(e.principal_id(), caseworker_a_.principal.id);
  EXPECT_EQ(e.purpose(), "case-management");
  EXPECT_EQ(e.request_id(), caseworker_a_.request_id);
  EXPECT_THAT(e.classes(), Contains(v1::CONFIDENTIALITY_IDENTIFYING));
  EXPECT_THAT(e.classes(), Not(Contains(v1::CONFIDENTIALITY_HEALTH))) << "nothing of it was read";
}

TEST_F(CaseDoorTest, OtherOrganisationGetsExactlyTheNotFoundOfAMissingCase) {
  std::string id = CreateCase(caseworker_a_);
  v1::Subject subject;
  bool work_ran = false;
  absl::Status denied = ReadSubject(caseworker_b_, id, &subject, &work_ran);
  EXPECT_FALSE(work_ran);
  EXPECT_EQ(subject.ByteSizeLong(), 0u);
  const std::string missing_id = NewId();
  absl::Status missing = ReadSubject(caseworker_b_, missing_id, &subject, &work_ran);
  EXPECT_FALSE(work_ran);
  EXPECT_EQ(denied.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(denied, missing) << "a denial must look exactly like a missing case";

  // Both are audited as denials, with the id asked for.
  const uint64_t last = store()->last_audit_sequence();
  absl::StatusOr<v1::AuditEntry> first = store()->ReadAuditEntry(last - 1);
  absl::StatusOr<v1::AuditEntry> second = store()->ReadAuditEntry(last);
  HAVEN_ASSERT_OK(first);
  HAVEN_ASSERT_OK(second);
  EXPECT_EQ(first->outcome(), v1::AUDIT_OUTCOME_DENIED);
  EXPECT_EQ(first->case_id(), id);
  EXPECT_EQ(first->principal_id(), caseworker_b_.principal.id);
  EXPECT_EQ(first->classes_size(), 0);
  EXPECT_EQ(second->outcome(), v1::AUDIT_OUTCOME_DENIED);
  EXPECT_EQ(second->case_id(), missing_id);
  EXPECT_EQ(second->classes_size(), 0);
  // The two denials differ only in the id asked for.
  v1::AuditEntry a = *first, b = *second;
  for (v1::AuditEntry* e : {&a, &b}) {
    e->clear_case_id();
    e->clear_record();
    e->clear_sequence();
    e->clear_previous_hash();
    e->clear_hash();
  }
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
}

TEST_F(CaseDoorTest, RolesWithoutCaseContentAreDeniedInTheirOwnOrganisation) {
  std::string id = CreateCase(caseworker_a_);
  for (v1::Role role : {v1::ROLE_ADMINISTRATOR, v1::ROLE_AUDITOR, v1::ROLE_ANALYST}) {
    v1::Subject subject;
    EXPECT_THAT(ReadSubject(As(org_a_, {role}), id, &subject),
                StatusIs(absl::StatusCode::kNotFound, ::testing::_))
        << v1::Role_Name(role);
    EXPECT_EQ(LastAudit().outcome(), v1::AUDIT_OUTCOME_DENIED);
  }
}

TEST_F(CaseDoorTest, LawEnforcementLiaisonOfTheOwningOrganisationSeesNoIdentity) {
  std::string id = CreateCase(caseworker_a_);
  v1::Subject subject;
  HAVEN_ASSERT_OK(ReadSubject(As(org_a_, {v1::ROLE_LAW_ENFORCEMENT_LIAISON}), id, &subject));
  EXPECT_EQ(subject.given_name(), "");
  EXPECT_EQ(subject.family_name(), "");
  EXPECT_FALSE(subject.has_date_of_birth());
  EXPECT_EQ(subject.sex(), v1::SEX_FEMALE);
  EXPECT_THAT(LastAudit().classes(), ElementsAre(v1::CONFIDENTIALITY_PSEUDONYMOUS));
}

TEST_F(CaseDoorTest, CreateCaseDeniedToRolesThatMayNotOpenCases) {
  const uint64_t before = store()->last_audit_sequence();
  bool work_ran = false;
  absl::StatusOr<v1::CaseRecord> record =
      door_->CreateCase(As(org_a_, {v1::ROLE_ANALYST}), "case.create", [&](CaseScope&) {
        work_ran = true;
        return absl::OkStatus();
      });
  EXPECT_THAT(record, StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
  EXPECT_FALSE(work_ran);
  EXPECT_TRUE(ScanAll(Cf::kCases).empty());
  EXPECT_EQ(store()->last_audit_sequence(), before + 1);
  EXPECT_EQ(LastAudit().outcome(), v1::AUDIT_OUTCOME_DENIED);
}

TEST_F(CaseDoorTest, NoPlaintextCanaryInAnyStoredValue) {
  std::string id = CreateCase(caseworker_a_);
  v1::Subject subject;
  HAVEN_ASSERT_OK(ReadSubject(caseworker_a_, id, &subject));
  ASSERT_EQ(subject.given_name(), kCanary);
  ASSERT_TRUE(ReadSubject(caseworker_b_, id, &subject).ok() == false);
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    Cf cf = static_cast<Cf>(i);
    for (const auto& [key, value] : ScanAll(cf)) {
      for (const char* canary : {kCanary, kFamilyCanary}) {
        EXPECT_EQ(key.find(canary), std::string::npos) << storage::CfName(cf);
        EXPECT_EQ(value.find(canary), std::string::npos) << storage::CfName(cf);
      }
    }
  }
  EXPECT_EQ(ScanAll(Cf::kCaseData).size(), 2u) << "the subject and the statistics link";
  EXPECT_EQ(ScanAll(Cf::kCaseStatistics).size(), 1u);
  EXPECT_EQ(ScanAll(Cf::kCases).size(), 1u);
  EXPECT_FALSE(ScanAll(Cf::kAudit).empty());
}

TEST_F(CaseDoorTest, NoPlaintextCanaryInAnyFileOfTheStore) {
  std::string id = CreateCase(caseworker_a_);
  v1::Subject subject;
  HAVEN_ASSERT_OK(ReadSubject(caseworker_a_, id, &subject));
  HAVEN_ASSERT_OK(store()->PurgePrefixes({}));  // flushes every memtable to files
  std::vector<std::string> children;
  ASSERT_TRUE(db_.env()->GetChildren(db_.path(), &children).ok());
  size_t files_read = 0;
  size_t bytes_read = 0;
  for (const std::string& name : children) {
    std::unique_ptr<rocksdb::SequentialFile> file;
    if (!db_.env()->NewSequentialFile(db_.path() + "/" + name, &file, rocksdb::EnvOptions()).ok()) {
      continue;  // a directory
    }
    std::string content;
    char scratch[1 << 16];
    for (;;) {
      rocksdb::Slice chunk;
      ASSERT_TRUE(file->Read(sizeof scratch, &chunk, scratch).ok());
      if (chunk.empty()) break;
      content.append(chunk.data(), chunk.size());
    }
    ++files_read;
    bytes_read += content.size();
    EXPECT_EQ(content.find(kCanary), std::string::npos) << name;
    EXPECT_EQ(content.find(kFamilyCanary), std::string::npos) << name;
  }
  EXPECT_GT(files_read, 3u);
  EXPECT_GT(bytes_read, 1000u);
}

TEST_F(CaseDoorTest, SealedRecordMovedToAnotherRecordFailsToOpen) {
  std::string id = CreateCase(caseworker_a_);
  std::string raw = RawId(id);
  std::vector<std::pair<std::string, std::string>> data =
      ScanAll(Cf::kCaseData, raw + static_cast<char>(RecordKind::kSubject));
  ASSERT_EQ(data.size(), 1u);
  std::string moved_key = raw;
  moved_key.push_back(static_cast<char>(RecordKind::kSubject));
  moved_key += "other";
  std::unique_ptr<storage::Txn> txn = store()->Begin();
  HAVEN_ASSERT_OK(txn->Put(Cf::kCaseData, moved_key, data[0].second));
  HAVEN_ASSERT_OK(store()->Commit(std::move(txn)));
  absl::Status s = door_->WithCase(caseworker_a_, id, v1::CASE_ACTION_READ, "case.read",
                                   [](CaseScope& scope) -> absl::Status {
                                     v1::Subject out;
                                     return scope.Load(RecordKind::kSubject, "other", &out).status();
                                   });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

TEST_F(CaseDoorTest, GrantLetsAnotherOrganisationReadOnlyItsClasses) {
  std::string id = CreateCase(caseworker_a_);
  absl::StatusOr<v1::Grant> grant =
      Grant(caseworker_a_, id, org_b_,
            {v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS},
            {v1::CASE_ACTION_READ}, absl::Hours(1));
  HAVEN_ASSERT_OK(grant);
  EXPECT_EQ(grant->case_id(), id);
  EXPECT_EQ(grant->grantee_organisation_id(), org_b_);
  EXPECT_EQ(grant->created_by(), caseworker_a_.principal.id);

  v1::Subject subject;
  HAVEN_ASSERT_OK(ReadSubject(caseworker_b_, id, &subject));
  EXPECT_EQ(subject.given_name(), "");
  EXPECT_EQ(subject.family_name(), "");
  EXPECT_FALSE(subject.has_date_of_birth());
  EXPECT_EQ(subject.sex(), v1::SEX_FEMALE);
  EXPECT_THAT(subject.citizenships(), ElementsAre("NG"));
  v1::AuditEntry e = LastAudit();
  EXPECT_EQ(e.outcome(), v1::AUDIT_OUTCOME_ALLOWED);
  EXPECT_EQ(e.principal_id(), caseworker_b_.principal.id);
  EXPECT_THAT(e.classes(), ElementsAre(v1::CONFIDENTIALITY_PSEUDONYMOUS));

  // Read only: the grantee may not update or share.
  absl::Status update = door_->WithCase(caseworker_b_, id, v1::CASE_ACTION_UPDATE, "case.update",
                                        [](CaseScope&) { return absl::OkStatus(); });
  EXPECT_THAT(update, StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(door_->ListGrants(caseworker_b_, id),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

TEST_F(CaseDoorTest, GrantEndsAtItsExpireTime) {
  std::string id = CreateCase(caseworker_a_);
  HAVEN_ASSERT_OK(Grant(caseworker_a_, id, org_b_, {v1::CONFIDENTIALITY_PSEUDONYMOUS},
                        {v1::CASE_ACTION_READ}, absl::Hours(1)));
  v1::Subject subject;
  db_.clock().Advance(absl::Minutes(59));
  HAVEN_ASSERT_OK(ReadSubject(caseworker_b_, id, &subject));
  db_.clock().Advance(absl::Minutes(1));  // now == expire_time
  EXPECT_THAT(ReadSubject(caseworker_b_, id, &subject),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_EQ(LastAudit().outcome(), v1::AUDIT_OUTCOME_DENIED);
  // The owner is unaffected.
  HAVEN_EXPECT_OK(ReadSubject(caseworker_a_, id, &subject));
}

TEST_F(CaseDoorTest, RevokeGrantEndsAccessAtOnce) {
  std::string id = CreateCase(caseworker_a_);
  absl::StatusOr<v1::Grant> grant =
      Grant(caseworker_a_, id, org_b_, {v1::CONFIDENTIALITY_PSEUDONYMOUS}, {v1::CASE_ACTION_READ},
            absl::Hours(24));
  HAVEN_ASSERT_OK(grant);
  v1::Subject subject;
  HAVEN_ASSERT_OK(ReadSubject(caseworker_b_, id, &subject));
  absl::StatusOr<v1::Grant> revoked = door_->RevokeGrant(caseworker_a_, id, grant->id());
  HAVEN_ASSERT_OK(revoked);
  EXPECT_TRUE(revoked->revoked());
  EXPECT_THAT(ReadSubject(caseworker_b_, id, &subject),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  absl::StatusOr<std::vector<v1::Grant>> listed = door_->ListGrants(caseworker_a_, id);
  HAVEN_ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE((*listed)[0].revoked());
}

TEST_F(CaseDoorTest, OnlyThoseWhoMayShareManageGrants) {
  std::string id = CreateCase(caseworker_a_);
  // Another organisation, and a role of the owner that may not share.
  EXPECT_THAT(Grant(caseworker_b_, id, org_b_, {v1::CONFIDENTIALITY_PSEUDONYMOUS},
                    {v1::CASE_ACTION_READ}, absl::Hours(1)),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(Grant(As(org_a_, {v1::ROLE_HOTLINE_OPERATOR}), id, org_b_,
                    {v1::CONFIDENTIALITY_PSEUDONYMOUS}, {v1::CASE_ACTION_READ}, absl::Hours(1)),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  absl::StatusOr<v1::Grant> grant = Grant(caseworker_a_, id, org_b_, {v1::CONFIDENTIALITY_PSEUDONYMOUS},
                                          {v1::CASE_ACTION_READ}, absl::Hours(1));
  HAVEN_ASSERT_OK(grant);
  EXPECT_THAT(door_->RevokeGrant(caseworker_b_, id, grant->id()),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  v1::Subject subject;
  HAVEN_EXPECT_OK(ReadSubject(caseworker_b_, id, &subject)) << "the grant still stands";
}

TEST_F(CaseDoorTest, CreateGrantValidatesItsRequest) {
  std::string id = CreateCase(caseworker_a_);
  const auto read = std::vector<v1::CaseAction>{v1::CASE_ACTION_READ};
  const auto pseud = std::vector<v1::ConfidentialityClass>{v1::CONFIDENTIALITY_PSEUDONYMOUS};
  EXPECT_THAT(Grant(caseworker_a_, id, NewId(), pseud, read, absl::Hours(1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not exist")));
  EXPECT_THAT(Grant(caseworker_a_, id, org_b_, pseud, read, -absl::Seconds(1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expire_time")));
  EXPECT_THAT(Grant(caseworker_a_, id, org_b_, pseud, read, absl::Hours(24 * 367)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expire_time")));
  EXPECT_THAT(Grant(caseworker_a_, id, org_b_, {}, read, absl::Hours(1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("class")));
  EXPECT_THAT(Grant(caseworker_a_, id, org_b_, pseud, {}, absl::Hours(1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("action")));
  EXPECT_THAT(Grant(caseworker_a_, id, org_b_, pseud, {v1::CASE_ACTION_ERASE}, absl::Hours(1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("READ and UPDATE")));
  EXPECT_THAT(Grant(caseworker_a_, id, org_b_, {v1::CONFIDENTIALITY_CLASS_UNSPECIFIED}, read,
                    absl::Hours(1)),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  v1::Grant both;
  both.set_case_id(id);
  both.set_grantee_organisation_id(org_b_);
  both.set_grantee_user_id(NewId());
  EXPECT_THAT(door_->CreateGrant(caseworker_a_, both),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exactly one")));
  v1::Grant bad_purpose;
  bad_purpose.set_case_id(id);
  bad_purpose.set_grantee_organisation_id(org_b_);
  bad_purpose.set_purpose("Referral of Amina");
  EXPECT_THAT(door_->CreateGrant(caseworker_a_, bad_purpose),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("purpose")));
  EXPECT_TRUE(ScanAll(Cf::kGrants).empty());
}

TEST_F(CaseDoorTest, ShredMakesTheCaseUnreadableAndDestroysItsKey) {
  std::string id = CreateCase(caseworker_a_);
  HAVEN_ASSERT_OK(Grant(caseworker_a_, id, org_b_, {v1::CONFIDENTIALITY_PSEUDONYMOUS},
                        {v1::CASE_ACTION_READ}, absl::Hours(1)));
  const std::string raw = RawId(id);
  ASSERT_EQ(ScanAll(Cf::kCaseKeys, raw).size(), 1u);
  ASSERT_GT(StoredRecord(id).name_index_keys_size(), 0);
  ASSERT_FALSE(ScanAll(Cf::kGrants, raw).empty());

  // A caseworker may not erase.
  absl::Status not_allowed = door_->WithCase(caseworker_a_, id, v1::CASE_ACTION_ERASE, "case.erase",
                                             [](CaseScope& scope) { return scope.Shred(); });
  EXPECT_THAT(not_allowed, StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  ASSERT_EQ(ScanAll(Cf::kCaseKeys, raw).size(), 1u);

  RequestContext supervisor = As(org_a_, {v1::ROLE_SUPERVISOR});
  const uint64_t version_before = StoredRecord(id).version();
  HAVEN_ASSERT_OK(door_->WithCase(supervisor, id, v1::CASE_ACTION_ERASE, "case.erase",
                                  [](CaseScope& scope) { return scope.Shred(); }));
  EXPECT_EQ(LastAudit().action(), "case.erase");
  EXPECT_EQ(LastAudit().outcome(), v1::AUDIT_OUTCOME_ALLOWED);

  absl::StatusOr<std::optional<std::string>> key = store()->Get(Cf::kCaseKeys, raw);
  HAVEN_ASSERT_OK(key);
  EXPECT_EQ(*key, std::nullopt);
  EXPECT_TRUE(ScanAll(Cf::kCaseData, raw).empty());
  EXPECT_EQ(StoredRecord(id).status(), v1::CASE_STATUS_ERASED);
  EXPECT_EQ(StoredRecord(id).version(), version_before + 1);

  // What statistics need outlives the erasure, under a statistics id that
  // no case id leads to; nothing that names anyone.
  std::vector<std::pair<std::string, std::string>> kept = ScanAll(Cf::kCaseStatistics, "");
  ASSERT_EQ(kept.size(), 1u);
  const auto& [stats_key, sealed] = kept[0];
  EXPECT_NE(stats_key, raw);
  EXPECT_EQ(stats_key.find(raw), std::string::npos);
  EXPECT_EQ(sealed.find(kCanary), std::string::npos);
  EXPECT_EQ(sealed.find("NG"), std::string::npos) << "sealed";
  absl::StatusOr<std::string> plain =
      db_.keys().OpenStatistics(sealed, absl::StrCat("statistics:", stats_key));
  HAVEN_ASSERT_OK(plain);
  v1::CaseStatistics stats;
  ASSERT_TRUE(stats.ParseFromString(*plain));
  EXPECT_EQ(stats.sex(), CanarySubject().sex());
  EXPECT_EQ(stats.citizenships_size(), CanarySubject().citizenships_size());
  EXPECT_EQ(stats.owning_organisation_id(), org_a_);
  EXPECT_EQ(plain->find(kCanary), std::string::npos);
  EXPECT_EQ(plain->find(raw), std::string::npos);

  v1::Subject subject;
  absl::Status missing = ReadSubject(caseworker_a_, NewId(), &subject);
  EXPECT_EQ(ReadSubject(caseworker_a_, id, &subject), missing);
  EXPECT_EQ(ReadSubject(supervisor, id, &subject), missing);
  EXPECT_EQ(ReadSubject(caseworker_b_, id, &subject), missing);
  EXPECT_EQ(door_->WithCase(supervisor, id, v1::CASE_ACTION_ERASE, "case.erase",
                            [](CaseScope& scope) { return scope.Shred(); }),
            missing);

  // Nothing derived from the person, and no one who worked on the case,
  // is left beside it: the same names recorded again lead nowhere near it.
  const v1::CaseRecord erased = StoredRecord(id);
  EXPECT_EQ(erased.name_index_keys_size(), 0);
  EXPECT_EQ(erased.assignee_ids_size(), 0);
  EXPECT_EQ(erased.supervisor_id(), "");
  EXPECT_EQ(erased.watches_size(), 0);
  EXPECT_TRUE(ScanAll(Cf::kGrants, raw).empty());
  for (Cf cf : {Cf::kNameIndex, Cf::kCaseIndex}) {
    for (const auto& [k, v] : ScanAll(cf)) {
      EXPECT_EQ(k.find(raw), std::string::npos) << storage::CfName(cf);
    }
  }
  // Its key ranges wait for the background purge, which runs once.
  EXPECT_EQ(ScanAll(Cf::kErasurePurges).size(), 1u);
  absl::StatusOr<int> purged = door_->PurgeErasedCases();
  HAVEN_ASSERT_OK(purged);
  EXPECT_EQ(*purged, 1);
  EXPECT_TRUE(ScanAll(Cf::kErasurePurges).empty());
  purged = door_->PurgeErasedCases();
  HAVEN_ASSERT_OK(purged);
  EXPECT_EQ(*purged, 0);
}

TEST_F(CaseDoorTest, NothingIsReadableInsideTheShreddingTransactionAfterShred) {
  std::string id = CreateCase(caseworker_a_);
  RequestContext supervisor = As(org_a_, {v1::ROLE_SUPERVISOR});
  HAVEN_ASSERT_OK(door_->WithCase(supervisor, id, v1::CASE_ACTION_ERASE, "case.erase",
                                  [](CaseScope& scope) -> absl::Status {
                                    if (absl::Status s = scope.Shred(); !s.ok()) return s;
                                    v1::Subject out;
                                    absl::StatusOr<bool> found =
                                        scope.Load(RecordKind::kSubject, "", &out);
                                    if (!found.ok()) return found.status();
                                    EXPECT_FALSE(*found);
                                    EXPECT_EQ(out.given_name(), "");
                                    EXPECT_FALSE(scope.Save(RecordKind::kSubject, "", out).ok());
                                    return absl::OkStatus();
                                  }));
}

TEST_F(CaseDoorTest, SaveOfAClassTheCallerMayNotWriteIsDeniedAndWritesNothing) {
  std::string id = CreateCase(caseworker_a_);
  HAVEN_ASSERT_OK(Grant(caseworker_a_, id, org_b_,
                        {v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS},
                        {v1::CASE_ACTION_READ, v1::CASE_ACTION_UPDATE}, absl::Hours(1)));
  const std::string raw = RawId(id);
  const auto data_before = ScanAll(Cf::kCaseData, raw);
  const v1::CaseRecord record_before = StoredRecord(id);
  const uint64_t audit_before = store()->last_audit_sequence();

  v1::Subject changed = CanarySubject();
  changed.set_given_name("Someone Else");
  absl::Status s = door_->WithCase(caseworker_b_, id, v1::CASE_ACTION_UPDATE, "case.update",
                                   [&](CaseScope& scope) {
                                     return scope.Save(RecordKind::kSubject, "", changed);
                                   });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
  EXPECT_EQ(ScanAll(Cf::kCaseData, raw), data_before);
  EXPECT_EQ(StoredRecord(id).SerializeAsString(), record_before.SerializeAsString());
  // No ALLOWED entry; the refusal itself is audited as a denial.
  ASSERT_EQ(store()->last_audit_sequence(), audit_before + 1);
  EXPECT_EQ(LastAudit().outcome(), v1::AUDIT_OUTCOME_DENIED);
  EXPECT_EQ(LastAudit().classes_size(), 0);
  v1::Subject subject;
  HAVEN_ASSERT_OK(ReadSubject(caseworker_a_, id, &subject));
  EXPECT_EQ(subject.given_name(), kCanary);
}

TEST_F(CaseDoorTest, CreateWithAClassTheCallerMayNotWriteWritesNothing) {
  const uint64_t audit_before = store()->last_audit_sequence();
  absl::StatusOr<v1::CaseRecord> record = door_->CreateCase(
      As(org_a_, {v1::ROLE_LAW_ENFORCEMENT_LIAISON}), "case.create",
      [](CaseScope& scope) { return scope.Save(RecordKind::kSubject, "", CanarySubject()); });
  EXPECT_THAT(record, StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
  EXPECT_TRUE(ScanAll(Cf::kCases).empty());
  EXPECT_TRUE(ScanAll(Cf::kCaseKeys).empty());
  EXPECT_TRUE(ScanAll(Cf::kCaseData).empty());
  ASSERT_EQ(store()->last_audit_sequence(), audit_before + 1);
  EXPECT_EQ(LastAudit().outcome(), v1::AUDIT_OUTCOME_DENIED);
}

TEST_F(CaseDoorTest, WorkThatFailsWritesNothingAndAuditsNoAccess) {
  std::string id = CreateCase(caseworker_a_);
  const uint64_t audit_before = store()->last_audit_sequence();
  const v1::CaseRecord record_before = StoredRecord(id);
  absl::Status s = door_->WithCase(caseworker_a_, id, v1::CASE_ACTION_UPDATE, "case.update",
                                   [](CaseScope& scope) -> absl::Status {
                                     v1::Subject other;
                                     other.set_given_name("Overwritten");
                                     if (absl::Status w = scope.Save(RecordKind::kSubject, "", other);
                                         !w.ok()) {
                                       return w;
                                     }
                                     return absl::AbortedError("version mismatch");
                                   });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kAborted, ::testing::_));
  EXPECT_EQ(store()->last_audit_sequence(), audit_before);
  EXPECT_EQ(StoredRecord(id).SerializeAsString(), record_before.SerializeAsString());
  v1::Subject subject;
  HAVEN_ASSERT_OK(ReadSubject(caseworker_a_, id, &subject));
  EXPECT_EQ(subject.given_name(), kCanary);
}

TEST_F(CaseDoorTest, UpdateBumpsTheVersionOnce) {
  std::string id = CreateCase(caseworker_a_);
  db_.clock().Advance(absl::Minutes(5));
  HAVEN_ASSERT_OK(door_->WithCase(caseworker_a_, id, v1::CASE_ACTION_UPDATE, "case.update",
                                  [](CaseScope& scope) -> absl::Status {
                                    v1::Subject s = CanarySubject();
                                    s.set_estimated_age(20);
                                    if (absl::Status w = scope.Save(RecordKind::kSubject, "", s); !w.ok()) {
                                      return w;
                                    }
                                    return scope.Save(RecordKind::kSubject, "", s);
                                  }));
  v1::CaseRecord r = StoredRecord(id);
  EXPECT_EQ(r.version(), 2u);
  EXPECT_EQ(r.update_time_micros(), absl::ToUnixMicros(db_.clock().Now()));
}

TEST_F(CaseDoorTest, PatchWritesOnlyTheMaskedFieldsAndRefusesInvisibleOnes) {
  std::string id = CreateCase(caseworker_a_);
  HAVEN_ASSERT_OK(Grant(caseworker_a_, id, org_b_,
                        {v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS},
                        {v1::CASE_ACTION_READ, v1::CASE_ACTION_UPDATE}, absl::Hours(1)));
  v1::Subject patch;
  patch.set_given_name("Someone Else");
  patch.set_estimated_age(21);
  google::protobuf::FieldMask age;
  age.add_paths("estimated_age");
  v1::Subject result;
  HAVEN_ASSERT_OK(door_->WithCase(caseworker_b_, id, v1::CASE_ACTION_UPDATE, "case.update",
                                  [&](CaseScope& scope) {
                                    return scope.Patch(RecordKind::kSubject, "", patch, age, &result);
                                  }));
  EXPECT_EQ(result.estimated_age(), 21u);
  EXPECT_EQ(result.given_name(), "") << "the result is redacted for the caller";

  google::protobuf::FieldMask name;
  name.add_paths("given_name");
  EXPECT_THAT(door_->WithCase(caseworker_b_, id, v1::CASE_ACTION_UPDATE, "case.update",
                              [&](CaseScope& scope) {
                                return scope.Patch(RecordKind::kSubject, "", patch, name, &result);
                              }),
              StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));

  v1::Subject subject;
  HAVEN_ASSERT_OK(ReadSubject(caseworker_a_, id, &subject));
  EXPECT_EQ(subject.given_name(), kCanary);
  EXPECT_EQ(subject.estimated_age(), 21u);
  EXPECT_EQ(subject.family_name(), kFamilyCanary);
}

TEST_F(CaseDoorTest, DiscloseRedactsAResponseAndAuditsItsClasses) {
  std::string id = CreateCase(caseworker_a_);
  HAVEN_ASSERT_OK(Grant(caseworker_a_, id, org_b_, {v1::CONFIDENTIALITY_ADMINISTRATIVE},
                        {v1::CASE_ACTION_READ}, absl::Hours(1)));
  v1::Case response;
  HAVEN_ASSERT_OK(door_->WithCase(caseworker_b_, id, v1::CASE_ACTION_READ, "case.read",
                                  [&](CaseScope& scope) {
                                    response.set_id(scope.case_id());
                                    *response.mutable_subject() = CanarySubject();
                                    scope.Disclose(&response);
                                    return absl::OkStatus();
                                  }));
  EXPECT_EQ(response.id(), id);
  EXPECT_EQ(response.subject().given_name(), "");
  EXPECT_EQ(response.subject().sex(), v1::SEX_UNSPECIFIED);
  EXPECT_THAT(LastAudit().classes(), ElementsAre(v1::CONFIDENTIALITY_ADMINISTRATIVE));
}

TEST_F(CaseDoorTest, UserGrantLetsOnlyThatUserRead) {
  std::string id = CreateCase(caseworker_a_);
  RequestContext named = As(org_b_, {v1::ROLE_CASEWORKER});
  v1::UserRecord user;
  user.set_id(named.principal.id);
  user.set_organisation_id(org_b_);
  std::unique_ptr<storage::Txn> txn = store()->Begin();
  HAVEN_ASSERT_OK(txn->Put(Cf::kUsers, user.id(), user.SerializeAsString()));
  HAVEN_ASSERT_OK(store()->Commit(std::move(txn)));

  v1::Grant g;
  g.set_case_id(id);
  g.set_grantee_user_id(named.principal.id);
  g.set_purpose("investigation");
  g.add_classes(v1::CONFIDENTIALITY_PSEUDONYMOUS);
  g.add_actions(v1::CASE_ACTION_READ);
  g.mutable_expire_time()->set_seconds(absl::ToUnixSeconds(db_.clock().Now() + absl::Hours(1)));
  g.set_lawful_basis(v1::LAWFUL_BASIS_LEGAL_OBLIGATION);
  g.mutable_basis_detail()->set_reference("Act 12, art. 3");
  HAVEN_ASSERT_OK(door_->CreateGrant(caseworker_a_, g));

  v1::Subject subject;
  HAVEN_EXPECT_OK(ReadSubject(named, id, &subject));
  EXPECT_THAT(ReadSubject(caseworker_b_, id, &subject),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

// Measures one call on the steady clock (a measurement, not a rule).
template <typename Call>
absl::Duration Timed(Call call) {
  const auto start = std::chrono::steady_clock::now();
  call();
  return absl::FromChrono(std::chrono::steady_clock::now() - start);
}

TEST_F(CaseDoorTest, ADeniedChangeAnswersLikeAMissingCaseWhileTheOwnerHoldsIt) {
  const std::string id = CreateCase(caseworker_a_);
  absl::Notification holding, release;
  std::thread owner([&] {
    absl::Status s = door_->WithCase(caseworker_a_, id, v1::CASE_ACTION_UPDATE, "case.update",
                                     [&](CaseScope& scope) {
                                       scope.mutable_record();
                                       holding.Notify();
                                       release.WaitForNotification();
                                       return absl::OkStatus();
                                     });
    EXPECT_TRUE(s.ok()) << s;
  });
  holding.WaitForNotification();
  auto update = [&](const std::string& case_id, absl::Status* out) {
    *out = door_->WithCase(caseworker_b_, case_id, v1::CASE_ACTION_UPDATE, "case.update",
                           [](CaseScope&) { return absl::OkStatus(); });
  };
  absl::Status denied, missing;
  const absl::Duration denied_time = Timed([&] { update(id, &denied); });
  const v1::AuditEntry denial = LastAudit();
  const absl::Duration missing_time = Timed([&] { update(NewId(), &missing); });
  release.Notify();
  owner.join();
  EXPECT_EQ(denied.code(), absl::StatusCode::kNotFound) << denied;
  EXPECT_EQ(denied, missing);
  // Before, the denied caller waited for the owner's lock (2 s) and got
  // ABORTED; now neither waits.
  EXPECT_LT(absl::AbsDuration(denied_time - missing_time), absl::Milliseconds(500))
      << "denied " << denied_time << ", missing " << missing_time;
  std::cout << "[ timing ] denied change " << denied_time << ", missing case " << missing_time
            << " while the owner holds the case\n";
  EXPECT_EQ(denial.outcome(), v1::AUDIT_OUTCOME_DENIED);
  EXPECT_EQ(denial.case_id(), id);
}

TEST_F(CaseDoorTest, ANameSearchReadsNothingOutsideTheCallersReach) {
  // However many cases hold the name elsewhere, a search from an
  // organisation that holds one reads the same records and finds its own:
  // its time tells nothing.
  const std::string own = CreateCase(caseworker_b_);
  CaseQuery query;
  query.name_keys = NameMatchKeys(kFamilyCanary);
  ASSERT_FALSE(query.name_keys.empty());
  auto records_read_by_search = [&] {
    const uint64_t before = store()->records_read();
    std::vector<std::string> found;
    absl::StatusOr<std::string> next = door_->ForEachReadableCase(
        caseworker_b_, query, "case.search", [&](CaseScope& scope) {
          found.push_back(scope.case_id());
          return absl::OkStatus();
        });
    EXPECT_TRUE(next.ok()) << next.status();
    EXPECT_THAT(found, ElementsAre(own));
    return store()->records_read() - before;
  };
  const uint64_t with_none = records_read_by_search();
  for (int i = 0; i < 20; ++i) CreateCase(caseworker_a_);
  EXPECT_EQ(records_read_by_search(), with_none);
}

TEST_F(CaseDoorTest, FieldsThisServerDoesNotKnowAreNeitherSealedNorDisclosed) {
  v1::Subject smuggled = CanarySubject();
  smuggled.GetReflection()->MutableUnknownFields(&smuggled)->AddLengthDelimited(100, "smuggled");
  smuggled.mutable_date_of_birth()->GetReflection()
      ->MutableUnknownFields(smuggled.mutable_date_of_birth())
      ->AddVarint(99, 7);
  absl::StatusOr<v1::CaseRecord> record =
      door_->CreateCase(caseworker_a_, "case.create", [&](CaseScope& scope) {
        return scope.Save(RecordKind::kSubject, "", smuggled);
      });
  HAVEN_ASSERT_OK(record.status());
  // Even a reader who may see every class gets the known fields only:
  // nothing unknown was sealed.
  v1::Subject read;
  HAVEN_ASSERT_OK(ReadSubject(caseworker_a_, ToHex(record->id()), &read));
  EXPECT_EQ(read.given_name(), CanarySubject().given_name());
  EXPECT_EQ(read.GetReflection()->GetUnknownFields(read).field_count(), 0);
  EXPECT_EQ(read.date_of_birth().GetReflection()->GetUnknownFields(read.date_of_birth()).field_count(),
            0);
}

TEST(IsValidPurposeTest, AcceptsShortLowerCaseTokensOnly) {
  EXPECT_TRUE(IsValidPurpose("case-management"));
  EXPECT_TRUE(IsValidPurpose("referral_2"));
  EXPECT_FALSE(IsValidPurpose(""));
  EXPECT_FALSE(IsValidPurpose("2fa"));
  EXPECT_FALSE(IsValidPurpose("Referral"));
  EXPECT_FALSE(IsValidPurpose("talked to Amina"));
  EXPECT_FALSE(IsValidPurpose(std::string(65, 'a')));
  EXPECT_TRUE(IsValidPurpose(std::string(64, 'a')));
}

}  // namespace
}  // namespace haven::access
