// CaseDoor's watches: times a case's caseworkers must hear of (a permit's expiry, a plan item
// due, a return's follow-up), indexed by kind, organisation and time for due lists, and alerted
// once per due time; and the directory services a case's plan waits on.
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/access/case_door.h"
#include "storage/access/case_door_parts.h"
#include "storage/access/layout.h"
#include "storage/ids.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

std::string KindPrefix(v1::WatchKind kind) { return std::string{'W', static_cast<char>(kind)}; }

}  // namespace

std::string WatchPrefix(v1::WatchKind kind, absl::string_view organisation_id) {
  std::string key = KindPrefix(kind);
  keys::AppendShortString(&key, organisation_id);
  return key;
}

std::string WatchKey(v1::WatchKind kind, absl::string_view organisation_id, int64_t due_micros,
                     absl::string_view raw_case_id) {
  std::string key = WatchPrefix(kind, organisation_id);
  keys::AppendU64(&key, static_cast<uint64_t>(due_micros));
  return absl::StrCat(key, raw_case_id);
}

std::string AwaitedServicePrefix(absl::string_view service_id) {
  return IndexPrefix('S', service_id);
}

std::string AwaitedByCasePrefix(absl::string_view raw_case_id) {
  return IndexPrefix('s', raw_case_id);
}

