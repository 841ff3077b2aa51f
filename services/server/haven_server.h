// HavenServer: havend assembled: key ring, the access layer opened on the
// store (a Vault), every service, health checking and reflection, on its listeners. Tests start it
// in-process; havend's main starts it from a config file.
#ifndef HAVEN_SERVICES_SERVER_HAVEN_SERVER_H_
#define HAVEN_SERVICES_SERVER_HAVEN_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "haven/v1/audit.pb.h"
#include "haven/v1/config.pb.h"
#include "haven/v1/protection.pb.h"
#include "services/common/authenticator.h"
#include "services/common/periodic.h"
#include "storage/access/accounts.h"
#include "storage/access/vault.h"
#include "storage/clock.h"
#include "storage/crypto.h"

namespace rocksdb {
class Env;
}

namespace haven::hotline {
class HotlineServiceImpl;
}
namespace haven::referral {
class PartnerLink;
}
namespace haven::liaison {
class LiaisonServiceImpl;
}

namespace haven::server {

class HavenServer {
 public:
  struct Options {
    const Clock* clock = nullptr;  // null: the real clock
    rocksdb::Env* env = nullptr;   // null: the disk
    // Deliver messages to partner mechanisms in the background; tests on a
    // manual clock turn it off and call partner_link()->DeliverDue().
    bool partner_worker = true;
  };

  // Opens the store (the master key file must exist) and starts listening.
  static absl::StatusOr<std::unique_ptr<HavenServer>> Start(const haven::v1::ServerConfig& config,
                                                            Options options);
  ~HavenServer();

  int port() const { return port_; }
  int mtls_port() const { return mtls_port_; }
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // Stops accepting calls, lets calls in flight finish until `deadline`,
  // then cancels the rest.
  void Shutdown(absl::Time deadline);
  void Wait();

  // The access layer havend runs on, for tests that act or look beneath
  // the services.
  access::Vault& vault() { return *vault_; }
  // The hotline service, for tests that run its retention purge directly.
  hotline::HotlineServiceImpl& hotline() { return *hotline_; }
  // The delivery worker for partner mechanisms; null without partners.
  referral::PartnerLink* partner_link() { return partner_link_.get(); }
  // Alerts caseworkers of what falls due (permits expiring, plan items
  // due) and tells law-enforcement agencies of their disclosures that ran
  // out; run every configured interval, and by tests on a manual clock.
  void RaiseDueAlerts();
  // Removes liaison events past liaison_event_retention_days; run at
  // start-up and hourly, and by tests on a manual clock.
  void PurgeLiaisonEvents();
  // Backs the store up into backup_directory now (docs/operations.md);
  // also run every backup_interval_minutes when a backup_directory is set.
  absl::StatusOr<storage::BackupSummary> Backup();
  // Asks the backup thread for a backup now (havend on SIGUSR1); false
  // when no backup_directory is configured.
  bool RequestBackup();

 private:
  HavenServer() = default;
  void PurgeEndedSessions();
  // Pushes erased cases' key ranges out of the files on disk.
  void PurgeErasedCases();
  // Logs the audit chain's signed head when it moved since last logged.
  void WitnessAuditHead();
  RealClock real_clock_;
  std::unique_ptr<crypto::KeyRing> keys_;
  std::unique_ptr<access::Vault> vault_;
  std::unique_ptr<services::Partners> partners_;
  std::unique_ptr<services::Authenticator> authenticator_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  hotline::HotlineServiceImpl* hotline_ = nullptr;  // owned by services_
  liaison::LiaisonServiceImpl* liaison_ = nullptr;  // owned by services_
  std::unique_ptr<referral::PartnerLink> partner_link_;
  services::Periodic session_purger_;
  services::Periodic liaison_purger_;
  services::Periodic erasure_purger_;
  absl::Duration liaison_event_retention_;
  services::Periodic due_alerter_;
  absl::Duration permit_alert_lead_;
  absl::Duration reflection_alert_lead_;
  services::Periodic head_witness_;
  std::string backup_directory_;
  int backups_to_keep_ = 0;
  services::Periodic backuper_;
  uint64_t witnessed_sequence_ = 0;  // of the last head logged
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  int mtls_port_ = 0;
  std::string port_file_;
  bool shut_down_ = false;
};

// What InitDataDirectory did: what Accounts::Bootstrap returns, and what
// it imported into the directory from the config's initial_directory_file
// (all zero when nothing).
struct Initialized : access::Accounts::Bootstrapped {
  haven::v1::ImportDirectoryResponse directory;
};

// Opens the store of `config` and, if it has no user yet, creates its first
// administrator and imports the config's initial_directory_file, writing the
// master key file first if it does not exist. An unreadable or invalid
// directory file fails before anything is created.
// `havend backup`: backs up the store of `config`, which no havend may
// have open, into `to` (backup_directory when empty), keeping
// backups_to_keep backups.
// The key ring the configuration's key files hold (crypto::FileKeySource).
absl::StatusOr<std::unique_ptr<crypto::KeyRing>> LoadKeys(const haven::v1::ServerConfig& config);

absl::StatusOr<storage::BackupSummary> BackUpStoppedStore(const haven::v1::ServerConfig& config,
                                                          const std::string& to);

absl::StatusOr<Initialized> InitDataDirectory(const haven::v1::ServerConfig& config,
                                              const std::string& admin_username);

// What RotateKeys did.
struct RotationReport {
  uint32_t epoch = 0;              // the epoch every data key is now wrapped under
  uint64_t rewrapped = 0;          // data keys re-wrapped by this run
  std::vector<uint32_t> destroyed; // retired epochs destroyed (DestroyRetiredKeys)
};

// havend rotate-keys, offline (havend stopped: the store is locked while it
// runs). Adds a wrap-key epoch to wrap_keys_file (unless resuming a
// rotation that did not finish), re-wraps every data key under it, marks the
// older epochs retired now, then runs DestroyRetiredKeys.
absl::StatusOr<RotationReport> RotateKeys(const haven::v1::ServerConfig& config,
                                          const Clock& clock);
// Removes from wrap_keys_file every epoch retired at least
// backup_retention_days ago (so no kept backup needs it), after checking
// that no stored data key is wrapped under it (FAILED_PRECONDITION if one
// is). Returns the epochs destroyed.
absl::StatusOr<std::vector<uint32_t>> DestroyRetiredKeys(const haven::v1::ServerConfig& config,
                                                        const Clock& clock);
// havend audit verify, offline: the audit chain, its indexes and the last
// head in audit_witness_file (AuditLog::Verify).
absl::StatusOr<haven::v1::VerifyAuditChainResponse> VerifyAudit(
    const haven::v1::ServerConfig& config);

}  // namespace haven::server

#endif  // HAVEN_SERVICES_SERVER_HAVEN_SERVER_H_
