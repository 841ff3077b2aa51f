// CaseDoor: the one door through which services reach a case's personal data.
#include "storage/access/case_door.h"

#include <algorithm>
#include <atomic>
#include <iterator>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/util/field_mask_util.h"
#include "haven/v1/identification.pb.h"
#include "storage/access/redaction.h"
#include "storage/access/subject_index.h"
#include "storage/ids.h"
#include "storage/keys.h"
#include "storage/timestamps.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

constexpr absl::Duration kMaxGrantLifetime = absl::Hours(24 * 366);

absl::Status NotFoundCase() { return absl::NotFoundError("case not found"); }

std::string GrantKey(absl::string_view raw_case_id, absl::string_view raw_grant_id) {
  return absl::StrCat(raw_case_id, raw_grant_id);
}

v1::Grant GrantToApi(const v1::GrantRecord& g, absl::string_view hex_case_id) {
  v1::Grant out;
  out.set_id(ToHex(g.id()));
  out.set_case_id(std::string(hex_case_id));
  out.set_grantee_organisation_id(g.grantee_organisation_id());
  out.set_grantee_user_id(g.grantee_user_id());
  out.set_purpose(g.purpose());
  *out.mutable_classes() = g.classes();
  *out.mutable_actions() = g.actions();
  *out.mutable_expire_time() = MicrosToTimestamp(g.expire_time_micros());
  out.set_revoked(g.revoked());
  out.set_created_by(g.created_by());
  *out.mutable_create_time() = MicrosToTimestamp(g.create_time_micros());
  return out;
}

absl::StatusOr<std::vector<v1::GrantRecord>> LoadGrants(storage::Txn& txn,
                                                        absl::string_view raw_case_id) {
  std::vector<v1::GrantRecord> grants;
  bool corrupt = false;
  absl::Status s = txn.Scan(Cf::kGrants, raw_case_id, "",
                            [&](absl::string_view, absl::string_view value) {
                              v1::GrantRecord g;
                              if (!g.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                                corrupt = true;
                                return false;
                              }
                              grants.push_back(std::move(g));
                              return true;
                            });
  if (!s.ok()) return s;
  if (corrupt) return absl::DataLossError("a grant record is unreadable");
  return grants;
}

}  // namespace

std::string PartnerReferralKey(absl::string_view partner_id,
                               absl::string_view partner_referral_id) {
  std::string key;
  keys::AppendShortString(&key, partner_id);
  key.append(partner_referral_id.data(), partner_referral_id.size());
  return key;
}

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
  if (record.next_deadline_micros() > 0 && record.status() == v1::CASE_STATUS_OPEN) {
    std::string d = "d";
    keys::AppendU64(&d, static_cast<uint64_t>(record.next_deadline_micros()));
    keys_out.insert(d + record.id());
  }
  return keys_out;
}

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
  return true;
}

