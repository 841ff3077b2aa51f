// Policy: who may do what to a case, and which classes they may see.
#include "storage/access/policy.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace haven::access {
namespace {

using haven::v1::CaseAction;
using haven::v1::Role;
namespace v1 = haven::v1;

constexpr uint32_t ActionBit(CaseAction a) { return 1u << static_cast<int>(a); }
constexpr uint32_t kCreate = ActionBit(v1::CASE_ACTION_CREATE);
constexpr uint32_t kRead = ActionBit(v1::CASE_ACTION_READ);
constexpr uint32_t kUpdate = ActionBit(v1::CASE_ACTION_UPDATE);
constexpr uint32_t kErase = ActionBit(v1::CASE_ACTION_ERASE);
constexpr uint32_t kShare = ActionBit(v1::CASE_ACTION_SHARE);
constexpr uint32_t kAssign = ActionBit(v1::CASE_ACTION_ASSIGN);
constexpr uint32_t kClose = ActionBit(v1::CASE_ACTION_CLOSE);
constexpr uint32_t kRequestErasure = ActionBit(v1::CASE_ACTION_REQUEST_ERASURE);

// What a role may do on the cases of its own organisation, and what it may
// see there. Roles with no entry (analyst, auditor, administrator) read no
// case content anywhere, grants or not.
struct RoleRule {
  Role role;
  uint32_t own_actions;
  ClassSet own_classes;
};

const RoleRule* RuleFor(Role role) {
  using C = v1::ConfidentialityClass;
  static const ClassSet kAll = ClassSet::All();
  static const ClassSet kContact =
      ClassSet::Of({C::CONFIDENTIALITY_ADMINISTRATIVE, C::CONFIDENTIALITY_PSEUDONYMOUS,
                    C::CONFIDENTIALITY_IDENTIFYING, C::CONFIDENTIALITY_LOCATION});
  static const ClassSet kCare =
      ClassSet::Of({C::CONFIDENTIALITY_ADMINISTRATIVE, C::CONFIDENTIALITY_PSEUDONYMOUS,
                    C::CONFIDENTIALITY_IDENTIFYING, C::CONFIDENTIALITY_HEALTH});
  static const ClassSet kPseudonymous =
      ClassSet::Of({C::CONFIDENTIALITY_ADMINISTRATIVE, C::CONFIDENTIALITY_PSEUDONYMOUS});
  static const RoleRule kRules[] = {
      {v1::ROLE_HOTLINE_OPERATOR, kCreate | kRead | kUpdate, kContact},
      {v1::ROLE_CASEWORKER, kCreate | kRead | kUpdate | kShare | kClose | kRequestErasure, kAll},
      {v1::ROLE_SUPERVISOR,
       kCreate | kRead | kUpdate | kShare | kClose | kRequestErasure | kAssign | kErase, kAll},
      {v1::ROLE_DECISION_MAKER, kCreate | kRead | kUpdate, kAll},
      {v1::ROLE_SERVICE_PROVIDER_STAFF, kRead | kUpdate, kCare},
      {v1::ROLE_RETURN_OFFICER, kRead | kUpdate, kContact},
      // Identifying data reaches law enforcement only through a grant made
      // under consent or a judicial order.
      {v1::ROLE_LAW_ENFORCEMENT_LIAISON, kCreate | kRead, kPseudonymous},
  };
  for (const RoleRule& rule : kRules) {
    if (rule.role == role) return &rule;
  }
  return nullptr;
}

uint32_t GrantActions(const v1::GrantRecord& grant) {
  uint32_t bits = 0;
  for (int a : grant.actions()) {
    // A grant can let others read or update; never erase, share or create.
    if (a == v1::CASE_ACTION_READ || a == v1::CASE_ACTION_UPDATE) {
      bits |= ActionBit(static_cast<CaseAction>(a));
    }
  }
  return bits;
}

ClassSet GrantClasses(const v1::GrantRecord& grant) {
  ClassSet set;
  for (int c : grant.classes()) {
    if (v1::ConfidentialityClass_IsValid(c) && c != v1::CONFIDENTIALITY_CLASS_UNSPECIFIED) {
      set.Add(static_cast<v1::ConfidentialityClass>(c));
    }
  }
  return set;
}

bool GrantApplies(const v1::GrantRecord& grant, const Principal& p, absl::Time now) {
  if (grant.revoked() || grant.awaiting_approval()) return false;
  if (absl::FromUnixMicros(grant.expire_time_micros()) <= now) return false;
  if (!grant.grantee_user_id().empty()) return grant.grantee_user_id() == p.id;
  return !grant.grantee_organisation_id().empty() &&
         grant.grantee_organisation_id() == p.organisation_id;
}

bool WorksOnCases(const Principal& p) {
  for (Role role : p.roles) {
    if (RuleFor(role) != nullptr) return true;
  }
  return false;
}

}  // namespace

ClassSet ClassSet::All() {
  ClassSet s;
  for (int c = v1::CONFIDENTIALITY_ADMINISTRATIVE; c <= v1::ConfidentialityClass_MAX; ++c) {
    s.Add(static_cast<v1::ConfidentialityClass>(c));
  }
  return s;
}

