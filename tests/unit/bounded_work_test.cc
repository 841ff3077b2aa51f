// Bounded work per request: alerts, due deadlines and user lists read what the caller reaches
// (counted in records read), however much the store holds elsewhere; alerts leave the open
// list with who and why.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "haven/v1/admin.pb.h"
#include "haven/v1/case.pb.h"
#include "storage/access/case_door.h"
#include "storage/access/vault.h"
#include "storage/ids.h"
#include "storage/store.h"
#include "tests/unit/test_util.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using ::haven::testing::MemStore;
using ::haven::testing::StatusIs;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class BoundedWorkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Vault::Options options;
    options.path = db_.path();
    options.env = db_.env();
    options.keys = &db_.keys();
    options.clock = &db_.clock();
    absl::StatusOr<std::unique_ptr<Vault>> vault = Vault::Open(options);
    ASSERT_THAT(vault, ::haven::testing::IsOk());
    vault_ = *std::move(vault);
    admin_ = As(NewId(), v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY, {v1::ROLE_ADMINISTRATOR});
    org_a_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
    org_b_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
  }

  CaseDoor& door() { return vault_->case_door(); }
  uint64_t records_read() { return vault_->store().records_read(); }

  std::string NewOrganisation(v1::OrganisationType type) {
    v1::Organisation org;
    org.set_display_name("Test organisation");
    org.set_type(type);
    absl::StatusOr<v1::Organisation> made = vault_->accounts().CreateOrganisation(admin_, org);
    EXPECT_THAT(made, ::haven::testing::IsOk());
    return made.ok() ? made->id() : std::string();
  }

  static RequestContext As(const std::string& org, v1::OrganisationType type,
                           std::vector<v1::Role> roles) {
    RequestContext ctx;
    ctx.principal.id = NewId();
    ctx.principal.organisation_id = org;
    ctx.principal.organisation_type = type;
    ctx.principal.roles = std::move(roles);
    ctx.purpose = "case-management";
    ctx.request_id = NewId();
    return ctx;
  }

  // Opens a case as `ctx`, with a decision due at `deadline` when given,
  // raising an alert to `addressee` when one is named.
  std::string CreateCase(const RequestContext& ctx, absl::Time deadline = absl::InfinitePast(),
                         std::optional<CaseScope::Addressee> addressee = std::nullopt) {
    absl::StatusOr<v1::CaseRecord> record =
        door().CreateCase(ctx, "case.create", [&](CaseScope& scope) -> absl::Status {
          if (deadline != absl::InfinitePast()) {
            scope.mutable_record()->set_next_deadline_micros(absl::ToUnixMicros(deadline));
          }
          if (!addressee.has_value()) return absl::OkStatus();
          return scope.RaiseAlert(v1::ALERT_KIND_NON_PUNISHMENT, {scope.case_id()}, *addressee);
        });
    EXPECT_THAT(record, ::haven::testing::IsOk());
    return record.ok() ? ToHex(record->id()) : std::string();
  }

  std::vector<v1::Alert> AllAlerts(const RequestContext& ctx, int page_size, bool resolved) {
    std::vector<v1::Alert> all;
    std::string token;
    do {
      auto page = door().ListAlerts(ctx, page_size, token, resolved);
      EXPECT_THAT(page, ::haven::testing::IsOk());
      if (!page.ok()) break;
      EXPECT_LE(static_cast<int>(page->first.size()), page_size);
      all.insert(all.end(), page->first.begin(), page->first.end());
      token = page->second;
    } while (!token.empty());
    return all;
  }

  MemStore db_;
  std::unique_ptr<Vault> vault_;
  RequestContext admin_;
  std::string org_a_;
  std::string org_b_;
};

TEST_F(BoundedWorkTest, ListingAlertsReadsOnlyTheCallersOwn) {
  RequestContext supervisor_b = As(org_b_, v1::ORGANISATION_TYPE_NGO, {v1::ROLE_SUPERVISOR});
  RequestContext caseworker_a = As(org_a_, v1::ORGANISATION_TYPE_NGO, {v1::ROLE_CASEWORKER});
  CreateCase(As(org_b_, v1::ORGANISATION_TYPE_NGO, {v1::ROLE_CASEWORKER}), absl::InfinitePast(),
             CaseScope::Addressee{"", org_b_});
  auto reads_of_a_listing = [&] {
    const uint64_t before = records_read();
    auto page = door().ListAlerts(supervisor_b, 0, "", false);
    EXPECT_THAT(page, ::haven::testing::IsOk());
    EXPECT_THAT(page->first, SizeIs(1));
    return records_read() - before;
  };
  const uint64_t alone = reads_of_a_listing();
  for (int i = 0; i < 30; ++i) {
    CreateCase(caseworker_a, absl::InfinitePast(), CaseScope::Addressee{"", org_a_});
  }
  EXPECT_EQ(reads_of_a_listing(), alone);
}

