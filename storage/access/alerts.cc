// CaseDoor's alerts: notices (ids only) to users, supervisors and the competent authority.
#include "storage/access/case_door.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "storage/access/case_door_parts.h"
#include "storage/ids.h"
#include "storage/keys.h"
#include "storage/timestamps.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

}  // namespace

absl::Status CaseScope::RaiseAlert(v1::AlertKind kind, const std::vector<std::string>& hex_case_ids,
                                   const Addressee& addressee) {
  return door_->RaiseAlert(*txn_, kind, hex_case_ids, addressee);
}

absl::Status CaseDoor::RaiseAlert(storage::Txn& txn, v1::AlertKind kind,
                                  const std::vector<std::string>& hex_case_ids,
                                  const CaseScope::Addressee& addressee) {
  v1::Alert alert;
  alert.set_id(NewId());
  alert.set_kind(kind);
  for (const std::string& id : hex_case_ids) alert.add_case_ids(id);
  int64_t now = absl::ToUnixMicros(clock_->Now());
  *alert.mutable_create_time() = MicrosToTimestamp(now);
  alert.set_addressee_user_id(addressee.user_id);
  alert.set_addressee_organisation_id(addressee.organisation_id);
  std::string key;
  keys::AppendU64(&key, static_cast<uint64_t>(now));
  key += alert.id();
  return txn.Put(Cf::kAlerts, key, alert.SerializeAsString());
}

absl::StatusOr<std::pair<std::vector<v1::Alert>, std::string>> CaseDoor::ListAlerts(
    const RequestContext& ctx, int page_size, absl::string_view page_token) {
  std::string after;
  if (!page_token.empty()) {
    absl::StatusOr<std::string> raw = FromHex(page_token, "page_token");
    if (!raw.ok()) return raw.status();
    after = *raw;
  }
  const bool at_authority =
      ctx.principal.organisation_type == v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY;
  const bool supervises = ctx.principal.HasRole(v1::ROLE_SUPERVISOR) ||
                          (at_authority && ctx.principal.HasRole(v1::ROLE_DECISION_MAKER));
  const bool authority = at_authority && supervises;
  const int limit = page_size <= 0 ? 100 : std::min(page_size, 1000);
  std::vector<v1::Alert> out;
  std::string last;
  bool more = false;
  absl::Status s = store_->Scan(Cf::kAlerts, "", after, [&](absl::string_view key, absl::string_view value) {
    v1::Alert alert;
    if (!alert.ParseFromArray(value.data(), static_cast<int>(value.size()))) return true;
    const bool mine =
        !alert.addressee_user_id().empty() ? alert.addressee_user_id() == ctx.principal.id
        : !alert.addressee_organisation_id().empty()
            ? supervises && alert.addressee_organisation_id() == ctx.principal.organisation_id
            : authority;
    if (!mine) return true;
    if (static_cast<int>(out.size()) == limit) {
      more = true;
      return false;
    }
    out.push_back(std::move(alert));
    last = std::string(key);
    return true;
  });
  if (!s.ok()) return s;
  return std::make_pair(std::move(out), more ? ToHex(last) : std::string());
}

}  // namespace haven::access
