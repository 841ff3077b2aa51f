// Vault: the access layer opened on one store, and the audit head it signs.
#include "storage/access/vault.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "haven/v1/admin.pb.h"
#include "haven/v1/case.pb.h"
#include "storage/access/case_door.h"
#include "storage/access/case_door_parts.h"
#include "storage/access/indicator_shelf.h"
#include "storage/access/names.h"
#include "storage/audit_witness.h"
#include "storage/crypto.h"
#include "storage/ids.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "tests/unit/test_util.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using ::haven::testing::MemStore;

class VaultTest : public ::testing::Test {
 protected:
  // Opens a vault on the memory env of db_ (whose own store stays closed).
  std::unique_ptr<Vault> Open(uint64_t checkpoint_interval = 16) {
    Vault::Options options;
    options.path = db_.path();
    options.env = db_.env();
    options.keys = &db_.keys();
    options.clock = &db_.clock();
    options.checkpoint_interval = checkpoint_interval;
    absl::StatusOr<std::unique_ptr<Vault>> vault = Vault::Open(options);
    EXPECT_THAT(vault, ::haven::testing::IsOk());
    return vault.ok() ? *std::move(vault) : nullptr;
  }

  // A supervisor (and caseworker) of an organisation of its own.
  static RequestContext Supervisor() {
    RequestContext supervisor;
    supervisor.principal.id = NewId();
    supervisor.principal.organisation_id = NewId();
    supervisor.principal.roles = {v1::ROLE_SUPERVISOR, v1::ROLE_CASEWORKER};
    supervisor.purpose = "case-management";
    return supervisor;
  }

  MemStore db_;
};

TEST_F(VaultTest, SignsTheAuditHeadItsDoorsWrote) {
  std::unique_ptr<Vault> vault = Open();
  ASSERT_NE(vault, nullptr);
  EXPECT_EQ(vault->last_audit_sequence(), 0u);
  HAVEN_ASSERT_OK(vault->accounts().Bootstrap("Mechanism administration", "admin"));
  ASSERT_GT(vault->last_audit_sequence(), 0u);
  EXPECT_EQ(vault->store().last_audit_sequence(), vault->last_audit_sequence());

  absl::StatusOr<v1::AuditCheckpoint> head = vault->WitnessAuditHead();
  HAVEN_ASSERT_OK(head);
  EXPECT_EQ(head->sequence(), vault->last_audit_sequence());
  EXPECT_TRUE(storage::CheckpointSignatureValid(db_.keys(), *head));
}

TEST_F(VaultTest, DoesNotWitnessAHeadShorterThanTheLastWitnessed) {
  std::string dir = ::testing::TempDir() + "haven-vault-witness-XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  Vault::Options options;
  options.path = db_.path();
  options.env = db_.env();
  options.keys = &db_.keys();
  options.clock = &db_.clock();
  options.audit_witness_file = dir + "/witness.log";
  absl::StatusOr<std::unique_ptr<Vault>> vault = Vault::Open(options);
  HAVEN_ASSERT_OK(vault);
  HAVEN_ASSERT_OK((*vault)->accounts().Bootstrap("Mechanism administration", "admin"));
  absl::StatusOr<v1::AuditCheckpoint> head = (*vault)->WitnessAuditHead();
  HAVEN_ASSERT_OK(head);
  storage::AuditWitness witness(options.audit_witness_file);
  absl::StatusOr<std::optional<v1::AuditCheckpoint>> latest = witness.Latest();
  HAVEN_ASSERT_OK(latest);
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->sequence(), head->sequence());
  // The witness saw a longer chain than the store now holds.
  v1::AuditCheckpoint longer = *head;
  longer.set_sequence(head->sequence() + 5);
  HAVEN_ASSERT_OK(witness.Append(longer));
  EXPECT_THAT((*vault)->WitnessAuditHead(),
              ::haven::testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                         ::testing::HasSubstr("does not reach its last witnessed head")));
  latest = witness.Latest();
  HAVEN_ASSERT_OK(latest);
  EXPECT_EQ((*latest)->sequence(), longer.sequence()) << "the shorter head was witnessed over it";
  vault->reset();
  std::remove(options.audit_witness_file.c_str());
  rmdir(dir.c_str());
}