ClassSet ClassSet::Of(std::initializer_list<v1::ConfidentialityClass> classes) {
  ClassSet s;
  for (auto c : classes) s.Add(c);
  return s;
}

std::vector<v1::ConfidentialityClass> ClassSet::ToVector() const {
  std::vector<v1::ConfidentialityClass> out;
  for (int c = v1::CONFIDENTIALITY_ADMINISTRATIVE; c <= v1::ConfidentialityClass_MAX; ++c) {
    if (Contains(static_cast<v1::ConfidentialityClass>(c))) {
      out.push_back(static_cast<v1::ConfidentialityClass>(c));
    }
  }
  return out;
}

std::string ClassSet::DebugString() const {
  std::vector<std::string> names;
  for (auto c : ToVector()) names.push_back(v1::ConfidentialityClass_Name(c));
  return absl::StrCat("{", absl::StrJoin(names, ","), "}");
}

ClassSet GranteeCeiling(Role role, v1::LawfulBasis basis) {
  using C = v1::ConfidentialityClass;
  const RoleRule* rule = RuleFor(role);
  if (rule == nullptr) return ClassSet();
  if (role != v1::ROLE_LAW_ENFORCEMENT_LIAISON) return rule->own_classes;
  // Law enforcement: who the person is and where, under the subject's
  // consent, a court's order or a threat to life; the account of what
  // happened under consent or order only; health never.
  ClassSet ceiling = rule->own_classes;
  switch (basis) {
    case v1::LAWFUL_BASIS_CONSENT:
    case v1::LAWFUL_BASIS_JUDICIAL_ORDER:
      return ceiling | ClassSet::Of({C::CONFIDENTIALITY_IDENTIFYING, C::CONFIDENTIALITY_LOCATION,
                                     C::CONFIDENTIALITY_NARRATIVE});
    case v1::LAWFUL_BASIS_VITAL_INTERESTS:
    case v1::LAWFUL_BASIS_CHILD_PROTECTION_EMERGENCY:
      return ceiling | ClassSet::Of({C::CONFIDENTIALITY_IDENTIFYING, C::CONFIDENTIALITY_LOCATION});
    case v1::LAWFUL_BASIS_LEGAL_OBLIGATION:
      return ceiling | ClassSet::Of({C::CONFIDENTIALITY_IDENTIFYING});
    default:
      return ceiling;
  }
}

ClassSet Decide(const AccessQuestion& q) {
  const Principal& p = *q.principal;
  if (p.password_change_required) return ClassSet();
  const uint32_t wanted = ActionBit(q.action);
  ClassSet classes;
  switch (q.relation) {
    case Relation::kOwnOrganisation:
      for (Role role : p.roles) {
        const RoleRule* rule = RuleFor(role);
        if (rule != nullptr && (rule->own_actions & wanted) != 0) {
          classes = classes | rule->own_classes;
        }
      }
      return classes;
    case Relation::kGrantee:
      // A grant lets others read or update, never more, and only for the
      // purpose it was made for.
      if ((wanted & (kRead | kUpdate)) == 0) return ClassSet();
      if (q.purpose != kNoDeclaredPurpose && q.purpose != q.granted_for) return ClassSet();
      for (Role role : p.roles) classes = classes | (q.offered & GranteeCeiling(role, q.basis));
      return classes;
    case Relation::kReferralParty:
      if (q.action != v1::CASE_ACTION_UPDATE || (p.partner_id.empty() && !WorksOnCases(p))) {
        return ClassSet();
      }
      return ClassSet::Of({v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_NARRATIVE});
    case Relation::kLiaison: {
      if (!IsLawEnforcementLiaison(p)) return ClassSet();
      using C = v1::ConfidentialityClass;
      const ClassSet pseudonymous =
          ClassSet::Of({C::CONFIDENTIALITY_ADMINISTRATIVE, C::CONFIDENTIALITY_PSEUDONYMOUS});
      if (q.action == v1::CASE_ACTION_READ) return pseudonymous;
      // Its own requests on the case (a disclosure asked for): their
      // administrative facts and the basis's facts (narrative), read by none
      // of its passages.
      if (q.action == v1::CASE_ACTION_UPDATE) {
        return ClassSet::Of({C::CONFIDENTIALITY_ADMINISTRATIVE, C::CONFIDENTIALITY_NARRATIVE});
      }
      if (q.action == v1::CASE_ACTION_CREATE) {
        return pseudonymous | ClassSet::Of({C::CONFIDENTIALITY_IDENTIFYING,
                                            C::CONFIDENTIALITY_LOCATION,
                                            C::CONFIDENTIALITY_NARRATIVE});
      }
      return ClassSet();
    }
    case Relation::kPartner:
      if (p.partner_id.empty() ||
          (q.action != v1::CASE_ACTION_READ && q.action != v1::CASE_ACTION_CREATE &&
           q.action != v1::CASE_ACTION_UPDATE)) {
        return ClassSet();
      }
      return q.offered;
  }
  return ClassSet();
}

