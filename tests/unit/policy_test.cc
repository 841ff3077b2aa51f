// Policy: deny by default; own organisation by role; grants scoped by
// grantee, classes, actions and time.
#include "storage/access/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "storage/ids.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using C = v1::ConfidentialityClass;

const ClassSet kPseudonymous =
    ClassSet::Of({v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS});

const std::vector<v1::CaseAction> kAllActions = {v1::CASE_ACTION_CREATE, v1::CASE_ACTION_READ,
                                                 v1::CASE_ACTION_UPDATE, v1::CASE_ACTION_ERASE,
                                                 v1::CASE_ACTION_SHARE};

// ------------------------------------------------------------ ClassSet

TEST(ClassSetTest, StartsEmptyAndAddsClasses) {
  ClassSet s;
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.Contains(v1::CONFIDENTIALITY_IDENTIFYING));
  s.Add(v1::CONFIDENTIALITY_IDENTIFYING);
  EXPECT_FALSE(s.empty());
  EXPECT_TRUE(s.Contains(v1::CONFIDENTIALITY_IDENTIFYING));
  EXPECT_FALSE(s.Contains(v1::CONFIDENTIALITY_HEALTH));
}

TEST(ClassSetTest, AllHoldsEverySpecifiedClassAndNotUnspecified) {
  ClassSet all = ClassSet::All();
  for (int c = v1::ConfidentialityClass_MIN; c <= v1::ConfidentialityClass_MAX; ++c) {
    EXPECT_EQ(all.Contains(static_cast<C>(c)), c != v1::CONFIDENTIALITY_CLASS_UNSPECIFIED) << c;
  }
  EXPECT_EQ(all.ToVector().size(), 6u);
}

TEST(ClassSetTest, UnionIntersectionAndContainsAll) {
  ClassSet a = ClassSet::Of({v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_HEALTH});
  ClassSet b = ClassSet::Of({v1::CONFIDENTIALITY_HEALTH, v1::CONFIDENTIALITY_NARRATIVE});
  EXPECT_EQ(a | b, ClassSet::Of({v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_HEALTH,
                                 v1::CONFIDENTIALITY_NARRATIVE}));
  EXPECT_EQ(a & b, ClassSet::Of({v1::CONFIDENTIALITY_HEALTH}));
  EXPECT_TRUE((a | b).ContainsAll(a));
  EXPECT_FALSE(a.ContainsAll(b));
  EXPECT_TRUE(a.ContainsAll(ClassSet()));
  EXPECT_TRUE(ClassSet::All().ContainsAll(a | b));
}

TEST(ClassSetTest, ToVectorAndDebugStringAreInEnumOrder) {
  ClassSet s = ClassSet::Of({v1::CONFIDENTIALITY_NARRATIVE, v1::CONFIDENTIALITY_ADMINISTRATIVE,
                             v1::CONFIDENTIALITY_LOCATION});
  EXPECT_EQ(s.ToVector(), (std::vector<C>{v1::CONFIDENTIALITY_ADMINISTRATIVE,
                                          v1::CONFIDENTIALITY_LOCATION,
                                          v1::CONFIDENTIALITY_NARRATIVE}));
  EXPECT_EQ(s.DebugString(),
            "{CONFIDENTIALITY_ADMINISTRATIVE,CONFIDENTIALITY_LOCATION,CONFIDENTIALITY_NARRATIVE}");
  EXPECT_EQ(ClassSet().DebugString(), "{}");
}

// ------------------------------------------------------------ DecideCaseAccess

class PolicyTest : public ::testing::Test {
 protected:
  PolicyTest() {
    record_.set_id(NewRawId());
    record_.set_owning_organisation_id(kOwnOrg);
    record_.set_status(v1::CASE_STATUS_OPEN);
  }

  static Principal Member(const std::string& org, std::vector<v1::Role> roles) {
    Principal p;
    p.id = NewId();
    p.organisation_id = org;
    p.roles = std::move(roles);
    return p;
  }

  v1::GrantRecord OrgGrant(const std::string& org, std::vector<C> classes,
                           std::vector<v1::CaseAction> actions) {
    v1::GrantRecord g;
    g.set_id(NewRawId());
    g.set_grantee_organisation_id(org);
    g.set_purpose("referral");
    for (C c : classes) g.add_classes(c);
    for (v1::CaseAction a : actions) g.add_actions(a);
    g.set_expire_time_micros(absl::ToUnixMicros(now_ + absl::Hours(1)));
    return g;
  }