TEST_F(BoundedWorkTest, AlertsPageOldestFirstAcrossEveryAddresseeOfTheCaller) {
  const std::string authority = NewOrganisation(v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY);
  RequestContext decider = As(authority, v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY,
                              {v1::ROLE_DECISION_MAKER, v1::ROLE_SUPERVISOR});
  RequestContext caseworker = As(authority, v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY,
                                 {v1::ROLE_CASEWORKER});
  const std::vector<CaseScope::Addressee> to = {
      {decider.principal.id, ""}, {"", authority}, {"", ""}};
  std::vector<std::string> raised_for;  // case ids, in the order their alerts were raised
  for (int round = 0; round < 3; ++round) {
    for (const CaseScope::Addressee& addressee : to) {
      db_.clock().Advance(absl::Minutes(1));
      raised_for.push_back(CreateCase(caseworker, absl::InfinitePast(), addressee));
    }
  }
  for (int page_size : {1, 2, 4, 100}) {
    std::vector<std::string> listed;
    for (const v1::Alert& alert : AllAlerts(decider, page_size, false)) {
      listed.push_back(alert.case_ids(0));
    }
    EXPECT_THAT(listed, ElementsAreArray(raised_for)) << "page size " << page_size;
  }
  // The caseworker is told only what is addressed to it: nothing here.
  EXPECT_THAT(AllAlerts(caseworker, 10, false), IsEmpty());
}

TEST_F(BoundedWorkTest, ResolvingAnAlertKeepsWhoWhyAndWhenAndIsAudited) {
  RequestContext supervisor = As(org_a_, v1::ORGANISATION_TYPE_NGO, {v1::ROLE_SUPERVISOR});
  RequestContext caseworker = As(org_a_, v1::ORGANISATION_TYPE_NGO, {v1::ROLE_CASEWORKER});
  RequestContext elsewhere = As(org_b_, v1::ORGANISATION_TYPE_NGO, {v1::ROLE_SUPERVISOR});
  CreateCase(caseworker, absl::InfinitePast(), CaseScope::Addressee{"", org_a_});
  std::vector<v1::Alert> open = AllAlerts(supervisor, 10, false);
  ASSERT_THAT(open, SizeIs(1));
  const std::string id = open[0].id();

  // Those it is not addressed to cannot tell it from a missing alert.
  EXPECT_THAT(door().ResolveAlert(caseworker, id, v1::ALERT_RESOLUTION_ACTED_ON),
              StatusIs(absl::StatusCode::kNotFound, "alert not found"));
  EXPECT_THAT(door().ResolveAlert(elsewhere, id, v1::ALERT_RESOLUTION_ACTED_ON),
              StatusIs(absl::StatusCode::kNotFound, "alert not found"));
  EXPECT_THAT(door().ResolveAlert(supervisor, NewId(), v1::ALERT_RESOLUTION_ACTED_ON),
              StatusIs(absl::StatusCode::kNotFound, "alert not found"));
  EXPECT_THAT(door().ResolveAlert(supervisor, id, v1::ALERT_RESOLUTION_UNSPECIFIED),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("resolution")));
  EXPECT_THAT(door().ResolveAlert(supervisor, "not-an-id", v1::ALERT_RESOLUTION_ACTED_ON),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("alert_id")));
  ASSERT_THAT(AllAlerts(supervisor, 10, false), SizeIs(1)) << "a refused resolution changed it";

  db_.clock().Advance(absl::Hours(2));
  const uint64_t audited_before = vault_->store().last_audit_sequence();
  absl::StatusOr<v1::Alert> resolved =
      door().ResolveAlert(supervisor, id, v1::ALERT_RESOLUTION_NOT_THE_SAME_PERSON);
  ASSERT_THAT(resolved, ::haven::testing::IsOk());
  EXPECT_EQ(resolved->resolved_by(), supervisor.principal.id);
  EXPECT_EQ(resolved->resolution(), v1::ALERT_RESOLUTION_NOT_THE_SAME_PERSON);
  EXPECT_EQ(resolved->resolve_time().seconds(), absl::ToUnixSeconds(db_.clock().Now()));

  EXPECT_THAT(AllAlerts(supervisor, 10, false), IsEmpty());
  std::vector<v1::Alert> history = AllAlerts(supervisor, 10, true);
  ASSERT_THAT(history, SizeIs(1));
  EXPECT_EQ(history[0].SerializeAsString(), resolved->SerializeAsString());
  EXPECT_THAT(AllAlerts(elsewhere, 10, true), IsEmpty());

  ASSERT_EQ(vault_->store().last_audit_sequence(), audited_before + 1);
  absl::StatusOr<v1::AuditEntry> entry = vault_->store().ReadAuditEntry(audited_before + 1);
  ASSERT_THAT(entry, ::haven::testing::IsOk());
  EXPECT_EQ(entry->action(), "alert.resolve");
  EXPECT_EQ(entry->record(), "alerts/" + id);
  EXPECT_EQ(entry->principal_id(), supervisor.principal.id);

  EXPECT_THAT(door().ResolveAlert(supervisor, id, v1::ALERT_RESOLUTION_ACTED_ON),
              StatusIs(absl::StatusCode::kFailedPrecondition, "the alert is already resolved"));
}