bool IsLawEnforcementLiaison(const Principal& principal) {
  return !principal.password_change_required && principal.partner_id.empty() &&
         principal.organisation_type == v1::ORGANISATION_TYPE_LAW_ENFORCEMENT &&
         principal.HasRole(v1::ROLE_LAW_ENFORCEMENT_LIAISON);
}

bool MayAcceptReferrals(const Principal& principal) {
  return !principal.password_change_required &&
         (principal.HasRole(v1::ROLE_CASEWORKER) || principal.HasRole(v1::ROLE_SUPERVISOR));
}

v1::ConsentPurpose ConsentNeededToShare(v1::OrganisationType receiver, v1::ReferralPurpose purpose) {
  if (purpose == v1::REFERRAL_PURPOSE_INVESTIGATION ||
      receiver == v1::ORGANISATION_TYPE_LAW_ENFORCEMENT) {
    return v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT;
  }
  if (purpose == v1::REFERRAL_PURPOSE_RETURN) return v1::CONSENT_PURPOSE_RETURN;
  return v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS;
}

bool NeedsSecondPerson(v1::LawfulBasis basis) {
  return basis == v1::LAWFUL_BASIS_JUDICIAL_ORDER || IsEmergency(basis);
}

bool IsEmergency(v1::LawfulBasis basis) {
  return basis == v1::LAWFUL_BASIS_VITAL_INTERESTS ||
         basis == v1::LAWFUL_BASIS_CHILD_PROTECTION_EMERGENCY;
}

absl::Status CheckLawfulBasis(int basis, const v1::BasisDetail& detail) {
  constexpr size_t kMaxDetail = 2000;
  if (detail.reference().size() > kMaxDetail || detail.court().size() > kMaxDetail ||
      detail.reason().size() > kMaxDetail) {
    return absl::InvalidArgumentError("basis_detail fields have at most 2000 bytes each");
  }
  switch (basis) {
    case v1::LAWFUL_BASIS_CONSENT:
      return absl::OkStatus();
    case v1::LAWFUL_BASIS_JUDICIAL_ORDER:
      if (detail.reference().empty() || detail.court().empty()) {
        return absl::InvalidArgumentError(
            "a judicial order needs basis_detail.reference (the order's number) and "
            "basis_detail.court");
      }
      return absl::OkStatus();
    case v1::LAWFUL_BASIS_LEGAL_OBLIGATION:
      if (detail.reference().empty()) {
        return absl::InvalidArgumentError(
            "a legal obligation needs basis_detail.reference (the provision of law)");
      }
      return absl::OkStatus();
    case v1::LAWFUL_BASIS_VITAL_INTERESTS:
    case v1::LAWFUL_BASIS_CHILD_PROTECTION_EMERGENCY:
      if (detail.reason().empty()) {
        return absl::InvalidArgumentError("an emergency basis needs basis_detail.reason");
      }
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(
          "lawful_basis is required: CONSENT, JUDICIAL_ORDER, LEGAL_OBLIGATION, VITAL_INTERESTS "
          "or CHILD_PROTECTION_EMERGENCY");
  }
}

std::string DescribeBasis(v1::LawfulBasis basis, const v1::BasisDetail& detail) {
  std::string out = v1::LawfulBasis_Name(basis);
  if (!detail.reference().empty()) absl::StrAppend(&out, "; reference ", detail.reference());
  if (!detail.court().empty()) absl::StrAppend(&out, "; court ", detail.court());
  if (!detail.reason().empty()) absl::StrAppend(&out, "; reason: ", detail.reason());
  return out;
}

CaseDecision DecideCaseAccess(const RequestContext& ctx, CaseAction action,
                              const v1::CaseRecord& record,
                              absl::Span<const v1::GrantRecord> grants, absl::Time now) {
  const Principal& principal = ctx.principal;
  CaseDecision decision;
  decision.purpose = ctx.purpose;
  if (record.status() == v1::CASE_STATUS_ERASED) return decision;
  AccessQuestion q;
  q.principal = &principal;
  q.action = action;
  q.purpose = ctx.purpose;
  if (principal.organisation_id == record.owning_organisation_id()) {
    q.relation = Relation::kOwnOrganisation;
    decision.classes = Decide(q);
  }
  q.relation = Relation::kGrantee;
  for (const v1::GrantRecord& grant : grants) {
    if ((GrantActions(grant) & ActionBit(action)) == 0 || !GrantApplies(grant, principal, now)) {
      continue;
    }
    q.basis = grant.lawful_basis();
    q.offered = GrantClasses(grant);
    q.granted_for = grant.purpose();
    const ClassSet granted = Decide(q);
    if (decision.classes.empty() && !granted.empty() && ctx.purpose == kNoDeclaredPurpose) {
      decision.purpose = grant.purpose();
    }
    decision.classes = decision.classes | granted;
  }
  decision.allowed = !decision.classes.empty();
  return decision;
}

ClassSet ClassesForNewCase(const Principal& principal) {
  AccessQuestion q;
  q.principal = &principal;
  q.relation = Relation::kOwnOrganisation;
  q.action = v1::CASE_ACTION_CREATE;
  return Decide(q);
}

}  // namespace haven::access