  CaseDecision Decide(const Principal& p, v1::CaseAction action,
                      const std::vector<v1::GrantRecord>& grants = {},
                      const std::string& purpose = kNoDeclaredPurpose) {
    RequestContext ctx;
    ctx.principal = p;
    ctx.purpose = purpose;
    return DecideCaseAccess(ctx, action, record_, grants, now_);
  }

  const std::string kOwnOrg = NewId();
  const std::string kOtherOrg = NewId();
  const absl::Time now_ = absl::FromUnixSeconds(1'790'000'000);
  v1::CaseRecord record_;
};

struct RoleCase {
  v1::Role role;
  // For each action in kAllActions order: allowed on its own organisation's case?
  std::vector<bool> allowed;
  ClassSet classes;  // when allowed
};

void PrintTo(const RoleCase& rc, std::ostream* os) { *os << v1::Role_Name(rc.role); }

class OwnOrganisationRoleTest : public PolicyTest,
                                public ::testing::WithParamInterface<RoleCase> {};

TEST_P(OwnOrganisationRoleTest, RoleDecidesActionsAndClassesOnOwnCases) {
  const RoleCase& rc = GetParam();
  Principal p = Member(kOwnOrg, {rc.role});
  for (size_t i = 0; i < kAllActions.size(); ++i) {
    CaseDecision d = Decide(p, kAllActions[i]);
    EXPECT_EQ(d.allowed, rc.allowed[i]) << v1::CaseAction_Name(kAllActions[i]);
    EXPECT_EQ(d.classes, rc.allowed[i] ? rc.classes : ClassSet())
        << v1::CaseAction_Name(kAllActions[i]) << ": " << d.classes.DebugString();
  }
}

const ClassSet kContact = ClassSet::Of({v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS,
                                        v1::CONFIDENTIALITY_IDENTIFYING, v1::CONFIDENTIALITY_LOCATION});
const ClassSet kCare = ClassSet::Of({v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS,
                                     v1::CONFIDENTIALITY_IDENTIFYING, v1::CONFIDENTIALITY_HEALTH});

//                                 CREATE READ  UPDATE ERASE  SHARE
INSTANTIATE_TEST_SUITE_P(
    Roles, OwnOrganisationRoleTest,
    ::testing::Values(
        RoleCase{v1::ROLE_CASEWORKER, {true, true, true, false, true}, ClassSet::All()},
        RoleCase{v1::ROLE_SUPERVISOR, {true, true, true, true, true}, ClassSet::All()},
        RoleCase{v1::ROLE_DECISION_MAKER, {true, true, true, false, false}, ClassSet::All()},
        RoleCase{v1::ROLE_HOTLINE_OPERATOR, {true, true, true, false, false}, kContact},
        RoleCase{v1::ROLE_SERVICE_PROVIDER_STAFF, {false, true, true, false, false}, kCare},
        RoleCase{v1::ROLE_RETURN_OFFICER, {false, true, true, false, false}, kContact},
        RoleCase{v1::ROLE_LAW_ENFORCEMENT_LIAISON, {true, true, false, false, false}, kPseudonymous},
        RoleCase{v1::ROLE_ADMINISTRATOR, {false, false, false, false, false}, ClassSet()},
        RoleCase{v1::ROLE_AUDITOR, {false, false, false, false, false}, ClassSet()},
        RoleCase{v1::ROLE_ANALYST, {false, false, false, false, false}, ClassSet()},
        RoleCase{v1::ROLE_UNSPECIFIED, {false, false, false, false, false}, ClassSet()}),
    [](const ::testing::TestParamInfo<RoleCase>& param_info) {
      return v1::Role_Name(param_info.param.role);
    });

TEST_F(PolicyTest, CaseworkerSeesEveryClassOnOwnCase) {
  CaseDecision d = Decide(Member(kOwnOrg, {v1::ROLE_CASEWORKER}), v1::CASE_ACTION_READ);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.classes, ClassSet::All());
}

TEST_F(PolicyTest, LawEnforcementLiaisonSeesOnlyAdministrativeAndPseudonymous) {
  CaseDecision d = Decide(Member(kOwnOrg, {v1::ROLE_LAW_ENFORCEMENT_LIAISON}), v1::CASE_ACTION_READ);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.classes, kPseudonymous);
  EXPECT_FALSE(d.classes.Contains(v1::CONFIDENTIALITY_IDENTIFYING));
}

