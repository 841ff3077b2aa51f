// End-to-end tests of the real havend binary over gRPC on loopback: serving, privacy at rest, durability, input checks, mTLS, shutdown and a login storm.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "haven/v1/protection.grpc.pb.h"
#include "haven/v1/statistics.grpc.pb.h"
#include "tests/e2e/havend_process.h"

namespace haven::e2e {
namespace {

namespace v1 = haven::v1;
using grpc::StatusCode;

class HavendTest : public ::testing::Test {
 protected:
  // A fresh havend: init, start, and its administrator activated.
  void Boot(const std::string& extra_config = "") {
    havend_ = std::make_unique<HavendProcess>(extra_config);
    ASSERT_NO_FATAL_FAILURE(havend_->Init());
    ASSERT_NO_FATAL_FAILURE(Restart());
    ASSERT_NO_FATAL_FAILURE(SetUpAdministrator(*havend_, *client_, &admin_));
  }

  // "Safe Harbour", an NGO with one caseworker, "worker.a".
  void SetUpSafeHarbour(Team* out) {
    SetUpTeam(*client_, admin_, "Safe Harbour", v1::ORGANISATION_TYPE_NGO,
              {{"worker.a", v1::ROLE_CASEWORKER}}, out);
  }

  // Starts havend again on the same directory and reconnects.
  void Restart() {
    client_.reset();
    ASSERT_NO_FATAL_FAILURE(havend_->Start());
    client_ = std::make_unique<Client>(havend_->channel());
  }

  void ExpectCleanTerminate() {
    client_.reset();
    int status = havend_->Terminate();
    EXPECT_TRUE(ExitedCleanly(status)) << "on SIGTERM havend " << DescribeWaitStatus(status)
                                       << "\n" << havend_->ReadLog();
  }

  // Each case (id, given name) reads back as `who` with its name; `when`
  // says what it was acknowledged before.
  void ExpectCasesReadable(const Actor& who,
                           const std::vector<std::pair<std::string, std::string>>& cases,
                           const std::string& when) {
    for (const auto& [id, name] : cases) {
      v1::GetCaseRequest get;
      get.set_case_id(id);
      v1::Case read;
      grpc::Status s = client_->cases->GetCase(Ctx(who.token).get(), get, &read);
      ASSERT_TRUE(s.ok()) << "case " << id << " acknowledged " << when << ": " << Describe(s);
      EXPECT_EQ(read.subject().given_name(), name);
    }
  }

  v1::VerifyAuditChainResponse Verify() {
    v1::VerifyAuditChainResponse v;
    grpc::Status s = client_->audit->VerifyAuditChain(Ctx(admin_.token).get(),
                                                      v1::VerifyAuditChainRequest(), &v);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return v;
  }

