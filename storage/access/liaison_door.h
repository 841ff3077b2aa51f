// LiaisonDoor: law-enforcement systems' way to the cases they refer or are
// introduced to, under a pseudonym of their own per case; their disclosure
// requests (grants awaiting a supervisor), their append-only event logs and
// the non-punishment question. Decided by Decide() (Relation::kLiaison and
// the case's grants), audited in the same transaction, a denial answered
// as a missing case. Thread-safe.
#ifndef HAVEN_STORAGE_ACCESS_LIAISON_DOOR_H_
#define HAVEN_STORAGE_ACCESS_LIAISON_DOOR_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "haven/v1/liaison.pb.h"
#include "storage/access/case_door.h"
#include "storage/access/principal.h"
#include "storage/clock.h"
#include "storage/crypto.h"

namespace haven::storage {
class Store;
}

namespace haven::access {

// The text form of a pseudonym: "lp-" and 32 lower-case hex characters.
std::string PseudonymText(absl::string_view raw_pseudonym);

// Wakes watchers of the event logs: a generation that moves on, and wakes
// every waiter, each time a commit that wrote an event is visible. A waiter
// that took the generation before reading the log misses nothing: an event
// committed after that read moves it on. Thread-safe.
class EventBell {
 public:
  uint64_t generation() const;
  void Ring();
  // Waits until the generation is no longer `seen`, or `timeout` passes;
  // returns the generation then.
  uint64_t WaitPast(uint64_t seen, absl::Duration timeout) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable rung_;
  uint64_t generation_ = 0;  // guarded by mu_
};

class LiaisonDoor {
 public:
  // Rings events_bell() after every commit that wrote to an event log,
  // whichever door's passage wrote it.
  LiaisonDoor(storage::Store* store, const crypto::KeyRing* keys, const Clock* clock,
              CaseDoor* cases);

  // Rung when events are committed; watchers wait on it.
  EventBell& events_bell() { return bell_; }

  struct Referred {
    std::string pseudonym;  // text form
    absl::Time time;
  };
  // Opens a case owned by `receiving_organisation_id` for a person the
  // calling law-enforcement liaison met; `work` writes what it reports
  // (Decide: Relation::kLiaison, CREATE: never health). The agency then
  // follows the case under its pseudonym; its log gets RECEIVED, the case's
  // timeline the referral, the receiving organisation's supervisors an
  // alert. PERMISSION_DENIED for anyone but a law-enforcement liaison.
  absl::StatusOr<Referred> Refer(const RequestContext& ctx,
                                 absl::string_view receiving_organisation_id,
                                 const CaseDoor::Work& work);

  // Runs `work` on the case the caller's agency holds as `pseudonym`, seeing
  // the administrative and pseudonymous classes and what its running,
  // approved grants add (the audit entry names their bases). NOT_FOUND,
  // audited, for a pseudonym the agency does not hold, an erased case or a
  // caller who is not a law-enforcement liaison. With CASE_ACTION_UPDATE the
  // case is locked first and the scope writes what Decide gives a liaison's
  // own request (administrative and narrative) and reads nothing.
  absl::Status WithFollowedCase(const RequestContext& ctx, absl::string_view pseudonym,
                                haven::v1::CaseAction action, absl::string_view audit_action,
                                const CaseDoor::Work& work);

  // The calling agency's disclosure requests on the scope's case.
  std::vector<haven::v1::Disclosure> Disclosures(CaseScope& scope, absl::string_view pseudonym);

  // Asks for `request.classes` of the case under consent (to share with law
  // enforcement, given and not withdrawn) or a judicial order (reference
  // and court): a grant to the caller's organisation that awaits a
  // supervisor of the owning organisation (alerted), expiring at most
  // `longest` from now. The basis's facts go sealed on the timeline; the
  // audit entry names the basis.
  absl::StatusOr<haven::v1::Disclosure> RequestDisclosure(
      const RequestContext& ctx, const haven::v1::RequestDisclosureRequest& request,
      absl::Duration longest);