absl::Status CaseScope::SetServicesAwaited(const std::map<std::string, absl::Time>& until) {
  const std::string by_case = AwaitedByCasePrefix(raw_id_);
  std::vector<std::string> before;
  absl::Status scanned = txn_->Scan(Cf::kCaseIndex, by_case, "",
                                    [&](absl::string_view key, absl::string_view) {
                                      before.emplace_back(key.substr(by_case.size()));
                                      return true;
                                    });
  if (!scanned.ok()) return scanned;
  for (const std::string& service_id : before) {
    if (until.count(service_id) > 0) continue;
    if (absl::Status s = txn_->Delete(Cf::kCaseIndex, by_case + service_id); !s.ok()) return s;
    if (absl::Status s = txn_->Delete(Cf::kCaseIndex, AwaitedServicePrefix(service_id) + raw_id_);
        !s.ok()) {
      return s;
    }
  }
  for (const auto& [service_id, when] : until) {
    const uint64_t until_micros =
        when == absl::InfiniteFuture()
            ? UINT64_MAX
            : static_cast<uint64_t>(std::max<int64_t>(0, absl::ToUnixMicros(when)));
    std::string value;
    keys::AppendU64(&value, until_micros);
    if (absl::Status s = txn_->Put(Cf::kCaseIndex, by_case + service_id, ""); !s.ok()) return s;
    const std::string key = AwaitedServicePrefix(service_id) + raw_id_;
    if (absl::Status s = txn_->Put(Cf::kCaseIndex, key, value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void CaseScope::SetWatch(v1::WatchKind kind, std::optional<absl::Time> due,
                         absl::string_view addressee_user_id) {
  // Unchanged, the case is not changed either (no new version).
  bool found = false;
  for (const v1::CaseWatch& watch : record().watches()) {
    if (watch.kind() != kind) continue;
    found = true;
    if (due.has_value() && watch.due_micros() == absl::ToUnixMicros(*due) &&
        watch.addressee_user_id() == addressee_user_id) {
      return;
    }
  }
  if (!found && !due.has_value()) return;
  v1::CaseRecord* record = mutable_record();
  auto* watches = record->mutable_watches();
  v1::CaseWatch* watch = nullptr;
  for (int i = 0; i < watches->size(); ++i) {
    if (watches->Get(i).kind() != kind) continue;
    if (!due.has_value()) {
      watches->DeleteSubrange(i, 1);
      return;
    }
    watch = watches->Mutable(i);
  }
  if (!due.has_value()) return;
  if (watch == nullptr) {
    watch = record->add_watches();
    watch->set_kind(kind);
  }
  watch->set_due_micros(absl::ToUnixMicros(*due));
  watch->set_addressee_user_id(std::string(addressee_user_id));
}

void CaseScope::WatchNoLaterThan(v1::WatchKind kind, absl::Time due) {
  for (const v1::CaseWatch& watch : record().watches()) {
    if (watch.kind() == kind && absl::FromUnixMicros(watch.due_micros()) <= due) return;
  }
  SetWatch(kind, due);
}

absl::StatusOr<std::vector<std::string>> CaseDoor::DueCases(v1::WatchKind kind,
                                                             absl::Time horizon) {
  const int64_t horizon_micros = absl::ToUnixMicros(horizon);
  std::vector<std::string> due;  // raw case ids
  absl::Status scanned = store_->Scan(
      Cf::kCaseIndex, KindPrefix(kind), "", [&](absl::string_view key, absl::string_view) {
        absl::string_view rest = key.substr(2);
        std::optional<uint64_t> when;
        if (keys::ConsumeShortString(&rest).has_value()) when = keys::ConsumeU64(&rest);
        if (when.has_value() && static_cast<int64_t>(*when) <= horizon_micros &&
            rest.size() == kIdBytes) {
          due.emplace_back(rest);
        }
        return true;
      });
  if (!scanned.ok()) return scanned;
  return due;
}

absl::Status ChangeEachDueCase(
    storage::Store& store, const std::vector<std::string>& due, RequestContext system,
    absl::string_view action,
    const std::function<absl::StatusOr<bool>(storage::Txn&, v1::CaseRecord&)>& change) {
  for (const std::string& raw_id : due) {
    system.request_id = NewId();
    std::unique_ptr<storage::Txn> txn = store.Begin();
    absl::StatusOr<std::optional<std::string>> stored = txn->GetForUpdate(Cf::kCases, raw_id);
    if (!stored.ok()) return stored.status();
    v1::CaseRecord record;
    if (!stored->has_value() || !record.ParseFromString(**stored)) continue;
    absl::StatusOr<bool> changed = change(*txn, record);
    if (!changed.ok()) return changed.status();
    if (!*changed) continue;
    if (absl::Status s = txn->Put(Cf::kCases, raw_id, record.SerializeAsString()); !s.ok()) return s;
    v1::AuditEntry entry = NewAuditEntry(system, action, absl::StrCat("cases/", ToHex(raw_id)));
    entry.set_case_id(ToHex(raw_id));
    entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
    entry.add_classes(v1::CONFIDENTIALITY_ADMINISTRATIVE);
    txn->Audit(std::move(entry));
    if (absl::Status s = store.Commit(std::move(txn)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<int> CaseDoor::RaiseDueAlerts(v1::WatchKind kind, absl::Duration lead,
                                             v1::AlertKind alert) {
  const absl::Time by = clock_->Now() + lead;
  const int64_t horizon = absl::ToUnixMicros(by);
  absl::StatusOr<std::vector<std::string>> due = DueCases(kind, by);
  if (!due.ok()) return due.status();
  RequestContext system;
  system.principal.id = "system:due-alerts";
  system.purpose = "due-alerts";
  int raised = 0;
  absl::Status s = ChangeEachDueCase(
      *store_, *due, system, "system.due_alert",
      [&](storage::Txn& txn, v1::CaseRecord& record) -> absl::StatusOr<bool> {
        if (record.status() != v1::CASE_STATUS_OPEN) return false;
        v1::CaseWatch* watch = nullptr;
        for (v1::CaseWatch& w : *record.mutable_watches()) {
          if (w.kind() == kind) watch = &w;
        }
        // Changed since the scan, or told already for this due time.
        if (watch == nullptr || watch->due_micros() > horizon ||
            watch->alerted_micros() == watch->due_micros()) {
          return false;
        }
        if (absl::Status a =
                AlertCaseworkers(txn, alert, record, watch->addressee_user_id(), clock_->Now());
            !a.ok()) {
          return a;
        }
        watch->set_alerted_micros(watch->due_micros());
        ++raised;
        return true;
      });
  if (!s.ok()) return s;
  return raised;
}

}  // namespace haven::access
