// IdentificationServiceImpl: the gRPC face of IdentificationService.
#include "services/identification/identification_service.h"

#include "services/common/handler.h"

namespace haven::identification {

namespace v1 = haven::v1;
using access::RequestContext;
using services::Into;
using services::Serve;

HAVEN_RPC_HANDLER(IdentificationServiceImpl, GetIndicatorSet, GetIndicatorSetRequest, IndicatorSet, desk_->GetIndicatorSet(ctx, *request))
HAVEN_RPC_HANDLER(IdentificationServiceImpl, CreateScreening, CreateScreeningRequest, Screening, desk_->CreateScreening(ctx, *request))
HAVEN_RPC_HANDLER(IdentificationServiceImpl, ListScreenings, ListScreeningsRequest, ListScreeningsResponse, desk_->ListScreenings(ctx, *request))
HAVEN_RPC_HANDLER(IdentificationServiceImpl, GetIdentification, GetIdentificationRequest, Identification, desk_->Get(ctx, *request))
HAVEN_RPC_HANDLER(IdentificationServiceImpl, ReferPresumedVictim, ReferPresumedVictimRequest, Identification, desk_->ReferPresumedVictim(ctx, *request))
HAVEN_RPC_HANDLER(IdentificationServiceImpl, DecideReasonableGrounds, DecideRequest, Identification, desk_->DecideReasonableGrounds(ctx, *request))
HAVEN_RPC_HANDLER(IdentificationServiceImpl, DecideConclusiveGrounds, DecideRequest, Identification, desk_->DecideConclusiveGrounds(ctx, *request))
HAVEN_RPC_HANDLER(IdentificationServiceImpl, ExtendReflectionPeriod, ExtendReflectionPeriodRequest, Identification, desk_->ExtendReflectionPeriod(ctx, *request))
HAVEN_RPC_HANDLER(IdentificationServiceImpl, RequestReconsideration, RequestReconsiderationRequest, Identification, desk_->RequestReconsideration(ctx, *request))
HAVEN_RPC_HANDLER(IdentificationServiceImpl, RecordGuardian, RecordGuardianRequest, Identification, desk_->RecordGuardian(ctx, *request))
HAVEN_RPC_HANDLER(IdentificationServiceImpl, RecordBestInterestsAssessment, RecordBestInterestsAssessmentRequest, Identification, desk_->RecordBestInterestsAssessment(ctx, *request))
HAVEN_RPC_HANDLER(IdentificationServiceImpl, RecordProceeding, RecordProceedingRequest, Identification, desk_->RecordProceeding(ctx, *request))
HAVEN_RPC_HANDLER(IdentificationServiceImpl, ListProceedings, ListProceedingsRequest, ListProceedingsResponse, desk_->ListProceedings(ctx, *request))
HAVEN_RPC_HANDLER(IdentificationServiceImpl, ListDueDecisions, ListDueDecisionsRequest, ListDueDecisionsResponse, desk_->ListDueDecisions(ctx, *request))
HAVEN_RPC_HANDLER(IdentificationServiceImpl, SetExploitationProfile, SetExploitationProfileRequest, ExploitationProfile, desk_->SetExploitationProfile(ctx, *request))
HAVEN_RPC_HANDLER(IdentificationServiceImpl, GetExploitationProfile, GetExploitationProfileRequest, ExploitationProfile, desk_->GetExploitationProfile(ctx, *request))

grpc::Status IdentificationServiceImpl::ListIndicatorSets(grpc::ServerContext* context,
                                                          const v1::ListIndicatorSetsRequest*,
                                                          v1::ListIndicatorSetsResponse* response) {
  return Serve(*auth_, context, "ListIndicatorSets", [&](const RequestContext& ctx) {
    return Into(desk_->ListIndicatorSets(ctx), response);
  });
}

}  // namespace haven::identification
