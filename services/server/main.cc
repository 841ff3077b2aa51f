// havend: Haven's server.
//   havend --config FILE              serve until SIGTERM or SIGINT
//   havend init --config FILE [--admin NAME]
//                                      make the master key and data directory
//                                      and print the first administrator's
//                                      one-time password; import the
//                                      config's initial_directory_file
//   havend backup --config FILE [--to DIR]
//                                      back up a stopped store (a running
//                                      havend backs up itself; SIGUSR1: now)
//   havend list-backups --from DIR
//   havend verify-backup --config FILE [--from DIR] [--backup ID]
//                                      check a backup's files and audit chain
//   havend restore --from DIR [--backup ID] --to DATA_DIR
//                                      restore into an empty directory
//   havend rotate-keys --config FILE  (offline) a new wrap-key epoch, every
//                                      data key re-wrapped under it, and
//                                      epochs retired for longer than
//                                      backup_retention_days destroyed
//   havend destroy-retired-keys --config FILE
//                                      (offline) only the last step of that
//   havend audit-verify --config FILE (offline) the audit chain, its indexes
//                                      and the last witnessed head
// docs/operations.md has the restore drill.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <grpc/support/log.h>

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/common/log.h"
#include "services/server/config.h"
#include "services/server/haven_server.h"
#include "storage/backup.h"
#include "storage/clock.h"
#include "storage/crypto.h"

