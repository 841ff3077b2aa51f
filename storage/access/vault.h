// Vault: the access layer opened on one store: the store and every door
// over it (accounts, cases, hotline contacts, the audit log, the indicator
// sets, the partner outbox), and the audit chain's head for havend's
// witness. Services get the doors; only the access layer and tests reach
// the store.
//
// Thread-safe. A Vault owns the store and the doors; the key ring and the
// clock it is opened with must outlive it, and it must outlive whatever
// it gives its doors to.
#ifndef HAVEN_STORAGE_ACCESS_VAULT_H_
#define HAVEN_STORAGE_ACCESS_VAULT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "haven/v1/audit.pb.h"
#include "storage/access/accounts.h"
#include "storage/backup.h"
#include "storage/clock.h"
#include "storage/crypto.h"

namespace rocksdb {
class Env;
}
namespace haven::storage {
class AuditWitness;
class Store;
}

namespace haven::access {

class AuditLog;
class CaseDoor;
class ContactDoor;
class IndicatorShelf;
class LiaisonDoor;
class PartnerOutbox;
class ProviderDirectory;
class StatisticsShelf;

class Vault {
 public:
  struct Options {
    std::string path;                       // the store's directory
    rocksdb::Env* env = nullptr;            // null: the disk; tests pass a memory env
    const crypto::KeyRing* keys = nullptr;  // seals records, signs the audit chain
    // Where signed audit heads are witnessed (storage/audit_witness.h);
    // empty: nowhere (tests).
    std::string audit_witness_file;
    const Clock* clock = nullptr;
    // A signed audit checkpoint every this many entries; fixed when the
    // store is created (see checkpoint_interval()).
    uint64_t checkpoint_interval = 256;
    Accounts::Options accounts;
    // Longest a grant under an emergency basis may run.
    absl::Duration emergency_access_max = absl::Hours(72);
  };

  // Opens (creating when missing) the store at options.path and the doors
  // over it.
  static absl::StatusOr<std::unique_ptr<Vault>> Open(const Options& options);
  ~Vault();  // closes the doors, then the store
  Vault(const Vault&) = delete;
  Vault& operator=(const Vault&) = delete;

  Accounts& accounts() { return *accounts_; }
  CaseDoor& case_door() { return *case_door_; }
  ContactDoor& contact_door() { return *contact_door_; }
  AuditLog& audit_log() { return *audit_log_; }
  IndicatorShelf& indicator_shelf() { return *indicator_shelf_; }
  PartnerOutbox& partner_outbox() { return *partner_outbox_; }
  ProviderDirectory& provider_directory() { return *provider_directory_; }
  StatisticsShelf& statistics_shelf() { return *statistics_shelf_; }
  LiaisonDoor& liaison_door() { return *liaison_door_; }

  // The audit chain's head now, signed like a checkpoint but not stored,
  // appended to the witness file (and syslog) when there is one: kept apart
  // from the store, it witnesses how long the chain was.
  // FAILED_PRECONDITION, and nothing appended, when the store does not
  // reach the last witnessed head (or the witness is another store's).
  absl::StatusOr<haven::v1::AuditCheckpoint> WitnessAuditHead() const;
  uint64_t last_audit_sequence() const;
  // Calls `listener` once when a write to the store first fails and it
  // starts refusing every write (until havend restarts). Set before the
  // vault is shared.
  void OnWriteFailure(std::function<void()> listener);
  // Backs the store up into `dir` while it serves, keeping the newest
  // `keep` backups (storage/backup.h).
  absl::StatusOr<storage::BackupSummary> Backup(const std::string& dir, int keep);
  // Key rotation (havend rotate-keys): every data key re-wrapped under the
  // key ring's newest epoch (access/data_keys.h), and how many each epoch
  // wraps.
  absl::StatusOr<uint64_t> RewrapDataKeys();
  absl::StatusOr<std::map<uint32_t, uint64_t>> CountDataKeysByEpoch();
  // The store's checkpoint interval: the one it was created with, which may
  // differ from options.checkpoint_interval.
  uint64_t checkpoint_interval() const;

  // The store beneath the doors, for tests that look at what is stored.
  // Services never use it.
  storage::Store& store() { return *store_; }

 private:
  Vault();
  std::unique_ptr<storage::Store> store_;  // first: destroyed after the doors
  std::unique_ptr<storage::AuditWitness> witness_;  // null without a witness file
  const crypto::KeyRing* keys_ = nullptr;
  std::unique_ptr<Accounts> accounts_;
  std::unique_ptr<CaseDoor> case_door_;
  std::unique_ptr<ContactDoor> contact_door_;
  std::unique_ptr<AuditLog> audit_log_;
  std::unique_ptr<IndicatorShelf> indicator_shelf_;
  std::unique_ptr<PartnerOutbox> partner_outbox_;
  std::unique_ptr<ProviderDirectory> provider_directory_;
  std::unique_ptr<StatisticsShelf> statistics_shelf_;
  std::unique_ptr<LiaisonDoor> liaison_door_;
};

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_VAULT_H_
