// CaseDoor's grants: scoped, expiring access to a case for another organisation or user.
#include "storage/access/case_door.h"

#include "absl/strings/str_cat.h"
#include "haven/v1/admin.pb.h"
#include "storage/access/case_door_parts.h"
#include "storage/access/redaction.h"
#include "storage/ids.h"
#include "storage/keys.h"
#include "storage/timestamps.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

constexpr absl::Duration kMaxGrantLifetime = absl::Hours(24 * 366);

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
  out.set_lawful_basis(g.lawful_basis());
  out.set_consent_purpose(g.consent_purpose());
  out.set_awaiting_approval(g.awaiting_approval());
  out.set_approved_by(g.approved_by());
  if (g.approve_time_micros() > 0) {
    *out.mutable_approve_time() = MicrosToTimestamp(g.approve_time_micros());
  }
  return out;
}

// The organisation a grant's grantee belongs to, in this transaction.
absl::StatusOr<v1::Organisation> GranteeOrganisation(storage::Txn& txn,
                                                     const v1::GrantRecord& record) {
  std::string organisation_id = record.grantee_organisation_id();
  if (organisation_id.empty()) {
    absl::StatusOr<std::optional<std::string>> user = txn.Get(Cf::kUsers, record.grantee_user_id());
    if (!user.ok()) return user.status();
    v1::UserRecord parsed;
    if (!user->has_value() || !parsed.ParseFromString(**user)) {
      return absl::InvalidArgumentError("grantee user does not exist");
    }
    organisation_id = parsed.organisation_id();
  }
  absl::StatusOr<std::optional<std::string>> org = txn.Get(Cf::kOrganisations, organisation_id);
  if (!org.ok()) return org.status();
  v1::Organisation parsed;
  if (!org->has_value() || !parsed.ParseFromString(**org)) {
    return absl::InvalidArgumentError(record.grantee_user_id().empty()
                                          ? "grantee organisation does not exist"
                                          : "grantee user does not exist");
  }
  return parsed;
}

// The grant stored at `key`, locked for this transaction; NOT_FOUND when
// there is none.
absl::StatusOr<v1::GrantRecord> LockGrant(storage::Txn& txn, const std::string& key) {
  absl::StatusOr<std::optional<std::string>> stored = txn.GetForUpdate(Cf::kGrants, key);
  if (!stored.ok()) return stored.status();
  v1::GrantRecord record;
  if (!stored->has_value() || !record.ParseFromString(**stored)) {
    return absl::NotFoundError("grant not found");
  }
  return record;
}

}  // namespace

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

absl::Status CaseScope::EndGrantAt(const std::string& key, v1::GrantRecord record) {
  record.set_revoked(true);
  if (absl::Status t = AppendTimeline(v1::TIMELINE_EVENT_ACCESS_REVOKED,
                                      absl::StrCat("access revoked: grant ", ToHex(record.id())));
      !t.ok()) {
    return t;
  }
  if (absl::Status p = txn_->Put(Cf::kGrants, key, SerializeKnownFields(record)); !p.ok()) return p;
  if (absl::Status e = RecordLiaisonDisclosureEvent(*txn_, *this, raw_id_, record, false);
      !e.ok()) {
    return e;
  }
  // The grantee's index entry goes with its last live grant, so that its
  // searches never open this case again.
  const std::string& grantee = record.grantee_organisation_id().empty()
                                   ? record.grantee_user_id()
                                   : record.grantee_organisation_id();
  absl::StatusOr<std::vector<v1::GrantRecord>> grants = LoadGrants(*txn_, raw_id_);
  if (!grants.ok()) return grants.status();
  for (const v1::GrantRecord& g : *grants) {
    const bool same_grantee =
        g.grantee_organisation_id() == record.grantee_organisation_id() &&
        g.grantee_user_id() == record.grantee_user_id();
    if (same_grantee && !g.revoked() && g.expire_time_micros() > now_micros_) {
      return absl::OkStatus();
    }
  }
  return txn_->Delete(Cf::kCaseIndex, IndexPrefix('g', grantee) + raw_id_);
}

absl::Status CaseScope::EndGrant(absl::string_view grant_id) {
  absl::StatusOr<std::string> raw = ParseId(grant_id, "grant_id");
  if (!raw.ok()) return raw.status();
  std::string key = GrantKey(raw_id_, *raw);
  absl::StatusOr<v1::GrantRecord> record = LockGrant(*txn_, key);
  if (!record.ok()) return record.status();
  if (record->revoked()) return absl::OkStatus();
  return EndGrantAt(key, *std::move(record));
}

