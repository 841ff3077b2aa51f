// IdentificationDesk: the identification rules applied to a case through the
// CaseDoor: screenings, referral to the competent authority, decisions and
// their deadlines, children and non-punishment. Thread-safe.
#ifndef HAVEN_SERVICES_IDENTIFICATION_IDENTIFICATION_DESK_H_
#define HAVEN_SERVICES_IDENTIFICATION_IDENTIFICATION_DESK_H_

#include <map>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "haven/v1/identification.pb.h"
#include "services/identification/calendar.h"
#include "storage/access/accounts.h"
#include "storage/access/case_door.h"
#include "storage/access/indicator_shelf.h"

namespace haven::identification {

class IdentificationDesk {
 public:
  // Puts every shipped indicator set version the shelf does not hold yet on
  // it, so that the versions screenings cite stay readable, and loads every
  // version it holds.
  static absl::StatusOr<std::unique_ptr<IdentificationDesk>> Create(
      access::IndicatorShelf* shelf, access::CaseDoor* door, const access::Accounts* accounts,
      WorkingCalendar calendar, const Clock* clock);

  absl::StatusOr<haven::v1::ListIndicatorSetsResponse> ListIndicatorSets(
      const access::RequestContext& ctx) const;
  absl::StatusOr<haven::v1::IndicatorSet> GetIndicatorSet(
      const access::RequestContext& ctx, const haven::v1::GetIndicatorSetRequest& request) const;

  absl::StatusOr<haven::v1::Screening> CreateScreening(
      const access::RequestContext& ctx, const haven::v1::CreateScreeningRequest& request);
  absl::StatusOr<haven::v1::ListScreeningsResponse> ListScreenings(
      const access::RequestContext& ctx, const haven::v1::ListScreeningsRequest& request);
  absl::StatusOr<haven::v1::Identification> Get(
      const access::RequestContext& ctx, const haven::v1::GetIdentificationRequest& request);
  absl::StatusOr<haven::v1::Identification> ReferPresumedVictim(
      const access::RequestContext& ctx, const haven::v1::ReferPresumedVictimRequest& request);
  absl::StatusOr<haven::v1::Identification> DecideReasonableGrounds(
      const access::RequestContext& ctx, const haven::v1::DecideRequest& request);
  absl::StatusOr<haven::v1::Identification> DecideConclusiveGrounds(
      const access::RequestContext& ctx, const haven::v1::DecideRequest& request);
  // Moves the end of a running reflection and recovery period later, with
  // reasons, recorded beside the end it replaces; the alert before the end
  // moves with it. Decision makers of the competent authority only.
  absl::StatusOr<haven::v1::Identification> ExtendReflectionPeriod(
      const access::RequestContext& ctx, const haven::v1::ExtendReflectionPeriodRequest& request);
  absl::StatusOr<haven::v1::Identification> RequestReconsideration(
      const access::RequestContext& ctx, const haven::v1::RequestReconsiderationRequest& request);
  absl::StatusOr<haven::v1::Identification> RecordGuardian(
      const access::RequestContext& ctx, const haven::v1::RecordGuardianRequest& request);
  absl::StatusOr<haven::v1::Identification> RecordBestInterestsAssessment(
      const access::RequestContext& ctx,
      const haven::v1::RecordBestInterestsAssessmentRequest& request);
  absl::StatusOr<haven::v1::Identification> RecordProceeding(
      const access::RequestContext& ctx, const haven::v1::RecordProceedingRequest& request);
  absl::StatusOr<haven::v1::ListProceedingsResponse> ListProceedings(
      const access::RequestContext& ctx, const haven::v1::ListProceedingsRequest& request);
  absl::StatusOr<haven::v1::ListDueDecisionsResponse> ListDueDecisions(
      const access::RequestContext& ctx, const haven::v1::ListDueDecisionsRequest& request);
  // The exploitation profile (exploitation_profile.cc): replaced whole by
  // those who may update the case; read by those who may read it.
  absl::StatusOr<haven::v1::ExploitationProfile> SetExploitationProfile(
      const access::RequestContext& ctx, const haven::v1::SetExploitationProfileRequest& request);
  absl::StatusOr<haven::v1::ExploitationProfile> GetExploitationProfile(
      const access::RequestContext& ctx, const haven::v1::GetExploitationProfileRequest& request);

 private:
  using Step = std::function<absl::Status(access::CaseScope&, haven::v1::Identification&)>;
  IdentificationDesk(access::CaseDoor* door, const access::Accounts* accounts,
                     WorkingCalendar calendar, const Clock* clock)
      : door_(door), accounts_(accounts), calendar_(std::move(calendar)), clock_(clock) {}
  // Loads the case's identification record, runs `step`, saves it and
  // mirrors its status and deadline on the case; returns it as the caller
  // may see it.
  absl::StatusOr<haven::v1::Identification> Change(const access::RequestContext& ctx,
                                                   absl::string_view case_id,
                                                   absl::string_view audit_action,
                                                   const Step& step);
  absl::StatusOr<haven::v1::Identification> Decide(const access::RequestContext& ctx,
                                                   const haven::v1::DecideRequest& request,
                                                   haven::v1::DecisionKind kind);
  absl::StatusOr<haven::v1::IndicatorSet> FindSet(absl::string_view id, uint32_t version) const;

  access::CaseDoor* door_;
  const access::Accounts* accounts_;
  WorkingCalendar calendar_;
  const Clock* clock_;
  // Every stored version, by (id, version); loaded once at creation.
  std::map<std::pair<std::string, uint32_t>, haven::v1::IndicatorSet> sets_;
};

}  // namespace haven::identification

#endif  // HAVEN_SERVICES_IDENTIFICATION_IDENTIFICATION_DESK_H_