TEST_F(PolicyTest, NoRolesMeansNoAccess) {
  EXPECT_FALSE(Decide(Member(kOwnOrg, {}), v1::CASE_ACTION_READ).allowed);
}

TEST_F(PolicyTest, RolesCombineByUnion) {
  CaseDecision d = Decide(Member(kOwnOrg, {v1::ROLE_LAW_ENFORCEMENT_LIAISON, v1::ROLE_SERVICE_PROVIDER_STAFF}),
                          v1::CASE_ACTION_READ);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.classes, kCare);
  // A role without a rule adds nothing and takes nothing away.
  CaseDecision with_auditor =
      Decide(Member(kOwnOrg, {v1::ROLE_AUDITOR, v1::ROLE_CASEWORKER}), v1::CASE_ACTION_READ);
  EXPECT_TRUE(with_auditor.allowed);
  EXPECT_EQ(with_auditor.classes, ClassSet::All());
}

TEST_F(PolicyTest, AnotherOrganisationIsDeniedEveryAction) {
  Principal p = Member(kOtherOrg, {v1::ROLE_SUPERVISOR, v1::ROLE_CASEWORKER});
  for (v1::CaseAction a : kAllActions) {
    CaseDecision d = Decide(p, a);
    EXPECT_FALSE(d.allowed) << v1::CaseAction_Name(a);
    EXPECT_TRUE(d.classes.empty());
  }
}

TEST_F(PolicyTest, OrganisationGrantAllowsOnlyItsClassesAndActions) {
  std::vector<v1::GrantRecord> grants = {
      OrgGrant(kOtherOrg, {v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS},
               {v1::CASE_ACTION_READ})};
  Principal p = Member(kOtherOrg, {v1::ROLE_CASEWORKER});
  CaseDecision read = Decide(p, v1::CASE_ACTION_READ, grants);
  EXPECT_TRUE(read.allowed);
  EXPECT_EQ(read.classes, kPseudonymous);
  for (v1::CaseAction a : {v1::CASE_ACTION_CREATE, v1::CASE_ACTION_UPDATE, v1::CASE_ACTION_ERASE,
                           v1::CASE_ACTION_SHARE}) {
    EXPECT_FALSE(Decide(p, a, grants).allowed) << v1::CaseAction_Name(a);
  }
  // A third organisation gets nothing from it.
  EXPECT_FALSE(Decide(Member(NewId(), {v1::ROLE_CASEWORKER}), v1::CASE_ACTION_READ, grants).allowed);
}

TEST_F(PolicyTest, GrantWithUpdateAllowsUpdate) {
  std::vector<v1::GrantRecord> grants = {
      OrgGrant(kOtherOrg, {v1::CONFIDENTIALITY_HEALTH}, {v1::CASE_ACTION_READ, v1::CASE_ACTION_UPDATE})};
  CaseDecision d = Decide(Member(kOtherOrg, {v1::ROLE_SERVICE_PROVIDER_STAFF}), v1::CASE_ACTION_UPDATE, grants);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.classes, ClassSet::Of({v1::CONFIDENTIALITY_HEALTH}));
}

TEST_F(PolicyTest, GrantNeverAllowsEraseShareOrCreate) {
  std::vector<v1::GrantRecord> grants = {
      OrgGrant(kOtherOrg, {v1::CONFIDENTIALITY_ADMINISTRATIVE}, kAllActions)};
  Principal p = Member(kOtherOrg, {v1::ROLE_SUPERVISOR});
  EXPECT_FALSE(Decide(p, v1::CASE_ACTION_ERASE, grants).allowed);
  EXPECT_FALSE(Decide(p, v1::CASE_ACTION_SHARE, grants).allowed);
  EXPECT_FALSE(Decide(p, v1::CASE_ACTION_CREATE, grants).allowed);
  EXPECT_TRUE(Decide(p, v1::CASE_ACTION_READ, grants).allowed);
}

TEST_F(PolicyTest, GrantAddsToOwnOrganisationClasses) {
  // A liaison officer of the owning organisation sees identifying data only
  // through a grant (consent or judicial order).
  Principal p = Member(kOwnOrg, {v1::ROLE_LAW_ENFORCEMENT_LIAISON});
  v1::GrantRecord g = OrgGrant("", {v1::CONFIDENTIALITY_IDENTIFYING}, {v1::CASE_ACTION_READ});
  g.clear_grantee_organisation_id();
  g.set_grantee_user_id(p.id);
  g.set_lawful_basis(v1::LAWFUL_BASIS_JUDICIAL_ORDER);
  CaseDecision d = Decide(p, v1::CASE_ACTION_READ, {g});
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.classes, kPseudonymous | ClassSet::Of({v1::CONFIDENTIALITY_IDENTIFYING}));
}