absl::Status CaseScope::EndGrantsOnConsent(v1::ConsentPurpose purpose) {
  absl::StatusOr<std::vector<v1::GrantRecord>> grants = LoadGrants(*txn_, raw_id_);
  if (!grants.ok()) return grants.status();
  for (v1::GrantRecord& g : *grants) {
    if (g.revoked() || g.lawful_basis() != v1::LAWFUL_BASIS_CONSENT ||
        g.consent_purpose() != purpose) {
      continue;
    }
    const std::string key = GrantKey(raw_id_, g.id());
    if (absl::Status e = EndGrantAt(key, std::move(g)); !e.ok()) return e;
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Grant> CaseScope::AddGrant(v1::GrantRecord record, absl::string_view basis_line) {
  const bool to_org = !record.grantee_organisation_id().empty();
  const std::string& grantee = to_org ? record.grantee_organisation_id() : record.grantee_user_id();
  record.set_id(NewRawId());
  record.set_created_by(ctx_->principal.id);
  record.set_create_time_micros(now_micros_);
  ClassSet classes;
  for (int c : record.classes()) classes.Add(static_cast<v1::ConfidentialityClass>(c));
  // The basis's facts (a court, an order's number, why it is urgent) are
  // sealed on the timeline; the clear grant holds codes only.
  if (absl::Status t = AppendTimeline(
          v1::TIMELINE_EVENT_ACCESS_GRANTED,
          absl::StrCat(record.awaiting_approval() ? "access asked for " : "access granted to ",
                       grantee, " for ", record.purpose(), ": ", classes.DebugString(), " under ",
                       v1::LawfulBasis_Name(record.lawful_basis())),
          basis_line);
      !t.ok()) {
    return t;
  }
  if (absl::Status p = txn_->Put(Cf::kCaseIndex, IndexPrefix('g', grantee) + raw_id_, ""); !p.ok()) {
    return p;
  }
  if (absl::Status p = txn_->Put(Cf::kGrants, GrantKey(raw_id_, record.id()), SerializeKnownFields(record));
      !p.ok()) {
    return p;
  }
  return GrantToApi(record, hex_id_);
}

absl::StatusOr<std::string> CaseScope::GrantForReferral(absl::string_view referral_id) {
  absl::StatusOr<v1::Referral> referral = FindReferral(referral_id);
  if (!referral.ok()) return referral.status();
  v1::GrantRecord grant;
  grant.set_grantee_organisation_id(referral->receiver_organisation_id());
  grant.set_purpose("referral");
  *grant.mutable_classes() = referral->data_scope();
  grant.add_actions(v1::CASE_ACTION_READ);
  grant.add_actions(v1::CASE_ACTION_UPDATE);
  grant.set_expire_time_micros(TimestampToMicros(referral->access_until()));
  grant.set_lawful_basis(referral->lawful_basis());
  if (referral->lawful_basis() == v1::LAWFUL_BASIS_CONSENT) {
    absl::StatusOr<v1::Organisation> receiver = GranteeOrganisation(*txn_, grant);
    if (!receiver.ok()) return receiver.status();
    grant.set_consent_purpose(ConsentNeededToShare(receiver->type(), referral->purpose()));
  }
  absl::StatusOr<v1::Grant> granted = AddGrant(std::move(grant), "");
  if (!granted.ok()) return granted.status();
  return granted->id();
}

absl::StatusOr<v1::Grant> CaseScope::GrantByRule(v1::GrantRecord record, absl::string_view rule) {
  ClassSet classes;
  for (int c : record.classes()) classes.Add(static_cast<v1::ConfidentialityClass>(c));
  if (!visible_.ContainsAll(classes)) {
    return absl::PermissionDeniedError("you cannot grant classes that you cannot see");
  }
  if (absl::StatusOr<v1::Organisation> grantee = GranteeOrganisation(*txn_, record); !grantee.ok()) {
    return grantee.status();
  }
  record.set_lawful_basis(v1::LAWFUL_BASIS_LEGAL_OBLIGATION);
  v1::BasisDetail detail;
  detail.set_reference(std::string(rule));
  return AddGrant(std::move(record), DescribeBasis(v1::LAWFUL_BASIS_LEGAL_OBLIGATION, detail));
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
  if (absl::Status b = CheckLawfulBasis(grant.lawful_basis(), grant.basis_detail()); !b.ok()) {
    return b;
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
  const v1::LawfulBasis basis = grant.lawful_basis();
  const absl::Time now = clock_->Now();
  const absl::Time expire = absl::FromUnixMicros(TimestampToMicros(grant.expire_time()));
  const absl::Duration longest = IsEmergency(basis) ? options_.emergency_access_max : kMaxGrantLifetime;
  if (expire <= now || expire > now + longest) {
    return absl::InvalidArgumentError(
        absl::StrCat("expire_time must be in the future and within ", absl::FormatDuration(longest),
                     IsEmergency(basis) ? " for an emergency basis" : ""));
  }
  v1::GrantRecord draft;
  (to_org ? draft.mutable_grantee_organisation_id() : draft.mutable_grantee_user_id())
      ->assign(ToHex(*grantee));
  draft.set_purpose(grant.purpose());
  for (auto c : classes.ToVector()) draft.add_classes(c);
  *draft.mutable_actions() = grant.actions();
  draft.set_expire_time_micros(absl::ToUnixMicros(expire));
  draft.set_lawful_basis(basis);
  draft.set_awaiting_approval(NeedsSecondPerson(basis));

  v1::Grant created;
  absl::Status s = WithCase(ctx, grant.case_id(), v1::CASE_ACTION_SHARE, "case.grant",
                            [&](CaseScope& scope) -> absl::Status {
    if (!scope.visible_.ContainsAll(classes)) {
      return absl::PermissionDeniedError("you cannot grant classes that you cannot see");
    }
    absl::StatusOr<v1::Organisation> organisation = GranteeOrganisation(*scope.txn_, draft);
    if (!organisation.ok()) return organisation.status();
    if (basis == v1::LAWFUL_BASIS_CONSENT) {
      const v1::ConsentPurpose needed =
          ConsentNeededToShare(organisation->type(), v1::REFERRAL_PURPOSE_UNSPECIFIED);
      absl::StatusOr<bool> consented = scope.HasConsent(needed);
      if (!consented.ok()) return consented.status();
      if (!*consented) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the subject has not consented to ", v1::ConsentPurpose_Name(needed),
            ": record that consent, or grant under another lawful basis"));
      }
      draft.set_consent_purpose(needed);
    }
    if (basis == v1::LAWFUL_BASIS_CHILD_PROTECTION_EMERGENCY) {
      absl::StatusOr<bool> child = scope.SubjectIsChild();
      if (!child.ok()) return child.status();
      if (!*child) {
        return absl::FailedPreconditionError(
            "a child-protection emergency is a basis only for a subject who is or is presumed "
            "a child");
      }
    }
    scope.set_lawful_basis(v1::LawfulBasis_Name(basis));
    absl::StatusOr<v1::Grant> added = scope.AddGrant(draft, DescribeBasis(basis, grant.basis_detail()));
    if (!added.ok()) return added.status();
    if (draft.awaiting_approval()) {
      // The owning organisation's supervisors approve, and later review.
      CaseScope::Addressee supervisors;
      supervisors.organisation_id = scope.record().owning_organisation_id();
      if (absl::Status a = scope.RaiseAlert(v1::ALERT_KIND_ACCESS_APPROVAL_NEEDED, {scope.case_id()},
                                            supervisors);
          !a.ok()) {
        return a;
      }
    }
    created = *std::move(added);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return created;
}

absl::StatusOr<v1::Grant> CaseDoor::ApproveGrant(const RequestContext& ctx,
                                                 absl::string_view case_id,
                                                 absl::string_view grant_id) {
  absl::StatusOr<std::string> raw_grant = ParseId(grant_id, "grant_id");
  if (!raw_grant.ok()) return raw_grant.status();
  v1::Grant approved;
  absl::Status s = WithCase(
      ctx, case_id, v1::CASE_ACTION_SHARE, "case.approve_grant", [&](CaseScope& scope) {
        // The second person: a supervisor of the owning organisation who
        // did not ask for it.
        if (!ctx.principal.HasRole(v1::ROLE_SUPERVISOR) ||
            ctx.principal.organisation_id != scope.record().owning_organisation_id()) {
          return absl::PermissionDeniedError(
              "only a supervisor of the owning organisation approves a grant");
        }
        std::string key = GrantKey(scope.raw_id_, *raw_grant);
        absl::StatusOr<v1::GrantRecord> locked = LockGrant(*scope.txn_, key);
        if (!locked.ok()) return locked.status();
        v1::GrantRecord record = *std::move(locked);
        if (!record.awaiting_approval() || record.revoked()) {
          return absl::FailedPreconditionError("the grant is not awaiting approval");
        }
        if (record.created_by() == ctx.principal.id) {
          return absl::FailedPreconditionError(
              "a grant is approved by a supervisor other than the one who asked for it");
        }
        if (record.expire_time_micros() <= absl::ToUnixMicros(scope.now())) {
          return absl::FailedPreconditionError(
              "the grant ran out before it was approved; ask for a new one");
        }
        record.set_awaiting_approval(false);
        record.set_approved_by(ctx.principal.id);
        record.set_approve_time_micros(absl::ToUnixMicros(scope.now()));
        approved = GrantToApi(record, scope.case_id());
        scope.set_lawful_basis(v1::LawfulBasis_Name(record.lawful_basis()));
        if (absl::Status t = scope.AppendTimeline(
                v1::TIMELINE_EVENT_ACCESS_GRANTED,
                absl::StrCat("access approved: grant ", approved.id(), " under ",
                             v1::LawfulBasis_Name(record.lawful_basis())));
            !t.ok()) {
          return t;
        }
        if (absl::Status e =
                RecordLiaisonDisclosureEvent(*scope.txn_, scope, scope.raw_id_, record, true);
            !e.ok()) {
          return e;
        }
        return scope.txn_->Put(Cf::kGrants, key, SerializeKnownFields(record));
      });
  if (!s.ok()) return s;
  return approved;
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
        absl::StatusOr<v1::GrantRecord> locked = LockGrant(*scope.txn_, key);
        if (!locked.ok()) return locked.status();
        v1::GrantRecord record = *std::move(locked);
        revoked = GrantToApi(record, scope.case_id());
        revoked.set_revoked(true);
        return scope.EndGrantAt(key, std::move(record));
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

}  // namespace haven::access
