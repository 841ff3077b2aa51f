// Return rules: how a return plan moves, the gate before approval, and when follow-ups fall due.
#ifndef HAVEN_SERVICES_REPATRIATION_RETURN_RULES_H_
#define HAVEN_SERVICES_REPATRIATION_RETURN_RULES_H_

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "haven/v1/referral.pb.h"
#include "haven/v1/repatriation.pb.h"

namespace haven::repatriation {

// Not closed or cancelled.
bool IsOpen(haven::v1::ReturnStatus status);

// OK when a plan may move from `from` to `to`; FAILED_PRECONDITION naming
// the move and the rule otherwise. The moves: forward one step along
// proposed, assessed, approved, documents ready, scheduled, travelled,
// received, reintegrating, closed (a received return may close without
// follow-ups); to suspended or cancelled from any open state; from
// suspended back to any state before closure (the desk resumes where the
// plan was).
absl::Status CheckReturnMove(haven::v1::ReturnStatus from, haven::v1::ReturnStatus to);

// The plan's status as it stands: suspended while the consent to return is
// refused or withdrawn (resuming where it was when it is given again);
// received once a travelled plan's reception referral is completed by the
// partner abroad.
haven::v1::ReturnStatus StatusAsItStands(haven::v1::ReturnStatus stored,
                                         haven::v1::ReturnConsentState consent,
                                         const std::optional<haven::v1::Referral>& reception);

// What approval depends on besides the risks, as the case holds it now.
struct ApprovalFacts {
  bool consent_given = false;
  // The subject is, or is presumed, a child.
  bool child = false;
  bool best_interests_assessed = false;
  bool return_in_best_interests = false;
  bool guardian_recorded = false;
};

// OK when a return with these risks may be approved: every risk scored;
// none high unless `override_reasons` (a supervisor's) are given; consent
// given; for a child, a best-interests determination that return is in
// their interests, a family assessment, a guardian and their agreement.
// FAILED_PRECONDITION naming what is missing otherwise.
absl::Status CheckApproval(const haven::v1::RiskAssessment& risks, const ApprovalFacts& facts,
                           bool override_given);

// Whether any assessed risk is high.
bool HasHighRisk(const haven::v1::RiskAssessment& risks);

// INVALID_ARGUMENT naming the field when an assessment is not well formed:
// every level known and given, texts within bounds.
absl::Status CheckRiskAssessment(const haven::v1::RiskAssessment& risks);

// INVALID_ARGUMENT unless `code` is an ISO 3166-1 alpha-2 code in upper case.
absl::Status CheckCountryCode(absl::string_view code, absl::string_view field);

// INVALID_ARGUMENT naming the first document that is not well formed.
absl::Status CheckDocuments(const google::protobuf::RepeatedPtrField<haven::v1::TravelDocument>& documents);
// At least one document, and every one issued.
bool DocumentsReady(const google::protobuf::RepeatedPtrField<haven::v1::TravelDocument>& documents);

// The follow-up months after arrival: 1, 3, 6 and 12.
const std::vector<int>& FollowUpMonths();
// The day a follow-up `months` after `arrival` is due: the same day of the
// month, or the month's last day when it is shorter (31 January + 1 month
// is 28 February, or 29 in a leap year).
absl::CivilDay FollowUpDue(absl::CivilDay arrival, int months);

}  // namespace haven::repatriation

#endif  // HAVEN_SERVICES_REPATRIATION_RETURN_RULES_H_
