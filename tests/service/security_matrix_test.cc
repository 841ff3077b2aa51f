// The security matrix: for every role, every case action, and every relation
// of the caller to the case (own organisation, another organisation, granted,
// grant expired), the expected allow or deny, and an audit entry for each;
// and for a law-enforcement liaison, what LiaisonService and CaseService
// give it on cases it referred, was introduced to, or neither.
// The expectations are written out here, apart from the policy code, as the
// specification the policy must meet.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "haven/v1/identification.grpc.pb.h"
#include "haven/v1/liaison.grpc.pb.h"
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

// The liaison relation: a law-enforcement liaison (a person of a
// law-enforcement organisation) against a case its agency referred, one it
// was introduced to (under a legal obligation) and one it neither referred
// nor was introduced to (another agency's), each without and with an
// approved disclosure of identifying data under a judicial order. Every
// subject is a presumed victim and none has consented. What each gets,
// through LiaisonService and through CaseService. (Its system's
// certificate account is kept to LiaisonService besides: the e2e test.)
enum class Follows { kReferred, kIntroduced, kNot };

const char* Name(Follows f) {
  switch (f) {
    case Follows::kReferred: return "referred";
    case Follows::kIntroduced: return "introduced";
    case Follows::kNot: return "not followed";
  }
  return "";
}

// The specification, written apart from the code.
struct LiaisonExpected {
  bool reads;            // LiaisonService.GetCase and RequestDisclosure by its pseudonym
  bool sees_identity;    // identifying data in GetCase
  bool yes_by_pseudonym; // AskNonPunishment by the pseudonym it holds (or another's)
  bool yes_by_name;      // AskNonPunishment by the subject's name
  bool reads_by_case_id; // CaseService.GetCase (a grant to its organisation)
};

LiaisonExpected ExpectedForLiaison(Follows follows, bool disclosed) {
  const bool follows_case = follows != Follows::kNot;
  // Only a followed case answers to a pseudonym; a running disclosure adds
  // identity and allows the non-punishment answer (by name whoever
  // followed); the disclosure is a grant, readable by case id but never
  // writable. Without one, another agency's case is exactly no case.
  return {follows_case, follows_case && disclosed, follows_case && disclosed, disclosed, disclosed};
}

class LiaisonMatrixTest : public ServiceTest {
 protected:
  void Configure(v1::ServerConfig* config) override {
    config->set_liaison_receiving_organisation_id(receiving_);
  }

  void SetUp() override {
    ServiceTest::SetUp();
    receiving_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
    authority_ = NewOrganisation(v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY);
    agency_ = NewOrganisation(v1::ORGANISATION_TYPE_LAW_ENFORCEMENT);
    other_agency_ = NewOrganisation(v1::ORGANISATION_TYPE_LAW_ENFORCEMENT);
    caseworker_ = NewUser(receiving_, v1::ROLE_CASEWORKER);
    supervisor_ = NewUser(receiving_, v1::ROLE_SUPERVISOR);
    liaison_ = NewUser(agency_, v1::ROLE_LAW_ENFORCEMENT_LIAISON);
    other_liaison_ = NewUser(other_agency_, v1::ROLE_LAW_ENFORCEMENT_LIAISON);
    ASSERT_NO_FATAL_FAILURE(RestartServer());  // now with the receiving organisation
    liaison_service_ = v1::LiaisonService::NewStub(channel_);
    identification_ = v1::IdentificationService::NewStub(channel_);
  }

  void TearDown() override {
    liaison_service_.reset();
    identification_.reset();
    ServiceTest::TearDown();
  }

  struct Subject {
    std::string case_id;
    std::string pseudonym;  // the one the liaison uses: its own, or another agency's
    std::string given_name;
  };

