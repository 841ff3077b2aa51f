// AuditLog: auditors read the log, auditors and administrators verify it,
// and reading it is itself audited.
#include "storage/access/audit_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "haven/v1/case.pb.h"
#include "storage/access/case_door.h"
#include "storage/ids.h"
#include "tests/unit/test_util.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using ::haven::testing::MemStore;
using ::haven::testing::SeqKey;
using ::haven::testing::StatusIs;
using ::testing::Each;
using ::testing::HasSubstr;
using storage::Cf;

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(db_.Open(), nullptr);
    door_ = std::make_unique<CaseDoor>(db_.store(), &db_.keys(), &db_.clock());
    log_ = std::make_unique<AuditLog>(db_.store(), nullptr);
    org_ = NewId();
    caseworker_ = As({v1::ROLE_CASEWORKER});
    auditor_ = As({v1::ROLE_AUDITOR});
  }

  RequestContext As(std::vector<v1::Role> roles) {
    RequestContext ctx;
    ctx.principal.id = NewId();
    ctx.principal.organisation_id = org_;
    ctx.principal.roles = std::move(roles);
    ctx.purpose = "oversight";
    return ctx;
  }

  std::string CreateCase() {
    absl::StatusOr<v1::CaseRecord> record =
        door_->CreateCase(caseworker_, "case.create", [](CaseScope& scope) {
          v1::Subject s;
          s.set_given_name("Amina");
          return scope.Save(RecordKind::kSubject, "", s);
        });
    EXPECT_TRUE(record.ok()) << record.status().ToString();
    return record.ok() ? ToHex(record->id()) : std::string();
  }

  void ReadCase(const std::string& id) {
    EXPECT_TRUE(door_->WithCase(caseworker_, id, v1::CASE_ACTION_READ, "case.read",
                                [](CaseScope&) { return absl::OkStatus(); })
                    .ok());
  }

  static std::vector<uint64_t> Sequences(const v1::QueryAuditEntriesResponse& r) {
    std::vector<uint64_t> out;
    for (const auto& e : r.entries()) out.push_back(e.sequence());
    return out;
  }

  MemStore db_;
  std::unique_ptr<CaseDoor> door_;
  std::unique_ptr<AuditLog> log_;
  std::string org_;
  RequestContext caseworker_, auditor_;
};

TEST_F(AuditLogTest, OnlyAuditorsMayQuery) {
  for (v1::Role role : {v1::ROLE_CASEWORKER, v1::ROLE_SUPERVISOR, v1::ROLE_ADMINISTRATOR,
                        v1::ROLE_ANALYST}) {
    EXPECT_THAT(log_->Query(As({role}), v1::QueryAuditEntriesRequest()),
                StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_))
        << v1::Role_Name(role);
  }
  RequestContext changing = As({v1::ROLE_AUDITOR});
  changing.principal.password_change_required = true;
  EXPECT_THAT(log_->Query(changing, v1::QueryAuditEntriesRequest()),
              StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
  HAVEN_EXPECT_OK(log_->Query(auditor_, v1::QueryAuditEntriesRequest()));
}

TEST_F(AuditLogTest, QueryByCaseReturnsThatCasesEntriesInOrder) {
  std::string a = CreateCase();
  std::string b = CreateCase();
  ReadCase(a);
  ReadCase(b);
  ReadCase(a);
  v1::QueryAuditEntriesRequest request;
  request.set_case_id(a);
  absl::StatusOr<v1::QueryAuditEntriesResponse> r = log_->Query(auditor_, request);
  HAVEN_ASSERT_OK(r);
  ASSERT_EQ(r->entries_size(), 3);
  for (const auto& e : r->entries()) EXPECT_EQ(e.case_id(), a);
  EXPECT_EQ(r->entries(0).action(), "case.create");
  const std::vector<uint64_t> sequences = Sequences(*r);
  EXPECT_TRUE(std::is_sorted(sequences.begin(), sequences.end()));
  EXPECT_EQ(r->next_page_token(), "");
  // Entries carry their chain hash.
  EXPECT_EQ(r->entries(0).hash().size(), 32u);
}

