// ProtectionServiceImpl: each handler authenticates and hands the request to the desk.
#include "services/protection/protection_service.h"

#include <algorithm>
#include <string>

namespace haven::protection {

HAVEN_RPC_HANDLER(ProtectionServiceImpl, PutProviderProfile, PutProviderProfileRequest,
                  ProviderProfile, desk_->PutProfile(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, PutProviderLocation, PutProviderLocationRequest,
                  ProviderLocation, desk_->PutLocation(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, PutProviderService, PutProviderServiceRequest,
                  ProviderService, desk_->PutService(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, GetProviderService, GetProviderServiceRequest,
                  ServiceMatch, desk_->GetService(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, UpdateFreePlaces, UpdateFreePlacesRequest,
                  ProviderService, desk_->UpdateFreePlaces(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, SearchServices, SearchServicesRequest,
                  SearchServicesResponse, desk_->Search(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, GetServicePlan, GetServicePlanRequest, ServicePlan,
                  plans_->Get(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, AddPlanItem, AddPlanItemRequest, ServicePlan,
                  plans_->AddItem(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, UpdatePlanItem, UpdatePlanItemRequest, ServicePlan,
                  plans_->UpdateItem(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, ApproveServicePlan, ApproveServicePlanRequest,
                  ServicePlan, plans_->Approve(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, ReferPlanItem, ReferPlanItemRequest,
                  ReferPlanItemResponse, plans_->Refer(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, RecordServiceDelivery, RecordServiceDeliveryRequest,
                  ServicePlan, plans_->RecordDelivery(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, ListOverduePlanItems, ListOverduePlanItemsRequest,
                  ListOverduePlanItemsResponse, plans_->ListOverdue(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, RecordResidencePermit, RecordResidencePermitRequest,
                  ResidencePermit, permits_->Record(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, ListResidencePermits, ListResidencePermitsRequest,
                  ListResidencePermitsResponse, permits_->List(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, ListExpiringPermits, ListExpiringPermitsRequest,
                  ListExpiringPermitsResponse, permits_->ListExpiring(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, GetReflectionPeriod, GetReflectionPeriodRequest,
                  ReflectionPeriod, measures_->GetReflectionPeriod(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, RecordCompensationClaim, RecordCompensationClaimRequest,
                  CompensationClaim, measures_->RecordClaim(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, ListCompensationClaims, ListCompensationClaimsRequest,
                  ListCompensationClaimsResponse, measures_->ListClaims(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, RecordProtectiveMeasure, RecordProtectiveMeasureRequest,
                  ProtectiveMeasure, measures_->RecordMeasure(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, ListProtectiveMeasures, ListProtectiveMeasuresRequest,
                  ListProtectiveMeasuresResponse, measures_->ListMeasures(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, GetInterpretation, GetInterpretationRequest,
                  Interpretation, measures_->GetInterpretation(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, SetLanguageNeeds, SetLanguageNeedsRequest,
                  Interpretation, measures_->SetLanguageNeeds(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, AssignInterpreter, AssignInterpreterRequest,
                  Interpretation, measures_->AssignInterpreter(ctx, *request))
HAVEN_RPC_HANDLER(ProtectionServiceImpl, RecordInterpretationSession,
                  RecordInterpretationSessionRequest, Interpretation,
                  measures_->RecordSession(ctx, *request))

namespace {

constexpr size_t kMaxDirectoryBytes = 64 << 20;
constexpr size_t kChunkBytes = 512 << 10;

}  // namespace

grpc::Status ProtectionServiceImpl::ImportDirectory(
    grpc::ServerContext* context, grpc::ServerReader<haven::v1::DirectoryChunk>* reader,
    haven::v1::ImportDirectoryResponse* response) {
  return services::Serve(*auth_, context, "ImportDirectory",
                         [&](const access::RequestContext& ctx) -> absl::Status {
                           std::string json;
                           haven::v1::DirectoryChunk chunk;
                           while (reader->Read(&chunk)) {
                             if (json.size() + chunk.hsds_json().size() > kMaxDirectoryBytes) {
                               return absl::InvalidArgumentError(
                                   "the HSDS document is over 64 MiB; split it by provider");
                             }
                             json += chunk.hsds_json();
                           }
                           return services::Into(desk_->Import(ctx, json), response);
                         });
}

grpc::Status ProtectionServiceImpl::ExportDirectory(
    grpc::ServerContext* context, const haven::v1::ExportDirectoryRequest*,
    grpc::ServerWriter<haven::v1::DirectoryChunk>* writer) {
  return services::Serve(*auth_, context, "ExportDirectory",
                         [&](const access::RequestContext& ctx) -> absl::Status {
                           absl::StatusOr<std::string> json = desk_->Export(ctx);
                           if (!json.ok()) return json.status();
                           absl::string_view rest = *json;
                           do {
                             haven::v1::DirectoryChunk chunk;
                             chunk.set_hsds_json(std::string(rest.substr(0, kChunkBytes)));
                             rest.remove_prefix(std::min(rest.size(), kChunkBytes));
                             if (!writer->Write(chunk)) {
                               return absl::CancelledError("the caller left before the end");
                             }
                           } while (!rest.empty());
                           return absl::OkStatus();
                         });
}

}  // namespace haven::protection
