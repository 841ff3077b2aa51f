// The legal moves of a subject's IdentificationStatus, from potential to confirmed victim.
#ifndef HAVEN_SERVICES_IDENTIFICATION_STATUS_MACHINE_H_
#define HAVEN_SERVICES_IDENTIFICATION_STATUS_MACHINE_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "haven/v1/case.pb.h"
#include "haven/v1/identification.pb.h"

namespace haven::identification {

// What the status machine needs to know about a case. Pure values: no
// storage, no personal data.
struct IdentificationFacts {
  // UNSPECIFIED behaves as POTENTIAL_VICTIM.
  haven::v1::IdentificationStatus status = haven::v1::IDENTIFICATION_STATUS_UNSPECIFIED;
  bool presumed_child = false;
  bool guardian_recorded = false;
  bool best_interests_assessed = false;
  // A conclusive decision before this time needs a waiver.
  absl::Time reflection_period_end = absl::InfinitePast();
  // The decision being reconsidered, while status is RECONSIDERATION_REQUESTED.
  haven::v1::DecisionKind reconsidering = haven::v1::DECISION_KIND_UNSPECIFIED;
};

enum class Move {
  kReferPresumedVictim,
  kDecideReasonableGrounds,
  kDecideConclusiveGrounds,
  kRequestReconsideration,
};

struct MoveRequest {
  Move move;
  // Decisions only: the outcome.
  bool positive = false;
  // Conclusive decisions only: decide before the reflection period ends.
  bool waive_reflection_period = false;
};

struct MoveResult {
  haven::v1::IdentificationStatus status;
  // Set only when the result is RECONSIDERATION_REQUESTED; UNSPECIFIED after a decision.
  haven::v1::DecisionKind reconsidering;
};

// The status after `request`, made at `now`. The rules:
//  - refer: POTENTIAL_VICTIM (or UNSPECIFIED) -> PRESUMED_VICTIM.
//  - reasonable grounds: from PRESUMED_VICTIM, or from RECONSIDERATION_REQUESTED
//    of a reasonable-grounds decision; positive -> REASONABLE_GROUNDS, negative ->
//    REASONABLE_GROUNDS_NEGATIVE. A presumed child needs a guardian first.
//  - conclusive grounds: from REASONABLE_GROUNDS, or from RECONSIDERATION_REQUESTED
//    of a conclusive-grounds decision; from REASONABLE_GROUNDS refused while
//    now < reflection_period_end unless waived (a reconsideration is not held to
//    the period again: it already ran). A presumed child needs a guardian and a
//    best-interests assessment. Positive -> CONFIRMED_VICTIM, negative ->
//    CONCLUSIVE_GROUNDS_NEGATIVE.
//  - reconsideration: REASONABLE_GROUNDS_NEGATIVE or CONCLUSIVE_GROUNDS_NEGATIVE ->
//    RECONSIDERATION_REQUESTED, reconsidering the kind of decision that was negative.
//  - CONFIRMED_VICTIM is final.
// FAILED_PRECONDITION otherwise, whose message names the rule that forbids the
// move and the current status by enum name; never personal data.
absl::StatusOr<MoveResult> NextStatus(const IdentificationFacts& facts, const MoveRequest& request,
                                      absl::Time now);

// Whether the reflection and recovery period may be extended to `new_end` at
// `now`. It runs from a positive reasonable-grounds decision until a
// conclusive one (waived or not), so only while the status is
// REASONABLE_GROUNDS: FAILED_PRECONDITION naming that rule and the status
// otherwise. The new end must be later than the current end and than now:
// INVALID_ARGUMENT naming new_end otherwise.
absl::Status CheckReflectionExtension(const IdentificationFacts& facts, absl::Time new_end,
                                      absl::Time now);

}  // namespace haven::identification

#endif  // HAVEN_SERVICES_IDENTIFICATION_STATUS_MACHINE_H_
