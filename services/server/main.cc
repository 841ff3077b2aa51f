// havend: Haven's server.
//   havend --config FILE              serve until SIGTERM or SIGINT
//   havend init --config FILE [--admin NAME]
//                                      make the master key and data directory
//                                      and print the first administrator's
//                                      one-time password; import the
//                                      config's initial_directory_file
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <grpc/support/log.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/common/log.h"
#include "services/server/config.h"
#include "services/server/haven_server.h"

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
               "       havend init --config FILE [--admin USERNAME]\n");
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
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = haven::server::HavenServer::Start(config, {});
  if (!server.ok()) return Fail(server.status());
  int received = 0;
  sigwait(&signals, &received);
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
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "init" && i == 1) {
      command = "init";
    } else if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--admin" && i + 1 < argc) {
      admin = argv[++i];
    } else {
      return Usage();
    }
  }
  if (config_path.empty()) return Usage();
  auto config = haven::server::LoadConfig(config_path);
  if (!config.ok()) return Fail(config.status());
  return command == "init" ? Init(*config, admin) : Serve(*config);
}
