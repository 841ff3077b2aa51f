// ContactDoor: the one door through which services reach hotline contacts.
#include "storage/access/contact_door.h"

#include "storage/store.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/access/case_door.h"
#include "storage/access/case_door_parts.h"
#include "storage/access/data_keys.h"
#include "storage/access/redaction.h"
#include "storage/ids.h"
#include "storage/keys.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

absl::Status NotFoundContact() { return absl::NotFoundError("contact not found"); }

std::string Record(absl::string_view hex_id) {
  return hex_id.empty() ? std::string("contacts") : absl::StrCat("contacts/", hex_id);
}

std::string OrgPrefix(char tag, absl::string_view organisation_id) {
  std::string key(1, tag);
  keys::AppendShortString(&key, organisation_id);
  return key;
}

bool MayLogContacts(const Principal& p) {
  return !p.password_change_required &&
         (p.HasRole(v1::ROLE_HOTLINE_OPERATOR) || p.HasRole(v1::ROLE_SUPERVISOR));
}

std::string QueuePrefix(absl::string_view assignee_id) { return OrgPrefix('q', assignee_id); }

}  // namespace

ClassSet ContactClasses(const Principal& principal, absl::string_view organisation_id) {
  if (!MayLogContacts(principal) || organisation_id.empty() ||
      principal.organisation_id != organisation_id) {
    return ClassSet();
  }
  // Operators read what they wrote: the caller's details, the location and
  // the notes, and the indicator codes. Never health.
  return ClassSet::Of({v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS,
                       v1::CONFIDENTIALITY_IDENTIFYING, v1::CONFIDENTIALITY_LOCATION,
                       v1::CONFIDENTIALITY_NARRATIVE});
}

std::set<std::string> ContactIndexKeys(const v1::ContactRecord& record) {
  std::set<std::string> out;
  if (record.id().empty()) return out;
  std::string o = OrgPrefix('o', record.organisation_id());
  keys::AppendU64(&o, static_cast<uint64_t>(record.start_time_micros()));
  out.insert(o + record.id());
  if (!record.phone_blind().empty()) out.insert(absl::StrCat("h", record.phone_blind(), record.id()));
  if (!record.case_id().empty()) out.insert(ContactsOfCasePrefix(record.case_id()) + record.id());
  if (!record.sealed_details().empty() && record.details_expire_time_micros() > 0) {
    std::string r = "r";
    keys::AppendU64(&r, static_cast<uint64_t>(record.details_expire_time_micros()));
    out.insert(r + record.id());
  }
  for (const v1::CallbackRecord& cb : record.callbacks()) {
    if (cb.status() != v1::CALLBACK_STATUS_OPEN) continue;
    std::string q = QueuePrefix(cb.assignee_id());
    keys::AppendU64(&q, static_cast<uint64_t>(cb.due_time_micros()));
    out.insert(absl::StrCat(q, record.id(), cb.id()));
    std::string p = OrgPrefix('p', record.organisation_id());
    keys::AppendU64(&p, static_cast<uint64_t>(cb.due_time_micros()));
    out.insert(absl::StrCat(p, record.id(), cb.id()));
  }
  return out;
}

std::string ContactsOfCasePrefix(absl::string_view case_id) { return OrgPrefix('c', case_id); }

absl::Status PutContact(storage::Txn& txn, const v1::ContactRecord& before,
                        const v1::ContactRecord& after) {
  if (absl::Status s = txn.Put(Cf::kContacts, after.id(), after.SerializeAsString()); !s.ok()) {
    return s;
  }
  return ReplaceIndexKeys(txn, Cf::kContactIndex, ContactIndexKeys(before),
                          ContactIndexKeys(after));
}

void AddPurgeRanges(const v1::ContactRecord& record,
                    std::vector<std::pair<Cf, std::string>>* ranges) {
  ranges->emplace_back(Cf::kContacts, record.id());
  for (const std::string& k : ContactIndexKeys(record)) ranges->emplace_back(Cf::kContactIndex, k);
}