TEST_F(PolicyTest, AGrantGivesNoMoreThanTheRoleMayReceiveUnderItsBasis) {
  Principal officer = Member(kOtherOrg, {v1::ROLE_LAW_ENFORCEMENT_LIAISON});
  v1::GrantRecord g = OrgGrant(kOtherOrg,
                               {v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS,
                                v1::CONFIDENTIALITY_IDENTIFYING, v1::CONFIDENTIALITY_LOCATION,
                                v1::CONFIDENTIALITY_HEALTH, v1::CONFIDENTIALITY_NARRATIVE},
                               {v1::CASE_ACTION_READ});
  auto seen = [&](v1::LawfulBasis basis) {
    g.set_lawful_basis(basis);
    return Decide(officer, v1::CASE_ACTION_READ, {g}).classes;
  };
  const ClassSet identity = ClassSet::Of({v1::CONFIDENTIALITY_IDENTIFYING});
  const ClassSet whereabouts = identity | ClassSet::Of({v1::CONFIDENTIALITY_LOCATION});
  // A grant written before grants had a basis gives only the role's own.
  EXPECT_EQ(seen(v1::LAWFUL_BASIS_UNSPECIFIED), kPseudonymous);
  EXPECT_EQ(seen(v1::LAWFUL_BASIS_LEGAL_OBLIGATION), kPseudonymous | identity);
  EXPECT_EQ(seen(v1::LAWFUL_BASIS_VITAL_INTERESTS), kPseudonymous | whereabouts);
  EXPECT_EQ(seen(v1::LAWFUL_BASIS_CONSENT),
            kPseudonymous | whereabouts | ClassSet::Of({v1::CONFIDENTIALITY_NARRATIVE}));
  EXPECT_FALSE(seen(v1::LAWFUL_BASIS_JUDICIAL_ORDER).Contains(v1::CONFIDENTIALITY_HEALTH));
  // Service-provider staff: care, never location or the account.
  Principal staff = Member(kOtherOrg, {v1::ROLE_SERVICE_PROVIDER_STAFF});
  g.set_lawful_basis(v1::LAWFUL_BASIS_CONSENT);
  EXPECT_EQ(Decide(staff, v1::CASE_ACTION_READ, {g}).classes,
            kPseudonymous | identity | ClassSet::Of({v1::CONFIDENTIALITY_HEALTH}));
}

TEST_F(PolicyTest, AGrantAwaitingApprovalGivesNothing) {
  Principal officer = Member(kOtherOrg, {v1::ROLE_LAW_ENFORCEMENT_LIAISON});
  v1::GrantRecord g = OrgGrant(kOtherOrg, {v1::CONFIDENTIALITY_PSEUDONYMOUS}, {v1::CASE_ACTION_READ});
  g.set_lawful_basis(v1::LAWFUL_BASIS_JUDICIAL_ORDER);
  g.set_awaiting_approval(true);
  EXPECT_FALSE(Decide(officer, v1::CASE_ACTION_READ, {g}).allowed);
  g.set_awaiting_approval(false);
  EXPECT_TRUE(Decide(officer, v1::CASE_ACTION_READ, {g}).allowed);
}

TEST_F(PolicyTest, AGrantServesOnlyThePurposeItWasMadeFor) {
  Principal shelter = Member(kOtherOrg, {v1::ROLE_CASEWORKER});
  v1::GrantRecord g = OrgGrant(kOtherOrg, {v1::CONFIDENTIALITY_HEALTH}, {v1::CASE_ACTION_READ});
  g.set_purpose("shelter-placement");
  // Declared for another purpose: the grant gives nothing.
  EXPECT_FALSE(Decide(shelter, v1::CASE_ACTION_READ, {g}, "investigation").allowed);
  // Declared for its purpose, or declared none: the grant's classes, and
  // the access is audited under the grant's purpose.
  CaseDecision declared = Decide(shelter, v1::CASE_ACTION_READ, {g}, "shelter-placement");
  EXPECT_TRUE(declared.allowed);
  EXPECT_EQ(declared.purpose, "shelter-placement");
  CaseDecision undeclared = Decide(shelter, v1::CASE_ACTION_READ, {g});
  EXPECT_TRUE(undeclared.classes.Contains(v1::CONFIDENTIALITY_HEALTH));
  EXPECT_EQ(undeclared.purpose, "shelter-placement");
}