TEST_F(VaultTest, ReopensWhatItStored) {
  v1::IndicatorSet set;
  set.set_id("general");
  set.set_version(1);
  {
    std::unique_ptr<Vault> vault = Open();
    ASSERT_NE(vault, nullptr);
    HAVEN_ASSERT_OK(vault->indicator_shelf().StoreNewVersions({set}));
  }
  std::unique_ptr<Vault> vault = Open();
  ASSERT_NE(vault, nullptr);
  absl::StatusOr<std::vector<v1::IndicatorSet>> stored = vault->indicator_shelf().LoadAll();
  HAVEN_ASSERT_OK(stored);
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].id(), "general");
}

TEST_F(VaultTest, KeepsTheCheckpointIntervalTheStoreWasCreatedWith) {
  ASSERT_NE(Open(16), nullptr);
  std::unique_ptr<Vault> reopened = Open(64);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->checkpoint_interval(), 16u);
}

// Puts back what havend wrote before schema version 2: alerts keyed by time
// alone, one global deadline list, no per-organisation name or user index.
void RewindToVersion1(storage::Store& store) {
  using storage::Cf;
  std::unique_ptr<storage::Txn> txn = store.Begin();
  auto each = [&](Cf cf, const std::function<void(absl::string_view, absl::string_view)>& visit) {
    HAVEN_ASSERT_OK(store.Scan(cf, "", "", [&](absl::string_view k, absl::string_view v) {
      visit(k, v);
      return true;
    }));
  };
  each(Cf::kCaseIndex, [&](absl::string_view key, absl::string_view) {
    if (key[0] != 'D' && key[0] != 'n') return;
    HAVEN_EXPECT_OK(txn->Delete(Cf::kCaseIndex, key));
    if (key[0] == 'n') return;
    absl::string_view rest = key.substr(1);
    ASSERT_TRUE(keys::ConsumeShortString(&rest).has_value());
    HAVEN_EXPECT_OK(txn->Put(Cf::kCaseIndex, absl::StrCat("d", rest), ""));
  });
  each(Cf::kAlerts, [&](absl::string_view key, absl::string_view value) {
    HAVEN_EXPECT_OK(txn->Delete(Cf::kAlerts, key));
    if (key[0] == 'i') return;
    v1::Alert alert;
    ASSERT_TRUE(alert.ParseFromArray(value.data(), static_cast<int>(value.size())));
    std::string legacy;
    keys::AppendU64(&legacy, static_cast<uint64_t>(alert.create_time().seconds()) * 1000000);
    HAVEN_EXPECT_OK(txn->Put(Cf::kAlerts, legacy + alert.id(), value));
  });
  each(Cf::kUsersByOrganisation, [&](absl::string_view key, absl::string_view) {
    HAVEN_EXPECT_OK(txn->Delete(Cf::kUsersByOrganisation, key));
  });
  HAVEN_ASSERT_OK(store.Commit(std::move(txn)));
  HAVEN_ASSERT_OK(store.SetSchemaVersion(1));
}

