// backup_bench: how long backing up, verifying and restoring a store of
// --cases cases (default 100,000) takes, each against a baseline measured
// in the same run: a plain copy of the same data directory on the same
// disk, every file synced (as a backup's are). The cases are created through the door (sealed, indexed, audited,
// synced) by 8 threads, in a temporary directory under --dir (default
// /tmp), removed at the end. Measured, never asserted.
//
//   haven_backup_bench [--cases N] [--dir DIR]
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "haven/v1/case.pb.h"
#include "storage/access/case_door.h"
#include "storage/access/vault.h"
#include "storage/backup.h"
#include "storage/clock.h"
#include "storage/crypto.h"
#include "storage/ids.h"

namespace {

namespace v1 = haven::v1;
namespace fs = std::filesystem;
using haven::access::CaseScope;
using haven::access::RecordKind;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "backup_bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename F>
double Seconds(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The baseline: every file of `from` copied into `to` and synced, as a
// backup copies and syncs them, with nothing else done.
void CopySynced(const std::string& from, const std::string& to) {
  fs::create_directories(to);
  std::vector<char> buffer(1 << 20);
  for (const auto& entry : fs::directory_iterator(from)) {
    if (!entry.is_regular_file()) continue;
    const int in = open(entry.path().c_str(), O_RDONLY);
    const int out = open((fs::path(to) / entry.path().filename()).c_str(),
                         O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0) Die("cannot copy " + entry.path().string());
    for (ssize_t n; (n = read(in, buffer.data(), buffer.size())) > 0;) {
      if (write(out, buffer.data(), static_cast<size_t>(n)) != n) Die("short write");
    }
    if (fsync(out) != 0) Die("fsync");
    close(in);
    close(out);
  }
}

uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t bytes = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) bytes += entry.file_size();
  }
  return bytes;
}

std::unique_ptr<haven::access::Vault> OpenVault(const std::string& path,
                                                const haven::crypto::KeyRing* keys,
                                                const haven::Clock* clock) {
  haven::access::Vault::Options options;
  options.path = path;
  options.keys = keys;
  options.clock = clock;
  auto vault = haven::access::Vault::Open(options);
  if (!vault.ok()) Die(std::string(vault.status().message()));
  return *std::move(vault);
}

void CreateCases(haven::access::Vault& vault, int cases) {
  haven::access::RequestContext ctx;
  ctx.principal.id = haven::NewId();
  ctx.principal.organisation_id = haven::NewId();
  ctx.principal.roles = {v1::ROLE_CASEWORKER};
  ctx.purpose = "case-management";
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int n = next++; n < cases; n = next++) {
        auto record = vault.case_door().CreateCase(ctx, "case.create", [&](CaseScope& scope) {
          v1::Subject subject;
          subject.set_given_name(absl::StrCat("Person ", n));
          subject.set_family_name("Bench");
          subject.set_sex(n % 2 == 0 ? v1::SEX_FEMALE : v1::SEX_MALE);
          subject.add_citizenships("NG");
          return scope.Save(RecordKind::kSubject, "", subject);
        });
        if (!record.ok()) Die(std::string(record.status().message()));
      }
    });
  }
  for (std::thread& t : threads) t.join();
}

}  // namespace

int main(int argc, char** argv) {
  int cases = 100'000;
  std::string parent = "/tmp";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--cases" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &cases) && cases > 0) {
      ++i;
    } else if (arg == "--dir" && i + 1 < argc) {
      parent = argv[++i];
    } else {
      Die("usage: haven_backup_bench [--cases N] [--dir DIR]");
    }
  }
  if (!haven::crypto::Init().ok()) Die("libsodium");
  std::string tmpl = parent + "/haven-backup-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) Die("cannot make a temporary directory");
  const std::string root = tmpl;
  const std::string data = root + "/data", backups = root + "/backups";
  auto keys = haven::crypto::KeyRing::FromKey(haven::crypto::SecretKey::Random());
  haven::RealClock clock;

  auto vault = OpenVault(data, keys.get(), &clock);
  const double load = Seconds([&] { CreateCases(*vault, cases); });
  std::printf("created %d cases in %.1f s (%.0f/s)\n", cases, load, cases / load);

  haven::storage::BackupSummary first, second;
  const double backup = Seconds([&] {
    auto made = vault->Backup(backups, 0);
    if (!made.ok()) Die(std::string(made.status().message()));
    first = *made;
  });
  CreateCases(*vault, 1000);
  const double incremental = Seconds([&] {
    auto made = vault->Backup(backups, 0);
    if (!made.ok()) Die(std::string(made.status().message()));
    second = *made;
  });
  vault.reset();  // closed, for the copy baseline and the restore's comparison
  const uint64_t store_bytes = DirectoryBytes(data);
  const double copy = Seconds([&] { CopySynced(data, root + "/copy"); });

  const double verify = Seconds([&] {
    auto check = haven::storage::VerifyBackup(backups, 0, root + "/verify", keys.get(), &clock,
                                              nullptr);
    if (!check.ok()) Die(std::string(check.status().message()));
  });
  const double restore = Seconds([&] {
    auto restored = haven::storage::RestoreBackup(backups, 0, root + "/restored", nullptr);
    if (!restored.ok()) Die(std::string(restored.status().message()));
  });
  const double open = Seconds([&] { OpenVault(root + "/restored", keys.get(), &clock); });

  std::printf("store: %.1f MiB; first backup %.1f MiB, second (after 1,000 more cases) %.1f MiB "
              "in %u files\n",
              store_bytes / 1048576.0, first.bytes / 1048576.0, second.bytes / 1048576.0,
              second.files);
  std::printf("%-40s %8s %s\n", "step", "seconds", "x plain synced copy of the data directory");
  std::printf("%-40s %8.2f %s\n", "plain synced copy (baseline)", copy, "1.00");
  auto row = [&](const char* step, double s) {
    std::printf("%-40s %8.2f %.2f\n", step, s, s / copy);
  };
  row("backup (first, full, online)", backup);
  row("backup (incremental, online)", incremental);
  row("verify-backup (checksums+restore+chain)", verify);
  row("restore", restore);
  row("open the restored store", open);
  fs::remove_all(root);
  return 0;
}