v1::ContactRecord WithoutDetails(v1::ContactRecord record, absl::Time now) {
  record.clear_sealed_details();
  record.clear_data_key();
  record.clear_phone_blind();
  record.clear_details_expire_time_micros();
  record.set_details_purge_time_micros(absl::ToUnixMicros(now));
  record.set_version(record.version() + 1);
  return record;
}

// ---------------------------------------------------------------- ContactScope

void ContactScope::MarkChanged() {
  if (changed_) return;
  changed_ = true;
  if (!created_) record_.set_version(record_.version() + 1);
}

v1::ContactRecord* ContactScope::mutable_record() {
  MarkChanged();
  return &record_;
}

absl::StatusOr<bool> ContactScope::LoadDetails(v1::ContactDetails* out) {
  out->Clear();
  if (record_.sealed_details().empty() || !record_.has_data_key()) return false;
  absl::StatusOr<crypto::SecretKey> key =
      UnwrapKey(*door_->keys_, record_.data_key(), crypto::KeyDomain::kContact, raw_id_);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> plain = crypto::Open(*key, record_.sealed_details(), raw_id_);
  if (!plain.ok()) return plain.status();
  if (!out->ParseFromString(*plain)) return absl::DataLossError("sealed contact details are unreadable");
  disclosed_ = disclosed_ | Redact(out, visible_);
  return true;
}