TEST_F(PolicyTest, TheOwnOrganisationIsNotLimitedByAGrantsPurpose) {
  Principal caseworker = Member(kOwnOrg, {v1::ROLE_CASEWORKER});
  v1::GrantRecord g = OrgGrant(kOwnOrg, {v1::CONFIDENTIALITY_HEALTH}, {v1::CASE_ACTION_READ});
  g.set_purpose("shelter-placement");
  CaseDecision d = Decide(caseworker, v1::CASE_ACTION_READ, {g}, "case-management");
  EXPECT_TRUE(d.classes == ClassSet::All());
  EXPECT_EQ(d.purpose, "case-management");
  EXPECT_EQ(Decide(caseworker, v1::CASE_ACTION_READ, {g}).purpose, kNoDeclaredPurpose);
}

TEST_F(PolicyTest, GrantGivesNothingToRolesThatReadNoCaseContent) {
  std::vector<v1::GrantRecord> grants = {
      OrgGrant(kOtherOrg, {v1::CONFIDENTIALITY_ADMINISTRATIVE}, {v1::CASE_ACTION_READ})};
  for (v1::Role role : {v1::ROLE_ANALYST, v1::ROLE_AUDITOR, v1::ROLE_ADMINISTRATOR}) {
    EXPECT_FALSE(Decide(Member(kOtherOrg, {role}), v1::CASE_ACTION_READ, grants).allowed)
        << v1::Role_Name(role);
  }
}

TEST_F(PolicyTest, UserGrantAppliesOnlyToThatUser) {
  Principal named = Member(kOtherOrg, {v1::ROLE_CASEWORKER});
  Principal colleague = Member(kOtherOrg, {v1::ROLE_CASEWORKER});
  v1::GrantRecord g = OrgGrant("", {v1::CONFIDENTIALITY_ADMINISTRATIVE}, {v1::CASE_ACTION_READ});
  g.clear_grantee_organisation_id();
  g.set_grantee_user_id(named.id);
  EXPECT_TRUE(Decide(named, v1::CASE_ACTION_READ, {g}).allowed);
  EXPECT_FALSE(Decide(colleague, v1::CASE_ACTION_READ, {g}).allowed);
}

TEST_F(PolicyTest, UserGrantIsNotAlsoAnOrganisationGrant) {
  // A malformed grant naming both: the user decides, not the organisation.
  Principal named = Member(kOtherOrg, {v1::ROLE_CASEWORKER});
  Principal colleague = Member(kOtherOrg, {v1::ROLE_CASEWORKER});
  v1::GrantRecord g = OrgGrant(kOtherOrg, {v1::CONFIDENTIALITY_ADMINISTRATIVE}, {v1::CASE_ACTION_READ});
  g.set_grantee_user_id(named.id);
  EXPECT_TRUE(Decide(named, v1::CASE_ACTION_READ, {g}).allowed);
  EXPECT_FALSE(Decide(colleague, v1::CASE_ACTION_READ, {g}).allowed);
}

TEST_F(PolicyTest, GrantWithoutGranteeAppliesToNoOne) {
  v1::GrantRecord g = OrgGrant("", {v1::CONFIDENTIALITY_ADMINISTRATIVE}, {v1::CASE_ACTION_READ});
  Principal no_org = Member("", {v1::ROLE_CASEWORKER});
  EXPECT_FALSE(Decide(no_org, v1::CASE_ACTION_READ, {g}).allowed);
}

TEST_F(PolicyTest, GrantExpiresAtItsExpireTime) {
  v1::GrantRecord g = OrgGrant(kOtherOrg, {v1::CONFIDENTIALITY_ADMINISTRATIVE}, {v1::CASE_ACTION_READ});
  Principal p = Member(kOtherOrg, {v1::ROLE_CASEWORKER});
  g.set_expire_time_micros(absl::ToUnixMicros(now_) + 1);
  EXPECT_TRUE(Decide(p, v1::CASE_ACTION_READ, {g}).allowed);
  g.set_expire_time_micros(absl::ToUnixMicros(now_));
  EXPECT_FALSE(Decide(p, v1::CASE_ACTION_READ, {g}).allowed) << "expire == now must deny";
  g.set_expire_time_micros(absl::ToUnixMicros(now_) - 1);
  EXPECT_FALSE(Decide(p, v1::CASE_ACTION_READ, {g}).allowed);
  g.clear_expire_time_micros();
  EXPECT_FALSE(Decide(p, v1::CASE_ACTION_READ, {g}).allowed) << "no expiry is not forever";
}

