// Policy: who may do what to a case, and which classes they may see.
#include "storage/access/policy.h"

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
  if (grant.revoked()) return false;
  if (absl::FromUnixMicros(grant.expire_time_micros()) <= now) return false;
  if (!grant.grantee_user_id().empty()) return grant.grantee_user_id() == p.id;
  return !grant.grantee_organisation_id().empty() &&
         grant.grantee_organisation_id() == p.organisation_id;
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

CaseDecision DecideCaseAccess(const Principal& principal, CaseAction action,
                              const v1::CaseRecord& record,
                              absl::Span<const v1::GrantRecord> grants, absl::Time now) {
  CaseDecision decision;
  if (record.status() == v1::CASE_STATUS_ERASED || principal.password_change_required) {
    return decision;
  }
  const uint32_t wanted = ActionBit(action);
  const bool own = principal.organisation_id == record.owning_organisation_id();
  for (Role role : principal.roles) {
    const RoleRule* rule = RuleFor(role);
    if (rule == nullptr) continue;
    if (own && (rule->own_actions & wanted) != 0) {
      decision.allowed = true;
      decision.classes = decision.classes | rule->own_classes;
    }
    for (const v1::GrantRecord& grant : grants) {
      if ((GrantActions(grant) & wanted) != 0 && GrantApplies(grant, principal, now)) {
        decision.allowed = true;
        decision.classes = decision.classes | GrantClasses(grant);
      }
    }
  }
  if (!decision.allowed) decision.classes = ClassSet();
  return decision;
}

ClassSet ClassesForNewCase(const Principal& principal) {
  ClassSet classes;
  if (principal.password_change_required) return classes;
  for (Role role : principal.roles) {
    const RoleRule* rule = RuleFor(role);
    if (rule != nullptr && (rule->own_actions & kCreate) != 0) {
      classes = classes | rule->own_classes;
    }
  }
  return classes;
}

}  // namespace haven::access
