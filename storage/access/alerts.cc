// CaseDoor's alerts: notices (ids only) to users, supervisors and the competent authority,
// kept under their addressee and time, and taken off the open list with who and why.
#include "storage/access/case_door.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "storage/access/case_door_parts.h"
#include "storage/access/layout.h"
#include "storage/ids.h"
#include "storage/keys.h"
#include "storage/timestamps.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

constexpr int kMaxAlertPage = 500;
// Time (u64) and raw alert id: where an alert sits within its addressee's range.
constexpr size_t kAlertSuffixBytes = 8 + kIdBytes;

absl::Status AlertNotFound() { return absl::NotFoundError("alert not found"); }

// The addressee part of an alert's key: 'u' user, 'o' organisation, 'a'
// every competent authority; behind 'r' once resolved.
std::string AddresseePrefix(const v1::Alert& alert, bool resolved) {
  std::string prefix = resolved ? "r" : "";
  if (!alert.addressee_user_id().empty()) return prefix + IndexPrefix('u', alert.addressee_user_id());
  if (!alert.addressee_organisation_id().empty()) {
    return prefix + IndexPrefix('o', alert.addressee_organisation_id());
  }
  return prefix + "a";
}

// The prefixes of the alerts addressed to the caller.
std::vector<std::string> CallerPrefixes(const Principal& principal, bool resolved) {
  const bool at_authority = principal.organisation_type == v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY;
  const bool supervises = principal.HasRole(v1::ROLE_SUPERVISOR) ||
                          (at_authority && principal.HasRole(v1::ROLE_DECISION_MAKER));
  v1::Alert as;
  std::vector<std::string> prefixes;
  as.set_addressee_user_id(principal.id);
  prefixes.push_back(AddresseePrefix(as, resolved));
  if (supervises) {
    as.clear_addressee_user_id();
    as.set_addressee_organisation_id(principal.organisation_id);
    prefixes.push_back(AddresseePrefix(as, resolved));
  }
  if (supervises && at_authority) prefixes.push_back(AddresseePrefix(v1::Alert(), resolved));
  return prefixes;
}

bool AddressedTo(const Principal& principal, const v1::Alert& alert, bool resolved) {
  const std::vector<std::string> mine = CallerPrefixes(principal, resolved);
  return std::find(mine.begin(), mine.end(), AddresseePrefix(alert, resolved)) != mine.end();
}

}  // namespace

std::string AlertKey(const v1::Alert& alert, bool resolved) {
  std::string key = AddresseePrefix(alert, resolved);
  keys::AppendU64(&key, static_cast<uint64_t>(TimestampToMicros(alert.create_time())));
  key += FromHex(alert.id(), "alert id").value_or(std::string());
  return key;
}

std::string AlertByIdKey(absl::string_view raw_alert_id) { return absl::StrCat("i", raw_alert_id); }

absl::Status PutAlert(storage::Txn& txn, const v1::Alert& alert, bool resolved) {
  const std::string key = AlertKey(alert, resolved);
  absl::StatusOr<std::string> raw = FromHex(alert.id(), "alert id");
  if (!raw.ok()) return raw.status();
  if (absl::Status s = txn.Put(Cf::kAlerts, key, alert.SerializeAsString()); !s.ok()) return s;
  return txn.Put(Cf::kAlerts, AlertByIdKey(*raw), key);
}

namespace {

// A new open alert, created `now`.
absl::Status PutNewAlert(storage::Txn& txn, v1::AlertKind kind,
                         const std::vector<std::string>& hex_case_ids,
                         const CaseScope::Addressee& addressee, absl::Time now) {
  v1::Alert alert;
  alert.set_id(NewId());
  alert.set_kind(kind);
  for (const std::string& id : hex_case_ids) alert.add_case_ids(id);
  *alert.mutable_create_time() = MicrosToTimestamp(absl::ToUnixMicros(now));
  alert.set_addressee_user_id(addressee.user_id);
  alert.set_addressee_organisation_id(addressee.organisation_id);
  return PutAlert(txn, alert, false);
}

}  // namespace

