// CaseServiceImpl: the gRPC face of CaseService.
#include "services/cases/case_service.h"

#include "services/common/handler.h"

namespace haven::cases {

namespace v1 = haven::v1;
using access::RequestContext;
using services::Into;
using services::Serve;

grpc::Status CaseServiceImpl::EraseCase(grpc::ServerContext* context,
                                        const v1::EraseCaseRequest* request,
                                        v1::EraseCaseResponse*) {
  return Serve(*auth_, context, "EraseCase",
               [&](const RequestContext& ctx) { return file_.Erase(ctx, *request); });
}

HAVEN_RPC_HANDLER(CaseServiceImpl, CreateGrant, CreateGrantRequest, Grant,
                  door_->CreateGrant(ctx, request->grant()))

HAVEN_RPC_HANDLER(CaseServiceImpl, ApproveGrant, ApproveGrantRequest, Grant,
                  door_->ApproveGrant(ctx, request->case_id(), request->grant_id()))

HAVEN_RPC_HANDLER(CaseServiceImpl, RevokeGrant, RevokeGrantRequest, Grant,
                  door_->RevokeGrant(ctx, request->case_id(), request->grant_id()))

grpc::Status CaseServiceImpl::ListGrants(grpc::ServerContext* context,
                                         const v1::ListGrantsRequest* request,
                                         v1::ListGrantsResponse* response) {
  return Serve(*auth_, context, "ListGrants", [&](const RequestContext& ctx) {
    absl::StatusOr<std::vector<v1::Grant>> grants = door_->ListGrants(ctx, request->case_id());
    if (!grants.ok()) return grants.status();
    for (v1::Grant& g : *grants) *response->add_grants() = std::move(g);
    return absl::OkStatus();
  });
}

HAVEN_RPC_HANDLER(CaseServiceImpl, CreateCase, CreateCaseRequest, Case, file_.Create(ctx, *request))
HAVEN_RPC_HANDLER(CaseServiceImpl, GetCase, GetCaseRequest, Case, file_.Get(ctx, *request))
HAVEN_RPC_HANDLER(CaseServiceImpl, UpdateCase, UpdateCaseRequest, Case, file_.Update(ctx, *request))
HAVEN_RPC_HANDLER(CaseServiceImpl, RequestErasure, RequestErasureRequest, Case, file_.RequestErasure(ctx, *request))
HAVEN_RPC_HANDLER(CaseServiceImpl, AssignCase, AssignCaseRequest, Case, file_.Assign(ctx, *request))
HAVEN_RPC_HANDLER(CaseServiceImpl, RecordConsent, RecordConsentRequest, Consent, file_.RecordConsent(ctx, *request))
HAVEN_RPC_HANDLER(CaseServiceImpl, WithdrawConsent, WithdrawConsentRequest, Consent, file_.WithdrawConsent(ctx, *request))
HAVEN_RPC_HANDLER(CaseServiceImpl, ListConsents, ListConsentsRequest, ListConsentsResponse, file_.ListConsents(ctx, *request))
HAVEN_RPC_HANDLER(CaseServiceImpl, LinkPerson, LinkPersonRequest, LinkedPerson, file_.LinkPerson(ctx, *request))
HAVEN_RPC_HANDLER(CaseServiceImpl, ListLinkedPersons, ListLinkedPersonsRequest, ListLinkedPersonsResponse, file_.ListLinkedPersons(ctx, *request))
HAVEN_RPC_HANDLER(CaseServiceImpl, ListTimeline, ListTimelineRequest, ListTimelineResponse, file_.ListTimeline(ctx, *request))
HAVEN_RPC_HANDLER(CaseServiceImpl, SearchCases, SearchCasesRequest, SearchCasesResponse, file_.Search(ctx, *request))
HAVEN_RPC_HANDLER(CaseServiceImpl, CloseCase, CloseCaseRequest, Case, file_.Close(ctx, *request))
HAVEN_RPC_HANDLER(CaseServiceImpl, ReopenCase, ReopenCaseRequest, Case, file_.Reopen(ctx, *request))
HAVEN_RPC_HANDLER(CaseServiceImpl, ResolveAlert, ResolveAlertRequest, Alert,
                  door_->ResolveAlert(ctx, request->alert_id(), request->resolution()))

grpc::Status CaseServiceImpl::ListAlerts(grpc::ServerContext* context,
                                         const v1::ListAlertsRequest* request,
                                         v1::ListAlertsResponse* response) {
  return Serve(*auth_, context, "ListAlerts", [&](const RequestContext& ctx) {
    auto page = door_->ListAlerts(ctx, request->page_size(), request->page_token(),
                                  request->resolved());
    if (!page.ok()) return page.status();
    for (auto& a : page->first) *response->add_alerts() = std::move(a);
    response->set_next_page_token(page->second);
    return absl::OkStatus();
  });
}

}  // namespace haven::cases
