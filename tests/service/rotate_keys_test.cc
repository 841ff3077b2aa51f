// havend rotate-keys and destroy-retired-keys on a store on disk: a new
// epoch wraps every key, the old one is destroyed only once
// backup_retention_days have passed on the (injected) clock, and never
// while a stored key still needs it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "services/server/config.h"
#include "services/server/haven_server.h"
#include "storage/access/case_door.h"
#include "storage/access/data_keys.h"
#include "storage/clock.h"
#include "storage/crypto.h"
#include "storage/ids.h"
#include "storage/store.h"

namespace haven::server {
namespace {

using ::testing::HasSubstr;
namespace v1 = haven::v1;

class RotateKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Init().ok());
    std::string tmpl = ::testing::TempDir() + "haven-rotate-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    v1::ServerConfig config;
    config.set_data_dir(dir_ + "/data");
    config.set_master_key_file(dir_ + "/master.key");
    config.set_audit_signing_key_file(dir_ + "/audit-signing.key");
    config.set_audit_witness_file(dir_ + "/audit-witness.log");
    config.set_wrap_keys_file(dir_ + "/wrap.keys");
    config.set_listen_address("127.0.0.1:0");
    config.set_backup_retention_days(35);
    absl::StatusOr<v1::ServerConfig> finished = Finish(config);
    ASSERT_TRUE(finished.ok()) << finished.status();
    config_ = *finished;
    ASSERT_TRUE(InitDataDirectory(config_, "admin").ok());
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::unique_ptr<HavenServer> Start() {
    HavenServer::Options options;
    options.clock = &clock_;
    options.partner_worker = false;
    absl::StatusOr<std::unique_ptr<HavenServer>> server = HavenServer::Start(config_, options);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  access::RequestContext Caseworker() {
    access::RequestContext ctx;
    ctx.principal.id = "caseworker";
    ctx.principal.organisation_id = "organisation";
    ctx.principal.roles = {v1::ROLE_CASEWORKER};
    ctx.purpose = "case-management";
    return ctx;
  }

  // Creates a case through havend's door and returns its raw id.
  std::string CreateCase() {
    std::unique_ptr<HavenServer> server = Start();
    if (server == nullptr) return "";
    absl::StatusOr<v1::CaseRecord> record = server->vault().case_door().CreateCase(
        Caseworker(), "case.create", [](access::CaseScope& scope) {
          v1::Subject s;
          s.set_given_name("Amina");
          return scope.Save(access::RecordKind::kSubject, "", s);
        });
    EXPECT_TRUE(record.ok()) << record.status();
    server->Shutdown(absl::Now());
    return record.ok() ? record->id() : "";
  }

  // The case's stored wrapped key (as a backup taken now would hold it).
  v1::WrappedKey StoredKey(const std::string& raw_id) {
    std::unique_ptr<HavenServer> server = Start();
    v1::WrappedKey wrapped;
    if (server == nullptr) return wrapped;
    absl::StatusOr<std::optional<std::string>> raw =
        server->vault().store().Get(storage::Cf::kCaseKeys, raw_id);
    EXPECT_TRUE(raw.ok() && raw->has_value() && wrapped.ParseFromString(**raw));
    server->Shutdown(absl::Now());
    return wrapped;
  }

  std::string WrapKeysFile() {
    std::ifstream in(config_.wrap_keys_file());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  absl::StatusOr<std::unique_ptr<crypto::KeyRing>> Keys() {
    return crypto::KeyRing::Load(crypto::FileKeySource(
        config_.master_key_file(), config_.audit_signing_key_file(), config_.wrap_keys_file()));
  }

  std::string dir_;
  v1::ServerConfig config_;
  ManualClock clock_;
};

TEST_F(RotateKeysTest, AnOldEpochIsDestroyedOnlyAfterTheBackupRetention) {
  const std::string case_id = CreateCase();
  ASSERT_EQ(StoredKey(case_id).epoch(), 1u);

  absl::StatusOr<RotationReport> first = RotateKeys(config_, clock_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->epoch, 2u);
  EXPECT_EQ(first->rewrapped, 1u);
  EXPECT_TRUE(first->destroyed.empty());
  EXPECT_EQ(StoredKey(case_id).epoch(), 2u);
  const v1::WrappedKey backup = StoredKey(case_id);  // a backup taken after the rotation

  // A second rotation: epoch 2 retired now.
  absl::StatusOr<RotationReport> second = RotateKeys(config_, clock_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->epoch, 3u);

  // One day short of the retention, nothing is destroyed: backups kept that
  // long may still need epoch 2.
  clock_.Advance(absl::Hours(24 * 35) - absl::Seconds(1));
  absl::StatusOr<std::vector<uint32_t>> early = DestroyRetiredKeys(config_, clock_);
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_TRUE(early->empty());
  {
    absl::StatusOr<std::unique_ptr<crypto::KeyRing>> keys = Keys();
    ASSERT_TRUE(keys.ok()) << keys.status();
    EXPECT_TRUE(access::UnwrapKey(**keys, backup, crypto::KeyDomain::kCase, case_id).ok());
  }

  clock_.Advance(absl::Seconds(1));
  absl::StatusOr<std::vector<uint32_t>> destroyed = DestroyRetiredKeys(config_, clock_);
  ASSERT_TRUE(destroyed.ok()) << destroyed.status();
  EXPECT_EQ(*destroyed, (std::vector<uint32_t>{1, 2}));
  EXPECT_THAT(WrapKeysFile(), ::testing::StartsWith("3 "));
  // The backup's copy of the case key is unreadable now; the live case is not.
  absl::StatusOr<std::unique_ptr<crypto::KeyRing>> keys = Keys();
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_FALSE(access::UnwrapKey(**keys, backup, crypto::KeyDomain::kCase, case_id).ok());
  std::unique_ptr<HavenServer> server = Start();
  ASSERT_NE(server, nullptr);
  absl::Status read = server->vault().case_door().WithCase(
      Caseworker(), ToHex(case_id), v1::CASE_ACTION_READ, "case.read", [](access::CaseScope& scope) {
        v1::Subject s;
        absl::StatusOr<bool> found = scope.Load(access::RecordKind::kSubject, "", &s);
        if (!found.ok()) return found.status();
        return s.given_name() == "Amina" ? absl::OkStatus() : absl::DataLossError("wrong subject");
      });
  EXPECT_TRUE(read.ok()) << read;
}

TEST_F(RotateKeysTest, AnEpochStillInUseIsNeverDestroyed) {
  CreateCase();  // wrapped under epoch 1
  // A wrap keys file that says epoch 1 was retired long ago, while the
  // store still has a key under it (a rotation that never ran to the end).
  {
    std::ofstream out(config_.wrap_keys_file());
    out << "1 - 1\n2 " << std::string(43, 'A') << "= 0\n";
  }
  ASSERT_EQ(chmod(config_.wrap_keys_file().c_str(), 0600), 0);
  absl::StatusOr<std::vector<uint32_t>> destroyed = DestroyRetiredKeys(config_, clock_);
  EXPECT_EQ(destroyed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(destroyed.status().message(), HasSubstr("epoch 1 still wraps 1 data keys"));
  EXPECT_THAT(WrapKeysFile(), ::testing::StartsWith("1 - 1\n")) << "epoch 1 was destroyed";
}

TEST_F(RotateKeysTest, TheConfigNeedsAnAuditKeyAndAWitnessOutsideTheStore) {
  v1::ServerConfig config = config_;
  config.clear_audit_signing_key_file();
  absl::StatusOr<v1::ServerConfig> finished = Finish(config);
  EXPECT_EQ(finished.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(finished.status().message(), HasSubstr("audit_signing_key_file is required"));
  config = config_;
  config.set_audit_witness_file(config_.data_dir() + "/witness.log");
  finished = Finish(config);
  EXPECT_EQ(finished.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(finished.status().message(), HasSubstr("outside data_dir"));
}

TEST_F(RotateKeysTest, TheConfigKeepsNoBackupLongerThanTheKeysItNeeds) {
  v1::ServerConfig config = config_;
  config.set_backup_directory(dir_ + "/backups");
  config.set_backup_interval_minutes(60);
  config.set_backups_to_keep(24 * 35);  // exactly the retention: fine
  EXPECT_TRUE(Finish(config).ok());
  config.set_backups_to_keep(24 * 35 + 1);
  absl::StatusOr<v1::ServerConfig> finished = Finish(config);
  EXPECT_EQ(finished.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(finished.status().message(), HasSubstr("backup_retention_days"));
}

}  // namespace
}  // namespace haven::server