namespace {

using haven::services::Log;
using haven::services::LogLevel;

// gRPC's own log lines go through Haven's structured log.
void LogFromGrpc(gpr_log_func_args* args) {
  LogLevel level = args->severity == GPR_LOG_SEVERITY_ERROR ? LogLevel::kError
                   : args->severity == GPR_LOG_SEVERITY_INFO ? LogLevel::kInfo
                                                              : LogLevel::kDebug;
  Log(level, "grpc", {{"detail", args->message}});
}

int Usage() {
  std::fprintf(stderr,
               "usage: havend --config FILE\n"
               "       havend init --config FILE [--admin USERNAME]\n"
               "       havend backup --config FILE [--to DIR]\n"
               "       havend list-backups --from DIR\n"
               "       havend verify-backup --config FILE [--from DIR] [--backup ID]\n"
               "       havend restore --from DIR [--backup ID] --to DATA_DIR\n"
               "       havend rotate-keys --config FILE\n"
               "       havend destroy-retired-keys --config FILE\n"
               "       havend audit-verify --config FILE\n");
  return 2;
}

int Fail(const absl::Status& status) {
  Log(LogLevel::kError, "havend stopped",
      {{"code", absl::StatusCodeToString(status.code())}, {"error", std::string(status.message())}});
  return 1;
}

int Init(const haven::v1::ServerConfig& config, const std::string& admin) {
  auto result = haven::server::InitDataDirectory(config, admin);
  if (!result.ok()) return Fail(result.status());
  if (!result->created) {
    std::printf("The data directory %s already has users; nothing to do.\n",
                config.data_dir().c_str());
    return 0;
  }
  std::printf(
      "Created the data directory %s and the first administrator.\n"
      "  username:          %s\n"
      "  one-time password: %s\n"
      "Log in with havenctl login %s; you will be asked to change the password.\n",
      config.data_dir().c_str(), result->username.c_str(), result->one_time_password.c_str(),
      result->username.c_str());
  if (!config.initial_directory_file().empty()) {
    std::printf("Imported the service-provider directory %s: %d organisations, %d locations, "
                "%d services.\n",
                config.initial_directory_file().c_str(), result->directory.organisations(),
                result->directory.locations(), result->directory.services());
  }
  return 0;
}

void PrintBackup(const char* what, const haven::storage::BackupSummary& b) {
  std::printf("%s backup %u: audit sequence %llu at start, %llu bytes in %u files, made at %lld\n",
              what, b.id, static_cast<unsigned long long>(b.audit_sequence),
              static_cast<unsigned long long>(b.bytes), b.files, static_cast<long long>(b.unix_seconds));
}

int Backup(const haven::v1::ServerConfig& config, const std::string& to) {
  auto made = haven::server::BackUpStoppedStore(config, to);
  if (!made.ok()) return Fail(made.status());
  PrintBackup("Made", *made);
  return 0;
}

int ListBackups(const std::string& from) {
  auto backups = haven::storage::ListBackups(from, nullptr);
  if (!backups.ok()) return Fail(backups.status());
  for (const auto& b : *backups) PrintBackup("Kept", b);
  return 0;
}

// Checks every file, then restores a scratch copy beside the backups (on
// the same disk, so there is room) and verifies its audit chain.
int VerifyBackup(const haven::v1::ServerConfig& config, const std::string& from, uint32_t id) {
  if (absl::Status s = haven::crypto::Init(); !s.ok()) return Fail(s);
  auto keys = haven::server::LoadKeys(config);
  if (!keys.ok()) return Fail(keys.status());
  std::string scratch = from;
  while (scratch.size() > 1 && scratch.back() == '/') scratch.pop_back();
  scratch += ".verify-XXXXXX";
  if (mkdtemp(scratch.data()) == nullptr) {
    return Fail(absl::FailedPreconditionError(absl::StrCat("cannot create ", scratch)));
  }
  haven::RealClock clock;
  auto check = haven::storage::VerifyBackup(from, id, scratch, keys->get(), &clock, nullptr);
  rmdir(scratch.c_str());  // gone already unless the check stopped before restoring
  if (!check.ok()) return Fail(check.status());
  PrintBackup("Verified", check->backup);
  std::printf("  every file matches its checksum; the restored copy opens; its audit chain of %llu "
              "entries verifies with %llu signed checkpoints\n",
              static_cast<unsigned long long>(check->audit_entries),
              static_cast<unsigned long long>(check->audit_checkpoints));
  return 0;
}

int Restore(const std::string& from, uint32_t id, const std::string& to) {
  auto restored = haven::storage::RestoreBackup(from, id, to, nullptr);
  if (!restored.ok()) return Fail(restored.status());
  PrintBackup("Restored", *restored);
  std::printf("  into %s; point data_dir there (with the same key files) and start havend.\n"
              "  The restored audit chain ends before the last witnessed head: move\n"
              "  audit_witness_file aside (keep it as evidence) before starting, or havend\n"
              "  will not witness and verification will report the gap.\n",
              to.c_str());
  return 0;
}

std::string Epochs(const std::vector<uint32_t>& epochs) {
  std::string out;
  for (uint32_t e : epochs) out += (out.empty() ? "" : ", ") + std::to_string(e);
  return out.empty() ? "none" : out;
}

int RotateKeys(const haven::v1::ServerConfig& config) {
  haven::RealClock clock;
  auto report = haven::server::RotateKeys(config, clock);
  if (!report.ok()) return Fail(report.status());
  std::printf("Every data key is wrapped under epoch %u (%llu re-wrapped now).\n"
              "Destroyed retired epochs: %s.\n",
              report->epoch, static_cast<unsigned long long>(report->rewrapped),
              Epochs(report->destroyed).c_str());
  return 0;
}

int DestroyRetiredKeys(const haven::v1::ServerConfig& config) {
  haven::RealClock clock;
  auto destroyed = haven::server::DestroyRetiredKeys(config, clock);
  if (!destroyed.ok()) return Fail(destroyed.status());
  std::printf("Destroyed retired epochs: %s.\n", Epochs(*destroyed).c_str());
  return 0;
}

int AuditVerify(const haven::v1::ServerConfig& config) {
  auto v = haven::server::VerifyAudit(config);
  if (!v.ok()) return Fail(v.status());
  std::printf("%s: %llu entries, %llu checkpoints checked.\n", v->ok() ? "ok" : "BROKEN",
              static_cast<unsigned long long>(v->entries_checked()),
              static_cast<unsigned long long>(v->checkpoints_checked()));
  if (!v->ok()) {
    std::printf("first bad sequence %llu: %s\n",
                static_cast<unsigned long long>(v->first_bad_sequence()), v->problem().c_str());
  }
  return v->ok() ? 0 : 1;
}

// Personal data in memory must never reach a core dump.
void ForbidCoreDumps() {
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int Serve(const haven::v1::ServerConfig& config) {
  ForbidCoreDumps();
  // Signals are taken by one thread with sigwait, so block them everywhere
  // before any other thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = haven::server::HavenServer::Start(config, {});
  if (!server.ok()) return Fail(server.status());
  int received = 0;
  // SIGUSR1 asks for a backup now; SIGTERM and SIGINT stop.
  while (sigwait(&signals, &received) == 0 && received == SIGUSR1) {
    if (!(*server)->RequestBackup()) {
      Log(LogLevel::kWarning, "backup asked for, but no backup_directory is configured");
    }
  }
  Log(LogLevel::kInfo, "shutting down",
      {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"},
       {"grace_seconds", std::to_string(config.shutdown_grace_seconds())}});
  (*server)->Shutdown(absl::Now() + absl::Seconds(config.shutdown_grace_seconds()));
  server->reset();  // closes the store after a final audit checkpoint
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's Abseil checks every mutex for lock cycles; gRPC's many mutexes
  // make that a measurable cost on each call, and Haven relies on none of it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  gpr_set_log_function(LogFromGrpc);
  std::string command = "serve";
  std::string config_path;
  std::string admin = "admin";
  std::string from;
  std::string to;
  uint32_t backup_id = 0;  // 0: the latest
  const std::set<std::string> commands = {"init",         "backup",      "list-backups",
                                          "verify-backup", "restore",    "rotate-keys",
                                          "destroy-retired-keys", "audit-verify"};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i == 1 && commands.count(arg) > 0) {
      command = arg;
    } else if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--admin" && i + 1 < argc) {
      admin = argv[++i];
    } else if (arg == "--from" && i + 1 < argc) {
      from = argv[++i];
    } else if (arg == "--to" && i + 1 < argc) {
      to = argv[++i];
    } else if (arg == "--backup" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &backup_id) &&
               backup_id > 0) {
      ++i;
    } else {
      return Usage();
    }
  }
  // These two need no config: the backup directory names itself.
  if (command == "list-backups") return from.empty() ? Usage() : ListBackups(from);
  if (command == "restore") return from.empty() || to.empty() ? Usage() : Restore(from, backup_id, to);
  if (config_path.empty()) return Usage();
  auto config = haven::server::LoadConfig(config_path);
  if (!config.ok()) return Fail(config.status());
  if (command == "init") return Init(*config, admin);
  if (command == "backup") return Backup(*config, to);
  if (command == "verify-backup") {
    if (from.empty()) from = config->backup_directory();
    return from.empty() ? Usage() : VerifyBackup(*config, from, backup_id);
  }
  if (command == "rotate-keys") return RotateKeys(*config);
  if (command == "destroy-retired-keys") return DestroyRetiredKeys(*config);
  if (command == "audit-verify") return AuditVerify(*config);
  return Serve(*config);
}