TEST_F(VaultTest, MigratesAStoreAnEarlierHavendWrote) {
  RequestContext admin;
  admin.principal.id = NewId();
  admin.principal.roles = {v1::ROLE_ADMINISTRATOR};
  admin.purpose = "administration";
  RequestContext supervisor;
  supervisor.principal.id = NewId();
  supervisor.principal.roles = {v1::ROLE_SUPERVISOR, v1::ROLE_CASEWORKER};
  supervisor.principal.organisation_type = v1::ORGANISATION_TYPE_NGO;
  supervisor.purpose = "case-management";
  const absl::Time due = db_.clock().Now() + absl::Hours(24);
  std::string case_id;
  {
    std::unique_ptr<Vault> vault = Open();
    ASSERT_NE(vault, nullptr);
    v1::Organisation org;
    org.set_display_name("Shelter");
    org.set_type(v1::ORGANISATION_TYPE_NGO);
    absl::StatusOr<v1::Organisation> made = vault->accounts().CreateOrganisation(admin, org);
    ASSERT_THAT(made, ::haven::testing::IsOk());
    supervisor.principal.organisation_id = made->id();
    v1::User user;
    user.set_username("caseworker");
    user.set_display_name("Case worker");
    user.set_organisation_id(made->id());
    user.add_roles(v1::ROLE_CASEWORKER);
    ASSERT_THAT(vault->accounts().CreateUser(admin, user), ::haven::testing::IsOk());
    absl::StatusOr<v1::CaseRecord> record = vault->case_door().CreateCase(
        supervisor, "case.create", [&](CaseScope& scope) -> absl::Status {
          v1::Subject subject;
          subject.set_given_name("Amina");
          subject.set_family_name("Okafor");
          if (absl::Status s = scope.Save(RecordKind::kSubject, "", subject); !s.ok()) return s;
          scope.mutable_record()->set_next_deadline_micros(absl::ToUnixMicros(due));
          return scope.RaiseAlert(v1::ALERT_KIND_NON_PUNISHMENT, {scope.case_id()},
                                  {"", made->id()});
        });
    ASSERT_THAT(record, ::haven::testing::IsOk());
    case_id = ToHex(record->id());
    RewindToVersion1(vault->store());
  }
  for (int reopening = 0; reopening < 2; ++reopening) {
    std::unique_ptr<Vault> vault = Open();
    ASSERT_NE(vault, nullptr);
    EXPECT_EQ(vault->store().schema_version(), storage::kSchemaVersion);
    auto alerts = vault->case_door().ListAlerts(supervisor, 10, "", false);
    ASSERT_THAT(alerts, ::haven::testing::IsOk());
    ASSERT_EQ(alerts->first.size(), 1u);
    EXPECT_EQ(alerts->first[0].case_ids(0), case_id);
    CaseQuery by_deadline;
    by_deadline.deadline_before = due + absl::Hours(1);
    CaseQuery by_name;
    by_name.name_keys = NameMatchKeys("Okafor");
    for (const CaseQuery& query : {by_deadline, by_name}) {
      std::vector<std::string> found;
      absl::StatusOr<std::string> next = vault->case_door().ForEachReadableCase(
          supervisor, query, "case.search", [&](CaseScope& scope) {
            found.push_back(scope.case_id());
            return absl::OkStatus();
          });
      HAVEN_EXPECT_OK(next);
      EXPECT_EQ(found, std::vector<std::string>{case_id});
    }
    auto users = vault->accounts().ListUsers(admin, supervisor.principal.organisation_id, 10, "");
    ASSERT_THAT(users, ::haven::testing::IsOk());
    ASSERT_EQ(users->first.size(), 1u);
    EXPECT_EQ(users->first[0].username(), "caseworker");
  }
}