TEST_F(BoundedWorkTest, DueDecisionsReadOnlyTheCallersOrganisation) {
  RequestContext caseworker_a = As(org_a_, v1::ORGANISATION_TYPE_NGO, {v1::ROLE_CASEWORKER});
  RequestContext caseworker_b = As(org_b_, v1::ORGANISATION_TYPE_NGO, {v1::ROLE_CASEWORKER});
  const absl::Time now = db_.clock().Now();
  const std::string due = CreateCase(caseworker_b, now + absl::Hours(24));
  CreateCase(caseworker_b, now + absl::Hours(24 * 30));  // not due within the week
  CaseQuery query;
  query.deadline_before = now + absl::Hours(24 * 7);
  auto reads_of_a_search = [&] {
    const uint64_t before = records_read();
    std::vector<std::string> found;
    absl::StatusOr<std::string> next = door().ForEachReadableCase(
        caseworker_b, query, "identification.list_due", [&](CaseScope& scope) {
          found.push_back(scope.case_id());
          return absl::OkStatus();
        });
    EXPECT_THAT(next, ::haven::testing::IsOk());
    EXPECT_THAT(found, ElementsAreArray({due}));
    return records_read() - before;
  };
  const uint64_t alone = reads_of_a_search();
  for (int i = 0; i < 20; ++i) CreateCase(caseworker_a, now + absl::Hours(1));
  EXPECT_EQ(reads_of_a_search(), alone);
}

TEST_F(BoundedWorkTest, ListingUsersReadsOnlyThatOrganisationsUsers) {
  auto add_user = [&](const std::string& org, const std::string& username) {
    v1::User user;
    user.set_username(username);
    user.set_display_name("Test user");
    user.set_organisation_id(org);
    user.add_roles(v1::ROLE_CASEWORKER);
    ASSERT_THAT(vault_->accounts().CreateUser(admin_, user), ::haven::testing::IsOk());
  };
  add_user(org_b_, "b.one");
  add_user(org_b_, "b.two");
  auto reads_of_a_listing = [&] {
    const uint64_t before = records_read();
    std::vector<std::string> names;
    std::string token;
    do {
      auto page = vault_->accounts().ListUsers(admin_, org_b_, 1, token);
      EXPECT_THAT(page, ::haven::testing::IsOk());
      if (!page.ok()) break;
      for (const v1::User& u : page->first) names.push_back(u.username());
      token = page->second;
    } while (!token.empty());
    EXPECT_THAT(names, ::testing::UnorderedElementsAre("b.one", "b.two"));
    return records_read() - before;
  };
  const uint64_t alone = reads_of_a_listing();
  for (int i = 0; i < 8; ++i) add_user(org_a_, "a.user" + std::to_string(i));
  EXPECT_EQ(reads_of_a_listing(), alone);
}

}  // namespace
}  // namespace haven::access
