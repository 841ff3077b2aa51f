// IdentificationServiceImpl: the gRPC face of IdentificationService.
#include "services/identification/identification_service.h"

#include "services/common/handler.h"

namespace haven::identification {

namespace v1 = haven::v1;
using access::RequestContext;
using services::Into;
using services::Serve;

#define HAVEN_DESK_RPC(Name, Request, Response, Method)                                    \
  grpc::Status IdentificationServiceImpl::Name(                                            \
      grpc::ServerContext* context, const v1::Request* request, v1::Response* response) {  \
    return Serve(*auth_, context, #Name, [&](const RequestContext& ctx) {                  \
      return Into(desk_->Method(ctx, *request), response);                                 \
    });                                                                                    \
  }
HAVEN_DESK_RPC(GetIndicatorSet, GetIndicatorSetRequest, IndicatorSet, GetIndicatorSet)
HAVEN_DESK_RPC(CreateScreening, CreateScreeningRequest, Screening, CreateScreening)
HAVEN_DESK_RPC(ListScreenings, ListScreeningsRequest, ListScreeningsResponse, ListScreenings)
HAVEN_DESK_RPC(GetIdentification, GetIdentificationRequest, Identification, Get)
HAVEN_DESK_RPC(ReferPresumedVictim, ReferPresumedVictimRequest, Identification, ReferPresumedVictim)
HAVEN_DESK_RPC(DecideReasonableGrounds, DecideRequest, Identification, DecideReasonableGrounds)
HAVEN_DESK_RPC(DecideConclusiveGrounds, DecideRequest, Identification, DecideConclusiveGrounds)
HAVEN_DESK_RPC(RequestReconsideration, RequestReconsiderationRequest, Identification,
               RequestReconsideration)
HAVEN_DESK_RPC(RecordGuardian, RecordGuardianRequest, Identification, RecordGuardian)
HAVEN_DESK_RPC(RecordBestInterestsAssessment, RecordBestInterestsAssessmentRequest, Identification,
               RecordBestInterestsAssessment)
HAVEN_DESK_RPC(RecordProceeding, RecordProceedingRequest, Identification, RecordProceeding)
HAVEN_DESK_RPC(ListDueDecisions, ListDueDecisionsRequest, ListDueDecisionsResponse, ListDueDecisions)
#undef HAVEN_DESK_RPC

grpc::Status IdentificationServiceImpl::ListIndicatorSets(grpc::ServerContext* context,
                                                          const v1::ListIndicatorSetsRequest*,
                                                          v1::ListIndicatorSetsResponse* response) {
  return Serve(*auth_, context, "ListIndicatorSets", [&](const RequestContext& ctx) {
    return Into(desk_->ListIndicatorSets(ctx), response);
  });
}

}  // namespace haven::identification
