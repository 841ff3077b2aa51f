// Vault: the access layer opened on one store.
#include "storage/access/vault.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

#include "storage/access/audit_log.h"
#include "storage/access/case_door.h"
#include "storage/access/contact_door.h"
#include "storage/access/data_keys.h"
#include "storage/access/indicator_shelf.h"
#include "storage/access/layout.h"
#include "storage/access/liaison_door.h"
#include "storage/access/partner_outbox.h"
#include "storage/access/provider_directory.h"
#include "storage/access/statistics_shelf.h"
#include "storage/audit_witness.h"
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
  vault->keys_ = options.keys;
  if (!options.audit_witness_file.empty()) {
    vault->witness_ = std::make_unique<storage::AuditWitness>(options.audit_witness_file);
  }
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
  vault->audit_log_ = std::make_unique<AuditLog>(s, vault->witness_.get());
  vault->indicator_shelf_ = std::make_unique<IndicatorShelf>(s);
  vault->partner_outbox_ = std::make_unique<PartnerOutbox>(s);
  vault->provider_directory_ = std::make_unique<ProviderDirectory>(s, options.clock);
  vault->liaison_door_ =
      std::make_unique<LiaisonDoor>(s, options.keys, options.clock, vault->case_door_.get());
  return vault;
}

absl::StatusOr<haven::v1::AuditCheckpoint> Vault::WitnessAuditHead() const {
  haven::v1::AuditCheckpoint head = store_->SignedHead();
  if (witness_ == nullptr) return head;
  // A store that does not reach what was witnessed (cut back, or restored
  // from a backup) must not have its shorter head witnessed over the
  // longer one: the discrepancy stays the witness file's last word.
  absl::StatusOr<std::optional<haven::v1::AuditCheckpoint>> latest = witness_->Latest();
  if (!latest.ok()) return latest.status();
  if (latest->has_value()) {
    const haven::v1::AuditCheckpoint& witnessed = **latest;
    const std::string fix = absl::StrCat(
        "; havend no longer witnesses its audit head: investigate with havend audit-verify, "
        "and, for a known restore, move ", witness_->path(), " aside and keep it as evidence");
    if (witnessed.instance_id() != store_->instance_id()) {
      return absl::FailedPreconditionError(
          absl::StrCat("audit_witness_file holds another store's heads", fix));
    }
    bool reached = witnessed.sequence() <= head.sequence();
    if (reached && witnessed.sequence() > 0) {
      absl::StatusOr<haven::v1::AuditEntry> entry = store_->ReadAuditEntry(witnessed.sequence());
      reached = entry.ok() && entry->hash() == witnessed.hash();
    }
    if (!reached) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the audit chain does not reach its last witnessed head (sequence ",
          witnessed.sequence(), ")", fix));
    }
  }
  if (absl::Status s = witness_->Append(head); !s.ok()) return s;
  return head;
}

uint64_t Vault::last_audit_sequence() const { return store_->last_audit_sequence(); }

void Vault::OnWriteFailure(std::function<void()> listener) {
  store_->OnWriteFailure(std::move(listener));
}

absl::StatusOr<storage::BackupSummary> Vault::Backup(const std::string& dir, int keep) {
  return store_->Backup(dir, keep);
}

absl::StatusOr<uint64_t> Vault::RewrapDataKeys() { return access::RewrapDataKeys(*store_, *keys_); }

absl::StatusOr<std::map<uint32_t, uint64_t>> Vault::CountDataKeysByEpoch() {
  return access::CountDataKeysByEpoch(*store_);
}

uint64_t Vault::checkpoint_interval() const { return store_->checkpoint_interval(); }

}  // namespace haven::access
