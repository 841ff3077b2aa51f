// ProtectionServiceImpl: the gRPC face of ProtectionService; thin handlers over the directory's
// ProtectionDesk, the service plans' PlanDesk, the residence permits' PermitDesk and the
// MeasuresDesk (reflection period, compensation, protective measures, interpretation).
#ifndef HAVEN_SERVICES_PROTECTION_PROTECTION_SERVICE_H_
#define HAVEN_SERVICES_PROTECTION_PROTECTION_SERVICE_H_

#include <memory>
#include <utility>

#include "haven/v1/protection.grpc.pb.h"
#include "services/common/authenticator.h"
#include "services/common/handler.h"
#include "services/protection/measures_desk.h"
#include "services/protection/permit_desk.h"
#include "services/protection/plan_desk.h"
#include "services/protection/protection_desk.h"

namespace haven::protection {

class ProtectionServiceImpl final : public haven::v1::ProtectionService::Service {
 public:
  ProtectionServiceImpl(const services::Authenticator* auth, std::unique_ptr<ProtectionDesk> desk,
                        std::unique_ptr<PlanDesk> plans, std::unique_ptr<PermitDesk> permits,
                        std::unique_ptr<MeasuresDesk> measures)
      : auth_(auth),
        desk_(std::move(desk)),
        plans_(std::move(plans)),
        permits_(std::move(permits)),
        measures_(std::move(measures)) {}

  HAVEN_RPC(PutProviderProfile, PutProviderProfileRequest, ProviderProfile)
  HAVEN_RPC(PutProviderLocation, PutProviderLocationRequest, ProviderLocation)
  HAVEN_RPC(PutProviderService, PutProviderServiceRequest, ProviderService)
  HAVEN_RPC(GetProviderService, GetProviderServiceRequest, ServiceMatch)
  HAVEN_RPC(UpdateFreePlaces, UpdateFreePlacesRequest, ProviderService)
  HAVEN_RPC(SearchServices, SearchServicesRequest, SearchServicesResponse)
  HAVEN_RPC(GetServicePlan, GetServicePlanRequest, ServicePlan)
  HAVEN_RPC(AddPlanItem, AddPlanItemRequest, ServicePlan)
  HAVEN_RPC(UpdatePlanItem, UpdatePlanItemRequest, ServicePlan)
  HAVEN_RPC(ApproveServicePlan, ApproveServicePlanRequest, ServicePlan)
  HAVEN_RPC(ReferPlanItem, ReferPlanItemRequest, ReferPlanItemResponse)
  HAVEN_RPC(RecordServiceDelivery, RecordServiceDeliveryRequest, ServicePlan)
  HAVEN_RPC(ListOverduePlanItems, ListOverduePlanItemsRequest, ListOverduePlanItemsResponse)
  HAVEN_RPC(RecordResidencePermit, RecordResidencePermitRequest, ResidencePermit)
  HAVEN_RPC(ListResidencePermits, ListResidencePermitsRequest, ListResidencePermitsResponse)
  HAVEN_RPC(ListExpiringPermits, ListExpiringPermitsRequest, ListExpiringPermitsResponse)
  HAVEN_RPC(GetReflectionPeriod, GetReflectionPeriodRequest, ReflectionPeriod)
  HAVEN_RPC(RecordCompensationClaim, RecordCompensationClaimRequest, CompensationClaim)
  HAVEN_RPC(ListCompensationClaims, ListCompensationClaimsRequest, ListCompensationClaimsResponse)
  HAVEN_RPC(RecordProtectiveMeasure, RecordProtectiveMeasureRequest, ProtectiveMeasure)
  HAVEN_RPC(ListProtectiveMeasures, ListProtectiveMeasuresRequest, ListProtectiveMeasuresResponse)
  HAVEN_RPC(GetInterpretation, GetInterpretationRequest, Interpretation)
  HAVEN_RPC(SetLanguageNeeds, SetLanguageNeedsRequest, Interpretation)
  HAVEN_RPC(AssignInterpreter, AssignInterpreterRequest, Interpretation)
  HAVEN_RPC(RecordInterpretationSession, RecordInterpretationSessionRequest, Interpretation)
  // The HSDS document in pieces (DirectoryChunk), gathered after the caller
  // is authenticated, up to kMaxDirectoryBytes.
  grpc::Status ImportDirectory(grpc::ServerContext* context,
                               grpc::ServerReader<haven::v1::DirectoryChunk>* reader,
                               haven::v1::ImportDirectoryResponse* response) override;
  grpc::Status ExportDirectory(grpc::ServerContext* context,
                               const haven::v1::ExportDirectoryRequest* request,
                               grpc::ServerWriter<haven::v1::DirectoryChunk>* writer) override;

 private:
  const services::Authenticator* auth_;
  std::unique_ptr<ProtectionDesk> desk_;
  std::unique_ptr<PlanDesk> plans_;
  std::unique_ptr<PermitDesk> permits_;
  std::unique_ptr<MeasuresDesk> measures_;
};

}  // namespace haven::protection

#endif  // HAVEN_SERVICES_PROTECTION_PROTECTION_SERVICE_H_
