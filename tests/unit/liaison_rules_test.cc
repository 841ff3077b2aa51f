// Law-enforcement liaison rules: the per-agency pseudonym (keyed,
// deterministic, different per agency and per master key, unrelated to the
// case id) and Decide() for Relation::kLiaison.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "storage/access/liaison_door.h"
#include "storage/access/policy.h"
#include "storage/crypto.h"
#include "storage/ids.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using C = v1::ConfidentialityClass;

std::unique_ptr<crypto::KeyRing> Ring(unsigned char fill) {
  crypto::SecretKey master;
  for (size_t i = 0; i < crypto::kKeyBytes; ++i) master.data()[i] = static_cast<unsigned char>(fill + i);
  return crypto::KeyRing::FromKey(master);
}

TEST(LiaisonPseudonymTest, DeterministicPerAgencyAndKeyAndRevealsNothingOfTheCase) {
  ASSERT_TRUE(crypto::Init().ok());
  auto ring = Ring(1);
  auto same_master = Ring(1);  // a restart: the same key file
  auto other_master = Ring(2);
  const std::string raw_case = NewRawId();
  const std::string police = NewId();
  const std::string prosecutor = NewId();

  const std::string p = ring->LiaisonPseudonym(police, raw_case);
  EXPECT_EQ(p.size(), 16u);
  EXPECT_EQ(p, same_master->LiaisonPseudonym(police, raw_case));
  EXPECT_NE(p, ring->LiaisonPseudonym(prosecutor, raw_case));
  EXPECT_NE(p, other_master->LiaisonPseudonym(police, raw_case));
  EXPECT_NE(p, ring->LiaisonPseudonym(police, NewRawId()));
  // Not the case id, nor a plain hash of it, nor the name index's hash.
  EXPECT_NE(p, raw_case);
  EXPECT_NE(p, crypto::Hash(raw_case).substr(0, 16));
  EXPECT_NE(p, ring->BlindIndex(police, raw_case));
  const std::string text = PseudonymText(p);
  EXPECT_EQ(text.rfind("lp-", 0), 0u);
  EXPECT_EQ(text.find(ToHex(raw_case)), std::string::npos);

  // No two (agency, case) pairs of many collide.
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) seen.insert(ring->LiaisonPseudonym(NewId(), raw_case));
  EXPECT_EQ(seen.size(), 200u);
}

Principal Liaison(v1::OrganisationType type, v1::Role role) {
  Principal p;
  p.id = NewId();
  p.organisation_id = NewId();
  p.organisation_type = type;
  p.roles = {role};
  p.service_account = true;
  return p;
}

ClassSet DecideLiaison(const Principal& p, v1::CaseAction action) {
  AccessQuestion q;
  q.principal = &p;
  q.relation = Relation::kLiaison;
  q.action = action;
  return Decide(q);
}

TEST(LiaisonPolicyTest, ALiaisonReadsPseudonymouslyAndNeverWritesHealth) {
  const Principal police = Liaison(v1::ORGANISATION_TYPE_LAW_ENFORCEMENT, v1::ROLE_LAW_ENFORCEMENT_LIAISON);
  EXPECT_TRUE(IsLawEnforcementLiaison(police));
  EXPECT_EQ(DecideLiaison(police, v1::CASE_ACTION_READ),
            ClassSet::Of({C::CONFIDENTIALITY_ADMINISTRATIVE, C::CONFIDENTIALITY_PSEUDONYMOUS}));
  const ClassSet create = DecideLiaison(police, v1::CASE_ACTION_CREATE);
  EXPECT_TRUE(create.Contains(C::CONFIDENTIALITY_IDENTIFYING));
  EXPECT_FALSE(create.Contains(C::CONFIDENTIALITY_HEALTH));
  EXPECT_EQ(DecideLiaison(police, v1::CASE_ACTION_UPDATE),
            ClassSet::Of({C::CONFIDENTIALITY_ADMINISTRATIVE, C::CONFIDENTIALITY_NARRATIVE}));
  for (auto action : {v1::CASE_ACTION_ERASE, v1::CASE_ACTION_SHARE, v1::CASE_ACTION_ASSIGN,
                      v1::CASE_ACTION_CLOSE, v1::CASE_ACTION_REQUEST_ERASURE}) {
    EXPECT_TRUE(DecideLiaison(police, action).empty()) << v1::CaseAction_Name(action);
  }
}

TEST(LiaisonPolicyTest, NobodyElseIsALiaison) {
  // An NGO's system, even with the liaison role; law enforcement without it;
  // a partner mechanism; a session still on its one-time password.
  Principal ngo = Liaison(v1::ORGANISATION_TYPE_NGO, v1::ROLE_LAW_ENFORCEMENT_LIAISON);
  Principal caseworker = Liaison(v1::ORGANISATION_TYPE_LAW_ENFORCEMENT, v1::ROLE_CASEWORKER);
  Principal partner = Liaison(v1::ORGANISATION_TYPE_LAW_ENFORCEMENT, v1::ROLE_LAW_ENFORCEMENT_LIAISON);
  partner.partner_id = "ro";
  Principal restricted = Liaison(v1::ORGANISATION_TYPE_LAW_ENFORCEMENT, v1::ROLE_LAW_ENFORCEMENT_LIAISON);
  restricted.password_change_required = true;
  for (const Principal* p : {&ngo, &caseworker, &partner, &restricted}) {
    EXPECT_FALSE(IsLawEnforcementLiaison(*p));
    for (auto action : {v1::CASE_ACTION_READ, v1::CASE_ACTION_CREATE, v1::CASE_ACTION_UPDATE}) {
      EXPECT_TRUE(DecideLiaison(*p, action).empty());
    }
  }
}

}  // namespace
}  // namespace haven::access
