// The legal moves of IdentificationStatus: referral, decisions, reconsideration.
#include "services/identification/status_machine.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace haven::identification {
namespace {

namespace v1 = haven::v1;

std::string StatusName(v1::IdentificationStatus status) {
  const std::string& name = v1::IdentificationStatus_Name(status);
  return name.empty() ? absl::StrCat("IdentificationStatus(", static_cast<int>(status), ")") : name;
}

absl::string_view MoveName(Move move) {
  switch (move) {
    case Move::kReferPresumedVictim: return "ReferPresumedVictim";
    case Move::kDecideReasonableGrounds: return "DecideReasonableGrounds";
    case Move::kDecideConclusiveGrounds: return "DecideConclusiveGrounds";
    case Move::kRequestReconsideration: return "RequestReconsideration";
  }
  return "UnknownMove";
}

absl::Status Refused(Move move, absl::string_view rule, v1::IdentificationStatus status) {
  return absl::FailedPreconditionError(absl::StrCat(MoveName(move), " refused: ", rule,
                                                    " (current status ", StatusName(status), ")"));
}

MoveResult Decided(v1::IdentificationStatus status) {
  return MoveResult{status, v1::DECISION_KIND_UNSPECIFIED};
}

bool Reconsidering(const IdentificationFacts& facts, v1::DecisionKind kind) {
  return facts.status == v1::IDENTIFICATION_STATUS_RECONSIDERATION_REQUESTED &&
         facts.reconsidering == kind;
}

}  // namespace

absl::StatusOr<MoveResult> NextStatus(const IdentificationFacts& facts, const MoveRequest& request,
                                      absl::Time now) {
  const v1::IdentificationStatus status = facts.status == v1::IDENTIFICATION_STATUS_UNSPECIFIED
                                              ? v1::IDENTIFICATION_STATUS_POTENTIAL_VICTIM
                                              : facts.status;
  const Move move = request.move;
  // Messages name the status as stored, UNSPECIFIED included.
  const auto refused = [&](absl::string_view rule) { return Refused(move, rule, facts.status); };
  if (status == v1::IDENTIFICATION_STATUS_CONFIRMED_VICTIM) {
    return refused("a confirmed victim's status is final");
  }

  switch (move) {
    case Move::kReferPresumedVictim:
      if (status != v1::IDENTIFICATION_STATUS_POTENTIAL_VICTIM) {
        return refused("only a potential victim can be referred as a presumed victim");
      }
      return Decided(v1::IDENTIFICATION_STATUS_PRESUMED_VICTIM);

    case Move::kDecideReasonableGrounds:
      if (status != v1::IDENTIFICATION_STATUS_PRESUMED_VICTIM &&
          !Reconsidering(facts, v1::DECISION_KIND_REASONABLE_GROUNDS)) {
        return refused("a reasonable-grounds decision is made on a presumed victim or on "
                       "reconsideration of a reasonable-grounds decision");
      }
      if (facts.presumed_child && !facts.guardian_recorded) {
        return refused("a presumed child needs a guardian before a reasonable-grounds decision");
      }
      return Decided(request.positive ? v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS
                                      : v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS_NEGATIVE);

    case Move::kDecideConclusiveGrounds:
      if (status != v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS &&
          !Reconsidering(facts, v1::DECISION_KIND_CONCLUSIVE_GROUNDS)) {
        return refused("a conclusive-grounds decision follows a positive reasonable-grounds "
                       "decision or reconsiders a conclusive-grounds decision");
      }
      if (facts.presumed_child && (!facts.guardian_recorded || !facts.best_interests_assessed)) {
        return refused("a presumed child needs a guardian and a best-interests assessment "
                       "before a conclusive-grounds decision");
      }
      // On reconsideration the period already ran before the first conclusive decision.
      if (status == v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS &&
          now < facts.reflection_period_end && !request.waive_reflection_period) {
        return refused("the reflection and recovery period has not ended and was not waived");
      }
      return Decided(request.positive ? v1::IDENTIFICATION_STATUS_CONFIRMED_VICTIM
                                      : v1::IDENTIFICATION_STATUS_CONCLUSIVE_GROUNDS_NEGATIVE);

    case Move::kRequestReconsideration:
      if (status == v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS_NEGATIVE) {
        return MoveResult{v1::IDENTIFICATION_STATUS_RECONSIDERATION_REQUESTED,
                          v1::DECISION_KIND_REASONABLE_GROUNDS};
      }
      if (status == v1::IDENTIFICATION_STATUS_CONCLUSIVE_GROUNDS_NEGATIVE) {
        return MoveResult{v1::IDENTIFICATION_STATUS_RECONSIDERATION_REQUESTED,
                          v1::DECISION_KIND_CONCLUSIVE_GROUNDS};
      }
      return refused("only a negative decision can be reconsidered");
  }
  return refused("unknown move");
}

absl::Status CheckReflectionExtension(const IdentificationFacts& facts, absl::Time new_end,
                                      absl::Time now) {
  if (facts.status != v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ExtendReflectionPeriod refused: only a running reflection and recovery period is "
        "extended, from a positive reasonable-grounds decision until a conclusive-grounds "
        "decision, waived or not (current status ",
        StatusName(facts.status), ")"));
  }
  if (new_end <= facts.reflection_period_end || new_end <= now) {
    return absl::InvalidArgumentError(absl::StrCat(
        "new_end must be later than the period's current end, ",
        absl::FormatTime(absl::RFC3339_sec, facts.reflection_period_end, absl::UTCTimeZone()),
        ", and than now"));
  }
  return absl::OkStatus();
}

}  // namespace haven::identification
