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

grpc::Status CaseServiceImpl::CreateGrant(grpc::ServerContext* context,
                                          const v1::CreateGrantRequest* request,
                                          v1::Grant* response) {
  return Serve(*auth_, context, "CreateGrant", [&](const RequestContext& ctx) {
    return Into(door_->CreateGrant(ctx, request->grant()), response);
  });
}

grpc::Status CaseServiceImpl::RevokeGrant(grpc::ServerContext* context,
                                          const v1::RevokeGrantRequest* request,
                                          v1::Grant* response) {
  return Serve(*auth_, context, "RevokeGrant", [&](const RequestContext& ctx) {
    return Into(door_->RevokeGrant(ctx, request->case_id(), request->grant_id()), response);
  });
}

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

// The handlers that hand the request to one CaseFile method.
#define HAVEN_CASE_FILE_RPC(Name, Request, Response, Method)                            \
  grpc::Status CaseServiceImpl::Name(grpc::ServerContext* context,                      \
                                     const v1::Request* request, v1::Response* response) { \
    return Serve(*auth_, context, #Name, [&](const RequestContext& ctx) {                \
      return Into(file_.Method(ctx, *request), response);                              \
    });                                                                                  \
  }
HAVEN_CASE_FILE_RPC(CreateCase, CreateCaseRequest, Case, Create)
HAVEN_CASE_FILE_RPC(GetCase, GetCaseRequest, Case, Get)
HAVEN_CASE_FILE_RPC(UpdateCase, UpdateCaseRequest, Case, Update)
HAVEN_CASE_FILE_RPC(RequestErasure, RequestErasureRequest, Case, RequestErasure)
HAVEN_CASE_FILE_RPC(AssignCase, AssignCaseRequest, Case, Assign)
HAVEN_CASE_FILE_RPC(RecordConsent, RecordConsentRequest, Consent, RecordConsent)
HAVEN_CASE_FILE_RPC(WithdrawConsent, WithdrawConsentRequest, Consent, WithdrawConsent)
HAVEN_CASE_FILE_RPC(ListConsents, ListConsentsRequest, ListConsentsResponse, ListConsents)
HAVEN_CASE_FILE_RPC(LinkPerson, LinkPersonRequest, LinkedPerson, LinkPerson)
HAVEN_CASE_FILE_RPC(ListLinkedPersons, ListLinkedPersonsRequest, ListLinkedPersonsResponse,
                    ListLinkedPersons)
HAVEN_CASE_FILE_RPC(ListTimeline, ListTimelineRequest, ListTimelineResponse, ListTimeline)
HAVEN_CASE_FILE_RPC(SearchCases, SearchCasesRequest, SearchCasesResponse, Search)
HAVEN_CASE_FILE_RPC(CloseCase, CloseCaseRequest, Case, Close)
HAVEN_CASE_FILE_RPC(ReopenCase, ReopenCaseRequest, Case, Reopen)
#undef HAVEN_CASE_FILE_RPC

grpc::Status CaseServiceImpl::ListAlerts(grpc::ServerContext* context,
                                         const v1::ListAlertsRequest* request,
                                         v1::ListAlertsResponse* response) {
  return Serve(*auth_, context, "ListAlerts", [&](const RequestContext& ctx) {
    auto page = door_->ListAlerts(ctx, request->page_size(), request->page_token());
    if (!page.ok()) return page.status();
    for (auto& a : page->first) *response->add_alerts() = std::move(a);
    response->set_next_page_token(page->second);
    return absl::OkStatus();
  });
}

}  // namespace haven::cases
