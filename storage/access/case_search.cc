// CaseDoor's search: candidates from the indexes, then each case the caller may read.
#include "storage/access/case_door.h"

#include <algorithm>
#include <iterator>
#include <set>

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

}  // namespace

bool CaseQuery::Matches(const v1::CaseRecord& record) const {
  if (status != v1::CASE_STATUS_UNSPECIFIED && record.status() != status) return false;
  if (identification_status != v1::IDENTIFICATION_STATUS_UNSPECIFIED &&
      record.identification_status() != identification_status) {
    return false;
  }
  if (!assignee_id.empty() &&
      std::find(record.assignee_ids().begin(), record.assignee_ids().end(), assignee_id) ==
          record.assignee_ids().end()) {
    return false;
  }
  if (deadline_before.has_value() &&
      (record.next_deadline_micros() == 0 ||
       absl::FromUnixMicros(record.next_deadline_micros()) >= *deadline_before)) {
    return false;
  }
  if (watch != v1::WATCH_KIND_UNSPECIFIED) {
    bool due = false;
    for (const v1::CaseWatch& w : record.watches()) {
      due = due || (w.kind() == watch && absl::FromUnixMicros(w.due_micros()) < watch_due_before);
    }
    if (!due) return false;
  }
  return true;
}

absl::StatusOr<std::set<std::string>> CaseDoor::Candidates(storage::Txn& txn,
                                                           const RequestContext& ctx,
                                                           const CaseQuery& query) {
  // Keys of `prefix` below `upper` (when given), by the case id that ends them.
  auto collect = [&](Cf cf, const std::string& prefix, const std::string& upper,
                     std::set<std::string>* into) {
    return txn.Scan(cf, prefix, "", [&](absl::string_view key, absl::string_view) {
      if (!upper.empty() && key >= upper) return false;
      if (key.size() >= kIdBytes) into->emplace(key.substr(key.size() - kIdBytes));
      return true;
    });
  };
  // Only the caller's reach is read: its organisation's index ranges and
  // the cases granted to it or its organisation. How long a search takes
  // says nothing of cases elsewhere.
  const std::string& org = ctx.principal.organisation_id;
  std::set<std::string> granted;
  for (const std::string& prefix :
       {IndexPrefix('g', org), IndexPrefix('g', ctx.principal.id)}) {
    if (absl::Status s = collect(Cf::kCaseIndex, prefix, "", &granted); !s.ok()) return s;
  }
  std::set<std::string> out;
  if (!query.name_keys.empty()) {
    std::vector<std::string> blinded;
    for (const std::string& name_key : query.name_keys) blinded.push_back(NameIndexKey(name_key));
    for (size_t i = 0; i < blinded.size(); ++i) {
      std::set<std::string> own;
      if (absl::Status s = collect(Cf::kCaseIndex, OwnNameKey(org, blinded[i]), "", &own); !s.ok()) {
        return s;
      }
      if (i == 0) {
        out = std::move(own);
        continue;
      }
      std::set<std::string> both;
      std::set_intersection(out.begin(), out.end(), own.begin(), own.end(),
                            std::inserter(both, both.begin()));
      out = std::move(both);
    }
    for (const std::string& raw_id : granted) {
      bool all = true;
      for (const std::string& b : blinded) {
        absl::StatusOr<std::optional<std::string>> hit = txn.Get(Cf::kNameIndex, b + raw_id);
        if (!hit.ok()) return hit.status();
        all = all && hit->has_value();
      }
      if (all) out.insert(raw_id);
    }
    return out;
  }
  if (!query.assignee_id.empty()) {
    // An assignee's cases that the caller reaches: its organisation's, or granted.
    std::set<std::string> assigned;
    absl::Status s = collect(Cf::kCaseIndex, IndexPrefix('a', query.assignee_id), "", &assigned);
    if (!s.ok()) return s;
    for (const std::string& raw_id : assigned) {
      absl::StatusOr<std::optional<std::string>> own =
          txn.Get(Cf::kCaseIndex, IndexPrefix('o', org) + raw_id);
      if (!own.ok()) return own.status();
      if (own->has_value() || granted.count(raw_id) > 0) out.insert(raw_id);
    }
    return out;
  }
  if (query.watch != v1::WATCH_KIND_UNSPECIFIED) {
    const std::string prefix = WatchPrefix(query.watch, org);
    std::string upper = prefix;
    keys::AppendU64(&upper, static_cast<uint64_t>(absl::ToUnixMicros(query.watch_due_before)));
    if (absl::Status s = collect(Cf::kCaseIndex, prefix, upper, &out); !s.ok()) return s;
  } else if (query.deadline_before.has_value()) {
    const std::string prefix = IndexPrefix('D', org);
    std::string upper = prefix;
    keys::AppendU64(&upper, static_cast<uint64_t>(absl::ToUnixMicros(*query.deadline_before)));
    if (absl::Status s = collect(Cf::kCaseIndex, prefix, upper, &out); !s.ok()) return s;
  } else if (absl::Status s = collect(Cf::kCaseIndex, IndexPrefix('o', org), "", &out); !s.ok()) {
    return s;
  }
  out.insert(granted.begin(), granted.end());  // Matches() keeps those the query wants
  return out;
}

absl::StatusOr<std::string> CaseDoor::ForEachReadableCase(const RequestContext& ctx,
                                                          const CaseQuery& query,
                                                          absl::string_view audit_action,
                                                          const Work& work) {
  std::string after;
  if (!query.page_token.empty()) {
    absl::StatusOr<std::string> raw = ParseId(query.page_token, "page_token");
    if (!raw.ok()) return raw.status();
    after = *raw;
  }
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  absl::StatusOr<std::set<std::string>> candidates = Candidates(*txn, ctx, query);
  if (!candidates.ok()) return candidates.status();
  std::vector<std::unique_ptr<CaseScope>> scopes;  // kept alive until commit
  std::string next_token;
  for (auto it = candidates->upper_bound(after); it != candidates->end(); ++it) {
    std::unique_ptr<CaseScope> scope(new CaseScope());
    absl::StatusOr<bool> allowed = Open(*txn, ctx, *it, v1::CASE_ACTION_READ, scope.get());
    if (!allowed.ok()) return allowed.status();
    if (!*allowed || !query.Matches(scope->record_)) continue;
    // A name matches only where the caller may see who the subject is, so
    // that a search cannot tell whether a name exists elsewhere.
    if (!query.name_keys.empty() && !scope->visible_.Contains(v1::CONFIDENTIALITY_IDENTIFYING)) {
      continue;
    }
    if (static_cast<int>(scopes.size()) == query.limit) {
      next_token = scopes.back()->hex_id_;
      break;
    }
    if (absl::Status s = work(*scope); !s.ok()) return s;
    if (absl::Status s = Finish(*txn, *scope, audit_action); !s.ok()) return s;
    scopes.push_back(std::move(scope));
  }
  if (absl::Status s = store_->Commit(std::move(txn)); !s.ok()) return s;
  return next_token;
}

}  // namespace haven::access
