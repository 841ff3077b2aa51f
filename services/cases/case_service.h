// CaseServiceImpl: the gRPC face of CaseService; thin handlers over CaseFile
// and the CaseDoor's grants.
#ifndef HAVEN_SERVICES_CASES_CASE_SERVICE_H_
#define HAVEN_SERVICES_CASES_CASE_SERVICE_H_

#include "haven/v1/case.grpc.pb.h"
#include "services/cases/case_file.h"
#include "services/common/authenticator.h"
#include "services/common/handler.h"

namespace haven::cases {

class CaseServiceImpl final : public haven::v1::CaseService::Service {
 public:
  CaseServiceImpl(const services::Authenticator* auth, access::CaseDoor* door,
                  const access::Accounts* accounts, const Clock* clock)
      : auth_(auth), door_(door), file_(door, accounts, clock) {}

  // The case file, for other services to register their consent hooks.
  CaseFile& file() { return file_; }

  grpc::Status CreateCase(grpc::ServerContext* context, const haven::v1::CreateCaseRequest* request,
                          haven::v1::Case* response) override;
  grpc::Status GetCase(grpc::ServerContext* context, const haven::v1::GetCaseRequest* request,
                       haven::v1::Case* response) override;
  grpc::Status UpdateCase(grpc::ServerContext* context, const haven::v1::UpdateCaseRequest* request,
                          haven::v1::Case* response) override;
  grpc::Status EraseCase(grpc::ServerContext* context, const haven::v1::EraseCaseRequest* request,
                         haven::v1::EraseCaseResponse* response) override;
  grpc::Status CreateGrant(grpc::ServerContext* context, const haven::v1::CreateGrantRequest* request,
                           haven::v1::Grant* response) override;
  HAVEN_RPC(ApproveGrant, ApproveGrantRequest, Grant)
  grpc::Status RevokeGrant(grpc::ServerContext* context, const haven::v1::RevokeGrantRequest* request,
                           haven::v1::Grant* response) override;
  grpc::Status ListGrants(grpc::ServerContext* context, const haven::v1::ListGrantsRequest* request,
                          haven::v1::ListGrantsResponse* response) override;
  HAVEN_RPC(RequestErasure, RequestErasureRequest, Case)
  HAVEN_RPC(AssignCase, AssignCaseRequest, Case)
  HAVEN_RPC(RecordConsent, RecordConsentRequest, Consent)
  HAVEN_RPC(WithdrawConsent, WithdrawConsentRequest, Consent)
  HAVEN_RPC(ListConsents, ListConsentsRequest, ListConsentsResponse)
  HAVEN_RPC(LinkPerson, LinkPersonRequest, LinkedPerson)
  HAVEN_RPC(ListLinkedPersons, ListLinkedPersonsRequest, ListLinkedPersonsResponse)
  HAVEN_RPC(ListTimeline, ListTimelineRequest, ListTimelineResponse)
  HAVEN_RPC(SearchCases, SearchCasesRequest, SearchCasesResponse)
  HAVEN_RPC(CloseCase, CloseCaseRequest, Case)
  HAVEN_RPC(ReopenCase, ReopenCaseRequest, Case)
  HAVEN_RPC(ListAlerts, ListAlertsRequest, ListAlertsResponse)
  HAVEN_RPC(ResolveAlert, ResolveAlertRequest, Alert)

 private:
  const services::Authenticator* auth_;
  access::CaseDoor* door_;
  CaseFile file_;
};

}  // namespace haven::cases

#endif  // HAVEN_SERVICES_CASES_CASE_SERVICE_H_
