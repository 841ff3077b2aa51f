// Backups (storage/backup.h) of a store that is being written to: every
// write acknowledged before the backup began is in it, the restored copy's
// audit chain verifies, a restore never overwrites, and a case erased
// before a backup is in no file of it.
#include "storage/backup.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "haven/v1/case.pb.h"
#include "rocksdb/env.h"
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

constexpr char kBackups[] = "/haven-backups";

class BackupTest : public ::testing::Test {
 protected:
  BackupTest() {
    caseworker_.principal.id = NewId();
    caseworker_.principal.organisation_id = NewId();
    caseworker_.principal.roles = {v1::ROLE_CASEWORKER};
    caseworker_.purpose = "case-management";
    supervisor_ = caseworker_;
    supervisor_.principal.id = NewId();
    supervisor_.principal.roles = {v1::ROLE_SUPERVISOR};
  }

  // A vault on the memory env at `path`.
  std::unique_ptr<Vault> Open(const std::string& path) {
    Vault::Options options;
    options.path = path;
    options.env = db_.env();
    options.keys = &db_.keys();
    options.clock = &db_.clock();
    absl::StatusOr<std::unique_ptr<Vault>> vault = Vault::Open(options);
    EXPECT_THAT(vault, ::haven::testing::IsOk());
    return vault.ok() ? *std::move(vault) : nullptr;
  }

  absl::StatusOr<std::string> CreateCase(Vault& vault, const std::string& name) {
    absl::StatusOr<v1::CaseRecord> record =
        vault.case_door().CreateCase(caseworker_, "case.create", [&](CaseScope& scope) {
          v1::Subject subject;
          subject.set_given_name(name);
          return scope.Save(RecordKind::kSubject, "", subject);
        });
    if (!record.ok()) return record.status();
    return ToHex(record->id());
  }

  absl::StatusOr<std::string> GivenName(Vault& vault, const std::string& id) {
    v1::Subject subject;
    absl::Status s = vault.case_door().WithCase(
        caseworker_, id, v1::CASE_ACTION_READ, "case.read",
        [&](CaseScope& scope) { return scope.Load(RecordKind::kSubject, "", &subject).status(); });
    if (!s.ok()) return s;
    return subject.given_name();
  }

  // Every byte of every file in a restored copy.
  std::string AllBytes(const std::string& dir) {
    std::vector<std::string> children;
    EXPECT_TRUE(db_.env()->GetChildren(dir, &children).ok());
    std::string all;
    for (const std::string& child : children) {
      std::string data;
      if (rocksdb::ReadFileToString(db_.env(), absl::StrCat(dir, "/", child), &data).ok()) {
        all += data;
      }
    }
    return all;
  }

  MemStore db_;
  RequestContext caseworker_;
  RequestContext supervisor_;
};