  // A presumed victim's case in the relation asked for, with an approved
  // disclosure to the liaison's agency when `disclosed`.
  Subject CaseFor(Follows follows, bool disclosed, const std::string& given_name) {
    Subject out;
    out.given_name = given_name;
    v1::ReferRequest refer;
    *refer.mutable_subject() = SampleSubject(given_name);
    refer.mutable_report()->set_setting(v1::SCREENING_SETTING_LABOUR_INSPECTION);
    v1::ReferResponse referred;
    const Actor& referrer = follows == Follows::kReferred ? liaison_ : other_liaison_;
    clock_.Advance(absl::Seconds(1));  // so that its alert is the newest
    grpc::Status s = liaison_service_->Refer(As(referrer).get(), refer, &referred);
    EXPECT_TRUE(s.ok()) << s.error_message();
    out.pseudonym = referred.pseudonym();
    v1::ListAlertsResponse alerts;
    EXPECT_TRUE(cases_->ListAlerts(As(supervisor_).get(), v1::ListAlertsRequest(), &alerts).ok());
    for (const v1::Alert& a : alerts.alerts()) {
      if (a.kind() == v1::ALERT_KIND_LIAISON_REFERRAL) out.case_id = a.case_ids(0);  // the newest
    }
    if (follows == Follows::kIntroduced) {
      v1::IntroduceCaseRequest introduce;
      introduce.set_case_id(out.case_id);
      introduce.set_agency_organisation_id(agency_);
      introduce.set_lawful_basis(v1::LAWFUL_BASIS_LEGAL_OBLIGATION);
      introduce.mutable_basis_detail()->set_reference("Code of Criminal Procedure, art. 160");
      v1::IntroduceCaseResponse introduced;
      s = liaison_service_->IntroduceCase(As(caseworker_).get(), introduce, &introduced);
      EXPECT_TRUE(s.ok()) << s.error_message();
      out.pseudonym = introduced.pseudonym();
    }
    v1::ReferPresumedVictimRequest presume;
    presume.set_case_id(out.case_id);
    presume.set_competent_authority_organisation_id(authority_);
    v1::Identification identification;
    s = identification_->ReferPresumedVictim(As(caseworker_).get(), presume, &identification);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (disclosed) {
      std::string grant_id;
      if (follows == Follows::kNot) {  // made by the owner: the agency holds no pseudonym
        v1::CreateGrantRequest grant;
        v1::Grant* g = grant.mutable_grant();
        g->set_case_id(out.case_id);
        g->set_grantee_organisation_id(agency_);
        g->set_purpose("investigation");
        g->add_classes(v1::CONFIDENTIALITY_IDENTIFYING);
        g->add_actions(v1::CASE_ACTION_READ);
        g->mutable_expire_time()->set_seconds(absl::ToUnixSeconds(clock_.Now() + absl::Hours(24)));
        g->set_lawful_basis(v1::LAWFUL_BASIS_JUDICIAL_ORDER);
        g->mutable_basis_detail()->set_reference("ORD-2026-7");
        g->mutable_basis_detail()->set_court("District Court");
        v1::Grant made;
        s = cases_->CreateGrant(As(caseworker_).get(), grant, &made);
        grant_id = made.id();
      } else {
        v1::Disclosure asked;
        s = liaison_service_->RequestDisclosure(As(liaison_, "investigation").get(),
                                                DisclosureRequest(out.pseudonym), &asked);
        grant_id = asked.id();
      }
      EXPECT_TRUE(s.ok()) << s.error_message();
      v1::ApproveGrantRequest approve;
      approve.set_case_id(out.case_id);
      approve.set_grant_id(grant_id);
      v1::Grant approved;
      s = cases_->ApproveGrant(As(supervisor_).get(), approve, &approved);
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return out;
  }

  static v1::RequestDisclosureRequest DisclosureRequest(const std::string& pseudonym) {
    v1::RequestDisclosureRequest req;
    req.set_pseudonym(pseudonym);
    req.add_classes(v1::CONFIDENTIALITY_IDENTIFYING);
    req.set_lawful_basis(v1::LAWFUL_BASIS_JUDICIAL_ORDER);
    req.mutable_basis_detail()->set_reference("ORD-2026-118");
    req.mutable_basis_detail()->set_court("District Court");
    return req;
  }

  bool Ask(const v1::AskNonPunishmentRequest& req, const std::string& where) {
    v1::AskNonPunishmentResponse out;
    grpc::Status s =
        liaison_service_->AskNonPunishment(As(liaison_, "investigation").get(), req, &out);
    EXPECT_TRUE(s.ok()) << where << ": " << s.error_message();
    EXPECT_EQ(LastAudit().action(), "liaison.non_punishment") << where;
    return out.presumed_or_confirmed_victim();
  }

  // Checks every action of the liaison on `subject` against the specification.
  void Check(Follows follows, bool disclosed, const Subject& subject) {
    const LiaisonExpected want = ExpectedForLiaison(follows, disclosed);
    const std::string where = absl::StrCat(Name(follows), disclosed ? ", disclosed" : "");
    auto audited = [&](const std::string& action, bool allowed) {
      const v1::AuditEntry entry = LastAudit();
      EXPECT_EQ(entry.principal_id(), liaison_.user_id) << where << " " << action;
      EXPECT_EQ(entry.action(), action) << where;
      EXPECT_EQ(entry.outcome(), allowed ? v1::AUDIT_OUTCOME_ALLOWED : v1::AUDIT_OUTCOME_DENIED)
          << where << " " << action;
    };

    v1::GetLiaisonCaseRequest get;
    get.set_pseudonym(subject.pseudonym);
    v1::LiaisonCase seen;
    grpc::Status s = liaison_service_->GetCase(As(liaison_, "investigation").get(), get, &seen);
    EXPECT_EQ(s.error_code(), want.reads ? grpc::StatusCode::OK : grpc::StatusCode::NOT_FOUND)
        << where;
    audited("liaison.get_case", want.reads);
    const v1::AuditEntry read_entry = LastAudit();
    std::set<int> classes(read_entry.classes().begin(), read_entry.classes().end());
    std::set<int> expected_classes;
    if (want.reads) {
      expected_classes = {v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS};
      if (want.sees_identity) expected_classes.insert(v1::CONFIDENTIALITY_IDENTIFYING);
    }
    EXPECT_EQ(classes, expected_classes) << where;
    EXPECT_EQ(seen.subject().given_name(), want.sees_identity ? subject.given_name : "") << where;

    v1::AskNonPunishmentRequest by_pseudonym;
    by_pseudonym.set_pseudonym(subject.pseudonym);
    EXPECT_EQ(Ask(by_pseudonym, where), want.yes_by_pseudonym) << where << ": by pseudonym";
    v1::AskNonPunishmentRequest by_name;
    by_name.mutable_name()->set_given_name(subject.given_name);
    by_name.mutable_name()->set_family_name("Okafor");
    EXPECT_EQ(Ask(by_name, where), want.yes_by_name) << where << ": by name";

    v1::GetCaseRequest by_id;
    by_id.set_case_id(subject.case_id);
    v1::Case read;
    s = cases_->GetCase(As(liaison_, "investigation").get(), by_id, &read);
    EXPECT_EQ(s.error_code(),
              want.reads_by_case_id ? grpc::StatusCode::OK : grpc::StatusCode::NOT_FOUND)
        << where << ": CaseService.GetCase";
    audited("case.read", want.reads_by_case_id);
    v1::UpdateCaseRequest update;
    update.mutable_case_()->set_id(subject.case_id);
    update.mutable_case_()->mutable_subject()->set_sex(v1::SEX_UNKNOWN);
    update.mutable_update_mask()->add_paths("subject.sex");
    v1::Case updated;
    s = cases_->UpdateCase(As(liaison_, "investigation").get(), update, &updated);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << where << ": CaseService.UpdateCase";

    v1::Disclosure asked;
    s = liaison_service_->RequestDisclosure(As(liaison_, "investigation").get(),
                                            DisclosureRequest(subject.pseudonym), &asked);
    EXPECT_EQ(s.error_code(), want.reads ? grpc::StatusCode::OK : grpc::StatusCode::NOT_FOUND)
        << where << ": RequestDisclosure";
    audited("liaison.request_disclosure", want.reads);
    ++checked_;
  }

  std::string receiving_, authority_, agency_, other_agency_;
  Actor caseworker_, supervisor_, liaison_, other_liaison_;
  std::unique_ptr<v1::LiaisonService::Stub> liaison_service_;
  std::unique_ptr<v1::IdentificationService::Stub> identification_;
  int checked_ = 0;
};

TEST_F(LiaisonMatrixTest, EveryLiaisonRelationWithAndWithoutADisclosureGetsWhatItShould) {
  const char* kNames[] = {"Amina", "Blessing", "Chioma", "Daniela", "Esther", "Fatima"};
  int next = 0;
  std::vector<std::tuple<Follows, bool, Subject>> cases;
  for (Follows follows : {Follows::kReferred, Follows::kIntroduced, Follows::kNot}) {
    for (bool disclosed : {false, true}) {
      cases.emplace_back(follows, disclosed, CaseFor(follows, disclosed, kNames[next++]));
    }
  }
  for (const auto& [follows, disclosed, subject] : cases) Check(follows, disclosed, subject);
  EXPECT_EQ(checked_, 6);
}

}  // namespace
}  // namespace haven::testing
