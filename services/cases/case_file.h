// CaseFile: the domain rules of the case file (open, read, update, assign,
// consent, linked persons, timeline, search, closure, erasure), on top of
// the CaseDoor. Thread-safe.
#ifndef HAVEN_SERVICES_CASES_CASE_FILE_H_
#define HAVEN_SERVICES_CASES_CASE_FILE_H_

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "haven/v1/case.pb.h"
#include "storage/access/accounts.h"
#include "storage/access/case_door.h"

namespace haven::cases {

// INVALID_ARGUMENT naming the first field that is wrong; never echoes a value.
absl::Status ValidateSubject(const haven::v1::Subject& subject, absl::Time now);

// The case as the API shows it, from its administrative record; the
// subject and other sealed parts are added by the caller.
haven::v1::Case CaseFromRecord(const haven::v1::CaseRecord& record, absl::string_view hex_id);

class CaseFile {
 public:
  CaseFile(access::CaseDoor* door, const access::Accounts* accounts, const Clock* clock)
      : door_(door), accounts_(accounts), clock_(clock) {}

  absl::StatusOr<haven::v1::Case> Create(const access::RequestContext& ctx,
                                         const haven::v1::CreateCaseRequest& request);
  absl::StatusOr<haven::v1::Case> Get(const access::RequestContext& ctx,
                                      const haven::v1::GetCaseRequest& request);
  absl::StatusOr<haven::v1::Case> Update(const access::RequestContext& ctx,
                                         const haven::v1::UpdateCaseRequest& request);
  absl::StatusOr<haven::v1::Case> Assign(const access::RequestContext& ctx,
                                         const haven::v1::AssignCaseRequest& request);
  absl::StatusOr<haven::v1::Case> Close(const access::RequestContext& ctx,
                                        const haven::v1::CloseCaseRequest& request);
  absl::StatusOr<haven::v1::Case> Reopen(const access::RequestContext& ctx,
                                         const haven::v1::ReopenCaseRequest& request);
  absl::StatusOr<haven::v1::Case> RequestErasure(const access::RequestContext& ctx,
                                                 const haven::v1::RequestErasureRequest& request);
  // Approves the requested erasure: a supervisor other than the requester.
  absl::Status Erase(const access::RequestContext& ctx,
                     const haven::v1::EraseCaseRequest& request);

  // `within`: another door's transaction to join (the hotline's escalation).
  absl::StatusOr<haven::v1::Consent> RecordConsent(const access::RequestContext& ctx,
                                                   const haven::v1::RecordConsentRequest& request,
                                                   const access::Joint* within = nullptr);
  absl::StatusOr<haven::v1::Consent> WithdrawConsent(
      const access::RequestContext& ctx, const haven::v1::WithdrawConsentRequest& request);
  absl::StatusOr<haven::v1::ListConsentsResponse> ListConsents(
      const access::RequestContext& ctx, const haven::v1::ListConsentsRequest& request);
  absl::StatusOr<haven::v1::LinkedPerson> LinkPerson(const access::RequestContext& ctx,
                                                     const haven::v1::LinkPersonRequest& request);
  absl::StatusOr<haven::v1::ListLinkedPersonsResponse> ListLinkedPersons(
      const access::RequestContext& ctx, const haven::v1::ListLinkedPersonsRequest& request);
  absl::StatusOr<haven::v1::ListTimelineResponse> ListTimeline(
      const access::RequestContext& ctx, const haven::v1::ListTimelineRequest& request);
  absl::StatusOr<haven::v1::SearchCasesResponse> Search(
      const access::RequestContext& ctx, const haven::v1::SearchCasesRequest& request);

  // What another service does, in the same passage, when the subject
  // refuses or withdraws consent for a purpose (a return plan is suspended
  // and its officer alerted). Register before serving.
  using ConsentEnded =
      std::function<absl::Status(access::CaseScope&, haven::v1::ConsentPurpose)>;
  void OnConsentEnded(ConsentEnded hook) { consent_ended_.push_back(std::move(hook)); }

 private:
  // Runs the hooks registered for a consent refused or withdrawn.
  absl::Status ConsentHasEnded(access::CaseScope& scope, haven::v1::ConsentPurpose purpose);

  // Runs `change` on the case under `action`, appends `event` to its
  // timeline, and returns the case as the caller may see it.
  absl::StatusOr<haven::v1::Case> Change(
      const access::RequestContext& ctx, absl::string_view case_id, haven::v1::CaseAction action,
      absl::string_view audit_action,
      const std::function<absl::Status(access::CaseScope&)>& change);

  access::CaseDoor* door_;
  const access::Accounts* accounts_;
  const Clock* clock_;
  std::vector<ConsentEnded> consent_ended_;
};


}  // namespace haven::cases

#endif  // HAVEN_SERVICES_CASES_CASE_FILE_H_