absl::Status ContactScope::SaveDetails(const v1::ContactDetails& details,
                                       absl::string_view normalized_phone, absl::Time expire) {
  ClassSet present = ClassesPresent(details);
  if (!visible_.ContainsAll(present)) {
    return absl::PermissionDeniedError(
        "the details hold classes of data that your roles may not write on this contact");
  }
  disclosed_ = disclosed_ | present;
  v1::ContactRecord* record = mutable_record();
  if (present.empty()) {
    record->clear_sealed_details();
    record->clear_data_key();
    record->clear_phone_blind();
    record->clear_details_expire_time_micros();
    return absl::OkStatus();
  }
  crypto::SecretKey key;
  if (record->has_data_key()) {
    absl::StatusOr<crypto::SecretKey> unwrapped =
        UnwrapKey(*door_->keys_, record->data_key(), crypto::KeyDomain::kContact, raw_id_);
    if (!unwrapped.ok()) return unwrapped.status();
    key = *unwrapped;
  } else {
    key = crypto::SecretKey::Random();
    *record->mutable_data_key() = WrapKey(*door_->keys_, key, crypto::KeyDomain::kContact, raw_id_);
  }
  record->set_sealed_details(crypto::Seal(key, details.SerializeAsString(), raw_id_));
  record->set_details_expire_time_micros(absl::ToUnixMicros(expire));
  if (normalized_phone.empty()) {
    record->clear_phone_blind();
  } else {
    record->set_phone_blind(door_->PhoneBlind(normalized_phone));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> ContactScope::CountSamePhone() {
  uint32_t count = 0;
  if (record_.phone_blind().empty()) return count;
  std::string prefix = absl::StrCat("h", record_.phone_blind());
  absl::Status s = txn_->Scan(Cf::kContactIndex, prefix, "",
                              [&](absl::string_view key, absl::string_view) {
                                if (key.substr(prefix.size()) != raw_id_) ++count;
                                return true;
                              });
  if (!s.ok()) return s;
  return count;
}

void ContactScope::Disclose(google::protobuf::Message* response) {
  disclosed_ = disclosed_ | Redact(response, visible_);
}

// ---------------------------------------------------------------- ContactDoor

ContactDoor::ContactDoor(storage::Store* store, const crypto::KeyRing* keys, const Clock* clock)
    : store_(store), keys_(keys), clock_(clock) {}

std::string ContactDoor::PhoneBlind(absl::string_view normalized_phone) const {
  return keys_->BlindIndex("phone", normalized_phone);
}

void ContactDoor::AuditDenial(const RequestContext& ctx, absl::string_view hex_id,
                              absl::string_view audit_action) {
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  v1::AuditEntry entry = NewAuditEntry(ctx, audit_action, Record(hex_id));
  entry.set_outcome(v1::AUDIT_OUTCOME_DENIED);
  txn->Audit(std::move(entry));
  // Best effort, as in the CaseDoor: the caller learns nothing either way.
  store_->Commit(std::move(txn)).IgnoreError();
}

absl::Status ContactDoor::Finish(storage::Txn& txn, ContactScope& scope,
                                 absl::string_view audit_action) {
  if (scope.changed_) {
    if (absl::Status s = PutContact(txn, scope.original_, scope.record_); !s.ok()) return s;
  }
  v1::AuditEntry entry = NewAuditEntry(*scope.ctx_, audit_action, Record(scope.hex_id_));
  entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  for (auto c : scope.disclosed_.ToVector()) entry.add_classes(c);
  txn.Audit(std::move(entry));
  return absl::OkStatus();
}

absl::StatusOr<v1::ContactRecord> ContactDoor::CreateContact(const RequestContext& ctx,
                                                             absl::string_view audit_action,
                                                             const Work& work) {
  ClassSet classes = ContactClasses(ctx.principal, ctx.principal.organisation_id);
  if (classes.empty()) {
    AuditDenial(ctx, "", audit_action);
    return absl::PermissionDeniedError("your roles may not log hotline contacts");
  }
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  ContactScope scope;
  scope.txn_ = txn.get();
  scope.door_ = this;
  scope.ctx_ = &ctx;
  scope.raw_id_ = NewRawId();
  scope.hex_id_ = ToHex(scope.raw_id_);
  scope.visible_ = classes;
  scope.now_micros_ = absl::ToUnixMicros(clock_->Now());
  scope.created_ = true;
  scope.changed_ = true;
  scope.record_.set_id(scope.raw_id_);
  scope.record_.set_organisation_id(ctx.principal.organisation_id);
  scope.record_.set_operator_id(ctx.principal.id);
  scope.record_.set_create_time_micros(scope.now_micros_);
  scope.record_.set_version(1);
  absl::Status s = work(scope);
  // Whatever work did, these stay the door's.
  scope.record_.set_id(scope.raw_id_);
  scope.record_.set_organisation_id(ctx.principal.organisation_id);
  if (s.ok()) s = Finish(*txn, scope, audit_action);
  if (!s.ok()) {
    if (absl::IsPermissionDenied(s)) {
      txn.reset();
      AuditDenial(ctx, "", audit_action);
    }
    return s;
  }
  if (absl::Status c = store_->Commit(std::move(txn)); !c.ok()) return c;
  return scope.record_;
}

absl::Status ContactDoor::WithContact(const RequestContext& ctx, absl::string_view contact_id,
                                      absl::string_view audit_action, const Work& work) {
  absl::StatusOr<std::string> raw_id = ParseId(contact_id, "contact_id");
  if (!raw_id.ok()) return raw_id.status();
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  absl::StatusOr<std::optional<std::string>> stored = txn->GetForUpdate(Cf::kContacts, *raw_id);
  if (!stored.ok()) return stored.status();
  ContactScope scope;
  ClassSet classes;
  if (stored->has_value()) {
    if (!scope.record_.ParseFromString(**stored)) {
      return absl::DataLossError("a contact record is unreadable");
    }
    classes = ContactClasses(ctx.principal, scope.record_.organisation_id());
  }
  if (classes.empty()) {  // missing or not the caller's: the same answer
    txn.reset();
    AuditDenial(ctx, ToHex(*raw_id), audit_action);
    return NotFoundContact();
  }
  scope.txn_ = txn.get();
  scope.door_ = this;
  scope.ctx_ = &ctx;
  scope.raw_id_ = *raw_id;
  scope.hex_id_ = ToHex(*raw_id);
  scope.visible_ = classes;
  scope.now_micros_ = absl::ToUnixMicros(clock_->Now());
  scope.original_ = scope.record_;
  absl::Status s = work(scope);
  if (s.ok()) {
    // The door's fields are not work's to change.
    scope.record_.set_id(scope.original_.id());
    scope.record_.set_organisation_id(scope.original_.organisation_id());
    s = Finish(*txn, scope, audit_action);
  }
  if (!s.ok()) {
    if (absl::IsPermissionDenied(s)) {
      txn.reset();
      AuditDenial(ctx, scope.hex_id_, audit_action);
    }
    return s;
  }
  return store_->Commit(std::move(txn));
}

absl::StatusOr<std::vector<QueuedCallback>> ContactDoor::CallbackQueue(
    const RequestContext& ctx, absl::string_view audit_action) {
  if (!MayLogContacts(ctx.principal)) {
    AuditDenial(ctx, "", audit_action);
    return absl::PermissionDeniedError("your roles have no callback queue");
  }
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  std::vector<std::pair<std::string, std::string>> entries;  // raw contact id, raw callback id
  std::string prefix = QueuePrefix(ctx.principal.id);
  absl::Status s = txn->Scan(Cf::kContactIndex, prefix, "",
                             [&](absl::string_view key, absl::string_view) {
                               absl::string_view rest = key.substr(prefix.size());
                               if (!keys::ConsumeU64(&rest).has_value() ||
                                   rest.size() != 2 * kIdBytes) {
                                 return true;
                               }
                               entries.emplace_back(std::string(rest.substr(0, kIdBytes)),
                                                    std::string(rest.substr(kIdBytes)));
                               return true;
                             });
  if (!s.ok()) return s;
  std::vector<QueuedCallback> out;
  for (const auto& [raw_contact, raw_callback] : entries) {
    absl::StatusOr<std::optional<std::string>> stored = txn->Get(Cf::kContacts, raw_contact);
    if (!stored.ok()) return stored.status();
    v1::ContactRecord record;
    if (!stored->has_value() || !record.ParseFromString(**stored)) continue;
    // The queue is the caller's own, but the contact must still be one it may use.
    if (ContactClasses(ctx.principal, record.organisation_id()).empty()) continue;
    for (const v1::CallbackRecord& cb : record.callbacks()) {
      if (cb.id() == raw_callback && cb.status() == v1::CALLBACK_STATUS_OPEN) {
        out.push_back({ToHex(raw_contact), cb});
      }
    }
  }
  v1::AuditEntry entry = NewAuditEntry(ctx, audit_action, "contacts/callbacks");
  entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  entry.add_classes(v1::CONFIDENTIALITY_ADMINISTRATIVE);
  txn->Audit(std::move(entry));
  if (absl::Status c = store_->Commit(std::move(txn)); !c.ok()) return c;
  return out;
}

absl::StatusOr<ContactCounts> ContactDoor::Count(const RequestContext& ctx, absl::Time from,
                                                 absl::Time to, absl::string_view audit_action) {
  const Principal& p = ctx.principal;
  if (p.password_change_required || p.organisation_id.empty() ||
      !(p.HasRole(v1::ROLE_HOTLINE_OPERATOR) || p.HasRole(v1::ROLE_SUPERVISOR) ||
        p.HasRole(v1::ROLE_ANALYST))) {
    AuditDenial(ctx, "", audit_action);
    return absl::PermissionDeniedError("your roles may not see hotline dashboards");
  }
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  std::string prefix = OrgPrefix('o', p.organisation_id);
  std::string start = prefix;
  keys::AppendU64(&start, static_cast<uint64_t>(std::max<int64_t>(0, absl::ToUnixMicros(from))));
  const uint64_t end = static_cast<uint64_t>(std::max<int64_t>(0, absl::ToUnixMicros(to)));
  std::vector<std::string> ids;
  // Every key of the day is longer than `start`, so greater than it.
  absl::Status s = txn->Scan(Cf::kContactIndex, prefix, start,
                             [&](absl::string_view key, absl::string_view) {
                               absl::string_view rest = key.substr(prefix.size());
                               std::optional<uint64_t> t = keys::ConsumeU64(&rest);
                               if (!t.has_value() || *t >= end) return false;
                               ids.emplace_back(rest);
                               return true;
                             });
  if (!s.ok()) return s;
  std::map<std::string, uint32_t> channels, categories, languages;
  ContactCounts counts;
  for (const std::string& raw : ids) {
    absl::StatusOr<std::optional<std::string>> stored = txn->Get(Cf::kContacts, raw);
    if (!stored.ok()) return stored.status();
    v1::ContactRecord record;
    if (!stored->has_value() || !record.ParseFromString(**stored)) continue;
    ++counts.total;
    ++channels[v1::ContactChannel_Name(record.channel())];
    ++categories[v1::ContactCategory_Name(record.category())];
    ++languages[record.language().empty() ? std::string("und") : record.language()];
  }
  counts.by_channel.assign(channels.begin(), channels.end());
  counts.by_category.assign(categories.begin(), categories.end());
  counts.by_language.assign(languages.begin(), languages.end());
  std::string open_prefix = OrgPrefix('p', p.organisation_id);
  const uint64_t now = static_cast<uint64_t>(absl::ToUnixMicros(clock_->Now()));
  s = txn->Scan(Cf::kContactIndex, open_prefix, "", [&](absl::string_view key, absl::string_view) {
    absl::string_view rest = key.substr(open_prefix.size());
    std::optional<uint64_t> due = keys::ConsumeU64(&rest);
    if (!due.has_value()) return true;
    ++counts.open_callbacks;
    if (*due < now) ++counts.overdue_callbacks;
    return true;
  });
  if (!s.ok()) return s;
  v1::AuditEntry entry = NewAuditEntry(ctx, audit_action, "contacts/dashboard");
  entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  entry.add_classes(v1::CONFIDENTIALITY_ADMINISTRATIVE);
  txn->Audit(std::move(entry));
  if (absl::Status c = store_->Commit(std::move(txn)); !c.ok()) return c;
  return counts;
}

absl::StatusOr<int> ContactDoor::PurgeExpiredDetails(absl::Time now) {
  const uint64_t limit = static_cast<uint64_t>(std::max<int64_t>(0, absl::ToUnixMicros(now)));
  std::vector<std::string> due;
  absl::Status s = store_->Scan(Cf::kContactIndex, "r", "",
                                [&](absl::string_view key, absl::string_view) {
                                  absl::string_view rest = key.substr(1);
                                  std::optional<uint64_t> t = keys::ConsumeU64(&rest);
                                  if (!t.has_value()) return true;
                                  if (*t > limit) return false;
                                  due.emplace_back(rest);
                                  return true;
                                });
  if (!s.ok()) return s;
  RequestContext system;
  system.principal.id = "system:retention";
  system.purpose = "retention";
  std::vector<std::pair<Cf, std::string>> ranges;
  for (const std::string& raw : due) {
    std::unique_ptr<storage::Txn> txn = store_->Begin();
    absl::StatusOr<std::optional<std::string>> stored = txn->GetForUpdate(Cf::kContacts, raw);
    if (!stored.ok()) return stored.status();
    v1::ContactRecord record;
    if (!stored->has_value() || !record.ParseFromString(**stored)) continue;
    if (record.sealed_details().empty() || record.details_expire_time_micros() <= 0 ||
        static_cast<uint64_t>(record.details_expire_time_micros()) > limit) {
      continue;  // changed since the scan
    }
    if (absl::Status p = PutContact(*txn, record, WithoutDetails(record, now)); !p.ok()) return p;
    v1::AuditEntry entry = NewAuditEntry(system, "contact.purge_details", Record(ToHex(raw)));
    entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
    txn->Audit(std::move(entry));
    if (absl::Status c = store_->Commit(std::move(txn)); !c.ok()) return c;
    AddPurgeRanges(record, &ranges);
  }
  // Pushes the removed details and keys out of the files on disk too.
  if (!ranges.empty()) {
    if (absl::Status p = store_->PurgePrefixes(ranges); !p.ok()) return p;
  }
  return static_cast<int>(std::count_if(ranges.begin(), ranges.end(),
                                        [](const auto& r) { return r.first == Cf::kContacts; }));
}

}  // namespace haven::access
