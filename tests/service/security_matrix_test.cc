// The security matrix: for every role, every case action, and every relation
// of the caller to the case (own organisation, another organisation, granted,
// grant expired), the expected allow or deny, and an audit entry for each.
// The expectations are written out here, apart from the policy code, as the
// specification the policy must meet.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/service/service_fixture.h"

namespace haven::testing {
namespace {

namespace v1 = haven::v1;

enum class Relation { kOwn, kOther, kGranted, kExpired };
enum class Action { kCreate, kRead, kUpdate, kErase, kShare, kAssign, kClose, kRequestErasure };

const char* Name(Relation r) {
  switch (r) {
    case Relation::kOwn: return "own";
    case Relation::kOther: return "other";
    case Relation::kGranted: return "granted";
    case Relation::kExpired: return "expired";
  }
  return "";
}
const char* Name(Action a) {
  switch (a) {
    case Action::kCreate: return "create";
    case Action::kRead: return "read";
    case Action::kUpdate: return "update";
    case Action::kErase: return "erase";
    case Action::kShare: return "share";
    case Action::kAssign: return "assign";
    case Action::kClose: return "close";
    case Action::kRequestErasure: return "request-erasure";
  }
  return "";
}

const v1::Role kAllRoles[] = {
    v1::ROLE_HOTLINE_OPERATOR,        v1::ROLE_CASEWORKER,    v1::ROLE_SUPERVISOR,
    v1::ROLE_DECISION_MAKER,          v1::ROLE_SERVICE_PROVIDER_STAFF,
    v1::ROLE_RETURN_OFFICER,          v1::ROLE_LAW_ENFORCEMENT_LIAISON,
    v1::ROLE_ANALYST,                 v1::ROLE_AUDITOR,       v1::ROLE_ADMINISTRATOR,
};

// The specification.
bool Expected(v1::Role role, Action action, Relation relation) {
  using R = v1::Role;
  static const std::set<R> kCaseRoles = {
      R::ROLE_HOTLINE_OPERATOR, R::ROLE_CASEWORKER,         R::ROLE_SUPERVISOR,
      R::ROLE_DECISION_MAKER,   R::ROLE_SERVICE_PROVIDER_STAFF, R::ROLE_RETURN_OFFICER,
      R::ROLE_LAW_ENFORCEMENT_LIAISON};
  static const std::map<Action, std::set<R>> kOwn = {
      {Action::kCreate, {R::ROLE_HOTLINE_OPERATOR, R::ROLE_CASEWORKER, R::ROLE_SUPERVISOR,
                         R::ROLE_DECISION_MAKER, R::ROLE_LAW_ENFORCEMENT_LIAISON}},
      {Action::kRead, kCaseRoles},
      {Action::kUpdate, {R::ROLE_HOTLINE_OPERATOR, R::ROLE_CASEWORKER, R::ROLE_SUPERVISOR,
                         R::ROLE_DECISION_MAKER, R::ROLE_SERVICE_PROVIDER_STAFF,
                         R::ROLE_RETURN_OFFICER}},
      {Action::kErase, {R::ROLE_SUPERVISOR}},
      {Action::kShare, {R::ROLE_CASEWORKER, R::ROLE_SUPERVISOR}},
      {Action::kAssign, {R::ROLE_SUPERVISOR}},
      {Action::kClose, {R::ROLE_CASEWORKER, R::ROLE_SUPERVISOR}},
      {Action::kRequestErasure, {R::ROLE_CASEWORKER, R::ROLE_SUPERVISOR}},
  };
  // Opening a case is always in one's own organisation.
  if (action == Action::kCreate) return kOwn.at(action).count(role) > 0;
  switch (relation) {
    case Relation::kOwn:
      return kOwn.at(action).count(role) > 0;
    case Relation::kGranted:  // the grant is for READ and UPDATE, all classes
      return (action == Action::kRead || action == Action::kUpdate) && kCaseRoles.count(role) > 0;
    case Relation::kOther:
    case Relation::kExpired:
      return false;
  }
  return false;
}

class SecurityMatrixTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    home_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
    away_ = NewOrganisation(v1::ORGANISATION_TYPE_SERVICE_PROVIDER);
    owner_ = NewUser(home_, v1::ROLE_SUPERVISOR);
    for (v1::Role role : kAllRoles) {
      home_users_[role] = NewUser(home_, role);
      away_users_[role] = NewUser(away_, role);
    }
  }