// A schema-2 store: statistics records only for erased cases, keyed by the
// raw case id; none for live cases.
TEST_F(VaultTest, MigratesStatisticsToRandomIdsThatNoCaseLeadsTo) {
  using storage::Cf;
  const RequestContext supervisor = Supervisor();
  std::string erased_raw, live_raw;
  auto scan = [](storage::Store& store, storage::Cf cf, absl::string_view prefix = "") {
    std::vector<std::pair<std::string, std::string>> out;
    EXPECT_TRUE(store
                    .Scan(cf, prefix, "",
                          [&](absl::string_view k, absl::string_view v) {
                            out.emplace_back(std::string(k), std::string(v));
                            return true;
                          })
                    .ok());
    return out;
  };
  {
    std::unique_ptr<Vault> vault = Open();
    ASSERT_NE(vault, nullptr);
    for (std::string* raw : {&erased_raw, &live_raw}) {
      absl::StatusOr<v1::CaseRecord> record = vault->case_door().CreateCase(
          supervisor, "case.create", [](CaseScope& scope) -> absl::Status {
            v1::Subject subject;
            subject.set_given_name("Amina");
            subject.set_sex(v1::SEX_FEMALE);
            subject.add_citizenships("NG");
            return scope.Save(RecordKind::kSubject, "", subject);
          });
      ASSERT_THAT(record, ::haven::testing::IsOk());
      *raw = record->id();
    }
    HAVEN_ASSERT_OK(vault->case_door().WithCase(supervisor, ToHex(erased_raw),
                                                v1::CASE_ACTION_ERASE, "case.erase",
                                                [](CaseScope& scope) { return scope.Shred(); }));
    // Back to schema 2's layout.
    storage::Store& store = vault->store();
    auto kept = scan(store, Cf::kCaseStatistics);
    ASSERT_EQ(kept.size(), 2u);
    std::unique_ptr<storage::Txn> txn = store.Begin();
    std::string live_link = live_raw;
    live_link.push_back(static_cast<char>(RecordKind::kStatisticsLink));
    for (const auto& [id, sealed] : kept) {
      HAVEN_ASSERT_OK(txn->Delete(Cf::kCaseStatistics, id));
      absl::StatusOr<std::string> plain =
          db_.keys().OpenStatistics(sealed, absl::StrCat("statistics:", id));
      HAVEN_ASSERT_OK(plain);
      v1::CaseStatistics stats;
      ASSERT_TRUE(stats.ParseFromString(*plain));
      if (stats.case_status() == v1::CASE_STATUS_ERASED) {
        HAVEN_ASSERT_OK(txn->Put(
            Cf::kCaseStatistics, erased_raw,
            db_.keys().SealStatistics(*plain, absl::StrCat("statistics:", erased_raw))));
      }
    }
    HAVEN_ASSERT_OK(txn->Delete(Cf::kCaseData, live_link));
    HAVEN_ASSERT_OK(store.Commit(std::move(txn)));
    HAVEN_ASSERT_OK(store.SetSchemaVersion(2));
  }
  for (int reopening = 0; reopening < 2; ++reopening) {
    std::unique_ptr<Vault> vault = Open();
    ASSERT_NE(vault, nullptr);
    EXPECT_EQ(vault->store().schema_version(), storage::kSchemaVersion);
    auto kept = scan(vault->store(), Cf::kCaseStatistics);
    ASSERT_EQ(kept.size(), 2u) << "each case once, however often the store is opened";
    int erased = 0;
    for (const auto& [id, sealed] : kept) {
      EXPECT_NE(id, erased_raw);
      EXPECT_NE(id, live_raw);
      absl::StatusOr<std::string> plain =
          db_.keys().OpenStatistics(sealed, absl::StrCat("statistics:", id));
      HAVEN_ASSERT_OK(plain);
      v1::CaseStatistics stats;
      ASSERT_TRUE(stats.ParseFromString(*plain));
      EXPECT_EQ(stats.sex(), v1::SEX_FEMALE);
      if (stats.case_status() == v1::CASE_STATUS_ERASED) ++erased;
    }
    EXPECT_EQ(erased, 1);
  }
}

