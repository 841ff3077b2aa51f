// Vault: the access layer opened on one store.
#include "storage/access/vault.h"

#include <utility>

#include "storage/access/audit_log.h"
#include "storage/access/case_door.h"
#include "storage/access/contact_door.h"
#include "storage/access/indicator_shelf.h"
#include "storage/access/layout.h"
#include "storage/access/liaison_door.h"
#include "storage/access/partner_outbox.h"
#include "storage/access/provider_directory.h"
#include "storage/access/statistics_shelf.h"
#include "storage/store.h"

namespace haven::access {

Vault::Vault() = default;
Vault::~Vault() = default;

absl::StatusOr<std::unique_ptr<Vault>> Vault::Open(const Options& options) {
  storage::Store::Options store_options;
  store_options.path = options.path;
  store_options.env = options.env;
  store_options.keys = options.keys;
  store_options.clock = options.clock;
  store_options.checkpoint_interval = options.checkpoint_interval;
  absl::StatusOr<std::unique_ptr<storage::Store>> store = storage::Store::Open(store_options);
  if (!store.ok()) return store.status();
  if (absl::Status migrated = MigrateStore(**store); !migrated.ok()) return migrated;
  std::unique_ptr<Vault> vault(new Vault());
  vault->store_ = *std::move(store);
  storage::Store* s = vault->store_.get();
  vault->accounts_ = std::make_unique<Accounts>(s, options.clock, options.accounts);
  CaseDoor::Options door_options;
  door_options.emergency_access_max = options.emergency_access_max;
  vault->case_door_ = std::make_unique<CaseDoor>(s, options.keys, options.clock, door_options);
  if (absl::Status migrated = MigrateStatistics(*s, *options.keys, *vault->case_door_);
      !migrated.ok()) {
    return migrated;
  }
  if (absl::Status migrated = MigrateErasures(*s, options.clock->Now()); !migrated.ok()) {
    return migrated;
  }
  vault->statistics_shelf_ = std::make_unique<StatisticsShelf>(s, options.keys);
  vault->contact_door_ = std::make_unique<ContactDoor>(s, options.keys, options.clock);
  vault->audit_log_ = std::make_unique<AuditLog>(s);
  vault->indicator_shelf_ = std::make_unique<IndicatorShelf>(s);
  vault->partner_outbox_ = std::make_unique<PartnerOutbox>(s);
  vault->provider_directory_ = std::make_unique<ProviderDirectory>(s, options.clock);
  vault->liaison_door_ =
      std::make_unique<LiaisonDoor>(s, options.keys, options.clock, vault->case_door_.get());
  return vault;
}

haven::v1::AuditCheckpoint Vault::SignedAuditHead() const { return store_->SignedHead(); }

uint64_t Vault::last_audit_sequence() const { return store_->last_audit_sequence(); }

absl::StatusOr<storage::BackupSummary> Vault::Backup(const std::string& dir, int keep) {
  return store_->Backup(dir, keep);
}

uint64_t Vault::checkpoint_interval() const { return store_->checkpoint_interval(); }

}  // namespace haven::access