  // A fresh case of the home organisation, shared with the away
  // organisation when the relation asks for it.
  std::string CaseFor(Relation relation, Action action) {
    v1::Case c = CreateCase(owner_);
    if (action == Action::kErase) {  // erasure is approved only once requested
      v1::RequestErasureRequest req;
      req.set_case_id(c.id());
      req.set_reason("the subject asked for it");
      v1::Case out;
      grpc::Status s = cases_->RequestErasure(As(owner_).get(), req, &out);
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    if (relation == Relation::kGranted || relation == Relation::kExpired) {
      v1::CreateGrantRequest req;
      v1::Grant* g = req.mutable_grant();
      g->set_case_id(c.id());
      g->set_grantee_organisation_id(away_);
      g->set_purpose("referral");
      for (int k = v1::CONFIDENTIALITY_ADMINISTRATIVE; k <= v1::CONFIDENTIALITY_NARRATIVE; ++k) {
        g->add_classes(static_cast<v1::ConfidentialityClass>(k));
      }
      g->add_actions(v1::CASE_ACTION_READ);
      g->add_actions(v1::CASE_ACTION_UPDATE);
      g->mutable_expire_time()->set_seconds(absl::ToUnixSeconds(clock_.Now() + absl::Minutes(30)));
      g->set_lawful_basis(v1::LAWFUL_BASIS_LEGAL_OBLIGATION);
      g->mutable_basis_detail()->set_reference("Act 12, art. 3");
      v1::Grant grant;
      grpc::Status s = cases_->CreateGrant(As(owner_).get(), req, &grant);
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return c.id();
  }

  grpc::Status Do(const Actor& actor, Action action, const std::string& case_id) {
    switch (action) {
      case Action::kCreate: {
        v1::CreateCaseRequest req;
        *req.mutable_subject() = SampleSubject("Amina");
        // Only pseudonymous facts, so that roles allowed to open cases but
        // not to record identities are judged on the action alone.
        req.mutable_subject()->clear_given_name();
        req.mutable_subject()->clear_family_name();
        req.mutable_subject()->clear_date_of_birth();
        v1::Case out;
        return cases_->CreateCase(As(actor).get(), req, &out);
      }
      case Action::kRead: {
        v1::GetCaseRequest req;
        req.set_case_id(case_id);
        v1::Case out;
        return cases_->GetCase(As(actor).get(), req, &out);
      }
      case Action::kUpdate: {
        v1::UpdateCaseRequest req;
        req.mutable_case_()->set_id(case_id);
        req.mutable_case_()->mutable_subject()->set_sex(v1::SEX_UNKNOWN);
        req.mutable_update_mask()->add_paths("subject.sex");
        v1::Case out;
        return cases_->UpdateCase(As(actor).get(), req, &out);
      }
      case Action::kErase: {
        v1::EraseCaseRequest req;
        req.set_case_id(case_id);
        v1::EraseCaseResponse out;
        return cases_->EraseCase(As(actor).get(), req, &out);
      }
      case Action::kShare: {
        v1::CreateGrantRequest req;
        v1::Grant* g = req.mutable_grant();
        g->set_case_id(case_id);
        g->set_grantee_organisation_id(home_ == actor.organisation_id ? away_ : home_);
        g->set_purpose("referral");
        g->add_classes(v1::CONFIDENTIALITY_ADMINISTRATIVE);
        g->add_actions(v1::CASE_ACTION_READ);
        g->mutable_expire_time()->set_seconds(absl::ToUnixSeconds(clock_.Now() + absl::Hours(1)));
        g->set_lawful_basis(v1::LAWFUL_BASIS_LEGAL_OBLIGATION);
        g->mutable_basis_detail()->set_reference("Act 12, art. 3");
        v1::Grant out;
        return cases_->CreateGrant(As(actor).get(), req, &out);
      }
      case Action::kAssign: {
        v1::AssignCaseRequest req;
        req.set_case_id(case_id);
        req.add_assignee_ids(owner_.user_id);
        v1::Case out;
        return cases_->AssignCase(As(actor).get(), req, &out);
      }
      case Action::kClose: {
        v1::CloseCaseRequest req;
        req.set_case_id(case_id);
        req.set_reason(v1::CLOSURE_REASON_SERVICES_COMPLETED);
        v1::Case out;
        return cases_->CloseCase(As(actor).get(), req, &out);
      }
      case Action::kRequestErasure: {
        v1::RequestErasureRequest req;
        req.set_case_id(case_id);
        req.set_reason("no longer needed");
        v1::Case out;
        return cases_->RequestErasure(As(actor).get(), req, &out);
      }
    }
    return grpc::Status(grpc::StatusCode::INTERNAL, "unreachable");
  }

  void Check(v1::Role role, Action action, Relation relation, const std::string& case_id) {
    const Actor& actor = relation == Relation::kOwn ? home_users_[role] : away_users_[role];
    const bool allowed = Expected(role, action, relation);
    uint64_t before = AuditSequence();
    grpc::Status s = Do(actor, action, case_id);
    std::string where = absl::StrCat(v1::Role_Name(role), " ", Name(action), " ", Name(relation));
    if (allowed) {
      EXPECT_TRUE(s.ok()) << where << ": " << s.error_message();
    } else {
      grpc::StatusCode want = action == Action::kCreate ? grpc::StatusCode::PERMISSION_DENIED
                                                        : grpc::StatusCode::NOT_FOUND;
      EXPECT_EQ(s.error_code(), want) << where;
    }
    ASSERT_GT(AuditSequence(), before) << where << ": no audit entry";
    v1::AuditEntry entry = LastAudit();
    EXPECT_EQ(entry.principal_id(), actor.user_id) << where;
    EXPECT_EQ(entry.outcome(), allowed ? v1::AUDIT_OUTCOME_ALLOWED : v1::AUDIT_OUTCOME_DENIED)
        << where;
    if (action != Action::kCreate) {
      EXPECT_EQ(entry.case_id(), case_id) << where;
    }
    ++checked_;
  }

  std::string home_, away_;
  Actor owner_;
  std::map<v1::Role, Actor> home_users_, away_users_;
  int checked_ = 0;
};

TEST_F(SecurityMatrixTest, EveryRoleActionAndRelationIsDecidedAndAudited) {
  const Action kActions[] = {Action::kCreate, Action::kRead,   Action::kUpdate,
                             Action::kErase,  Action::kShare,  Action::kAssign,
                             Action::kClose,  Action::kRequestErasure};
  // Relations that need no clock movement first.
  for (Relation relation : {Relation::kOwn, Relation::kOther, Relation::kGranted}) {
    for (v1::Role role : kAllRoles) {
      for (Action action : kActions) {
        if (action == Action::kCreate && relation != Relation::kOwn) continue;
        Check(role, action, relation, CaseFor(relation, action));
      }
    }
  }
  // Expired grants: make the cases, then let every grant run out.
  std::map<std::pair<v1::Role, Action>, std::string> expired_cases;
  for (v1::Role role : kAllRoles) {
    for (Action action : kActions) {
      if (action != Action::kCreate) expired_cases[{role, action}] = CaseFor(Relation::kExpired, action);
    }
  }
  clock_.Advance(absl::Minutes(31));
  for (const auto& [key, case_id] : expired_cases) {
    Check(key.first, key.second, Relation::kExpired, case_id);
  }
  EXPECT_EQ(checked_, 10 + 10 * 7 * 4);
}

// The classes a grantee sees, by its role and the grant's lawful basis,
// when the grant offers every class: the specification, written apart from
// the policy code.
std::set<v1::ConfidentialityClass> ExpectedCeiling(v1::Role role, v1::LawfulBasis basis) {
  using C = v1::ConfidentialityClass;
  const std::set<C> administrative = {C::CONFIDENTIALITY_ADMINISTRATIVE,
                                      C::CONFIDENTIALITY_PSEUDONYMOUS};
  const std::set<C> contact = {C::CONFIDENTIALITY_ADMINISTRATIVE, C::CONFIDENTIALITY_PSEUDONYMOUS,
                               C::CONFIDENTIALITY_IDENTIFYING, C::CONFIDENTIALITY_LOCATION};
  switch (role) {
    case v1::ROLE_CASEWORKER:
    case v1::ROLE_SUPERVISOR:
    case v1::ROLE_DECISION_MAKER:
      return {C::CONFIDENTIALITY_ADMINISTRATIVE, C::CONFIDENTIALITY_PSEUDONYMOUS,
              C::CONFIDENTIALITY_IDENTIFYING,    C::CONFIDENTIALITY_LOCATION,
              C::CONFIDENTIALITY_HEALTH,         C::CONFIDENTIALITY_NARRATIVE};
    case v1::ROLE_HOTLINE_OPERATOR:
    case v1::ROLE_RETURN_OFFICER:
      return contact;
    case v1::ROLE_SERVICE_PROVIDER_STAFF:
      return {C::CONFIDENTIALITY_ADMINISTRATIVE, C::CONFIDENTIALITY_PSEUDONYMOUS,
              C::CONFIDENTIALITY_IDENTIFYING, C::CONFIDENTIALITY_HEALTH};
    case v1::ROLE_LAW_ENFORCEMENT_LIAISON:
      switch (basis) {
        case v1::LAWFUL_BASIS_CONSENT:
        case v1::LAWFUL_BASIS_JUDICIAL_ORDER: {
          std::set<C> out = contact;
          out.insert(C::CONFIDENTIALITY_NARRATIVE);
          return out;
        }
        case v1::LAWFUL_BASIS_VITAL_INTERESTS:
        case v1::LAWFUL_BASIS_CHILD_PROTECTION_EMERGENCY:
          return contact;
        case v1::LAWFUL_BASIS_LEGAL_OBLIGATION: {
          std::set<C> out = administrative;
          out.insert(C::CONFIDENTIALITY_IDENTIFYING);
          return out;
        }
        default:
          return administrative;
      }
    default:  // analysts, auditors and administrators read no case
      return {};
  }
}

TEST_F(SecurityMatrixTest, AGranteeSeesWhatItsRoleMayUnderTheGrantsBasis) {
  const v1::LawfulBasis kBases[] = {
      v1::LAWFUL_BASIS_CONSENT, v1::LAWFUL_BASIS_LEGAL_OBLIGATION, v1::LAWFUL_BASIS_JUDICIAL_ORDER,
      v1::LAWFUL_BASIS_VITAL_INTERESTS, v1::LAWFUL_BASIS_CHILD_PROTECTION_EMERGENCY};
  Actor second_supervisor = NewUser(home_, v1::ROLE_SUPERVISOR);
  // What the data read here holds: the subject (administrative,
  // pseudonymous, identifying) and the timeline's sealed notes (narrative).
  const std::set<v1::ConfidentialityClass> kPresent = {
      v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS,
      v1::CONFIDENTIALITY_IDENTIFYING, v1::CONFIDENTIALITY_NARRATIVE};
  int cells = 0;
  for (v1::LawfulBasis basis : kBases) {
    // A child, so that every basis applies.
    v1::CreateCaseRequest create;
    *create.mutable_subject() = SampleSubject("Mariam");
    create.mutable_subject()->mutable_date_of_birth()->set_year(
        static_cast<int32_t>(absl::ToCivilYear(clock_.Now(), absl::UTCTimeZone()).year()) - 15);
    v1::Case c;
    ASSERT_TRUE(cases_->CreateCase(As(owner_).get(), create, &c).ok());
    GiveConsent(owner_, c.id(), v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS);
    v1::CreateGrantRequest req;
    v1::Grant* g = req.mutable_grant();
    g->set_case_id(c.id());
    g->set_grantee_organisation_id(away_);
    g->set_purpose("referral");
    for (int k = v1::CONFIDENTIALITY_ADMINISTRATIVE; k <= v1::CONFIDENTIALITY_NARRATIVE; ++k) {
      g->add_classes(static_cast<v1::ConfidentialityClass>(k));
    }
    g->add_actions(v1::CASE_ACTION_READ);
    g->mutable_expire_time()->set_seconds(absl::ToUnixSeconds(clock_.Now() + absl::Hours(24)));
    g->set_lawful_basis(basis);
    g->mutable_basis_detail()->set_reference("2026/77");
    g->mutable_basis_detail()->set_court("Family Court");
    g->mutable_basis_detail()->set_reason("At risk tonight");
    v1::Grant grant;
    grpc::Status s = cases_->CreateGrant(As(owner_).get(), req, &grant);
    ASSERT_TRUE(s.ok()) << v1::LawfulBasis_Name(basis) << ": " << s.error_message();
    if (grant.awaiting_approval()) {
      v1::ApproveGrantRequest approve;
      approve.set_case_id(c.id());
      approve.set_grant_id(grant.id());
      s = cases_->ApproveGrant(As(second_supervisor).get(), approve, &grant);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    for (v1::Role role : kAllRoles) {
      const std::string where = absl::StrCat(v1::Role_Name(role), " under ", v1::LawfulBasis_Name(basis));
      const Actor& reader = away_users_[role];
      std::set<v1::ConfidentialityClass> expected;
      for (v1::ConfidentialityClass k : ExpectedCeiling(role, basis)) {
        if (kPresent.count(k) > 0) expected.insert(k);
      }
      v1::GetCaseRequest get;
      get.set_case_id(c.id());
      v1::Case read;
      s = cases_->GetCase(As(reader).get(), get, &read);
      if (expected.empty()) {
        EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << where;
        ++cells;
        continue;
      }
      ASSERT_TRUE(s.ok()) << where << ": " << s.error_message();
      std::set<v1::ConfidentialityClass> seen;
      auto note_seen = [&] {
        const v1::AuditEntry entry = LastAudit();
        for (int k : entry.classes()) seen.insert(static_cast<v1::ConfidentialityClass>(k));
      };
      note_seen();
      v1::ListTimelineRequest timeline;
      timeline.set_case_id(c.id());
      v1::ListTimelineResponse events;
      ASSERT_TRUE(cases_->ListTimeline(As(reader).get(), timeline, &events).ok()) << where;
      note_seen();
      EXPECT_EQ(seen, expected) << where;
      EXPECT_EQ(read.subject().given_name().empty(),
                expected.count(v1::CONFIDENTIALITY_IDENTIFYING) == 0)
          << where;
      ++cells;
    }
  }
  EXPECT_EQ(cells, 10 * 5);
}

}  // namespace
}  // namespace haven::testing
