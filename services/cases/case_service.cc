// CaseServiceImpl: the gRPC face of CaseService.
#include "services/cases/case_service.h"

#include "services/common/handler.h"

namespace haven::cases {

namespace v1 = haven::v1;
using access::RequestContext;
using services::Into;
using services::Serve;

grpc::Status CaseServiceImpl::CreateCase(grpc::ServerContext* context,
                                         const v1::CreateCaseRequest* request, v1::Case* response) {
  return Serve(*auth_, context, "CreateCase", [&](const RequestContext& ctx) {
    return Into(file_.Create(ctx, *request), response);
  });
}

grpc::Status CaseServiceImpl::GetCase(grpc::ServerContext* context,
                                      const v1::GetCaseRequest* request, v1::Case* response) {
  return Serve(*auth_, context, "GetCase", [&](const RequestContext& ctx) {
    return Into(file_.Get(ctx, *request), response);
  });
}

grpc::Status CaseServiceImpl::UpdateCase(grpc::ServerContext* context,
                                         const v1::UpdateCaseRequest* request, v1::Case* response) {
  return Serve(*auth_, context, "UpdateCase", [&](const RequestContext& ctx) {
    return Into(file_.Update(ctx, *request), response);
  });
}

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

}  // namespace haven::cases