TEST_F(AuditLogTest, QueryByPrincipalReturnsOnlyThatPrincipal) {
  std::string a = CreateCase();
  RequestContext other = As({v1::ROLE_CASEWORKER});
  EXPECT_FALSE(door_->WithCase(other, NewId(), v1::CASE_ACTION_READ, "case.read",
                               [](CaseScope&) { return absl::OkStatus(); })
                   .ok());
  v1::QueryAuditEntriesRequest request;
  request.set_principal_id(other.principal.id);
  absl::StatusOr<v1::QueryAuditEntriesResponse> r = log_->Query(auditor_, request);
  HAVEN_ASSERT_OK(r);
  ASSERT_EQ(r->entries_size(), 1);
  EXPECT_EQ(r->entries(0).principal_id(), other.principal.id);
  EXPECT_EQ(r->entries(0).outcome(), v1::AUDIT_OUTCOME_DENIED);
}

TEST_F(AuditLogTest, QueryPagesThroughEveryEntryOnce) {
  std::string id = CreateCase();
  for (int i = 0; i < 6; ++i) ReadCase(id);  // 7 entries for the case
  v1::QueryAuditEntriesRequest request;
  request.set_case_id(id);
  request.set_page_size(3);
  std::vector<v1::AuditEntry> all;
  int pages = 0;
  for (; pages < 10; ++pages) {
    absl::StatusOr<v1::QueryAuditEntriesResponse> r = log_->Query(auditor_, request);
    HAVEN_ASSERT_OK(r);
    EXPECT_LE(r->entries_size(), 3);
    for (const auto& e : r->entries()) all.push_back(e);
    if (r->next_page_token().empty()) break;
    request.set_page_token(r->next_page_token());
  }
  EXPECT_LT(pages, 10) << "paging never ended";
  // The case's seven entries once each, in order; then the entries of the
  // queries made while paging, which are about this case too.
  ASSERT_GE(all.size(), 7u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].sequence(), i + 1);
    EXPECT_EQ(all[i].action(), i == 0 ? "case.create" : i < 7 ? "case.read" : "audit.query");
  }
}

TEST_F(AuditLogTest, QueryFiltersByTime) {
  std::string id = CreateCase();
  db_.clock().Advance(absl::Hours(1));
  const absl::Time later = db_.clock().Now();
  ReadCase(id);
  v1::QueryAuditEntriesRequest request;
  request.set_case_id(id);
  request.mutable_start_time()->set_seconds(absl::ToUnixSeconds(later));
  absl::StatusOr<v1::QueryAuditEntriesResponse> r = log_->Query(auditor_, request);
  HAVEN_ASSERT_OK(r);
  ASSERT_EQ(r->entries_size(), 1);
  EXPECT_EQ(r->entries(0).action(), "case.read");
  request.clear_start_time();
  request.mutable_end_time()->set_seconds(absl::ToUnixSeconds(later));
  r = log_->Query(auditor_, request);
  HAVEN_ASSERT_OK(r);
  ASSERT_EQ(r->entries_size(), 1);
  EXPECT_EQ(r->entries(0).action(), "case.create");
}

TEST_F(AuditLogTest, TimeRangeOfTheWholeLogFindsExactlyItsEntries) {
  std::string id = CreateCase();  // sequence 1, at t0
  const absl::Time t0 = db_.clock().Now();
  for (int hour = 1; hour <= 20; ++hour) {
    db_.clock().Advance(absl::Hours(1));
    ReadCase(id);  // sequence hour + 1, at t0 + hour
  }
  v1::QueryAuditEntriesRequest request;
  request.mutable_start_time()->set_seconds(absl::ToUnixSeconds(t0 + absl::Hours(5)));
  request.mutable_end_time()->set_seconds(absl::ToUnixSeconds(t0 + absl::Hours(8)));
  absl::StatusOr<v1::QueryAuditEntriesResponse> r = log_->Query(auditor_, request);
  HAVEN_ASSERT_OK(r);
  ASSERT_EQ(r->entries_size(), 3);
  EXPECT_EQ(r->entries(0).sequence(), 6u);
  EXPECT_EQ(r->entries(2).sequence(), 8u);
  EXPECT_TRUE(r->next_page_token().empty());

  // A range after every entry is empty, not an error.
  request.mutable_start_time()->set_seconds(absl::ToUnixSeconds(t0 + absl::Hours(100)));
  request.clear_end_time();
  r = log_->Query(auditor_, request);
  HAVEN_ASSERT_OK(r);
  EXPECT_EQ(r->entries_size(), 0);
}