absl::Status AlertCaseworkers(storage::Txn& txn, v1::AlertKind kind, const v1::CaseRecord& record,
                              absl::string_view addressee_user_id, absl::Time now) {
  std::vector<CaseScope::Addressee> addressees;
  if (!addressee_user_id.empty()) {
    addressees.push_back({std::string(addressee_user_id), ""});
  } else {
    for (const std::string& user : record.assignee_ids()) addressees.push_back({user, ""});
  }
  if (addressees.empty()) addressees.push_back({"", record.owning_organisation_id()});
  for (const CaseScope::Addressee& addressee : addressees) {
    if (absl::Status s = PutNewAlert(txn, kind, {ToHex(record.id())}, addressee, now); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status CaseScope::RaiseAlert(v1::AlertKind kind, const std::vector<std::string>& hex_case_ids,
                                   const Addressee& addressee) {
  return door_->RaiseAlert(*txn_, kind, hex_case_ids, addressee);
}

absl::Status CaseDoor::RaiseAlert(storage::Txn& txn, v1::AlertKind kind,
                                  const std::vector<std::string>& hex_case_ids,
                                  const CaseScope::Addressee& addressee) {
  return PutNewAlert(txn, kind, hex_case_ids, addressee, clock_->Now());
}

absl::StatusOr<std::pair<std::vector<v1::Alert>, std::string>> CaseDoor::ListAlerts(
    const RequestContext& ctx, int page_size, absl::string_view page_token, bool resolved) {
  if (page_size < 0) return absl::InvalidArgumentError("page_size must not be negative");
  std::string after;
  if (!page_token.empty()) {
    absl::StatusOr<std::string> raw = FromHex(page_token, "page_token");
    if (!raw.ok()) return raw.status();
    if (raw->size() != kAlertSuffixBytes) {
      return absl::InvalidArgumentError("page_token is not one this server gave");
    }
    after = *raw;
  }
  const int limit = page_size == 0 ? 100 : std::min(page_size, kMaxAlertPage);
  // Each of the caller's ranges gives at most a page and one; the oldest
  // of them all make the page.
  std::vector<std::pair<std::string, v1::Alert>> found;
  for (const std::string& prefix : CallerPrefixes(ctx.principal, resolved)) {
    int taken = 0;
    const std::string start = after.empty() ? std::string() : prefix + after;
    absl::Status failure;
    absl::Status s = store_->Scan(Cf::kAlerts, prefix, start, [&](absl::string_view key,
                                                                  absl::string_view value) {
      if (key.size() != prefix.size() + kAlertSuffixBytes) return true;  // a longer addressee id
      v1::Alert alert;
      if (!alert.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        failure = absl::DataLossError("an alert is unreadable");
        return false;
      }
      found.emplace_back(std::string(key.substr(prefix.size())), std::move(alert));
      return ++taken <= limit;
    });
    if (!s.ok()) return s;
    if (!failure.ok()) return failure;
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string next;
  if (static_cast<int>(found.size()) > limit) {
    found.resize(limit);
    next = ToHex(found.back().first);
  }
  std::vector<v1::Alert> out;
  out.reserve(found.size());
  for (auto& [suffix, alert] : found) out.push_back(std::move(alert));
  return std::make_pair(std::move(out), std::move(next));
}

absl::StatusOr<v1::Alert> CaseDoor::ResolveAlert(const RequestContext& ctx,
                                                 absl::string_view alert_id,
                                                 v1::AlertResolution resolution) {
  if (!v1::AlertResolution_IsValid(resolution) ||
      resolution == v1::ALERT_RESOLUTION_UNSPECIFIED) {
    return absl::InvalidArgumentError("resolution must say why the alert is resolved or dismissed");
  }
  absl::StatusOr<std::string> raw = ParseId(alert_id, "alert_id");
  if (!raw.ok()) return raw.status();
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  absl::StatusOr<std::optional<std::string>> where = txn->GetForUpdate(Cf::kAlerts, AlertByIdKey(*raw));
  if (!where.ok()) return where.status();
  if (!where->has_value()) return AlertNotFound();
  const std::string open_key = **where;
  absl::StatusOr<std::optional<std::string>> stored = txn->Get(Cf::kAlerts, open_key);
  if (!stored.ok()) return stored.status();
  v1::Alert alert;
  if (!stored->has_value() || !alert.ParseFromString(**stored)) {
    return absl::DataLossError("an alert is unreadable");
  }
  const bool resolved = open_key.front() == 'r';
  if (!AddressedTo(ctx.principal, alert, resolved)) return AlertNotFound();
  if (resolved) return absl::FailedPreconditionError("the alert is already resolved");
  alert.set_resolution(resolution);
  alert.set_resolved_by(ctx.principal.id);
  *alert.mutable_resolve_time() = MicrosToTimestamp(absl::ToUnixMicros(clock_->Now()));
  if (absl::Status s = txn->Delete(Cf::kAlerts, open_key); !s.ok()) return s;
  if (absl::Status s = PutAlert(*txn, alert, true); !s.ok()) return s;
  v1::AuditEntry entry = NewAuditEntry(ctx, "alert.resolve", absl::StrCat("alerts/", alert.id()));
  entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  entry.add_classes(v1::CONFIDENTIALITY_ADMINISTRATIVE);
  txn->Audit(std::move(entry));
  if (absl::Status s = store_->Commit(std::move(txn)); !s.ok()) return s;
  return alert;
}

}  // namespace haven::access
