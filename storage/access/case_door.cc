// CaseDoor: the one door through which services reach a case's personal data.
#include "storage/access/case_door.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"
#include "storage/access/redaction.h"
#include "storage/ids.h"
#include "storage/keys.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

constexpr absl::Duration kMaxGrantLifetime = absl::Hours(24 * 366);

absl::Status NotFoundCase() { return absl::NotFoundError("case not found"); }

std::string GrantKey(absl::string_view raw_case_id, absl::string_view raw_grant_id) {
  return absl::StrCat(raw_case_id, raw_grant_id);
}

google::protobuf::Timestamp ToProto(int64_t micros) {
  google::protobuf::Timestamp t;
  t.set_seconds(micros / 1'000'000);
  t.set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1000);
  return t;
}

int64_t FromProto(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1'000'000 + t.nanos() / 1000;
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
  *out.mutable_expire_time() = ToProto(g.expire_time_micros());
  out.set_revoked(g.revoked());
  out.set_created_by(g.created_by());
  *out.mutable_create_time() = ToProto(g.create_time_micros());
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
  if (found.ok() && *found) disclosed_ = disclosed_ | Redact(out, visible_);
  return found;
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

void CaseScope::Disclose(google::protobuf::Message* response) {
  disclosed_ = disclosed_ | Redact(response, visible_);
}

absl::Status CaseScope::Shred() {
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
                                                    const Work& work) {
  ClassSet classes = ClassesForNewCase(ctx.principal);
  if (classes.empty()) {
    AuditDenial(ctx, "", audit_action);
    return absl::PermissionDeniedError("your roles may not open cases");
  }
  CaseScope scope;
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  scope.txn_ = txn.get();
  scope.raw_id_ = NewRawId();
  scope.hex_id_ = ToHex(scope.raw_id_);
  scope.data_key_ = crypto::SecretKey::Random();
  scope.visible_ = classes;
  int64_t now = absl::ToUnixMicros(clock_->Now());
  scope.record_.set_id(scope.raw_id_);
  scope.record_.set_owning_organisation_id(ctx.principal.organisation_id);
  scope.record_.set_status(v1::CASE_STATUS_OPEN);
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
  if (absl::Status s = work(scope); !s.ok()) {
    if (absl::IsPermissionDenied(s)) {
      txn.reset();
      AuditDenial(ctx, "", audit_action);
    }
    return s;
  }
  if (absl::Status s = txn->Put(Cf::kCases, scope.raw_id_, scope.record_.SerializeAsString());
      !s.ok()) {
    return s;
  }
  v1::AuditEntry entry = NewAuditEntry(ctx, audit_action, absl::StrCat("cases/", scope.hex_id_));
  entry.set_case_id(scope.hex_id_);
  entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  for (auto c : scope.disclosed_.ToVector()) entry.add_classes(c);
  txn->Audit(std::move(entry));
  if (absl::Status s = store_->Commit(std::move(txn)); !s.ok()) return s;
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

absl::Status CaseDoor::WithCase(const RequestContext& ctx, absl::string_view case_id,
                                v1::CaseAction action, absl::string_view audit_action,
                                const Work& work) {
  absl::StatusOr<std::string> raw_id = ParseId(case_id, "case_id");
  if (!raw_id.ok()) return raw_id.status();
  std::string hex_id = ToHex(*raw_id);

  std::unique_ptr<storage::Txn> txn = store_->Begin();
  const bool writes = action != v1::CASE_ACTION_READ;
  absl::StatusOr<std::optional<std::string>> stored =
      writes ? txn->GetForUpdate(Cf::kCases, *raw_id) : txn->Get(Cf::kCases, *raw_id);
  if (!stored.ok()) return stored.status();
  CaseScope scope;
  if (stored->has_value() && !scope.record_.ParseFromString(**stored)) {
    return absl::DataLossError("a case record is unreadable");
  }
  CaseDecision decision;
  if (stored->has_value()) {
    absl::StatusOr<std::vector<v1::GrantRecord>> grants = LoadGrants(*txn, *raw_id);
    if (!grants.ok()) return grants.status();
    decision = DecideCaseAccess(ctx.principal, action, scope.record_, *grants, clock_->Now());
  }
  if (!decision.allowed) {
    txn.reset();
    AuditDenial(ctx, hex_id, audit_action);
    return NotFoundCase();
  }

  absl::StatusOr<std::optional<std::string>> wrapped_bytes = txn->Get(Cf::kCaseKeys, *raw_id);
  if (!wrapped_bytes.ok()) return wrapped_bytes.status();
  v1::WrappedKey wrapped;
  if (!wrapped_bytes->has_value() || !wrapped.ParseFromString(**wrapped_bytes)) {
    return absl::DataLossError("the case's data key is missing");
  }
  absl::StatusOr<crypto::SecretKey> data_key = keys_->UnwrapDataKey(wrapped.sealed_key(), *raw_id);
  if (!data_key.ok()) return data_key.status();

  scope.txn_ = txn.get();
  scope.raw_id_ = *raw_id;
  scope.hex_id_ = hex_id;
  scope.data_key_ = *data_key;
  scope.visible_ = decision.classes;
  scope.now_micros_ = absl::ToUnixMicros(clock_->Now());
  if (absl::Status s = work(scope); !s.ok()) {
    if (absl::IsPermissionDenied(s)) {  // a class the caller may not write: a denial too
      txn.reset();
      AuditDenial(ctx, hex_id, audit_action);
    }
    return s;
  }

  if (scope.changed_) {
    if (absl::Status s = txn->Put(Cf::kCases, *raw_id, scope.record_.SerializeAsString());
        !s.ok()) {
      return s;
    }
  }
  v1::AuditEntry entry = NewAuditEntry(ctx, audit_action, absl::StrCat("cases/", hex_id));
  entry.set_case_id(hex_id);
  entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  for (auto c : scope.disclosed_.ToVector()) entry.add_classes(c);
  txn->Audit(std::move(entry));
  return store_->Commit(std::move(txn));
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
  int64_t expire = FromProto(grant.expire_time());
  if (absl::FromUnixMicros(expire) <= now ||
      absl::FromUnixMicros(expire) > now + kMaxGrantLifetime) {
    return absl::InvalidArgumentError("expire_time must be in the future and within 366 days");
  }
  std::string grantee_hex = ToHex(*grantee);
  Cf grantee_cf = to_org ? Cf::kOrganisations : Cf::kUsers;

  v1::Grant created;
  absl::Status s = WithCase(
      ctx, grant.case_id(), v1::CASE_ACTION_SHARE, "case.grant", [&](CaseScope& scope) {
        if (!scope.visible().ContainsAll(classes)) {
          return absl::PermissionDeniedError("you cannot grant classes that you cannot see");
        }
        absl::StatusOr<std::optional<std::string>> exists =
            scope.txn_->Get(grantee_cf, grantee_hex);
        if (!exists.ok()) return exists.status();
        if (!exists->has_value()) {
          return absl::InvalidArgumentError(to_org ? "grantee organisation does not exist"
                                                   : "grantee user does not exist");
        }
        v1::GrantRecord record;
        record.set_id(NewRawId());
        (to_org ? record.mutable_grantee_organisation_id() : record.mutable_grantee_user_id())
            ->assign(grantee_hex);
        record.set_purpose(grant.purpose());
        for (auto c : classes.ToVector()) record.add_classes(c);
        *record.mutable_actions() = grant.actions();
        record.set_expire_time_micros(expire);
        record.set_created_by(ctx.principal.id);
        record.set_create_time_micros(absl::ToUnixMicros(now));
        created = GrantToApi(record, scope.case_id());
        return scope.txn_->Put(Cf::kGrants, GrantKey(scope.raw_id_, record.id()),
                               record.SerializeAsString());
      });
  if (!s.ok()) return s;
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

absl::Status CaseDoor::PurgeDestroyedKeys() {
  if (absl::Status s = store_->Purge(Cf::kCaseKeys); !s.ok()) return s;
  return store_->Purge(Cf::kCaseData);
}

}  // namespace haven::access