TEST_F(PolicyTest, RevokedGrantDenies) {
  v1::GrantRecord g = OrgGrant(kOtherOrg, {v1::CONFIDENTIALITY_ADMINISTRATIVE}, {v1::CASE_ACTION_READ});
  g.set_revoked(true);
  EXPECT_FALSE(Decide(Member(kOtherOrg, {v1::ROLE_CASEWORKER}), v1::CASE_ACTION_READ, {g}).allowed);
}

TEST_F(PolicyTest, GrantIgnoresUnknownAndUnspecifiedClasses) {
  v1::GrantRecord g = OrgGrant(kOtherOrg, {v1::CONFIDENTIALITY_ADMINISTRATIVE}, {v1::CASE_ACTION_READ});
  g.add_classes(v1::CONFIDENTIALITY_CLASS_UNSPECIFIED);
  g.add_classes(static_cast<C>(31));
  g.add_classes(static_cast<C>(40));
  CaseDecision d = Decide(Member(kOtherOrg, {v1::ROLE_CASEWORKER}), v1::CASE_ACTION_READ, {g});
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.classes, ClassSet::Of({v1::CONFIDENTIALITY_ADMINISTRATIVE}));
}

TEST_F(PolicyTest, ErasedCaseDeniesEverythingToEveryone) {
  record_.set_status(v1::CASE_STATUS_ERASED);
  std::vector<v1::GrantRecord> grants = {
      OrgGrant(kOtherOrg, {v1::CONFIDENTIALITY_ADMINISTRATIVE}, {v1::CASE_ACTION_READ})};
  for (v1::CaseAction a : kAllActions) {
    EXPECT_FALSE(Decide(Member(kOwnOrg, {v1::ROLE_SUPERVISOR}), a).allowed) << v1::CaseAction_Name(a);
    EXPECT_FALSE(Decide(Member(kOtherOrg, {v1::ROLE_CASEWORKER}), a, grants).allowed);
  }
}

TEST_F(PolicyTest, PasswordChangeRequiredDeniesEverything) {
  Principal p = Member(kOwnOrg, {v1::ROLE_SUPERVISOR});
  p.password_change_required = true;
  for (v1::CaseAction a : kAllActions) {
    CaseDecision d = Decide(p, a);
    EXPECT_FALSE(d.allowed) << v1::CaseAction_Name(a);
    EXPECT_TRUE(d.classes.empty());
  }
  std::vector<v1::GrantRecord> grants = {
      OrgGrant(kOtherOrg, {v1::CONFIDENTIALITY_ADMINISTRATIVE}, {v1::CASE_ACTION_READ})};
  Principal grantee = Member(kOtherOrg, {v1::ROLE_CASEWORKER});
  grantee.password_change_required = true;
  EXPECT_FALSE(Decide(grantee, v1::CASE_ACTION_READ, grants).allowed);
}

TEST_F(PolicyTest, ClassesForNewCaseFollowTheRolesThatMayCreate) {
  EXPECT_EQ(ClassesForNewCase(Member(kOwnOrg, {v1::ROLE_CASEWORKER})), ClassSet::All());
  EXPECT_EQ(ClassesForNewCase(Member(kOwnOrg, {v1::ROLE_LAW_ENFORCEMENT_LIAISON})), kPseudonymous);
  EXPECT_EQ(ClassesForNewCase(Member(kOwnOrg, {v1::ROLE_HOTLINE_OPERATOR})), kContact);
  for (v1::Role role : {v1::ROLE_SERVICE_PROVIDER_STAFF, v1::ROLE_RETURN_OFFICER, v1::ROLE_ANALYST,
                        v1::ROLE_AUDITOR, v1::ROLE_ADMINISTRATOR, v1::ROLE_UNSPECIFIED}) {
    EXPECT_TRUE(ClassesForNewCase(Member(kOwnOrg, {role})).empty()) << v1::Role_Name(role);
  }
  Principal changing = Member(kOwnOrg, {v1::ROLE_CASEWORKER});
  changing.password_change_required = true;
  EXPECT_TRUE(ClassesForNewCase(changing).empty());
}

}  // namespace
}  // namespace haven::access
