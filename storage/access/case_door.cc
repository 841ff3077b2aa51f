// CaseDoor: the one door through which services reach a case's personal data.
#include "storage/access/case_door.h"

#include <algorithm>
#include <atomic>
#include <iterator>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/util/field_mask_util.h"
#include "haven/v1/identification.pb.h"
#include "storage/access/case_door_parts.h"
#include "storage/access/data_keys.h"
#include "storage/access/redaction.h"
#include "storage/access/subject_index.h"
#include "storage/ids.h"
#include "storage/keys.h"
#include "storage/timestamps.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

}  // namespace

absl::Status NotFoundCase() { return absl::NotFoundError("case not found"); }

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
  absl::StatusOr<bool> found = LoadWhole(kind, record_id, out);
  if (!found.ok() || !*found) return found;
  if (kind == RecordKind::kTimeline && out->GetDescriptor() == v1::TimelineEvent::descriptor()) {
    WithholdTimelineEvent(static_cast<v1::TimelineEvent*>(out), visible_);
  }
  disclosed_ = disclosed_ | Redact(out, visible_);
  return found;
}

absl::Status CaseScope::VisitAdministrative(
    RecordKind kind, const google::protobuf::Message& prototype,
    const std::function<void(const google::protobuf::Message&)>& visit) {
  absl::StatusOr<std::vector<std::string>> ids = RecordIds(kind);
  if (!ids.ok()) return ids.status();
  std::unique_ptr<google::protobuf::Message> record(prototype.New());
  for (const std::string& id : *ids) {
    record->Clear();
    absl::StatusOr<bool> found = LoadWhole(kind, id, record.get());
    if (!found.ok()) return found.status();
    if (!*found) continue;
    // Cut, not disclosed: disclosed_ stays as it was.
    Redact(record.get(), ClassSet::Of({v1::CONFIDENTIALITY_ADMINISTRATIVE}));
    visit(*record);
  }
  return absl::OkStatus();
}

std::string ConsentRecordId(v1::ConsentPurpose purpose) {
  return std::string(1, static_cast<char>(purpose));
}

absl::StatusOr<CaseScope::ConsentState> CaseScope::ConsentFor(v1::ConsentPurpose purpose) {
  v1::Consent consent;
  absl::StatusOr<bool> found = LoadWhole(RecordKind::kConsent, ConsentRecordId(purpose), &consent);
  if (!found.ok()) return found.status();
  if (!*found) return ConsentState::kNotRecorded;
  if (consent.withdrawn()) return ConsentState::kWithdrawn;
  return consent.given() ? ConsentState::kGiven : ConsentState::kRefused;
}

absl::StatusOr<bool> CaseScope::HasConsent(v1::ConsentPurpose purpose) {
  absl::StatusOr<ConsentState> state = ConsentFor(purpose);
  if (!state.ok()) return state.status();
  return *state == ConsentState::kGiven;
}

absl::StatusOr<bool> CaseScope::SubjectIsChild() {
  v1::Identification identification;
  absl::StatusOr<bool> found = LoadWhole(RecordKind::kIdentification, "", &identification);
  if (!found.ok()) return found.status();
  if (*found && identification.presumed_child()) return true;
  v1::Subject subject;
  found = LoadWhole(RecordKind::kSubject, "", &subject);
  if (!found.ok()) return found.status();
  const int age = AgeOf(subject, now());
  return age >= 0 && age < 18;
}

void CaseScope::MarkChanged() {
  if (changed_) return;
  changed_ = true;
  record_.set_version(record_.version() + 1);
  record_.set_update_time_micros(now_micros_);
}