  std::unique_ptr<HavendProcess> havend_;
  std::unique_ptr<Client> client_;
  Actor admin_;
};

v1::Subject MakeSubject(const std::string& given_name, const std::string& family_name) {
  v1::Subject s;
  s.set_given_name(given_name);
  s.set_family_name(family_name);
  s.set_sex(v1::SEX_FEMALE);
  s.mutable_date_of_birth()->set_year(1999);
  s.mutable_date_of_birth()->set_month(4);
  s.mutable_date_of_birth()->set_day(17);
  s.add_citizenships("NG");
  s.add_languages("en");
  return s;
}

// Creates a case as `worker`; its id, or "" after a failed expectation.
std::string CreateCase(Client& client, const Actor& worker, const std::string& given,
                       const std::string& family) {
  v1::CreateCaseRequest create;
  *create.mutable_subject() = MakeSubject(given, family);
  v1::Case created;
  grpc::Status s = client.cases->CreateCase(Ctx(worker.token).get(), create, &created);
  EXPECT_TRUE(s.ok()) << Describe(s);
  return created.id();
}

bool AnyFileNamed(const std::string& dir, const std::string& suffix, bool non_empty) {
  for (const std::string& file : FilesUnder(dir)) {
    if (file.size() >= suffix.size() &&
        file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        (!non_empty || !ReadFile(file).empty())) {
      return true;
    }
  }
  return false;
}

bool HasCaseCreateEntry(const v1::QueryAuditEntriesResponse& r, const std::string& principal_id) {
  for (const v1::AuditEntry& e : r.entries()) {
    if (e.action() == "case.create" && e.outcome() == v1::AUDIT_OUTCOME_ALLOWED &&
        e.principal_id() == principal_id) {
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------- 1

TEST_F(HavendTest, ServesHealthAndCasesOverRealGrpc) {
  ASSERT_NO_FATAL_FAILURE(Boot());

  std::string health;
  grpc::Status s = CheckHealth(havend_->channel(), &health);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(health, std::string("\x08\x01", 2)) << "HealthCheckResponse{status: SERVING}";
  std::string services;
  s = ListServicesByReflection(havend_->channel(), &services);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_NE(services.find("haven.v1.CaseService"), std::string::npos) << "reflection is off";
  EXPECT_NE(services.find("grpc.health.v1.Health"), std::string::npos);

  Team ngo, other;
  ASSERT_NO_FATAL_FAILURE(SetUpSafeHarbour(&ngo));
  ASSERT_NO_FATAL_FAILURE(SetUpTeam(*client_, admin_, "Other Shelter", v1::ORGANISATION_TYPE_NGO,
                                    {{"worker.b", v1::ROLE_CASEWORKER}}, &other));
  const Actor& worker = ngo.users[0];
  const Actor& stranger = other.users[0];

  v1::CreateCaseRequest create;
  *create.mutable_subject() = MakeSubject("Amina", "Okafor");
  v1::Case created;
  s = client_->cases->CreateCase(Ctx(worker.token).get(), create, &created);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(created.id().size(), 32u);
  EXPECT_EQ(created.owning_organisation_id(), ngo.organisation_id);
  EXPECT_EQ(created.status(), v1::CASE_STATUS_OPEN);
  EXPECT_EQ(created.version(), 1u);

  v1::GetCaseRequest get;
  get.set_case_id(created.id());
  v1::Case read;
  s = client_->cases->GetCase(Ctx(worker.token).get(), get, &read);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(read.id(), created.id());
  EXPECT_EQ(read.subject().given_name(), "Amina");
  EXPECT_EQ(read.subject().family_name(), "Okafor");
  EXPECT_EQ(read.subject().date_of_birth().year(), 1999);
  EXPECT_EQ(read.subject().citizenships(0), "NG");

  // Another organisation's caseworker, and the administrator, see nothing:
  // the same answer as for a case that does not exist.
  v1::Case denied;
  s = client_->cases->GetCase(Ctx(stranger.token).get(), get, &denied);
  EXPECT_EQ(s.error_code(), StatusCode::NOT_FOUND) << Describe(s);
  EXPECT_FALSE(denied.has_subject());
  s = client_->cases->GetCase(Ctx(admin_.token).get(), get, &denied);
  EXPECT_EQ(s.error_code(), StatusCode::NOT_FOUND) << Describe(s);
  EXPECT_FALSE(denied.has_subject());
  v1::GetCaseRequest missing;
  missing.set_case_id(std::string(32, '0'));
  v1::Case nothing;
  grpc::Status absent = client_->cases->GetCase(Ctx(worker.token).get(), missing, &nothing);
  EXPECT_EQ(absent.error_code(), StatusCode::NOT_FOUND) << Describe(absent);
  EXPECT_EQ(absent.error_message(), s.error_message()) << "a denial must look like a missing case";

  // StatisticsService answers, and only analysts: a caseworker is denied.
  auto statistics = v1::StatisticsService::NewStub(havend_->channel());
  v1::GetCountsRequest by_sex;
  by_sex.add_group_by("sex");
  v1::GetCountsResponse counts;
  s = statistics->GetCounts(Ctx(worker.token).get(), by_sex, &counts);
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED) << Describe(s);
  EXPECT_EQ(counts.rows_size(), 0);

  ExpectCleanTerminate();
}

// ---------------------------------------------------------------- 2

TEST_F(HavendTest, CanaryNameNeverReachesDiskOrLog) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  Team ngo, other;
  ASSERT_NO_FATAL_FAILURE(SetUpSafeHarbour(&other));
  ASSERT_NO_FATAL_FAILURE(SetUpTeam(*client_, admin_, "Canary Shelter", v1::ORGANISATION_TYPE_NGO,
                                    {{"worker.c", v1::ROLE_CASEWORKER}}, &ngo));
  const Actor& worker = ngo.users[0];
  const Actor& stranger = other.users[0];

  // Writes, reads, updates and failing calls that all carry the canary.
  // Returns the id of the case, or "" after a fatal failure.
  auto exercise = [&](const std::string& token, std::string* case_id) {
    const std::string canary = "Canary" + token;
    v1::CreateCaseRequest create;
    *create.mutable_subject() = MakeSubject(canary + "Given", canary + "Family");
    create.mutable_subject()->add_other_names(canary + "Alias");
    v1::Case created;
    grpc::Status s = client_->cases->CreateCase(Ctx(worker.token).get(), create, &created);
    ASSERT_TRUE(s.ok()) << Describe(s);
    *case_id = created.id();

    // The canary did reach the server and is stored: it comes back.
    v1::GetCaseRequest get;
    get.set_case_id(created.id());
    v1::Case read;
    s = client_->cases->GetCase(Ctx(worker.token).get(), get, &read);
    ASSERT_TRUE(s.ok()) << Describe(s);
    ASSERT_EQ(read.subject().given_name(), canary + "Given");
    ASSERT_EQ(read.subject().family_name(), canary + "Family");
    ASSERT_EQ(read.subject().other_names_size(), 1);
    ASSERT_EQ(read.subject().other_names(0), canary + "Alias");

    v1::UpdateCaseRequest update;
    update.mutable_case_()->set_id(created.id());
    update.mutable_case_()->mutable_subject()->set_given_name(canary + "Renamed");
    update.mutable_case_()->mutable_subject()->add_other_names(canary + "Alias2");
    update.mutable_update_mask()->add_paths("subject.given_name");
    update.mutable_update_mask()->add_paths("subject.other_names");
    v1::Case updated;
    s = client_->cases->UpdateCase(Ctx(worker.token).get(), update, &updated);
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_EQ(updated.subject().given_name(), canary + "Renamed");
    EXPECT_EQ(updated.version(), 2u);
    s = client_->cases->GetCase(Ctx(worker.token).get(), get, &read);
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_EQ(read.subject().given_name(), canary + "Renamed");
    EXPECT_EQ(read.subject().family_name(), canary + "Family");
    ASSERT_EQ(read.subject().other_names_size(), 1);
    EXPECT_EQ(read.subject().other_names(0), canary + "Alias2");

    // An interpreter's identity is sealed like the subject's.
    auto protection = v1::ProtectionService::NewStub(havend_->channel());
    v1::AssignInterpreterRequest interpreter;
    interpreter.set_case_id(created.id());
    interpreter.mutable_interpreter()->set_language("ti");
    interpreter.mutable_interpreter()->set_interpreter_name(canary + "Interpreter");
    interpreter.mutable_interpreter()->set_interpreter_contact(canary + "Phone");
    v1::Interpretation interpretation;
    s = protection->AssignInterpreter(Ctx(worker.token).get(), interpreter, &interpretation);
    ASSERT_TRUE(s.ok()) << Describe(s);
    ASSERT_EQ(interpretation.interpreters_size(), 1);
    EXPECT_EQ(interpretation.interpreters(0).interpreter_name(), canary + "Interpreter");

    // Failing calls that carry the canary: none may echo it.
    std::vector<grpc::Status> failures;
    v1::UpdateCaseRequest bad_date = update;
    bad_date.mutable_case_()->mutable_subject()->set_given_name(canary + "BadDate");
    bad_date.mutable_case_()->mutable_subject()->mutable_date_of_birth()->set_year(2999);
    bad_date.mutable_case_()->mutable_subject()->mutable_date_of_birth()->set_month(1);
    bad_date.mutable_case_()->mutable_subject()->mutable_date_of_birth()->set_day(1);
    bad_date.mutable_update_mask()->add_paths("subject.date_of_birth");
    s = client_->cases->UpdateCase(Ctx(worker.token).get(), bad_date, &updated);
    EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << Describe(s);
    failures.push_back(s);
    v1::CreateCaseRequest bad_sex = create;
    bad_sex.mutable_subject()->set_sex(static_cast<v1::Sex>(99));
    s = client_->cases->CreateCase(Ctx(worker.token).get(), bad_sex, &created);
    EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << Describe(s);
    failures.push_back(s);
    v1::UpdateCaseRequest bad_path = update;
    bad_path.mutable_update_mask()->add_paths("subject." + canary);
    s = client_->cases->UpdateCase(Ctx(worker.token).get(), bad_path, &updated);
    EXPECT_NE(s.error_code(), StatusCode::OK) << "an unknown mask path must be refused";
    v1::UpdateCaseRequest long_name = update;
    long_name.mutable_case_()->mutable_subject()->set_given_name(canary + std::string(300, 'G'));
    s = client_->cases->UpdateCase(Ctx(worker.token).get(), long_name, &updated);
    EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << Describe(s);
    failures.push_back(s);
    s = client_->cases->UpdateCase(Ctx(stranger.token).get(), update, &updated);
    EXPECT_EQ(s.error_code(), StatusCode::NOT_FOUND) << Describe(s);
    failures.push_back(s);
    for (const grpc::Status& f : failures) {
      EXPECT_EQ(Upper(f.error_message()).find(token), std::string::npos) << Describe(f);
    }
  };
  auto needles = [](const std::string& token) {
    return std::vector<std::string>{token, Lower(token), "Canary" + token};
  };

  // Run 1: ends with SIGTERM, which flushes the memtables to SST files.
  const std::string token1 = RandomString(20, kCanaryAlphabet);
  std::string case1;
  ASSERT_NO_FATAL_FAILURE(exercise(token1, &case1));
  ExpectCleanTerminate();
  struct stat st;
  ASSERT_EQ(stat(havend_->data_dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u) << "the data directory is open to others";
  ASSERT_EQ(stat(havend_->path("master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the master key is open to others";
  ASSERT_EQ(stat(havend_->path("audit-signing.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the audit signing key is open to others";
  EXPECT_TRUE(AnyFileNamed(havend_->data_dir(), ".sst", true)) << "no SST file was searched";
  EXPECT_NE(havend_->ReadLog().find("INVALID_ARGUMENT"), std::string::npos)
      << "the failing calls were not logged, so the log check proves little";
  std::vector<std::string> hits = FilesContaining(havend_->dir(), needles(token1));
  EXPECT_TRUE(hits.empty()) << "canary 1 found on disk after SIGTERM:\n" << ::testing::PrintToString(hits);

  // Run 2 on the same store: ends with SIGKILL, so the last writes live
  // only in the write-ahead log.
  ASSERT_NO_FATAL_FAILURE(Restart());
  const std::string token2 = RandomString(20, kCanaryAlphabet);
  std::string case2;
  ASSERT_NO_FATAL_FAILURE(exercise(token2, &case2));
  havend_->Kill();
  client_.reset();
  EXPECT_TRUE(AnyFileNamed(havend_->data_dir(), ".log", true)) << "no WAL file was searched";
  // Control: the scan does see what havend writes in plain (the case id in
  // the audit entries), so an absent canary means absent.
  EXPECT_FALSE(FilesContaining(havend_->data_dir(), {case2}).empty())
      << "the scan cannot see the unflushed WAL";
  hits = FilesContaining(havend_->dir(), needles(token2));
  EXPECT_TRUE(hits.empty()) << "canary 2 found on disk after SIGKILL:\n" << ::testing::PrintToString(hits);
  hits = FilesContaining(havend_->dir(), needles(token1));
  EXPECT_TRUE(hits.empty()) << "canary 1 found on disk after SIGKILL:\n" << ::testing::PrintToString(hits);
}

// ---------------------------------------------------------------- 3

TEST_F(HavendTest, AcknowledgedWritesSurviveKill9) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  Team ngo;
  ASSERT_NO_FATAL_FAILURE(SetUpSafeHarbour(&ngo));
  Actor auditor;
  ASSERT_NO_FATAL_FAILURE(
      CreateUser(*client_, admin_, admin_.organisation_id, "auditor", v1::ROLE_AUDITOR, &auditor));
  const Actor& worker = ngo.users[0];

  struct Acked {
    std::string id;
    std::string given_name;
  };
  constexpr int kWriters = 32;
  std::mutex mu;
  std::vector<Acked> acked;
  std::vector<std::string> unexpected;  // errors before the kill
  std::atomic<bool> killing{false};
  const std::shared_ptr<grpc::Channel> channel = havend_->channel();
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      Client client(channel);
      for (int i = 0;; ++i) {
        const std::string name = "Kill" + std::to_string(t) + "x" + std::to_string(i);
        v1::CreateCaseRequest create;
        *create.mutable_subject() = MakeSubject(name, "Durable");
        v1::Case created;
        bool before_kill = !killing.load();
        grpc::Status s = client.cases->CreateCase(Ctx(worker.token).get(), create, &created);
        std::lock_guard<std::mutex> lock(mu);
        if (s.ok()) {
          acked.push_back({created.id(), name});
        } else {
          if (before_kill && !killing.load()) unexpected.push_back(Describe(s));
          return;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  size_t acked_before_kill;
  {
    std::lock_guard<std::mutex> lock(mu);
    acked_before_kill = acked.size();
  }
  killing = true;
  havend_->Kill();
  for (std::thread& w : writers) w.join();
  client_.reset();
  EXPECT_TRUE(unexpected.empty()) << ::testing::PrintToString(unexpected);
  ASSERT_GT(acked_before_kill, 0u) << "no write was acknowledged before the kill";
  std::cout << "[ e2e      ] " << acked.size() << " cases acknowledged by " << kWriters
            << " writers before SIGKILL" << std::endl;
  RecordProperty("acknowledged_cases", static_cast<int>(acked.size()));

  ASSERT_NO_FATAL_FAILURE(Restart());
  std::vector<std::string> problems;
  std::atomic<size_t> next{0};
  const std::shared_ptr<grpc::Channel> restarted = havend_->channel();
  std::vector<std::thread> checkers;
  for (int t = 0; t < 16; ++t) {
    checkers.emplace_back([&] {
      Client client(restarted);
      for (size_t i = next++; i < acked.size(); i = next++) {
        const Acked& a = acked[i];
        v1::GetCaseRequest get;
        get.set_case_id(a.id);
        v1::Case read;
        grpc::Status s = client.cases->GetCase(Ctx(worker.token).get(), get, &read);
        std::string problem;
        if (!s.ok()) {
          problem = "case " + a.id + " (" + a.given_name + ") lost: " + Describe(s);
        } else if (read.subject().given_name() != a.given_name) {
          problem = "case " + a.id + " holds " + read.subject().given_name() + ", not " + a.given_name;
        } else {
          v1::QueryAuditEntriesRequest query;
          query.set_case_id(a.id);
          query.set_page_size(1000);
          v1::QueryAuditEntriesResponse entries;
          s = client.audit->QueryAuditEntries(Ctx(auditor.token).get(), query, &entries);
          if (!s.ok()) {
            problem = "audit of case " + a.id + ": " + Describe(s);
          } else if (!HasCaseCreateEntry(entries, worker.user_id)) {
            problem = "case " + a.id + " has no case.create audit entry";
          }
        }
        if (!problem.empty()) {
          std::lock_guard<std::mutex> lock(mu);
          problems.push_back(problem);
        }
      }
    });
  }
  for (std::thread& c : checkers) c.join();
  EXPECT_TRUE(problems.empty()) << problems.size() << " of " << acked.size()
                                << " acknowledged cases failed, e.g.:\n"
                                << ::testing::PrintToString(std::vector<std::string>(
                                       problems.begin(),
                                       problems.begin() + std::min<size_t>(problems.size(), 10)));

  v1::VerifyAuditChainResponse v = Verify();
  EXPECT_TRUE(v.ok()) << "chain breaks at " << v.first_bad_sequence() << ": " << v.problem();
  EXPECT_GE(v.entries_checked(), 2 * acked.size()) << "a create and a read per case at least";
  ExpectCleanTerminate();
}

// Backups: the running havend backs up at start-up and on SIGUSR1 while it
// serves; `havend verify-backup` checks the backup's files and audit chain;
// `havend restore` fills only an empty directory; a havend started on the
// restored store serves every case acknowledged before the backup, with a
// chain that verifies. `havend backup` works on a stopped store only.
TEST_F(HavendTest, OnlineBackupRestoresIntoAWorkingHavend) {
  ASSERT_NO_FATAL_FAILURE(Boot("backup_directory: \"backups\"\nbackup_interval_minutes: 600\n"));
  Team ngo;
  ASSERT_NO_FATAL_FAILURE(SetUpSafeHarbour(&ngo));
  const Actor& worker = ngo.users[0];
  std::vector<std::pair<std::string, std::string>> acked;  // id, given name
  for (int i = 0; i < 10; ++i) {
    v1::CreateCaseRequest create;
    const std::string name = "Backed" + std::to_string(i);
    *create.mutable_subject() = MakeSubject(name, "Up");
    v1::Case created;
    grpc::Status s = client_->cases->CreateCase(Ctx(worker.token).get(), create, &created);
    ASSERT_TRUE(s.ok()) << Describe(s);
    acked.emplace_back(created.id(), name);
  }

  auto backups_made = [&] {
    const std::string log = havend_->ReadLog();
    size_t n = 0;
    for (size_t at = log.find("\"backup made\""); at != std::string::npos;
         at = log.find("\"backup made\"", at + 1)) {
      ++n;
    }
    return n;
  };
  auto wait_for_backups = [&](size_t n) {
    for (int i = 0; i < 300 && backups_made() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return backups_made() >= n;
  };
  ASSERT_TRUE(wait_for_backups(1)) << "no backup at start-up:\n" << havend_->ReadLog();
  ASSERT_EQ(kill(havend_->pid(), SIGUSR1), 0);
  ASSERT_TRUE(wait_for_backups(2)) << "no backup on SIGUSR1:\n" << havend_->ReadLog();

  const std::string havend = HAVEND_PATH;
  const std::string config = havend_->path("haven.conf");
  const std::string out = havend_->path("command.out");
  auto run = [&](const std::string& args) {
    return RunShell(havend + " " + args + " > " + out + " 2>&1");
  };
  // The store is open in the running havend: an offline backup is refused,
  // and says what to do instead.
  EXPECT_NE(run("backup --config " + config + " --to " + havend_->path("offline")), 0);
  EXPECT_NE(ReadFile(out).find("SIGUSR1"), std::string::npos) << ReadFile(out);

  ASSERT_EQ(run("verify-backup --config " + config), 0) << ReadFile(out);
  EXPECT_NE(ReadFile(out).find("verifies"), std::string::npos) << ReadFile(out);
  const std::string restored = havend_->path("restored");
  ASSERT_EQ(run("restore --from " + havend_->path("backups") + " --to " + restored), 0)
      << ReadFile(out);
  EXPECT_NE(run("restore --from " + havend_->path("backups") + " --to " + restored), 0);
  EXPECT_NE(ReadFile(out).find("not empty"), std::string::npos) << ReadFile(out);

  ASSERT_NO_FATAL_FAILURE(ExpectCleanTerminate());
  ASSERT_EQ(run("backup --config " + config + " --to " + havend_->path("offline")), 0)
      << ReadFile(out);
  ASSERT_EQ(run("list-backups --from " + havend_->path("offline")), 0) << ReadFile(out);
  EXPECT_NE(ReadFile(out).find("backup 1:"), std::string::npos) << ReadFile(out);

  // havend on the restored store.
  ASSERT_EQ(std::rename(havend_->data_dir().c_str(), havend_->path("data.old").c_str()), 0);
  ASSERT_EQ(std::rename(restored.c_str(), havend_->data_dir().c_str()), 0);
  ASSERT_NO_FATAL_FAILURE(Restart());
  ASSERT_NO_FATAL_FAILURE(ExpectCasesReadable(worker, acked, "before the backup"));
  v1::VerifyAuditChainResponse v = Verify();
  EXPECT_TRUE(v.ok()) << "chain breaks at " << v.first_bad_sequence() << ": " << v.problem();
  ExpectCleanTerminate();
}

// ---------------------------------------------------------------- 4

TEST_F(HavendTest, BadInputGetsSpecificCodeAndWritesNothing) {
  ASSERT_NO_FATAL_FAILURE(Boot("max_request_bytes: 65536"));
  Team ngo, other;
  ASSERT_NO_FATAL_FAILURE(SetUpSafeHarbour(&ngo));
  ASSERT_NO_FATAL_FAILURE(SetUpTeam(*client_, admin_, "Other Shelter", v1::ORGANISATION_TYPE_NGO,
                                    {{"worker.b", v1::ROLE_CASEWORKER}}, &other));
  const Actor& worker = ngo.users[0];
  v1::CreateCaseRequest good;
  *good.mutable_subject() = MakeSubject("Amina", "Okafor");
  v1::Case existing;
  grpc::Status s = client_->cases->CreateCase(Ctx(worker.token).get(), good, &existing);
  ASSERT_TRUE(s.ok()) << Describe(s);

  const v1::VerifyAuditChainResponse before = Verify();
  ASSERT_TRUE(before.ok()) << before.problem();

  const std::string name = "Badinput" + RandomString(16, kCanaryAlphabet);
  v1::CreateCaseRequest named;
  *named.mutable_subject() = MakeSubject(name, name);
  struct Outcome {
    std::string what;
    grpc::Status status;
    StatusCode expected;
  };
  std::vector<Outcome> outcomes;
  auto create = [&](const std::string& what, const v1::CreateCaseRequest& request,
                    std::unique_ptr<grpc::ClientContext> ctx, StatusCode expected) {
    v1::Case c;
    outcomes.push_back({what, client_->cases->CreateCase(ctx.get(), request, &c), expected});
    EXPECT_TRUE(c.id().empty()) << what;
  };
  auto get = [&](const std::string& what, const std::string& id, StatusCode expected) {
    v1::GetCaseRequest request;
    request.set_case_id(id);
    v1::Case c;
    outcomes.push_back({what, client_->cases->GetCase(Ctx(worker.token).get(), request, &c), expected});
  };

  get("case id \"xyz\"", "xyz", StatusCode::INVALID_ARGUMENT);
  get("case id of 31 hex", std::string(31, 'a'), StatusCode::INVALID_ARGUMENT);
  get("case id of 32 non-hex", std::string(32, 'g'), StatusCode::INVALID_ARGUMENT);
  create("no subject", v1::CreateCaseRequest(), Ctx(worker.token), StatusCode::INVALID_ARGUMENT);
  v1::CreateCaseRequest bad = named;
  bad.mutable_subject()->set_sex(static_cast<v1::Sex>(99));
  create("sex 99", bad, Ctx(worker.token), StatusCode::INVALID_ARGUMENT);
  bad = named;
  bad.mutable_subject()->mutable_date_of_birth()->set_year(2999);
  create("date of birth in the future", bad, Ctx(worker.token), StatusCode::INVALID_ARGUMENT);
  bad = named;
  bad.mutable_subject()->mutable_date_of_birth()->set_month(2);
  bad.mutable_subject()->mutable_date_of_birth()->set_day(30);
  create("date of birth 30 February", bad, Ctx(worker.token), StatusCode::INVALID_ARGUMENT);
  bad = named;
  bad.mutable_subject()->set_given_name(name + std::string(300, 'x'));
  create("given_name over 200 bytes", bad, Ctx(worker.token), StatusCode::INVALID_ARGUMENT);
  bad = named;
  bad.mutable_subject()->set_given_name(name + std::string(100 * 1024, 'x'));
  create("100 KB request over max_request_bytes", bad, Ctx(worker.token),
         StatusCode::RESOURCE_EXHAUSTED);
  create("forged token", named, Ctx("hvn_xxx"), StatusCode::UNAUTHENTICATED);
  create("no token", named, Ctx(""), StatusCode::UNAUTHENTICATED);
  create("free-text purpose", named, Ctx(worker.token, "Free text!"),
         StatusCode::INVALID_ARGUMENT);

  v1::UpdateCaseRequest steal;
  steal.mutable_case_()->set_id(existing.id());
  steal.mutable_case_()->set_owning_organisation_id(other.organisation_id);
  *steal.mutable_case_()->mutable_subject() = named.subject();
  steal.mutable_update_mask()->add_paths("owning_organisation_id");
  v1::Case stolen;
  outcomes.push_back({"update_mask owning_organisation_id",
                      client_->cases->UpdateCase(Ctx(worker.token).get(), steal, &stolen),
                      StatusCode::INVALID_ARGUMENT});
  steal.mutable_update_mask()->Clear();
  outcomes.push_back({"empty update_mask",
                      client_->cases->UpdateCase(Ctx(worker.token).get(), steal, &stolen),
                      StatusCode::INVALID_ARGUMENT});

  for (const Outcome& o : outcomes) {
    EXPECT_EQ(o.status.error_code(), o.expected) << o.what << " answered " << Describe(o.status);
    EXPECT_EQ(o.status.error_message().find(name), std::string::npos)
        << o.what << " echoes the submitted name: " << Describe(o.status);
    EXPECT_EQ(Upper(o.status.error_message()).find(Upper(name.substr(8))), std::string::npos)
        << o.what << " echoes the submitted name: " << Describe(o.status);
  }

  // Nothing was written: not a case, not even an audit entry.
  const v1::VerifyAuditChainResponse after = Verify();
  EXPECT_TRUE(after.ok()) << after.problem();
  EXPECT_EQ(after.entries_checked(), before.entries_checked())
      << "refused requests appended audit entries (so something was written)";

  v1::GetCaseRequest get_existing;
  get_existing.set_case_id(existing.id());
  v1::Case still;
  s = client_->cases->GetCase(Ctx(worker.token).get(), get_existing, &still);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(still.owning_organisation_id(), ngo.organisation_id);
  EXPECT_EQ(still.version(), 1u);
  EXPECT_EQ(still.subject().given_name(), "Amina");
  EXPECT_EQ(havend_->ReadLog().find(name.substr(8)), std::string::npos)
      << "the log holds the submitted name";
  ExpectCleanTerminate();
}

// ---------------------------------------------------------------- 5

TEST_F(HavendTest, MutualTlsMapsCertificateToServiceAccount) {
  havend_ = std::make_unique<HavendProcess>(
      "mtls_listen_address: \"127.0.0.1:0\"\n"
      "mtls { certificate_file: \"server.crt\" private_key_file: \"server.key\" "
      "client_ca_file: \"ca.crt\" }");
  // A server certificate, "client" and "unregistered" from the server's CA,
  // and "stranger" from a CA the server does not know.
  ASSERT_NO_FATAL_FAILURE(MakeCertificates(havend_->dir(), {"ca", "other-ca"},
                                           {{"server", "ca", CertificateUse::kServer},
                                            {"client", "ca", CertificateUse::kClient},
                                            {"unregistered", "ca", CertificateUse::kClient},
                                            {"stranger", "other-ca", CertificateUse::kClient}}));
  ASSERT_NO_FATAL_FAILURE(havend_->Init());
  ASSERT_NO_FATAL_FAILURE(Restart());
  ASSERT_GT(havend_->mtls_port(), 0);
  ASSERT_NO_FATAL_FAILURE(SetUpAdministrator(*havend_, *client_, &admin_));
  // A channel to the mTLS listener presenting one of those certificates.
  auto channel_as = [&](const std::string& cert) {
    return MtlsChannel(havend_->mtls_port(), havend_->path(cert), havend_->path("ca.crt"));
  };

  std::string police;
  ASSERT_NO_FATAL_FAILURE(CreateOrganisation(*client_, admin_, "National Police Liaison",
                                             v1::ORGANISATION_TYPE_LAW_ENFORCEMENT, &police));
  std::string fingerprint = ReadFile(havend_->path("client.sha256"));
  fingerprint.erase(fingerprint.find_last_not_of(" \n") + 1);
  ASSERT_EQ(fingerprint.size(), 64u) << fingerprint;
  v1::CreateServiceAccountRequest register_request;
  v1::ServiceAccount* sa = register_request.mutable_service_account();
  sa->set_organisation_id(police);
  sa->set_display_name("Police case system");
  sa->add_roles(v1::ROLE_LAW_ENFORCEMENT_LIAISON);
  sa->set_certificate_sha256(fingerprint);
  v1::ServiceAccount account;
  grpc::Status s =
      client_->admin->CreateServiceAccount(Ctx(admin_.token).get(), register_request, &account);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_FALSE(account.id().empty());

  // The registered certificate is the service account.
  auto registered = v1::AdminService::NewStub(channel_as("client"));
  v1::WhoAmIResponse me;
  s = registered->WhoAmI(Ctx("").get(), v1::WhoAmIRequest(), &me);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(me.principal_id(), account.id());
  EXPECT_EQ(me.organisation_id(), police);
  ASSERT_EQ(me.roles_size(), 1);
  EXPECT_EQ(me.roles(0), v1::ROLE_LAW_ENFORCEMENT_LIAISON);

  // A bearer token next to the certificate does not change who calls.
  v1::WhoAmIResponse still_me;
  s = registered->WhoAmI(Ctx(admin_.token).get(), v1::WhoAmIRequest(), &still_me);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(still_me.principal_id(), account.id()) << "the admin token overrode the certificate";
  v1::ListOrganisationsResponse orgs;
  s = registered->ListOrganisations(Ctx(admin_.token).get(), v1::ListOrganisationsRequest(), &orgs);
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED) << Describe(s);

  // A certificate from a CA the server does not trust: no handshake.
  auto stranger = v1::AdminService::NewStub(channel_as("stranger"));
  s = stranger->WhoAmI(Ctx("").get(), v1::WhoAmIRequest(), &me);
  EXPECT_EQ(s.error_code(), StatusCode::UNAVAILABLE) << Describe(s);

  // A certificate from the right CA that no service account holds.
  auto unregistered = v1::AdminService::NewStub(channel_as("unregistered"));
  v1::WhoAmIResponse nobody;
  s = unregistered->WhoAmI(Ctx("").get(), v1::WhoAmIRequest(), &nobody);
  EXPECT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED) << Describe(s);
  EXPECT_TRUE(nobody.principal_id().empty());
  // ... and a valid bearer token does not help it.
  s = unregistered->WhoAmI(Ctx(admin_.token).get(), v1::WhoAmIRequest(), &nobody);
  EXPECT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED) << Describe(s);
  EXPECT_TRUE(nobody.principal_id().empty());
  s = unregistered->ListOrganisations(Ctx(admin_.token).get(), v1::ListOrganisationsRequest(),
                                      &orgs);
  EXPECT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED) << Describe(s);

  // Disabled, the account's certificate authenticates nothing; enabled
  // again, it does.
  auto who = [&](v1::AdminService::Stub& stub) {
    v1::WhoAmIResponse out;
    grpc::Status status = stub.WhoAmI(Ctx("").get(), v1::WhoAmIRequest(), &out);
    return status.ok() ? out.principal_id()
                       : "error " + std::to_string(static_cast<int>(status.error_code()));
  };
  const std::string unauthenticated =
      "error " + std::to_string(static_cast<int>(StatusCode::UNAUTHENTICATED));
  v1::SetServiceAccountDisabledRequest disable;
  disable.set_service_account_id(account.id());
  disable.set_disabled(true);
  v1::ServiceAccount changed;
  s = client_->admin->SetServiceAccountDisabled(Ctx(admin_.token).get(), disable, &changed);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_TRUE(changed.disabled());
  EXPECT_EQ(who(*registered), unauthenticated);
  disable.set_disabled(false);
  s = client_->admin->SetServiceAccountDisabled(Ctx(admin_.token).get(), disable, &changed);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(who(*registered), account.id());

  // Rotated to a new certificate, the account is the new one only, and the
  // old certificate can never be registered again.
  std::string next = ReadFile(havend_->path("unregistered.sha256"));
  next.erase(next.find_last_not_of(" \n") + 1);
  v1::RotateServiceAccountCertificateRequest rotate;
  rotate.set_service_account_id(account.id());
  rotate.set_certificate_sha256(next);
  s = client_->admin->RotateServiceAccountCertificate(Ctx(admin_.token).get(), rotate, &changed);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(changed.certificate_sha256(), next);
  ASSERT_EQ(changed.revoked_certificate_sha256_size(), 1);
  EXPECT_EQ(changed.revoked_certificate_sha256(0), fingerprint);
  EXPECT_EQ(who(*unregistered), account.id());
  EXPECT_EQ(who(*registered), unauthenticated);
  rotate.set_certificate_sha256(fingerprint);
  s = client_->admin->RotateServiceAccountCertificate(Ctx(admin_.token).get(), rotate, &changed);
  EXPECT_EQ(s.error_code(), StatusCode::ALREADY_EXISTS) << Describe(s);
  s = client_->admin->CreateServiceAccount(Ctx(admin_.token).get(), register_request, &changed);
  EXPECT_EQ(s.error_code(), StatusCode::ALREADY_EXISTS) << Describe(s);
  // A malformed fingerprint is refused, naming the field, and changes nothing.
  rotate.set_certificate_sha256("not-a-fingerprint");
  s = client_->admin->RotateServiceAccountCertificate(Ctx(admin_.token).get(), rotate, &changed);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_NE(s.error_message().find("certificate_sha256"), std::string::npos) << Describe(s);
  EXPECT_EQ(who(*unregistered), account.id());
  // A service account cannot change itself.
  rotate.set_certificate_sha256(std::string(64, 'a'));
  s = unregistered->RotateServiceAccountCertificate(Ctx("").get(), rotate, &changed);
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED) << Describe(s);

  // Close the mTLS connections first: an idle one held open delays
  // havend's graceful shutdown by about 5 s (gRPC's GOAWAY ping).
  registered.reset();
  stranger.reset();
  unregistered.reset();
  ExpectCleanTerminate();
}

// ---------------------------------------------------------------- 6

TEST_F(HavendTest, ShutdownOnSigtermKeepsAuditChainVerifiable) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  Team ngo;
  ASSERT_NO_FATAL_FAILURE(SetUpSafeHarbour(&ngo));
  const Actor& worker = ngo.users[0];
  std::string some_case;
  for (int i = 0; i < 5; ++i) {
    v1::CreateCaseRequest create;
    *create.mutable_subject() = MakeSubject("Before" + std::to_string(i), "Shutdown");
    v1::Case created;
    grpc::Status s = client_->cases->CreateCase(Ctx(worker.token).get(), create, &created);
    ASSERT_TRUE(s.ok()) << Describe(s);
    some_case = created.id();
  }
  const v1::VerifyAuditChainResponse v1_ = Verify();
  ASSERT_TRUE(v1_.ok()) << v1_.problem();
  ASSERT_GT(v1_.entries_checked(), 5u);

  // SIGTERM while writers are busy: calls in flight finish, what was
  // acknowledged stays, and the chain still verifies.
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> acked;  // id, given name
  std::atomic<bool> stopping{false};
  std::vector<std::string> unexpected;
  const std::shared_ptr<grpc::Channel> channel = havend_->channel();
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      Client client(channel);
      for (int i = 0;; ++i) {
        const std::string name = "Term" + std::to_string(t) + "x" + std::to_string(i);
        v1::CreateCaseRequest create;
        *create.mutable_subject() = MakeSubject(name, "Shutdown");
        v1::Case created;
        bool before = !stopping.load();
        grpc::Status s = client.cases->CreateCase(Ctx(worker.token).get(), create, &created);
        std::lock_guard<std::mutex> lock(mu);
        if (s.ok()) {
          acked.emplace_back(created.id(), name);
        } else {
          if (before && !stopping.load()) unexpected.push_back(Describe(s));
          return;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stopping = true;
  ExpectCleanTerminate();
  for (std::thread& w : writers) w.join();
  EXPECT_TRUE(unexpected.empty()) << ::testing::PrintToString(unexpected);
  EXPECT_NE(havend_->ReadLog().find("\"msg\":\"stopped\""), std::string::npos);
  std::cout << "[ e2e      ] " << acked.size() << " cases acknowledged around SIGTERM" << std::endl;

  ASSERT_NO_FATAL_FAILURE(Restart());
  const v1::VerifyAuditChainResponse v2 = Verify();
  EXPECT_TRUE(v2.ok()) << "after SIGTERM the chain breaks at " << v2.first_bad_sequence() << ": "
                       << v2.problem();
  EXPECT_GE(v2.entries_checked(), v1_.entries_checked() + acked.size());
  EXPECT_GE(v2.checkpoints_checked(), 1u);
  EXPECT_EQ(v2.public_key(), v1_.public_key());
  ASSERT_NO_FATAL_FAILURE(ExpectCasesReadable(worker, acked, "before SIGTERM"));
  const v1::VerifyAuditChainResponse v3 = Verify();
  EXPECT_TRUE(v3.ok()) << v3.problem();
  EXPECT_EQ(v3.entries_checked(), v2.entries_checked() + acked.size()) << "one read entry per case";

  // An idle restart: the chain neither grows nor breaks.
  ExpectCleanTerminate();
  ASSERT_NO_FATAL_FAILURE(Restart());
  const v1::VerifyAuditChainResponse v4 = Verify();
  EXPECT_TRUE(v4.ok()) << "after the second SIGTERM: " << v4.problem();
  EXPECT_EQ(v4.entries_checked(), v3.entries_checked());

  // A few entries, fewer than any checkpoint interval, then SIGTERM: the
  // shutdown itself must sign the new head.
  for (int i = 0; i < 3; ++i) {
    v1::GetCaseRequest get;
    get.set_case_id(some_case);
    v1::Case read;
    grpc::Status s = client_->cases->GetCase(Ctx(worker.token).get(), get, &read);
    ASSERT_TRUE(s.ok()) << Describe(s);
  }
  const v1::VerifyAuditChainResponse v5 = Verify();
  EXPECT_TRUE(v5.ok()) << v5.problem();
  EXPECT_EQ(v5.entries_checked(), v4.entries_checked() + 3);
  EXPECT_EQ(v5.checkpoints_checked(), v4.checkpoints_checked())
      << "a checkpoint after 3 entries: the last shutdown left the head unsigned?";
  ExpectCleanTerminate();
  // The log, kept apart from the store, witnesses the head the shutdown left.
  const std::string witness = "\"msg\":\"audit head\",\"sequence\":\"" +
                              std::to_string(v5.entries_checked()) + "\"";
  EXPECT_NE(havend_->ReadLog().find(witness), std::string::npos)
      << "the log has no signed head at sequence " << v5.entries_checked();
  // So does the witness file, outside the data directory.
  std::string witness_file;
  {
    std::ifstream in(havend_->path("audit-witness.log"));
    std::stringstream text;
    text << in.rdbuf();
    witness_file = text.str();
  }
  EXPECT_NE(witness_file.find("haven-audit-head-v2 " + std::to_string(v5.entries_checked()) + " "),
            std::string::npos)
      << "the witness file has no signed head at sequence " << v5.entries_checked();
  ASSERT_NO_FATAL_FAILURE(Restart());
  const v1::VerifyAuditChainResponse v6 = Verify();
  EXPECT_TRUE(v6.ok()) << "after the third SIGTERM: " << v6.problem();
  EXPECT_EQ(v6.entries_checked(), v5.entries_checked());
  EXPECT_EQ(v6.checkpoints_checked(), v5.checkpoints_checked() + 1)
      << "SIGTERM wrote no final checkpoint";
  ExpectCleanTerminate();
}

TEST_F(HavendTest, AuditVerifyCatchesAStoreCutBackToAnEarlierCopy) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  Team ngo;
  ASSERT_NO_FATAL_FAILURE(SetUpSafeHarbour(&ngo));
  ExpectCleanTerminate();
  // An insider keeps a copy of the store as it is now...
  namespace fs = std::filesystem;
  const std::string copy = havend_->path("data-copy");
  fs::copy(havend_->data_dir(), copy, fs::copy_options::recursive);
  // ...havend records more (a final checkpoint signs it at shutdown)...
  ASSERT_NO_FATAL_FAILURE(Restart());
  for (int i = 0; i < 3; ++i) {
    ASSERT_FALSE(CreateCase(*client_, ngo.users[0], "Witnessed" + std::to_string(i), "Cut").empty());
  }
  ExpectCleanTerminate();
  std::string out;
  int status = havend_->RunCommand("audit-verify", &out);
  EXPECT_TRUE(ExitedCleanly(status)) << DescribeWaitStatus(status) << "\n" << out;
  EXPECT_NE(out.find("ok: "), std::string::npos) << out;
  // ...and puts the copy back: a log cut back to an earlier checkpoint,
  // whole and signed in itself (it verified before the witness was checked).
  fs::remove_all(havend_->data_dir());
  fs::rename(copy, havend_->data_dir());
  status = havend_->RunCommand("audit-verify", &out);
  EXPECT_FALSE(ExitedCleanly(status)) << "a store cut back verifies:\n" << out;
  EXPECT_NE(out.find("last witnessed head"), std::string::npos) << out;
  // The same through the service, once havend runs on the copy.
  ASSERT_NO_FATAL_FAILURE(Restart());
  const v1::VerifyAuditChainResponse v = Verify();
  EXPECT_FALSE(v.ok()) << "VerifyAuditChain accepts a store cut back";
  EXPECT_NE(v.problem().find("last witnessed head"), std::string::npos) << v.problem();
  ExpectCleanTerminate();
}

TEST_F(HavendTest, RotateKeysRewrapsEveryKeyAndCasesStillRead) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  Team ngo;
  ASSERT_NO_FATAL_FAILURE(SetUpSafeHarbour(&ngo));
  const std::string case_id = CreateCase(*client_, ngo.users[0], "Rotated", "Before");
  ASSERT_FALSE(case_id.empty());
  ExpectCleanTerminate();
  std::string out;
  int status = havend_->RunCommand("rotate-keys", &out);
  ASSERT_TRUE(ExitedCleanly(status)) << DescribeWaitStatus(status) << "\n" << out << havend_->ReadLog();
  EXPECT_NE(out.find("wrapped under epoch 2 (1 re-wrapped now)"), std::string::npos) << out;
  struct stat st;
  ASSERT_EQ(stat(havend_->path("wrap.keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the wrap keys are open to others";
  // Run again: a new epoch, and the case's key moves with it.
  status = havend_->RunCommand("rotate-keys", &out);
  ASSERT_TRUE(ExitedCleanly(status)) << DescribeWaitStatus(status) << "\n" << out;
  EXPECT_NE(out.find("wrapped under epoch 3 (1 re-wrapped now)"), std::string::npos) << out;
  ASSERT_NO_FATAL_FAILURE(Restart());
  v1::GetCaseRequest get;
  get.set_case_id(case_id);
  v1::Case read;
  grpc::Status s = client_->cases->GetCase(Ctx(ngo.users[0].token).get(), get, &read);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(read.subject().given_name(), "Rotated");
  const v1::VerifyAuditChainResponse v = Verify();
  EXPECT_TRUE(v.ok()) << v.problem();
  ExpectCleanTerminate();
}

// ---------------------------------------------------------------- 8

TEST_F(HavendTest, ConfiguredAuditCheckpointIntervalIsHonoured) {
  // "Sign an audit checkpoint at least every this many entries."
  constexpr int kInterval = 16;
  ASSERT_NO_FATAL_FAILURE(Boot("audit_checkpoint_interval: " + std::to_string(kInterval)));
  Team ngo;
  ASSERT_NO_FATAL_FAILURE(SetUpSafeHarbour(&ngo));
  for (int i = 0; i < 5 * kInterval; ++i) {
    v1::CreateCaseRequest create;
    *create.mutable_subject() = MakeSubject("Interval" + std::to_string(i), "Checkpoint");
    v1::Case created;
    grpc::Status s = client_->cases->CreateCase(Ctx(ngo.users[0].token).get(), create, &created);
    ASSERT_TRUE(s.ok()) << Describe(s);
  }
  const v1::VerifyAuditChainResponse v = Verify();
  EXPECT_TRUE(v.ok()) << v.problem();
  EXPECT_GE(v.checkpoints_checked(), v.entries_checked() / kInterval)
      << v.entries_checked() << " entries carry only " << v.checkpoints_checked()
      << " checkpoints although audit_checkpoint_interval is " << kInterval;
  ExpectCleanTerminate();
}

// ---------------------------------------------------------------- 7

TEST_F(HavendTest, ConcurrentUpdatesOfOneCaseAreNeverLost) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  Team ngo;
  ASSERT_NO_FATAL_FAILURE(SetUpSafeHarbour(&ngo));
  const Actor& worker = ngo.users[0];
  v1::CreateCaseRequest create;
  *create.mutable_subject() = MakeSubject("Amina", "Okafor");
  v1::Case created;
  grpc::Status s = client_->cases->CreateCase(Ctx(worker.token).get(), create, &created);
  ASSERT_TRUE(s.ok()) << Describe(s);

  // Many writers patch the same case at once, each with an alias of its
  // own. Every acknowledged update must get a version of its own, none
  // skipped or repeated, and the case must end with the last one.
  constexpr int kWriters = 16;
  constexpr int kUpdatesEach = 40;
  std::mutex mu;
  std::map<uint64_t, std::string> by_version;  // version -> alias written
  std::vector<std::string> problems;
  int aborted = 0;
  const std::shared_ptr<grpc::Channel> channel = havend_->channel();
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      Client client(channel);
      for (int i = 0; i < kUpdatesEach; ++i) {
        const std::string alias = "Alias" + std::to_string(t) + "x" + std::to_string(i);
        v1::UpdateCaseRequest update;
        update.mutable_case_()->set_id(created.id());
        update.mutable_case_()->mutable_subject()->add_other_names(alias);
        update.mutable_update_mask()->add_paths("subject.other_names");
        v1::Case updated;
        grpc::Status u = client.cases->UpdateCase(Ctx(worker.token).get(), update, &updated);
        std::lock_guard<std::mutex> lock(mu);
        if (u.error_code() == StatusCode::ABORTED) {
          ++aborted;
        } else if (!u.ok()) {
          problems.push_back(Describe(u));
        } else if (!by_version.emplace(updated.version(), alias).second) {
          problems.push_back("version " + std::to_string(updated.version()) + " acknowledged twice");
        }
      }
    });
  }
  for (std::thread& w : writers) w.join();
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);
  std::cout << "[ e2e      ] " << by_version.size() << " updates acknowledged, " << aborted
            << " answered ABORTED" << std::endl;
  ASSERT_FALSE(by_version.empty());

  v1::GetCaseRequest get;
  get.set_case_id(created.id());
  v1::Case read;
  s = client_->cases->GetCase(Ctx(worker.token).get(), get, &read);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(read.version(), 1 + by_version.size()) << "an acknowledged update was lost";
  EXPECT_EQ(by_version.begin()->first, 2u);
  EXPECT_EQ(by_version.rbegin()->first, 1 + by_version.size());
  ASSERT_EQ(read.subject().other_names_size(), 1);
  EXPECT_EQ(read.subject().other_names(0), by_version.rbegin()->second)
      << "the case does not hold the last acknowledged update";
  EXPECT_EQ(read.subject().given_name(), "Amina") << "a field outside the mask changed";
  ExpectCleanTerminate();
}

// havend's peak resident memory in KiB (VmHWM), or -1.
long PeakRssKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// 200 logins at once: each password check costs Argon2id's 64 MiB, so
// without a bound the server would need gigabytes. With two hashing slots
// the rest are turned away at once, memory stays bounded, and the server
// goes on serving.
TEST(LoginStormTest, ConcurrentLoginsAreTurnedAwayWithinABoundedMemory) {
  HavendProcess havend(
      "password_hash_cost: \"interactive\" password_hashing_slots: 2 "
      "login_attempts_per_address_per_minute: 100000");
  ASSERT_NO_FATAL_FAILURE(havend.Init());
  ASSERT_NO_FATAL_FAILURE(havend.Start());
  auto client = std::make_unique<Client>(havend.channel());
  Actor admin;
  ASSERT_NO_FATAL_FAILURE(SetUpAdministrator(havend, *client, &admin));
  const long before_kib = PeakRssKib(havend.pid());
  ASSERT_GT(before_kib, 0);

  constexpr int kLogins = 200;
  std::vector<grpc::StatusCode> codes(kLogins);
  std::vector<std::string> messages(kLogins);
  std::vector<std::thread> callers;
  std::atomic<bool> go{false};
  for (int i = 0; i < kLogins; ++i) {
    callers.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      v1::LoginRequest request;
      request.set_username("storm." + std::to_string(i));
      request.set_password("not the password at all");
      v1::LoginResponse response;
      grpc::Status s = client->admin->Login(Ctx("").get(), request, &response);
      codes[i] = s.error_code();
      messages[i] = s.error_message();
    });
  }
  go = true;
  for (std::thread& t : callers) t.join();
  const long after_kib = PeakRssKib(havend.pid());

  // Each is checked and refused, or turned away: by the hashing slots, or
  // by gRPC when every handler thread is busy.
  int refused = 0, busy = 0;
  for (int i = 0; i < kLogins; ++i) {
    if (codes[i] == grpc::StatusCode::UNAUTHENTICATED) {
      ++refused;
    } else {
      EXPECT_EQ(codes[i], grpc::StatusCode::RESOURCE_EXHAUSTED) << messages[i];
      busy += messages[i].find("too many passwords at once") != std::string::npos;
    }
  }
  std::cout << "[ login storm ] " << kLogins << " logins at once: " << refused
            << " checked and refused, " << busy << " turned away busy; havend peak RSS "
            << before_kib / 1024 << " MiB before, " << after_kib / 1024 << " MiB after"
            << std::endl;
  EXPECT_GT(refused, 0);
  EXPECT_GT(busy, 0) << "200 logins at once never found the slots busy";
  // Two hashes at once cost 128 MiB; 64 at once (the handler threads) would
  // cost 4 GiB.
  EXPECT_LT(after_kib - before_kib, 320 * 1024) << "peak RSS grew by " << (after_kib - before_kib) / 1024
                                                << " MiB";

  // The server goes on: the administrator logs in again.
  v1::LoginRequest request;
  request.set_username(admin.username);
  request.set_password(admin.password);
  v1::LoginResponse response;
  grpc::Status s = client->admin->Login(Ctx("").get(), request, &response);
  EXPECT_TRUE(s.ok()) << Describe(s);
}

}  // namespace
}  // namespace haven::e2e
