// CaseDoor's indexes: the administrative case index and the blind name index.
#include "storage/access/case_door.h"

#include <algorithm>
#include <set>

#include "storage/access/subject_index.h"
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

std::string IndexPrefix(char tag, absl::string_view id) {
  std::string key(1, tag);
  keys::AppendShortString(&key, id);
  return key;
}

std::set<std::string> CaseIndexKeys(const v1::CaseRecord& record) {
  std::set<std::string> keys_out;
  if (record.status() == v1::CASE_STATUS_ERASED || record.id().empty()) return keys_out;
  keys_out.insert(IndexPrefix('o', record.owning_organisation_id()) + record.id());
  for (const std::string& a : record.assignee_ids()) {
    keys_out.insert(IndexPrefix('a', a) + record.id());
  }
  for (const std::string& blinded : record.name_index_keys()) {
    keys_out.insert(OwnNameKey(record.owning_organisation_id(), blinded) + record.id());
  }
  for (const v1::CaseWatch& watch : record.watches()) {
    // A disclosure to law enforcement runs out whether the case is open or
    // closed; the caseworkers' watches matter while it is open.
    if (record.status() == v1::CASE_STATUS_OPEN ||
        watch.kind() == v1::WATCH_KIND_DISCLOSURE_EXPIRY) {
      keys_out.insert(
          WatchKey(watch.kind(), record.owning_organisation_id(), watch.due_micros(), record.id()));
    }
  }
  if (record.next_deadline_micros() > 0 && record.status() == v1::CASE_STATUS_OPEN) {
    keys_out.insert(
        DeadlineKey(record.owning_organisation_id(), record.next_deadline_micros(), record.id()));
  }
  return keys_out;
}

absl::Status ReplaceIndexKeys(storage::Txn& txn, Cf cf, const std::set<std::string>& before,
                              const std::set<std::string>& after) {
  for (const std::string& k : before) {
    if (after.count(k) == 0) {
      if (absl::Status s = txn.Delete(cf, k); !s.ok()) return s;
    }
  }
  for (const std::string& k : after) {
    if (before.count(k) == 0) {
      if (absl::Status s = txn.Put(cf, k, ""); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

std::string OwnNameKey(absl::string_view organisation_id, absl::string_view blinded_name_key) {
  return absl::StrCat(IndexPrefix('n', organisation_id), blinded_name_key);
}

std::string DeadlineKey(absl::string_view organisation_id, int64_t deadline_micros,
                        absl::string_view raw_case_id) {
  std::string key = IndexPrefix('D', organisation_id);
  keys::AppendU64(&key, static_cast<uint64_t>(deadline_micros));
  return absl::StrCat(key, raw_case_id);
}

absl::Status CaseScope::IndexSubject(const v1::Subject& subject) {
  std::vector<std::string> keys = SubjectNameKeys(subject);
  std::vector<std::string> previous(record_.name_index_keys().begin(),
                                    record_.name_index_keys().end());
  SetNameKeys(keys);
  std::string duplicate = DuplicateKey(subject);
  if (duplicate.empty()) return absl::OkStatus();
  std::string blinded = door_->NameIndexKey(duplicate);
  if (std::find(previous.begin(), previous.end(), blinded) != previous.end()) {
    return absl::OkStatus();  // told already when this name and date were first recorded
  }
  absl::StatusOr<std::vector<std::string>> others = CasesIndexedUnder(duplicate);
  if (!others.ok()) return others.status();
  if (others->empty()) return absl::OkStatus();
  // The competent authority learns that the cases may be one person; the
  // caller learns nothing.
  std::vector<std::string> ids = {hex_id_};
  ids.insert(ids.end(), others->begin(), others->end());
  return RaiseAlert(v1::ALERT_KIND_POSSIBLE_DUPLICATE, ids, {});
}

void CaseScope::SetNameKeys(const std::vector<std::string>& name_keys) {
  v1::CaseRecord* record = mutable_record();
  record->clear_name_index_keys();
  for (const std::string& k : name_keys) record->add_name_index_keys(door_->NameIndexKey(k));
}

absl::StatusOr<std::vector<std::string>> CaseScope::CasesIndexedUnder(absl::string_view name_key) {
  std::vector<std::string> out;
  std::string prefix = door_->NameIndexKey(name_key);
  absl::Status s = txn_->Scan(Cf::kNameIndex, prefix, "", [&](absl::string_view key, absl::string_view) {
    absl::string_view raw = key.substr(prefix.size());
    if (raw != raw_id_) out.push_back(ToHex(raw));
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status CaseDoor::Reindex(storage::Txn& txn, const v1::CaseRecord& before,
                               const v1::CaseRecord& after) {
  if (absl::Status s =
          ReplaceIndexKeys(txn, Cf::kCaseIndex, CaseIndexKeys(before), CaseIndexKeys(after));
      !s.ok()) {
    return s;
  }
  std::set<std::string> old_names(before.name_index_keys().begin(), before.name_index_keys().end());
  std::set<std::string> new_names(after.name_index_keys().begin(), after.name_index_keys().end());
  if (after.status() == v1::CASE_STATUS_ERASED) new_names.clear();
  for (const std::string& k : old_names) {
    if (new_names.count(k) == 0) {
      if (absl::Status s = txn.Delete(Cf::kNameIndex, k + after.id()); !s.ok()) return s;
    }
  }
  for (const std::string& k : new_names) {
    if (old_names.count(k) == 0) {
      if (absl::Status s = txn.Put(Cf::kNameIndex, k + after.id(), ""); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

std::string CaseDoor::NameIndexKey(absl::string_view name_key) const {
  return keys_->BlindIndex("name", name_key);
}

}  // namespace haven::access