TEST_F(AuditLogTest, EntryTimesNeverGoBackWhenTheClockDoes) {
  std::string id = CreateCase();
  db_.clock().Advance(absl::Hours(2));
  ReadCase(id);
  db_.clock().Advance(-absl::Hours(1));  // the clock is stepped back
  ReadCase(id);
  v1::QueryAuditEntriesRequest request;
  request.set_case_id(id);
  absl::StatusOr<v1::QueryAuditEntriesResponse> r = log_->Query(auditor_, request);
  HAVEN_ASSERT_OK(r);
  ASSERT_EQ(r->entries_size(), 3);
  EXPECT_GE(r->entries(2).time().seconds(), r->entries(1).time().seconds());
}

TEST_F(AuditLogTest, QueryRejectsMalformedRequests) {
  v1::QueryAuditEntriesRequest both;
  both.set_case_id(NewId());
  both.set_principal_id(NewId());
  EXPECT_THAT(log_->Query(auditor_, both), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  v1::QueryAuditEntriesRequest negative;
  negative.set_page_size(-1);
  EXPECT_THAT(log_->Query(auditor_, negative),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  v1::QueryAuditEntriesRequest token;
  token.set_page_token("not-a-token");
  EXPECT_THAT(log_->Query(auditor_, token),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  v1::QueryAuditEntriesRequest bad_case;
  bad_case.set_case_id("xyz");
  EXPECT_THAT(log_->Query(auditor_, bad_case),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("case_id")));
}

TEST_F(AuditLogTest, QueryingTheLogIsItselfAudited) {
  std::string id = CreateCase();
  const uint64_t before = db_.store()->last_audit_sequence();
  v1::QueryAuditEntriesRequest request;
  request.set_case_id(id);
  HAVEN_ASSERT_OK(log_->Query(auditor_, request));
  ASSERT_EQ(db_.store()->last_audit_sequence(), before + 1);
  absl::StatusOr<v1::AuditEntry> e = db_.store()->ReadAuditEntry(before + 1);
  HAVEN_ASSERT_OK(e);
  EXPECT_EQ(e->action(), "audit.query");
  EXPECT_EQ(e->principal_id(), auditor_.principal.id);
  EXPECT_EQ(e->case_id(), id);
}

TEST_F(AuditLogTest, QueryWithAnUpperCaseCaseIdIsAuditedUnderTheCanonicalId) {
  std::string id = CreateCase();
  std::string upper = id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  v1::QueryAuditEntriesRequest request;
  request.set_case_id(upper);
  absl::StatusOr<v1::QueryAuditEntriesResponse> first = log_->Query(auditor_, request);
  HAVEN_ASSERT_OK(first);
  EXPECT_EQ(first->entries_size(), 1) << "upper case finds the case's entries";
  // The query is an access to the case's audit trail: a later look at the
  // case's trail must show it.
  request.set_case_id(id);
  absl::StatusOr<v1::QueryAuditEntriesResponse> second = log_->Query(auditor_, request);
  HAVEN_ASSERT_OK(second);
  ASSERT_EQ(second->entries_size(), 2) << "the first query is missing from the case's trail";
  EXPECT_EQ(second->entries(1).action(), "audit.query");
  EXPECT_EQ(second->entries(1).case_id(), id);
}

TEST_F(AuditLogTest, VerifyIsForAuditorsAndAdministrators) {
  CreateCase();
  for (v1::Role role : {v1::ROLE_AUDITOR, v1::ROLE_ADMINISTRATOR}) {
    absl::StatusOr<v1::VerifyAuditChainResponse> r = log_->Verify(As({role}), db_.keys());
    HAVEN_ASSERT_OK(r);
    EXPECT_TRUE(r->ok());
    EXPECT_EQ(r->entries_checked(), db_.store()->last_audit_sequence());
    EXPECT_EQ(r->public_key(), ToHex(db_.keys().public_key()));
  }
  EXPECT_THAT(log_->Verify(caseworker_, db_.keys()),
              StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
}

TEST_F(AuditLogTest, VerifyReportsTampering) {
  std::string id = CreateCase();
  ReadCase(id);
  ReadCase(id);
  std::unique_ptr<storage::Txn> txn = db_.store()->Begin();
  HAVEN_ASSERT_OK(txn->Delete(Cf::kAudit, SeqKey(2)));
  HAVEN_ASSERT_OK(db_.store()->Commit(std::move(txn)));
  absl::StatusOr<v1::VerifyAuditChainResponse> r = log_->Verify(auditor_, db_.keys());
  HAVEN_ASSERT_OK(r);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->first_bad_sequence(), 2u);
  EXPECT_FALSE(r->problem().empty());
}

}  // namespace
}  // namespace haven::access