TEST_F(BackupTest, BackupUnderLoadHoldsEveryWriteAcknowledgedBeforeItAndItsChainVerifies) {
  std::unique_ptr<Vault> vault = Open(db_.path());
  ASSERT_NE(vault, nullptr);

  std::atomic<bool> backup_started{false};
  std::atomic<bool> stop{false};
  std::atomic<int> created{0};
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> before;  // id, name; guarded by mu
  std::vector<std::thread> writers;
  for (int w = 0; w < 6; ++w) {
    writers.emplace_back([&, w] {
      for (int n = 0; !stop.load(); ++n) {
        const std::string name = absl::StrCat("Person ", w, "-", n);
        absl::StatusOr<std::string> id = CreateCase(*vault, name);
        ASSERT_THAT(id, ::haven::testing::IsOk());
        ++created;
        // Acknowledged before the backup began, if the flag is still down.
        if (!backup_started.load()) {
          std::lock_guard<std::mutex> lock(mu);
          before.emplace_back(*id, name);
        }
      }
    });
  }
  while (created.load() < 200) std::this_thread::yield();
  backup_started = true;
  absl::StatusOr<storage::BackupSummary> made = vault->Backup(kBackups, 0);
  const int created_by_end_of_backup = created.load();
  stop = true;
  for (std::thread& t : writers) t.join();
  HAVEN_ASSERT_OK(made);
  std::printf("%zu cases acknowledged before the backup began, %d created by its end\n",
              before.size(), created_by_end_of_backup);
  ASSERT_GE(before.size(), 200u);
  EXPECT_GT(made->audit_sequence, 0u);

  absl::StatusOr<storage::BackupCheck> check = storage::VerifyBackup(
      kBackups, 0, "/haven-verify", &db_.keys(), &db_.clock(), db_.env());
  HAVEN_ASSERT_OK(check);
  EXPECT_EQ(check->backup.id, made->id);
  EXPECT_GE(check->audit_entries, made->audit_sequence);
  EXPECT_GT(check->audit_checkpoints, 0u);

  HAVEN_ASSERT_OK(storage::RestoreBackup(kBackups, 0, "/haven-restored", db_.env()));
  std::unique_ptr<Vault> restored = Open("/haven-restored");
  ASSERT_NE(restored, nullptr);
  EXPECT_TRUE(restored->store().VerifyAudit().ok);
  EXPECT_GE(restored->last_audit_sequence(), made->audit_sequence);
  for (const auto& [id, name] : before) {
    absl::StatusOr<std::string> got = GivenName(*restored, id);
    HAVEN_ASSERT_OK(got) << "case " << id << " acknowledged before the backup is missing";
    EXPECT_EQ(*got, name);
  }
}

