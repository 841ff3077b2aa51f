// Policy: who may do what to a case, and which confidentiality classes they
// may see. Pure functions of the principal, its relation to the case, the
// action and the lawful basis; deny by default. Every passage of the doors
// is decided by Decide() below.
#ifndef HAVEN_STORAGE_ACCESS_POLICY_H_
#define HAVEN_STORAGE_ACCESS_POLICY_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "haven/v1/common.pb.h"
#include "haven/v1/case.pb.h"
#include "haven/v1/records.pb.h"
#include "haven/v1/referral.pb.h"
#include "storage/access/principal.h"

namespace haven::access {

// A set of confidentiality classes, one bit per enum value.
class ClassSet {
 public:
  constexpr ClassSet() = default;
  static ClassSet All();
  static ClassSet Of(std::initializer_list<haven::v1::ConfidentialityClass> classes);
  void Add(haven::v1::ConfidentialityClass c) { bits_ |= Bit(c); }
  bool Contains(haven::v1::ConfidentialityClass c) const { return (bits_ & Bit(c)) != 0; }
  bool ContainsAll(ClassSet other) const { return (bits_ & other.bits_) == other.bits_; }
  bool empty() const { return bits_ == 0; }
  ClassSet operator|(ClassSet o) const { return ClassSet(bits_ | o.bits_); }
  ClassSet operator&(ClassSet o) const { return ClassSet(bits_ & o.bits_); }
  bool operator==(ClassSet o) const { return bits_ == o.bits_; }
  // In enum order.
  std::vector<haven::v1::ConfidentialityClass> ToVector() const;
  std::string DebugString() const;

 private:
  constexpr explicit ClassSet(uint32_t bits) : bits_(bits) {}
  static constexpr uint32_t Bit(haven::v1::ConfidentialityClass c) {
    return 1u << static_cast<int>(c);
  }
  uint32_t bits_ = 0;
};

// How a caller stands to a case, as the door found it (never as the caller
// claims it).
enum class Relation {
  // Works for the organisation that owns the case.
  kOwnOrganisation,
  // Named, itself or through its organisation, by a live grant.
  kGrantee,
  // Receives a referral of the case that it has not accepted, or is the
  // partner mechanism abroad on the other side of one: it may record what
  // happened to the referral (administrative facts and a reason) but reads
  // nothing of the case.
  kReferralParty,
  // A partner mechanism abroad, for the referral it sent or is sent: the
  // referral's data scope, to read what goes to it or record what it reports.
  kPartner,
  // A law-enforcement organisation's liaison that referred the case or was
  // introduced to it (it holds the case under its pseudonym): reads the
  // administrative and pseudonymous classes; opening the case for its
  // referral, writes what a first responder knows (never health).
  kLiaison,
};

// What a decision is asked about.
struct AccessQuestion {
  const Principal* principal = nullptr;
  Relation relation = Relation::kOwnOrganisation;
  haven::v1::CaseAction action = haven::v1::CASE_ACTION_UNSPECIFIED;
  // The lawful basis of the grant or referral the relation rests on.
  haven::v1::LawfulBasis basis = haven::v1::LAWFUL_BASIS_UNSPECIFIED;
  // What that grant or referral offers (kGrantee, kPartner).
  ClassSet offered;
  // The purpose the caller declared for this request, and the purpose the
  // grant was made for (kGrantee): a grant serves only its own purpose.
  absl::string_view purpose = kNoDeclaredPurpose;
  absl::string_view granted_for;
};

// The one decision: the classes the caller may see and write when it takes
// the action in that relation; empty when it may not take it at all. A
// grant gives at most what the grantee's roles may receive under its basis,
// and nothing to a caller that declares a purpose other than the grant's (a
// caller that declares none acts under the grant's purpose).
ClassSet Decide(const AccessQuestion& question);

// What a role may receive through a grant or a referral under `basis`
// (law enforcement: identifying data only under consent or a judicial
// order, never health).
ClassSet GranteeCeiling(haven::v1::Role role, haven::v1::LawfulBasis basis);

// A law-enforcement liaison: a principal of a law-enforcement organisation
// with the liaison role (its system, on the mutual-TLS listener, or a user).
bool IsLawEnforcementLiaison(const Principal& principal);

// Only caseworkers and supervisors accept a referral for their organisation.
bool MayAcceptReferrals(const Principal& principal);

// The consent needed to share a case with an organisation of `receiver`'s
// type for `purpose` (UNSPECIFIED for a grant).
haven::v1::ConsentPurpose ConsentNeededToShare(haven::v1::OrganisationType receiver,
                                               haven::v1::ReferralPurpose purpose);

// Bases under which a disclosure takes effect only once a supervisor of the
// owning organisation, other than the one who asked, approves it.
bool NeedsSecondPerson(haven::v1::LawfulBasis basis);
bool IsEmergency(haven::v1::LawfulBasis basis);

// INVALID_ARGUMENT, naming what to add, when `detail` lacks what `basis`
// requires (see BasisDetail in common.proto) or `basis` is unknown.
absl::Status CheckLawfulBasis(int basis, const haven::v1::BasisDetail& detail);

// The basis and its facts as one line for the case's sealed timeline.
std::string DescribeBasis(haven::v1::LawfulBasis basis, const haven::v1::BasisDetail& detail);

struct CaseDecision {
  bool allowed = false;
  // What the caller may see (and write) on this case when allowed.
  ClassSet classes;
  // The purpose the access is audited under: the declared one, or, for a
  // caller that declared none and reaches the case only through grants, the
  // purpose of the first grant that gave it something.
  std::string purpose;
};

// May the caller of `ctx` take `action` on the case `record`, given the
// case's grants, at `now`? Asks Decide() for each relation the principal has
// to the case (its organisation's, each live grant) and joins the answers.
// Erased cases allow nothing.
CaseDecision DecideCaseAccess(const RequestContext& ctx, haven::v1::CaseAction action,
                              const haven::v1::CaseRecord& record,
                              absl::Span<const haven::v1::GrantRecord> grants, absl::Time now);

// The classes a principal may write when opening a case in its own
// organisation; empty when it may not open cases at all.
ClassSet ClassesForNewCase(const Principal& principal);

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_POLICY_H_