// A schema-3 store: an erased case that kept its name keys and assignee,
// hotline contacts escalated to cases with no index from case to contact,
// and the erased case's contact still holding its caller's details.
TEST_F(VaultTest, MigratesErasuresSoThatNothingLeadsBackToAnErasedCase) {
  using storage::Cf;
  const RequestContext supervisor = Supervisor();
  std::string erased_raw, live_raw;
  std::map<std::string, std::string> contact_of;  // raw case id -> raw contact id
  {
    std::unique_ptr<Vault> vault = Open();
    ASSERT_NE(vault, nullptr);
    storage::Store& store = vault->store();
    for (std::string* raw : {&erased_raw, &live_raw}) {
      absl::StatusOr<v1::CaseRecord> record = vault->case_door().CreateCase(
          supervisor, "case.create", [](CaseScope& scope) -> absl::Status {
            v1::Subject subject;
            subject.set_given_name("Amina");
            subject.set_family_name("Bello");
            return scope.Save(RecordKind::kSubject, "", subject);
          });
      ASSERT_THAT(record, ::haven::testing::IsOk());
      *raw = record->id();
      v1::ContactRecord contact;
      contact.set_id(NewRawId());
      contact.set_organisation_id(supervisor.principal.organisation_id);
      contact.set_case_id(ToHex(*raw));
      contact.set_sealed_details("sealed caller details");
      contact.set_phone_blind("blinded phone number");
      contact.mutable_data_key()->set_sealed_key("wrapped contact key");
      std::unique_ptr<storage::Txn> txn = store.Begin();
      HAVEN_ASSERT_OK(txn->Put(Cf::kContacts, contact.id(), contact.SerializeAsString()));
      HAVEN_ASSERT_OK(store.Commit(std::move(txn)));
      contact_of[*raw] = contact.id();
    }
    absl::StatusOr<std::optional<std::string>> before = store.Get(Cf::kCases, erased_raw);
    ASSERT_TRUE(before.ok() && before->has_value());
    v1::CaseRecord kept;
    ASSERT_TRUE(kept.ParseFromString(**before));
    ASSERT_GT(kept.name_index_keys_size(), 0);
    kept.add_assignee_ids(supervisor.principal.id);
    HAVEN_ASSERT_OK(vault->case_door().WithCase(supervisor, ToHex(erased_raw),
                                                v1::CASE_ACTION_ERASE, "case.erase",
                                                [](CaseScope& scope) { return scope.Shred(); }));
    // Back to schema 3's layout: what an erasure kept then, and no index
    // from case to contact.
    kept.set_status(v1::CASE_STATUS_ERASED);
    std::unique_ptr<storage::Txn> txn = store.Begin();
    HAVEN_ASSERT_OK(txn->Put(Cf::kCases, erased_raw, kept.SerializeAsString()));
    HAVEN_ASSERT_OK(txn->Delete(Cf::kErasurePurges, erased_raw));
    for (const auto& [c, contact] : contact_of) {
      HAVEN_ASSERT_OK(txn->Delete(Cf::kContactIndex, ContactsOfCasePrefix(ToHex(c)) + contact));
    }
    HAVEN_ASSERT_OK(store.Commit(std::move(txn)));
    HAVEN_ASSERT_OK(store.SetSchemaVersion(3));
  }
  std::unique_ptr<Vault> vault = Open();
  ASSERT_NE(vault, nullptr);
  storage::Store& store = vault->store();
  EXPECT_EQ(store.schema_version(), 4u);
  absl::StatusOr<std::optional<std::string>> stored = store.Get(Cf::kCases, erased_raw);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  v1::CaseRecord erased;
  ASSERT_TRUE(erased.ParseFromString(**stored));
  EXPECT_EQ(erased.status(), v1::CASE_STATUS_ERASED);
  EXPECT_EQ(erased.name_index_keys_size(), 0);
  EXPECT_EQ(erased.assignee_ids_size(), 0);
  stored = store.Get(Cf::kErasurePurges, erased_raw);
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored->has_value()) << "its key ranges wait for the purge";
  for (const auto& [c, contact] : contact_of) {
    stored = store.Get(Cf::kContactIndex, ContactsOfCasePrefix(ToHex(c)) + contact);
    ASSERT_TRUE(stored.ok());
    EXPECT_TRUE(stored->has_value()) << "every escalated contact is indexed by its case";
    stored = store.Get(Cf::kContacts, contact);
    ASSERT_TRUE(stored.ok() && stored->has_value());
    v1::ContactRecord record;
    ASSERT_TRUE(record.ParseFromString(**stored));
    const bool of_erased = c == erased_raw;
    EXPECT_EQ(record.sealed_details().empty(), of_erased);
    EXPECT_EQ(record.phone_blind().empty(), of_erased);
    EXPECT_EQ(record.has_data_key(), !of_erased);
  }
}

}  // namespace
}  // namespace haven::access