TEST_F(BackupTest, RestoreNeverOverwrites) {
  std::unique_ptr<Vault> vault = Open(db_.path());
  ASSERT_NE(vault, nullptr);
  HAVEN_ASSERT_OK(CreateCase(*vault, "Amina"));
  HAVEN_ASSERT_OK(vault->Backup(kBackups, 0));
  EXPECT_THAT(storage::RestoreBackup(kBackups, 0, db_.path(), db_.env()),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("not empty")));
  EXPECT_THAT(storage::RestoreBackup(kBackups, 7, "/haven-elsewhere", db_.env()),
              StatusIs(absl::StatusCode::kNotFound, ::testing::HasSubstr("no backup 7")));
  EXPECT_THAT(storage::RestoreBackup("/haven-no-backups", 0, "/haven-elsewhere", db_.env()),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

TEST_F(BackupTest, KeepsTheNewestBackupsAsAsked) {
  std::unique_ptr<Vault> vault = Open(db_.path());
  ASSERT_NE(vault, nullptr);
  for (int i = 0; i < 4; ++i) {
    HAVEN_ASSERT_OK(CreateCase(*vault, "Amina"));
    HAVEN_ASSERT_OK(vault->Backup(kBackups, 2));
  }
  absl::StatusOr<std::vector<storage::BackupSummary>> kept = storage::ListBackups(kBackups, db_.env());
  HAVEN_ASSERT_OK(kept);
  ASSERT_EQ(kept->size(), 2u);
  EXPECT_EQ((*kept)[0].id, 3u);
  EXPECT_EQ((*kept)[1].id, 4u);
}

// Erasure destroys the case's wrapped data key: a backup made after it
// holds the key in none of its files, so the case cannot be opened from it.
// One made before still can until it is deleted (backups_to_keep).
TEST_F(BackupTest, ACaseErasedBeforeABackupIsInNoFileOfIt) {
  std::unique_ptr<Vault> vault = Open(db_.path());
  ASSERT_NE(vault, nullptr);
  absl::StatusOr<std::string> erased = CreateCase(*vault, "Amina");
  absl::StatusOr<std::string> kept = CreateCase(*vault, "Grace");
  HAVEN_ASSERT_OK(erased);
  HAVEN_ASSERT_OK(kept);
  absl::StatusOr<std::optional<std::string>> wrapped_key =
      vault->store().Get(storage::Cf::kCaseKeys, *FromHex(*erased, "case id"));
  HAVEN_ASSERT_OK(wrapped_key);
  ASSERT_TRUE(wrapped_key->has_value());

  absl::StatusOr<storage::BackupSummary> before = vault->Backup(kBackups, 0);
  HAVEN_ASSERT_OK(before);
  HAVEN_ASSERT_OK(vault->case_door().WithCase(supervisor_, *erased, v1::CASE_ACTION_ERASE,
                                              "case.erase",
                                              [](CaseScope& scope) { return scope.Shred(); }));
  HAVEN_ASSERT_OK(vault->case_door().PurgeErasedCases());  // as havend does in the background
  absl::StatusOr<storage::BackupSummary> after = vault->Backup(kBackups, 0);
  HAVEN_ASSERT_OK(after);

  HAVEN_ASSERT_OK(storage::RestoreBackup(kBackups, after->id, "/haven-after", db_.env()));
  EXPECT_EQ(AllBytes("/haven-after").find(**wrapped_key), std::string::npos)
      << "the erased case's data key is in a backup made after its erasure";
  {
    std::unique_ptr<Vault> restored = Open("/haven-after");
    ASSERT_NE(restored, nullptr);
    EXPECT_THAT(GivenName(*restored, *erased), StatusIs(absl::StatusCode::kNotFound, ::testing::_));
    absl::StatusOr<std::string> other = GivenName(*restored, *kept);
    HAVEN_ASSERT_OK(other);
    EXPECT_EQ(*other, "Grace");
  }

  // The same check finds the key in the backup made before the erasure:
  // the check can fail, and that backup still opens the case.
  HAVEN_ASSERT_OK(storage::RestoreBackup(kBackups, before->id, "/haven-before", db_.env()));
  EXPECT_NE(AllBytes("/haven-before").find(**wrapped_key), std::string::npos);
  std::unique_ptr<Vault> restored = Open("/haven-before");
  ASSERT_NE(restored, nullptr);
  absl::StatusOr<std::string> name = GivenName(*restored, *erased);
  HAVEN_ASSERT_OK(name);
  EXPECT_EQ(*name, "Amina");
}

TEST_F(BackupTest, VerifyFindsADamagedFile) {
  std::unique_ptr<Vault> vault = Open(db_.path());
  ASSERT_NE(vault, nullptr);
  HAVEN_ASSERT_OK(CreateCase(*vault, "Amina"));
  HAVEN_ASSERT_OK(vault->Backup(kBackups, 0));
  HAVEN_ASSERT_OK(storage::VerifyBackup(kBackups, 0, "/haven-verify", &db_.keys(), &db_.clock(),
                                        db_.env()));
  // Damage the backup's largest file: flip a byte in its middle.
  std::string victim;
  uint64_t largest = 0;
  for (const std::string& dir : {absl::StrCat(kBackups, "/shared_checksum"),
                                absl::StrCat(kBackups, "/private/1")}) {
    std::vector<std::string> files;
    if (!db_.env()->GetChildren(dir, &files).ok()) continue;
    for (const std::string& f : files) {
      uint64_t size = 0;
      const std::string path = absl::StrCat(dir, "/", f);
      if (db_.env()->GetFileSize(path, &size).ok() && size > largest) {
        largest = size;
        victim = path;
      }
    }
  }
  ASSERT_FALSE(victim.empty());
  std::string data;
  ASSERT_TRUE(rocksdb::ReadFileToString(db_.env(), victim, &data).ok());
  data[data.size() / 2] ^= 0x5a;
  ASSERT_TRUE(rocksdb::WriteStringToFile(db_.env(), data, victim, true).ok());
  EXPECT_THAT(storage::VerifyBackup(kBackups, 0, "/haven-verify", &db_.keys(), &db_.clock(),
                                    db_.env()),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::HasSubstr("damaged")));
}

}  // namespace
}  // namespace haven::access