bool IsValidPurpose(absl::string_view purpose) {
  if (purpose.empty() || purpose.size() > 64) return false;
  if (purpose[0] < 'a' || purpose[0] > 'z') return false;
  for (char c : purpose) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

v1::AuditEntry NewAuditEntry(const RequestContext& ctx, absl::string_view action,
                             absl::string_view record) {
  v1::AuditEntry e;
  e.set_principal_id(ctx.principal.id);
  e.set_organisation_id(ctx.principal.organisation_id);
  e.set_action(std::string(action));
  e.set_record(std::string(record));
  e.set_purpose(ctx.purpose);
  e.set_request_id(ctx.request_id);
  return e;
}

// ---------------------------------------------------------------- CaseScope

std::string CaseScope::DataKey(RecordKind kind, absl::string_view record_id) const {
  std::string key = raw_id_;
  key.push_back(static_cast<char>(kind));
  key.append(record_id.data(), record_id.size());
  return key;
}

absl::StatusOr<bool> CaseScope::LoadWhole(RecordKind kind, absl::string_view record_id,
                                          google::protobuf::Message* out) {
  if (shredded_) return false;
  std::string key = DataKey(kind, record_id);
  absl::StatusOr<std::optional<std::string>> sealed = txn_->Get(Cf::kCaseData, key);
  if (!sealed.ok()) return sealed.status();
  if (!sealed->has_value()) return false;
  absl::StatusOr<std::string> plain = crypto::Open(data_key_, **sealed, key);
  if (!plain.ok()) return plain.status();
  if (!out->ParseFromString(*plain)) return absl::DataLossError("a sealed record is unreadable");
  return true;
}

absl::StatusOr<bool> CaseScope::Load(RecordKind kind, absl::string_view record_id,
                                     google::protobuf::Message* out) {
  if (write_only_) return false;  // a referral party reads nothing of the case
  absl::StatusOr<bool> found = LoadWhole(kind, record_id, out);
  if (found.ok() && *found) disclosed_ = disclosed_ | Redact(out, visible_);
  return found;
}

void CaseScope::MarkChanged() {
  if (changed_) return;
  changed_ = true;
  record_.set_version(record_.version() + 1);
  record_.set_update_time_micros(now_micros_);
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

absl::Status CaseScope::Write(RecordKind kind, absl::string_view record_id,
                              const google::protobuf::Message& record) {
  if (shredded_) return absl::FailedPreconditionError("the case has been erased");
  std::string key = DataKey(kind, record_id);
  MarkChanged();
  if (kind == RecordKind::kSubject && record.GetDescriptor() == v1::Subject::descriptor()) {
    if (absl::Status s = IndexSubject(static_cast<const v1::Subject&>(record)); !s.ok()) return s;
  }
  return txn_->Put(Cf::kCaseData, key, crypto::Seal(data_key_, record.SerializeAsString(), key));
}

absl::Status CaseScope::Save(RecordKind kind, absl::string_view record_id,
                             const google::protobuf::Message& record) {
  ClassSet present = ClassesPresent(record);
  // Replacing a record overwrites what it held: the caller must be able to
  // see that too, or it could erase data it may not touch.
  std::unique_ptr<google::protobuf::Message> stored(record.New());
  absl::StatusOr<bool> exists = LoadWhole(kind, record_id, stored.get());
  if (!exists.ok()) return exists.status();
  if (*exists) present = present | ClassesPresent(*stored);
  if (!visible_.ContainsAll(present)) {
    return absl::PermissionDeniedError(
        "the record holds classes of data that your roles may not write on this case");
  }
  disclosed_ = disclosed_ | present;
  return Write(kind, record_id, record);
}

absl::Status CaseScope::Patch(RecordKind kind, absl::string_view record_id,
                              const google::protobuf::Message& patch,
                              const google::protobuf::FieldMask& mask,
                              google::protobuf::Message* result) {
  absl::StatusOr<ClassSet> touched = ClassesOfPaths(result->GetDescriptor(), mask);
  if (!touched.ok()) return touched.status();
  if (!visible_.ContainsAll(*touched)) {
    return absl::PermissionDeniedError(
        "update_mask names fields of a class that your roles may not write on this case");
  }
  result->Clear();
  absl::StatusOr<bool> found = LoadWhole(kind, record_id, result);
  if (!found.ok()) return found.status();
  google::protobuf::util::FieldMaskUtil::MergeOptions options;
  options.set_replace_message_fields(true);
  options.set_replace_repeated_fields(true);
  google::protobuf::util::FieldMaskUtil::MergeMessageTo(patch, mask, options, result);
  if (absl::Status s = Write(kind, record_id, *result); !s.ok()) return s;
  disclosed_ = disclosed_ | *touched | Redact(result, visible_);
  return absl::OkStatus();
}

v1::CaseRecord* CaseScope::mutable_record() {
  MarkChanged();
  return &record_;
}

absl::StatusOr<std::vector<std::string>> CaseScope::RecordIds(RecordKind kind) {
  std::vector<std::string> ids;
  if (shredded_) return ids;
  std::string prefix = DataKey(kind, "");
  absl::Status s = txn_->Scan(Cf::kCaseData, prefix, "", [&](absl::string_view key, absl::string_view) {
    ids.emplace_back(key.substr(prefix.size()));
    return true;
  });
  if (!s.ok()) return s;
  return ids;
}

absl::Status CaseScope::AppendTimeline(v1::TimelineEventKind kind, absl::string_view summary,
                                       absl::string_view detail) {
  v1::TimelineEvent event;
  event.set_sequence(record_.timeline_length() + 1);
  *event.mutable_time() = MicrosToTimestamp(now_micros_);
  event.set_kind(kind);
  event.set_actor_id(ctx_->principal.id);
  event.set_actor_organisation_id(ctx_->principal.organisation_id);
  event.set_summary(std::string(summary));
  event.set_detail(std::string(detail));
  std::string id;
  keys::AppendU64(&id, event.sequence());
  if (absl::Status s = Save(RecordKind::kTimeline, id, event); !s.ok()) return s;
  mutable_record()->set_timeline_length(event.sequence());
  return absl::OkStatus();
}

void CaseScope::SetNameKeys(const std::vector<std::string>& name_keys) {
  v1::CaseRecord* record = mutable_record();
  record->clear_name_index_keys();
  for (const std::string& k : name_keys) record->add_name_index_keys(door_->NameIndexKey(k));
}

absl::Status CaseScope::RaiseAlert(v1::AlertKind kind, const std::vector<std::string>& hex_case_ids,
                                   const Addressee& addressee) {
  return door_->RaiseAlert(*txn_, kind, hex_case_ids, addressee);
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

absl::Status CaseScope::EndGrant(absl::string_view grant_id) {
  absl::StatusOr<std::string> raw = ParseId(grant_id, "grant_id");
  if (!raw.ok()) return raw.status();
  std::string key = GrantKey(raw_id_, *raw);
  absl::StatusOr<std::optional<std::string>> stored = txn_->GetForUpdate(Cf::kGrants, key);
  if (!stored.ok()) return stored.status();
  v1::GrantRecord record;
  if (!stored->has_value() || !record.ParseFromString(**stored)) {
    return absl::NotFoundError("grant not found");
  }
  if (record.revoked()) return absl::OkStatus();
  record.set_revoked(true);
  if (absl::Status t = AppendTimeline(v1::TIMELINE_EVENT_ACCESS_REVOKED,
                                      absl::StrCat("access revoked: grant ", ToHex(*raw)));
      !t.ok()) {
    return t;
  }
  return txn_->Put(Cf::kGrants, key, record.SerializeAsString());
}

absl::StatusOr<v1::Referral> CaseScope::FindReferral(absl::string_view referral_id) {
  absl::StatusOr<std::string> raw = ParseId(referral_id, "referral_id");
  if (!raw.ok()) return raw.status();
  absl::StatusOr<std::optional<std::string>> stored = txn_->GetForUpdate(Cf::kReferrals, *raw);
  if (!stored.ok()) return stored.status();
  v1::Referral referral;
  if (!stored->has_value() || !referral.ParseFromString(**stored) ||
      referral.case_id() != hex_id_) {
    return absl::NotFoundError("referral not found");
  }
  return referral;
}

absl::Status CaseScope::PutReferral(const v1::Referral& referral) {
  absl::StatusOr<std::string> raw = ParseId(referral.id(), "referral id");
  if (!raw.ok()) return raw.status();
  if (absl::Status s = txn_->Put(Cf::kReferrals, *raw, referral.SerializeAsString()); !s.ok()) {
    return s;
  }
  // A transnational referral has an organisation on one side only.
  if (!referral.receiver_organisation_id().empty()) {
    if (absl::Status s = txn_->Put(
            Cf::kCaseIndex, IndexPrefix('i', referral.receiver_organisation_id()) + *raw, "");
        !s.ok()) {
      return s;
    }
  }
  if (!referral.sender_organisation_id().empty()) {
    if (absl::Status s = txn_->Put(
            Cf::kCaseIndex, IndexPrefix('x', referral.sender_organisation_id()) + *raw, "");
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = txn_->Put(Cf::kCaseIndex, IndexPrefix('r', raw_id_) + *raw, ""); !s.ok()) {
    return s;
  }
  if (!referral.partner_id().empty() && !referral.partner_referral_id().empty()) {
    // Locked, so that a partner's packet delivered twice at once makes one
    // referral, not two.
    const std::string key =
        PartnerReferralKey(referral.partner_id(), referral.partner_referral_id());
    absl::StatusOr<std::optional<std::string>> known =
        txn_->GetForUpdate(Cf::kPartnerReferrals, key);
    if (!known.ok()) return known.status();
    if (known->has_value() && **known != *raw) {
      return absl::AlreadyExistsError("the partner's referral is here already");
    }
    if (absl::Status s = txn_->Put(Cf::kPartnerReferrals, key, *raw); !s.ok()) return s;
  }
  MarkChanged();
  return absl::OkStatus();
}

absl::Status CaseScope::QueueForPartner(v1::PartnerOutboxRecord message) {
  // Keys sort in the order messages were queued, even within a microsecond
  // (a referral's packet must reach the partner before its cancellation).
  static std::atomic<uint64_t> queued{0};
  message.set_next_attempt_micros(now_micros_);
  std::string key;
  keys::AppendU64(&key, static_cast<uint64_t>(now_micros_));
  keys::AppendU64(&key, queued.fetch_add(1));
  return txn_->Put(Cf::kPartnerOutbox, key, message.SerializeAsString());
}

absl::Status CaseScope::DequeueForPartner(absl::string_view outbox_key) {
  return txn_->Delete(Cf::kPartnerOutbox, outbox_key);
}

absl::Status CaseScope::NotifyPartners(v1::PartnerNotice notice) {
  std::vector<std::string> referral_ids;
  const std::string prefix = IndexPrefix('r', raw_id_);
  absl::Status s = txn_->Scan(Cf::kCaseIndex, prefix, "", [&](absl::string_view key, absl::string_view) {
    referral_ids.push_back(ToHex(key.substr(prefix.size())));
    return true;
  });
  if (!s.ok()) return s;
  for (const std::string& id : referral_ids) {
    absl::StatusOr<v1::Referral> referral = FindReferral(id);
    if (!referral.ok()) return referral.status();
    // Only what was sent from here and reached the partner.
    if (referral->partner_id().empty() || referral->sender_organisation_id().empty() ||
        !referral->has_deliver_time()) {
      continue;
    }
    v1::PartnerOutboxRecord message;
    message.set_partner_id(referral->partner_id());
    message.set_referral_id(referral->id());
    message.set_notice(notice);
    message.set_change_time_micros(now_micros_);
    if (absl::Status q = QueueForPartner(message); !q.ok()) return q;
  }
  return absl::OkStatus();
}

void CaseScope::Disclose(google::protobuf::Message* response) {
  disclosed_ = disclosed_ | Redact(response, visible_);
}

namespace {

int32_t AgeBand(const v1::Subject& subject, absl::Time now) {
  int age = -1;
  if (subject.has_date_of_birth() && subject.date_of_birth().year() > 0) {
    absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
    const v1::Date& d = subject.date_of_birth();
    age = static_cast<int>(today.year() - d.year());
    if (today.month() < d.month() || (today.month() == d.month() && today.day() < d.day())) --age;
  } else if (subject.estimated_age() > 0) {
    age = static_cast<int>(subject.estimated_age());
  }
  if (age < 0) return -1;
  for (int32_t band : {50, 35, 25, 18, 12}) {
    if (age >= band) return band;
  }
  return 0;
}

}  // namespace

absl::Status CaseScope::KeepStatistics() {
  v1::CaseStatistics stats;
  v1::Subject subject;
  absl::StatusOr<bool> found = LoadWhole(RecordKind::kSubject, "", &subject);
  if (!found.ok()) return found.status();
  stats.set_sex(subject.sex());
  stats.set_age_band(AgeBand(subject, now()));
  *stats.mutable_citizenships() = subject.citizenships();
  v1::Identification ident;
  found = LoadWhole(RecordKind::kIdentification, "", &ident);
  if (!found.ok()) return found.status();
  stats.set_presumed_child(ident.presumed_child());
  absl::StatusOr<std::vector<std::string>> screenings = RecordIds(RecordKind::kScreening);
  if (!screenings.ok()) return screenings.status();
  std::set<int> forms;
  for (const std::string& id : *screenings) {
    v1::Screening screening;
    found = LoadWhole(RecordKind::kScreening, id, &screening);
    if (!found.ok()) return found.status();
    forms.insert(screening.forms_suspected().begin(), screening.forms_suspected().end());
  }
  for (int f : forms) stats.add_forms_suspected(static_cast<v1::ExploitationForm>(f));
  stats.set_identification_status(record_.identification_status());
  stats.set_opened_year(static_cast<int32_t>(
      absl::ToCivilYear(absl::FromUnixMicros(record_.create_time_micros()), absl::UTCTimeZone())
          .year()));
  stats.set_closure_reason(record_.closure_reason());
  stats.set_owning_organisation_id(record_.owning_organisation_id());
  return txn_->Put(Cf::kCaseStatistics, raw_id_,
                   door_->keys_->SealStatistics(stats.SerializeAsString(),
                                                absl::StrCat("statistics:", raw_id_)));
}

absl::Status CaseScope::Shred() {
  // What statistics need survives; the rest becomes unreadable.
  if (absl::Status s = KeepStatistics(); !s.ok()) return s;
  if (absl::Status s = txn_->Delete(Cf::kCaseKeys, raw_id_); !s.ok()) return s;
  std::vector<std::string> doomed;
  absl::Status s = txn_->Scan(Cf::kCaseData, raw_id_, "",
                              [&](absl::string_view key, absl::string_view) {
                                doomed.emplace_back(key);
                                return true;
                              });
  if (!s.ok()) return s;
  for (const std::string& key : doomed) {
    if (absl::Status d = txn_->Delete(Cf::kCaseData, key); !d.ok()) return d;
  }
  record_.set_status(v1::CASE_STATUS_ERASED);
  MarkChanged();
  shredded_ = true;
  return absl::OkStatus();
}

// ---------------------------------------------------------------- CaseDoor

CaseDoor::CaseDoor(storage::Store* store, const crypto::KeyRing* keys, const Clock* clock)
    : store_(store), keys_(keys), clock_(clock) {}

absl::StatusOr<v1::CaseRecord> CaseDoor::CreateCase(const RequestContext& ctx,
                                                    absl::string_view audit_action,
                                                    const Work& work, storage::Txn* within) {
  ClassSet classes = ClassesForNewCase(ctx.principal);
  if (classes.empty()) {
    AuditDenial(ctx, "", audit_action);
    return absl::PermissionDeniedError("your roles may not open cases");
  }
  return OpenNewCase(ctx, ctx.principal.organisation_id, classes, audit_action, work, within);
}

absl::StatusOr<v1::CaseRecord> CaseDoor::ReceiveCase(const RequestContext& ctx,
                                                     absl::string_view owner_organisation_id,
                                                     ClassSet classes,
                                                     absl::string_view audit_action,
                                                     const Work& work) {
  return OpenNewCase(ctx, owner_organisation_id, classes, audit_action, work, nullptr);
}

absl::StatusOr<v1::CaseRecord> CaseDoor::OpenNewCase(const RequestContext& ctx,
                                                     absl::string_view owner_organisation_id,
                                                     ClassSet classes,
                                                     absl::string_view audit_action,
                                                     const Work& work, storage::Txn* within) {
  CaseScope scope;
  storage::Passage passage(store_, within);
  storage::Txn* txn = &passage.txn();
  scope.txn_ = txn;
  scope.door_ = this;
  scope.ctx_ = &ctx;
  scope.raw_id_ = NewRawId();
  scope.hex_id_ = ToHex(scope.raw_id_);
  scope.data_key_ = crypto::SecretKey::Random();
  scope.visible_ = classes;
  int64_t now = absl::ToUnixMicros(clock_->Now());
  scope.record_.set_id(scope.raw_id_);
  scope.record_.set_owning_organisation_id(std::string(owner_organisation_id));
  scope.record_.set_status(v1::CASE_STATUS_OPEN);
  scope.record_.set_identification_status(v1::IDENTIFICATION_STATUS_POTENTIAL_VICTIM);
  scope.record_.set_create_time_micros(now);
  scope.record_.set_update_time_micros(now);
  scope.record_.set_version(1);
  scope.now_micros_ = now;
  scope.changed_ = true;  // a new case is written whole; its version stays 1

  v1::WrappedKey wrapped;
  wrapped.set_master_key_version(1);
  wrapped.set_sealed_key(keys_->WrapDataKey(scope.data_key_, scope.raw_id_));
  if (absl::Status s = txn->Put(Cf::kCaseKeys, scope.raw_id_, wrapped.SerializeAsString());
      !s.ok()) {
    return s;
  }
  absl::Status s = work(scope);
  if (s.ok()) s = Finish(*txn, scope, audit_action);
  if (!s.ok()) {
    if (absl::IsPermissionDenied(s)) {
      passage.Abandon();
      AuditDenial(ctx, "", audit_action);
    }
    return s;
  }
  if (absl::Status c = passage.Commit(); !c.ok()) return c;
  return scope.record_;
}

void CaseDoor::AuditDenial(const RequestContext& ctx, absl::string_view hex_id,
                           absl::string_view audit_action) {
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  v1::AuditEntry entry =
      NewAuditEntry(ctx, audit_action, hex_id.empty() ? "cases" : absl::StrCat("cases/", hex_id));
  entry.set_case_id(std::string(hex_id));
  entry.set_outcome(v1::AUDIT_OUTCOME_DENIED);
  txn->Audit(std::move(entry));
  // Best effort: the caller gets NOT_FOUND whether or not this is written,
  // and no data either way.
  store_->Commit(std::move(txn)).IgnoreError();
}

absl::StatusOr<bool> CaseDoor::Open(storage::Txn& txn, const RequestContext& ctx,
                                    const std::string& raw_id, v1::CaseAction action,
                                    CaseScope* scope) {
  const bool writes = action != v1::CASE_ACTION_READ;
  absl::StatusOr<std::optional<std::string>> stored =
      writes ? txn.GetForUpdate(Cf::kCases, raw_id) : txn.Get(Cf::kCases, raw_id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return false;
  if (!scope->record_.ParseFromString(**stored)) {
    return absl::DataLossError("a case record is unreadable");
  }
  absl::StatusOr<std::vector<v1::GrantRecord>> grants = LoadGrants(txn, raw_id);
  if (!grants.ok()) return grants.status();
  CaseDecision decision =
      DecideCaseAccess(ctx.principal, action, scope->record_, *grants, clock_->Now());
  if (!decision.allowed) return false;
  if (absl::Status s = Prepare(txn, ctx, raw_id, decision.classes, scope); !s.ok()) return s;
  return true;
}

absl::Status CaseDoor::Prepare(storage::Txn& txn, const RequestContext& ctx,
                               const std::string& raw_id, ClassSet classes, CaseScope* scope) {
  absl::StatusOr<std::optional<std::string>> wrapped_bytes = txn.Get(Cf::kCaseKeys, raw_id);
  if (!wrapped_bytes.ok()) return wrapped_bytes.status();
  v1::WrappedKey wrapped;
  if (!wrapped_bytes->has_value() || !wrapped.ParseFromString(**wrapped_bytes)) {
    return absl::DataLossError("the case's data key is missing");
  }
  absl::StatusOr<crypto::SecretKey> data_key = keys_->UnwrapDataKey(wrapped.sealed_key(), raw_id);
  if (!data_key.ok()) return data_key.status();

  scope->txn_ = &txn;
  scope->door_ = this;
  scope->ctx_ = &ctx;
  scope->raw_id_ = raw_id;
  scope->hex_id_ = ToHex(raw_id);
  scope->data_key_ = *data_key;
  scope->visible_ = classes;
  scope->now_micros_ = absl::ToUnixMicros(clock_->Now());
  scope->original_ = scope->record_;
  return absl::OkStatus();
}

absl::Status CaseDoor::Finish(storage::Txn& txn, CaseScope& scope, absl::string_view audit_action) {
  if (scope.changed_) {
    if (absl::Status s = txn.Put(Cf::kCases, scope.raw_id_, scope.record_.SerializeAsString());
        !s.ok()) {
      return s;
    }
    if (absl::Status s = Reindex(txn, scope.original_, scope.record_); !s.ok()) return s;
  }
  v1::AuditEntry entry =
      NewAuditEntry(*scope.ctx_, audit_action, absl::StrCat("cases/", scope.hex_id_));
  entry.set_case_id(scope.hex_id_);
  entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  entry.set_lawful_basis(scope.lawful_basis_);
  for (auto c : scope.disclosed_.ToVector()) entry.add_classes(c);
  txn.Audit(std::move(entry));
  return absl::OkStatus();
}

absl::Status CaseDoor::WithCaseAsReferralParty(const RequestContext& ctx, absl::string_view case_id,
                                               absl::string_view audit_action, const Work& work) {
  // The party's right to act comes from the referral rules; the scope may
  // write what the referral needs and discloses nothing.
  return WithCaseForReferral(ctx, case_id, std::nullopt, audit_action, work);
}

absl::Status CaseDoor::WithCaseForPartner(const RequestContext& ctx, absl::string_view case_id,
                                          ClassSet data_scope, absl::string_view audit_action,
                                          const Work& work) {
  return WithCaseForReferral(ctx, case_id, data_scope, audit_action, work);
}

absl::Status CaseDoor::WithCaseForReferral(const RequestContext& ctx, absl::string_view case_id,
                                           std::optional<ClassSet> readable,
                                           absl::string_view audit_action, const Work& work) {
  absl::StatusOr<std::string> raw_id = ParseId(case_id, "case_id");
  if (!raw_id.ok()) return raw_id.status();
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  CaseScope scope;
  absl::StatusOr<std::optional<std::string>> stored = txn->GetForUpdate(Cf::kCases, *raw_id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value() || !scope.record_.ParseFromString(**stored) ||
      scope.record_.status() == v1::CASE_STATUS_ERASED) {
    return NotFoundCase();
  }
  if (absl::Status p = Prepare(*txn, ctx, *raw_id, readable.value_or(ClassSet::All()), &scope);
      !p.ok()) {
    return p;
  }
  scope.write_only_ = !readable.has_value();
  absl::Status s = work(scope);
  if (scope.write_only_) scope.disclosed_ = ClassSet();  // it saw nothing
  if (s.ok()) s = Finish(*txn, scope, audit_action);
  if (!s.ok()) return s;
  return store_->Commit(std::move(txn));
}

absl::StatusOr<std::optional<v1::Referral>> CaseDoor::FindReferralFromPartner(
    absl::string_view partner_id, absl::string_view partner_referral_id) {
  absl::StatusOr<std::optional<std::string>> raw =
      store_->Get(Cf::kPartnerReferrals, PartnerReferralKey(partner_id, partner_referral_id));
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<v1::Referral>();
  return FindReferral(ToHex(**raw));
}

absl::StatusOr<std::optional<v1::Referral>> CaseDoor::FindReferral(absl::string_view referral_id) {
  absl::StatusOr<std::string> raw = ParseId(referral_id, "referral_id");
  if (!raw.ok()) return raw.status();
  absl::StatusOr<std::optional<std::string>> stored = store_->Get(Cf::kReferrals, *raw);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::optional<v1::Referral>();
  v1::Referral referral;
  if (!referral.ParseFromString(**stored)) return absl::DataLossError("a referral is unreadable");
  return std::optional<v1::Referral>(std::move(referral));
}

absl::Status CaseDoor::ScanReferrals(bool inbox, absl::string_view organisation_id,
                                     absl::string_view after_id,
                                     const std::function<bool(const v1::Referral&)>& visit) {
  std::string prefix = IndexPrefix(inbox ? 'i' : 'x', organisation_id);
  std::string after;
  if (!after_id.empty()) {
    absl::StatusOr<std::string> raw = ParseId(after_id, "page_token");
    if (!raw.ok()) return raw.status();
    after = prefix + *raw;
  }
  absl::Status failure;
  absl::Status s = store_->Scan(Cf::kCaseIndex, prefix, after, [&](absl::string_view key, absl::string_view) {
    absl::StatusOr<std::optional<std::string>> stored =
        store_->Get(Cf::kReferrals, key.substr(prefix.size()));
    v1::Referral referral;
    if (!stored.ok() || !stored->has_value() || !referral.ParseFromString(**stored)) {
      failure = absl::DataLossError("a referral index entry has no readable referral");
      return false;
    }
    return visit(referral);
  });
  if (!s.ok()) return s;
  return failure;
}

absl::Status CaseDoor::Reindex(storage::Txn& txn, const v1::CaseRecord& before,
                               const v1::CaseRecord& after) {
  std::set<std::string> old_keys = CaseIndexKeys(before);
  std::set<std::string> new_keys = CaseIndexKeys(after);
  for (const std::string& k : old_keys) {
    if (new_keys.count(k) == 0) {
      if (absl::Status s = txn.Delete(Cf::kCaseIndex, k); !s.ok()) return s;
    }
  }
  for (const std::string& k : new_keys) {
    if (old_keys.count(k) == 0) {
      if (absl::Status s = txn.Put(Cf::kCaseIndex, k, ""); !s.ok()) return s;
    }
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

absl::Status CaseDoor::WithCase(const RequestContext& ctx, absl::string_view case_id,
                                v1::CaseAction action, absl::string_view audit_action,
                                const Work& work, storage::Txn* within) {
  absl::StatusOr<std::string> raw_id = ParseId(case_id, "case_id");
  if (!raw_id.ok()) return raw_id.status();
  storage::Passage passage(store_, within);
  CaseScope scope;
  absl::StatusOr<bool> allowed = Open(passage.txn(), ctx, *raw_id, action, &scope);
  if (!allowed.ok()) return allowed.status();
  if (!*allowed) {
    passage.Abandon();
    AuditDenial(ctx, ToHex(*raw_id), audit_action);
    return NotFoundCase();
  }
  absl::Status s = work(scope);
  if (s.ok()) s = Finish(passage.txn(), scope, audit_action);
  if (!s.ok()) {
    if (absl::IsPermissionDenied(s)) {  // a class the caller may not write: a denial too
      passage.Abandon();
      AuditDenial(ctx, scope.hex_id_, audit_action);
    }
    return s;
  }
  return passage.Commit();
}

absl::StatusOr<std::set<std::string>> CaseDoor::Candidates(storage::Txn& txn,
                                                           const RequestContext& ctx,
                                                           const CaseQuery& query) {
  std::set<std::string> out;
  auto collect = [&](Cf cf, const std::string& prefix, const std::string& upper,
                     std::set<std::string>* into) {
    return txn.Scan(cf, prefix, "", [&](absl::string_view key, absl::string_view) {
      if (!upper.empty() && key >= upper) return false;
      if (key.size() >= kIdBytes) into->emplace(key.substr(key.size() - kIdBytes));
      return true;
    });
  };
  if (!query.name_keys.empty()) {
    bool first = true;
    for (const std::string& name_key : query.name_keys) {
      std::set<std::string> matches;
      if (absl::Status s = collect(Cf::kNameIndex, NameIndexKey(name_key), "", &matches); !s.ok()) {
        return s;
      }
      if (first) {
        out = std::move(matches);
        first = false;
      } else {
        std::set<std::string> both;
        std::set_intersection(out.begin(), out.end(), matches.begin(), matches.end(),
                              std::inserter(both, both.begin()));
        out = std::move(both);
      }
    }
    return out;
  }
  if (!query.assignee_id.empty()) {
    absl::Status s = collect(Cf::kCaseIndex, IndexPrefix('a', query.assignee_id), "", &out);
    if (!s.ok()) return s;
    return out;
  }
  if (query.deadline_before.has_value()) {
    std::string upper = "d";
    keys::AppendU64(&upper, static_cast<uint64_t>(absl::ToUnixMicros(*query.deadline_before)));
    absl::Status s = collect(Cf::kCaseIndex, "d", upper, &out);
    if (!s.ok()) return s;
    return out;
  }
  for (const std::string& prefix :
       {IndexPrefix('o', ctx.principal.organisation_id),
        IndexPrefix('g', ctx.principal.organisation_id), IndexPrefix('g', ctx.principal.id)}) {
    if (absl::Status s = collect(Cf::kCaseIndex, prefix, "", &out); !s.ok()) return s;
  }
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

std::string CaseDoor::NameIndexKey(absl::string_view name_key) const {
  return keys_->BlindIndex("name", name_key);
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

absl::StatusOr<v1::Grant> CaseDoor::CreateGrant(const RequestContext& ctx, const v1::Grant& grant) {
  const bool to_org = !grant.grantee_organisation_id().empty();
  const bool to_user = !grant.grantee_user_id().empty();
  if (to_org == to_user) {
    return absl::InvalidArgumentError(
        "a grant names exactly one of grantee_organisation_id and grantee_user_id");
  }
  absl::StatusOr<std::string> grantee =
      ParseId(to_org ? grant.grantee_organisation_id() : grant.grantee_user_id(),
              to_org ? "grantee_organisation_id" : "grantee_user_id");
  if (!grantee.ok()) return grantee.status();
  if (!IsValidPurpose(grant.purpose())) {
    return absl::InvalidArgumentError(
        "purpose must be a token of 1 to 64 characters [a-z0-9_-], starting with a letter");
  }
  ClassSet classes;
  for (int c : grant.classes()) {
    if (!v1::ConfidentialityClass_IsValid(c) || c == v1::CONFIDENTIALITY_CLASS_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat("classes holds an unknown value ", c));
    }
    classes.Add(static_cast<v1::ConfidentialityClass>(c));
  }
  if (classes.empty()) return absl::InvalidArgumentError("a grant needs at least one class");
  if (grant.actions().empty()) return absl::InvalidArgumentError("a grant needs at least one action");
  for (int a : grant.actions()) {
    if (a != v1::CASE_ACTION_READ && a != v1::CASE_ACTION_UPDATE) {
      return absl::InvalidArgumentError("a grant's actions may only be READ and UPDATE");
    }
  }
  absl::Time now = clock_->Now();
  int64_t expire = TimestampToMicros(grant.expire_time());
  if (absl::FromUnixMicros(expire) <= now ||
      absl::FromUnixMicros(expire) > now + kMaxGrantLifetime) {
    return absl::InvalidArgumentError("expire_time must be in the future and within 366 days");
  }
  v1::GrantRecord draft;
  (to_org ? draft.mutable_grantee_organisation_id() : draft.mutable_grantee_user_id())
      ->assign(ToHex(*grantee));
  draft.set_purpose(grant.purpose());
  for (auto c : classes.ToVector()) draft.add_classes(c);
  *draft.mutable_actions() = grant.actions();
  draft.set_expire_time_micros(expire);

  v1::Grant created;
  absl::Status s = WithCase(ctx, grant.case_id(), v1::CASE_ACTION_SHARE, "case.grant",
                            [&](CaseScope& scope) -> absl::Status {
                              absl::StatusOr<v1::Grant> added = scope.AddGrant(draft);
                              if (!added.ok()) return added.status();
                              created = *std::move(added);
                              return absl::OkStatus();
                            });
  if (!s.ok()) return s;
  return created;
}

absl::StatusOr<v1::Grant> CaseScope::AddGrant(v1::GrantRecord record) {
  ClassSet classes;
  for (int c : record.classes()) classes.Add(static_cast<v1::ConfidentialityClass>(c));
  if (!visible_.ContainsAll(classes)) {
    return absl::PermissionDeniedError("you cannot grant classes that you cannot see");
  }
  const bool to_org = !record.grantee_organisation_id().empty();
  const std::string& grantee = to_org ? record.grantee_organisation_id() : record.grantee_user_id();
  absl::StatusOr<std::optional<std::string>> exists =
      txn_->Get(to_org ? Cf::kOrganisations : Cf::kUsers, grantee);
  if (!exists.ok()) return exists.status();
  if (!exists->has_value()) {
    return absl::InvalidArgumentError(to_org ? "grantee organisation does not exist"
                                             : "grantee user does not exist");
  }
  record.set_id(NewRawId());
  record.set_created_by(ctx_->principal.id);
  record.set_create_time_micros(now_micros_);
  v1::Grant created = GrantToApi(record, hex_id_);
  if (absl::Status t = AppendTimeline(
          v1::TIMELINE_EVENT_ACCESS_GRANTED,
          absl::StrCat("access granted to ", grantee, " for ", record.purpose(), ": ",
                       classes.DebugString()));
      !t.ok()) {
    return t;
  }
  if (absl::Status p = txn_->Put(Cf::kCaseIndex, IndexPrefix('g', grantee) + raw_id_, ""); !p.ok()) {
    return p;
  }
  if (absl::Status p = txn_->Put(Cf::kGrants, GrantKey(raw_id_, record.id()), record.SerializeAsString());
      !p.ok()) {
    return p;
  }
  return created;
}

absl::StatusOr<v1::Grant> CaseDoor::RevokeGrant(const RequestContext& ctx,
                                                absl::string_view case_id,
                                                absl::string_view grant_id) {
  absl::StatusOr<std::string> raw_grant = ParseId(grant_id, "grant_id");
  if (!raw_grant.ok()) return raw_grant.status();
  v1::Grant revoked;
  absl::Status s = WithCase(
      ctx, case_id, v1::CASE_ACTION_SHARE, "case.revoke_grant", [&](CaseScope& scope) {
        std::string key = GrantKey(scope.raw_id_, *raw_grant);
        absl::StatusOr<std::optional<std::string>> stored = scope.txn_->GetForUpdate(Cf::kGrants, key);
        if (!stored.ok()) return stored.status();
        v1::GrantRecord record;
        if (!stored->has_value() || !record.ParseFromString(**stored)) {
          return absl::NotFoundError("grant not found");
        }
        record.set_revoked(true);
        revoked = GrantToApi(record, scope.case_id());
        if (absl::Status t = scope.AppendTimeline(v1::TIMELINE_EVENT_ACCESS_REVOKED,
                                                  absl::StrCat("access revoked: grant ", revoked.id()));
            !t.ok()) {
          return t;
        }
        return scope.txn_->Put(Cf::kGrants, key, record.SerializeAsString());
      });
  if (!s.ok()) return s;
  return revoked;
}

absl::StatusOr<std::vector<v1::Grant>> CaseDoor::ListGrants(const RequestContext& ctx,
                                                            absl::string_view case_id) {
  std::vector<v1::Grant> out;
  absl::Status s = WithCase(ctx, case_id, v1::CASE_ACTION_SHARE, "case.list_grants",
                            [&](CaseScope& scope) {
                              absl::StatusOr<std::vector<v1::GrantRecord>> grants =
                                  LoadGrants(*scope.txn_, scope.raw_id_);
                              if (!grants.ok()) return grants.status();
                              for (const auto& g : *grants) out.push_back(GrantToApi(g, scope.case_id()));
                              return absl::OkStatus();
                            });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::optional<v1::CaseStatistics>> CaseDoor::ErasedCaseStatistics(
    absl::string_view case_id) {
  absl::StatusOr<std::string> raw = ParseId(case_id, "case_id");
  if (!raw.ok()) return raw.status();
  absl::StatusOr<std::optional<std::string>> sealed = store_->Get(Cf::kCaseStatistics, *raw);
  if (!sealed.ok()) return sealed.status();
  if (!sealed->has_value()) return std::optional<v1::CaseStatistics>();
  absl::StatusOr<std::string> plain =
      keys_->OpenStatistics(**sealed, absl::StrCat("statistics:", *raw));
  if (!plain.ok()) return plain.status();
  v1::CaseStatistics stats;
  if (!stats.ParseFromString(*plain)) return absl::DataLossError("statistics record is unreadable");
  return std::optional<v1::CaseStatistics>(std::move(stats));
}

absl::Status CaseDoor::PurgeDestroyedKeys() {
  if (absl::Status s = store_->Purge(Cf::kCaseKeys); !s.ok()) return s;
  return store_->Purge(Cf::kCaseData);
}

}  // namespace haven::access
