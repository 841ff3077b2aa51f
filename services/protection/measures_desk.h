// MeasuresDesk: what protects a person around the proceedings and beyond, through the CaseDoor:
// the reflection period (read from identification, never copied), compensation claims,
// protective measures for the subject as a witness, and interpretation, with the interpreter's
// identity sealed like the subject's.
#ifndef HAVEN_SERVICES_PROTECTION_MEASURES_DESK_H_
#define HAVEN_SERVICES_PROTECTION_MEASURES_DESK_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "haven/v1/protection.pb.h"
#include "storage/access/case_door.h"
#include "storage/clock.h"

namespace haven::protection {

class MeasuresDesk {
 public:
  struct Options {
    // Days are counted in the jurisdiction's time zone.
    absl::TimeZone time_zone = absl::UTCTimeZone();
  };
  MeasuresDesk(access::CaseDoor* door, const Clock* clock, Options options)
      : door_(door), clock_(clock), options_(options) {}

  absl::StatusOr<haven::v1::ReflectionPeriod> GetReflectionPeriod(
      const access::RequestContext& ctx, const haven::v1::GetReflectionPeriodRequest& request);

  // Claims and measures: without an id, a new one; with one, the fields its
  // update_mask names. The case's own organisation records them.
  absl::StatusOr<haven::v1::CompensationClaim> RecordClaim(
      const access::RequestContext& ctx, const haven::v1::RecordCompensationClaimRequest& request);
  absl::StatusOr<haven::v1::ListCompensationClaimsResponse> ListClaims(
      const access::RequestContext& ctx, const haven::v1::ListCompensationClaimsRequest& request);
  absl::StatusOr<haven::v1::ProtectiveMeasure> RecordMeasure(
      const access::RequestContext& ctx, const haven::v1::RecordProtectiveMeasureRequest& request);
  absl::StatusOr<haven::v1::ListProtectiveMeasuresResponse> ListMeasures(
      const access::RequestContext& ctx, const haven::v1::ListProtectiveMeasuresRequest& request);

  // Interpretation: the language needs, the interpreters and their sessions.
  absl::StatusOr<haven::v1::Interpretation> GetInterpretation(
      const access::RequestContext& ctx, const haven::v1::GetInterpretationRequest& request);
  absl::StatusOr<haven::v1::Interpretation> SetLanguageNeeds(
      const access::RequestContext& ctx, const haven::v1::SetLanguageNeedsRequest& request);
  absl::StatusOr<haven::v1::Interpretation> AssignInterpreter(
      const access::RequestContext& ctx, const haven::v1::AssignInterpreterRequest& request);
  absl::StatusOr<haven::v1::Interpretation> RecordSession(
      const access::RequestContext& ctx,
      const haven::v1::RecordInterpretationSessionRequest& request);

 private:
  access::CaseDoor* door_;
  const Clock* clock_;
  Options options_;
};

}  // namespace haven::protection

#endif  // HAVEN_SERVICES_PROTECTION_MEASURES_DESK_H_