absl::Status CaseScope::Write(RecordKind kind, absl::string_view record_id,
                              const google::protobuf::Message& record) {
  if (shredded_) return absl::FailedPreconditionError("the case has been erased");
  std::string key = DataKey(kind, record_id);
  MarkChanged();
  switch (kind) {
    case RecordKind::kSubject:
    case RecordKind::kIdentification:
    case RecordKind::kScreening:
    case RecordKind::kPlanItem:
    case RecordKind::kReturnPlan:
    case RecordKind::kExploitationProfile:
      statistics_moved_ = true;
      break;
    default:
      break;
  }
  if (kind == RecordKind::kSubject && record.GetDescriptor() == v1::Subject::descriptor()) {
    if (absl::Status s = IndexSubject(static_cast<const v1::Subject&>(record)); !s.ok()) return s;
  }
  if (kind == RecordKind::kConsent && record.GetDescriptor() == v1::Consent::descriptor()) {
    // A consent refused or withdrawn ends, in this transaction, every grant
    // that rests on it.
    const auto& consent = static_cast<const v1::Consent&>(record);
    if (!consent.given() || consent.withdrawn()) {
      if (absl::Status s = EndGrantsOnConsent(consent.purpose()); !s.ok()) return s;
      if (absl::Status s = EndLiaisonFollowsOnConsent(*txn_, raw_id_, consent.purpose(), now_micros_);
          !s.ok()) {
        return s;
      }
    }
  }
  return txn_->Put(Cf::kCaseData, key, crypto::Seal(data_key_, SerializeKnownFields(record), key));
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

void CaseScope::Disclose(google::protobuf::Message* response) {
  disclosed_ = disclosed_ | Redact(response, visible_);
}

// ---------------------------------------------------------------- CaseDoor

CaseDoor::CaseDoor(storage::Store* store, const crypto::KeyRing* keys, const Clock* clock,
                   Options options)
    : store_(store), keys_(keys), clock_(clock), options_(options) {}

absl::StatusOr<v1::CaseRecord> CaseDoor::CreateCase(const RequestContext& ctx,
                                                    absl::string_view audit_action,
                                                    const Work& work, const Joint* within) {
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
  AccessQuestion question;
  question.principal = &ctx.principal;
  question.relation = Relation::kPartner;
  question.action = v1::CASE_ACTION_CREATE;
  question.offered = classes;
  const ClassSet allowed = Decide(question);
  if (allowed.empty()) {
    AuditDenial(ctx, "", audit_action);
    return absl::PermissionDeniedError("only a partner mechanism opens a case for its referral");
  }
  return OpenNewCase(ctx, owner_organisation_id, allowed, audit_action, work, nullptr);
}

absl::StatusOr<v1::CaseRecord> CaseDoor::OpenNewCase(const RequestContext& ctx,
                                                     absl::string_view owner_organisation_id,
                                                     ClassSet classes,
                                                     absl::string_view audit_action,
                                                     const Work& work, const Joint* within) {
  CaseScope scope;
  storage::Passage passage(store_, within == nullptr ? nullptr : within->txn_);
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

  v1::WrappedKey wrapped = WrapKey(*keys_, scope.data_key_, crypto::KeyDomain::kCase, scope.raw_id_);
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
  auto decide = [&](const std::optional<std::string>& stored) -> absl::StatusOr<CaseDecision> {
    if (!stored.has_value()) return CaseDecision();
    if (!scope->record_.ParseFromString(*stored)) {
      return absl::DataLossError("a case record is unreadable");
    }
    absl::StatusOr<std::vector<v1::GrantRecord>> grants = LoadGrants(txn, raw_id);
    if (!grants.ok()) return grants.status();
    return DecideCaseAccess(ctx, action, scope->record_, *grants, clock_->Now());
  };
  // Whatever fails before the decision is answered as a denial is: the
  // caller may not learn that the case exists.
  absl::StatusOr<std::optional<std::string>> stored = txn.Get(Cf::kCases, raw_id);
  if (!stored.ok()) return false;
  absl::StatusOr<CaseDecision> decision = decide(*stored);
  if (!decision.ok() || !decision->allowed) return false;
  if (action != v1::CASE_ACTION_READ) {
    // Allowed: now wait for the case, and decide again on what it holds
    // then (its grants change only under this lock).
    stored = txn.GetForUpdate(Cf::kCases, raw_id);
    if (!stored.ok()) return stored.status();
    decision = decide(*stored);
    if (!decision.ok()) return decision.status();
    if (!decision->allowed) return false;
  }
  if (absl::Status s = Prepare(txn, ctx, raw_id, decision->classes, scope); !s.ok()) return s;
  scope->purpose_ = std::move(decision->purpose);
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
  absl::StatusOr<crypto::SecretKey> data_key =
      UnwrapKey(*keys_, wrapped, crypto::KeyDomain::kCase, raw_id);
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
  // The statistics record moves with the case, in this transaction.
  if (scope.MovesStatistics()) {
    if (absl::Status s = scope.KeepStatistics(); !s.ok()) return s;
  }
  if (scope.changed_) {
    if (absl::Status s = txn.Put(Cf::kCases, scope.raw_id_, scope.record_.SerializeAsString());
        !s.ok()) {
      return s;
    }
    if (absl::Status s = Reindex(txn, scope.original_, scope.record_); !s.ok()) return s;
    // What law-enforcement agencies following the case hear of the change,
    // in the same write.
    if (absl::Status s =
            RecordLiaisonEvents(txn, scope.original_, scope.record_, scope.now_micros_);
        !s.ok()) {
      return s;
    }
  }
  v1::AuditEntry entry =
      NewAuditEntry(*scope.ctx_, audit_action, absl::StrCat("cases/", scope.hex_id_));
  entry.set_case_id(scope.hex_id_);
  entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  entry.set_lawful_basis(scope.lawful_basis_);
  if (!scope.purpose_.empty()) entry.set_purpose(scope.purpose_);
  for (auto c : scope.disclosed_.ToVector()) entry.add_classes(c);
  txn.Audit(std::move(entry));
  return absl::OkStatus();
}

absl::Status CaseDoor::WithCaseAsReferralParty(const RequestContext& ctx, absl::string_view case_id,
                                               absl::string_view audit_action,
                                               const WriterWork& work) {
  // The party's right to act comes from the referral rules; it gets a
  // writer, which has no read methods, and the passage discloses nothing.
  return WithCaseForReferral(ctx, case_id, std::nullopt, v1::CASE_ACTION_UPDATE, audit_action,
                             [&](CaseScope& scope) { return work(scope); });
}

absl::Status CaseDoor::WithCaseForPartner(const RequestContext& ctx, absl::string_view case_id,
                                          ClassSet data_scope, v1::CaseAction action,
                                          absl::string_view audit_action, const Work& work) {
  return WithCaseForReferral(ctx, case_id, data_scope, action, audit_action, work);
}

absl::Status CaseDoor::WithCaseForReferral(const RequestContext& ctx, absl::string_view case_id,
                                           std::optional<ClassSet> partner_scope,
                                           v1::CaseAction action, absl::string_view audit_action,
                                           const Work& work) {
  absl::StatusOr<std::string> raw_id = ParseId(case_id, "case_id");
  if (!raw_id.ok()) return raw_id.status();
  AccessQuestion question;
  question.principal = &ctx.principal;
  question.relation = partner_scope.has_value() ? Relation::kPartner : Relation::kReferralParty;
  question.action = action;
  question.offered = partner_scope.value_or(ClassSet());
  const ClassSet classes = Decide(question);
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  CaseScope scope;
  absl::StatusOr<std::optional<std::string>> stored = txn->GetForUpdate(Cf::kCases, *raw_id);
  if (!stored.ok()) return stored.status();
  if (classes.empty() || !stored->has_value() || !scope.record_.ParseFromString(**stored) ||
      scope.record_.status() == v1::CASE_STATUS_ERASED) {
    txn.reset();
    AuditDenial(ctx, ToHex(*raw_id), audit_action);
    return NotFoundCase();
  }
  if (absl::Status p = Prepare(*txn, ctx, *raw_id, classes, &scope); !p.ok()) return p;
  absl::Status s = work(scope);
  if (!partner_scope.has_value()) scope.disclosed_ = ClassSet();  // a writer sees nothing
  if (s.ok()) s = Finish(*txn, scope, audit_action);
  if (!s.ok()) return s;
  return store_->Commit(std::move(txn));
}

absl::Status CaseDoor::WithCase(const RequestContext& ctx, absl::string_view case_id,
                                v1::CaseAction action, absl::string_view audit_action,
                                const Work& work, const Joint* within) {
  absl::StatusOr<std::string> raw_id = ParseId(case_id, "case_id");
  if (!raw_id.ok()) return raw_id.status();
  storage::Passage passage(store_, within == nullptr ? nullptr : within->txn_);
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

}  // namespace haven::access