  // The owning organisation (a caller who may share the case) makes case
  // `case_id` known to law-enforcement organisation `agency_id` under a
  // lawful basis (consent to share with law enforcement, a legal obligation
  // or a judicial order); the agency's log gets INTRODUCED. Returns the
  // agency's pseudonym.
  absl::StatusOr<std::string> Introduce(const RequestContext& ctx, absl::string_view case_id,
                                        absl::string_view agency_id, haven::v1::LawfulBasis basis,
                                        const haven::v1::BasisDetail& detail);

  // The calling agency's events after sequence `after`, in order, at most
  // `limit`; a batch that holds any is audited. OUT_OF_RANGE when events
  // after `after` were removed by the retention purge (the message names
  // the position to resume from).
  absl::StatusOr<std::vector<haven::v1::LiaisonEvent>> ReadEvents(const RequestContext& ctx,
                                                                   uint64_t after, int limit);

  // Tells each agency's log, once, of its approved disclosures that ran out
  // by now (DISCLOSURE_EXPIRED, at the expiry's time), on the cases whose
  // WATCH_KIND_DISCLOSURE_EXPIRY fell due, and moves each watch on to the
  // next expiry. A system job (havend's due-time job), audited per case.
  // Returns how many events were written.
  absl::StatusOr<int> RecordDisclosureExpiries();

  // Removes every agency's events older than `retention`, oldest first, at
  // most a thousand to a transaction (audited per batch). What a log keeps
  // is always its newest part: ReadEvents answers OUT_OF_RANGE to a
  // position before it. Returns how many were removed.
  absl::StatusOr<int> PurgeEvents(absl::Duration retention);

  // Whether a person is a presumed or confirmed victim, answered true only
  // where the subject's consent to share with law enforcement, or a running
  // approved grant to the caller's organisation, allows it. The person is
  // the case held as `pseudonym` (when not empty) or else every case whose
  // subject's names match all of `name_keys` (names.h). Every ask and every
  // case looked at is audited. At most kMaxNonPunishmentCandidates cases
  // are looked at; each costs the same reads and cryptography whatever the
  // answer, and fewer than kNonPunishmentSlots are padded with a decoy that
  // costs as much, so that a name no case holds takes the same work as one
  // that some case holds (docs/liaison.md says what remains).
  absl::StatusOr<bool> AskNonPunishment(const RequestContext& ctx, absl::string_view pseudonym,
                                        const std::vector<std::string>& name_keys);
  static constexpr int kMaxNonPunishmentCandidates = 64;
  static constexpr size_t kNonPunishmentSlots = 4;

 private:
  // Records that `agency_id` follows the case (for its own referral when
  // `basis` is UNSPECIFIED, else introduced under `basis`); a referring
  // agency's following is never replaced by an introduction (`introduced`,
  // when given, says whether this one was recorded). Returns the agency's
  // raw pseudonym.
  absl::StatusOr<std::string> Follow(storage::Txn& txn, absl::string_view agency_id,
                                     absl::string_view raw_case_id,
                                     haven::v1::LawfulBasis basis = haven::v1::LAWFUL_BASIS_UNSPECIFIED,
                                     bool* introduced = nullptr);
  void AuditDenial(const RequestContext& ctx, absl::string_view audit_action);

  // Stand-in data for an id no case has: a data key wrapped under the master
  // key and a consent sealed with it. Reading it costs what reading a
  // non-punishment candidate costs.
  struct Decoy {
    std::string raw_id;
    crypto::WrappedDataKey wrapped_key;
    crypto::SecretKey consent_key_material;  // the data key
    std::string consent_key;                 // the sealed consent's record key
    std::string sealed_consent;
  };
  static Decoy MakeDecoy(const crypto::KeyRing& keys);
  // The cryptography of a consent on file: the decoy's consent opened.
  absl::Status OpenDecoyConsent() const;
  // A non-punishment candidate's reads, on the decoy: its record, grants,
  // wrapped key (unwrapped) and consent (opened).
  absl::Status ReadLikeACandidate(storage::Txn& txn) const;

  storage::Store* store_;
  const crypto::KeyRing* keys_;
  const Clock* clock_;
  CaseDoor* cases_;
  const Decoy decoy_;
  EventBell bell_;
};

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_LIAISON_DOOR_H_
