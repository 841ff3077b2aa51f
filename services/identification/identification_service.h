// IdentificationServiceImpl: the gRPC face of IdentificationService; thin
// handlers over the IdentificationDesk.
#ifndef HAVEN_SERVICES_IDENTIFICATION_IDENTIFICATION_SERVICE_H_
#define HAVEN_SERVICES_IDENTIFICATION_IDENTIFICATION_SERVICE_H_

#include "haven/v1/identification.grpc.pb.h"
#include "services/common/authenticator.h"
#include "services/common/handler.h"
#include "services/identification/identification_desk.h"

namespace haven::identification {

class IdentificationServiceImpl final : public haven::v1::IdentificationService::Service {
 public:
  IdentificationServiceImpl(const services::Authenticator* auth,
                            std::unique_ptr<IdentificationDesk> desk)
      : auth_(auth), desk_(std::move(desk)) {}

  HAVEN_RPC(ListIndicatorSets, ListIndicatorSetsRequest, ListIndicatorSetsResponse)
  HAVEN_RPC(GetIndicatorSet, GetIndicatorSetRequest, IndicatorSet)
  HAVEN_RPC(CreateScreening, CreateScreeningRequest, Screening)
  HAVEN_RPC(ListScreenings, ListScreeningsRequest, ListScreeningsResponse)
  HAVEN_RPC(GetIdentification, GetIdentificationRequest, Identification)
  HAVEN_RPC(ReferPresumedVictim, ReferPresumedVictimRequest, Identification)
  HAVEN_RPC(DecideReasonableGrounds, DecideRequest, Identification)
  HAVEN_RPC(DecideConclusiveGrounds, DecideRequest, Identification)
  HAVEN_RPC(ExtendReflectionPeriod, ExtendReflectionPeriodRequest, Identification)
  HAVEN_RPC(RequestReconsideration, RequestReconsiderationRequest, Identification)
  HAVEN_RPC(RecordGuardian, RecordGuardianRequest, Identification)
  HAVEN_RPC(RecordBestInterestsAssessment, RecordBestInterestsAssessmentRequest, Identification)
  HAVEN_RPC(RecordProceeding, RecordProceedingRequest, Identification)
  HAVEN_RPC(ListProceedings, ListProceedingsRequest, ListProceedingsResponse)
  HAVEN_RPC(ListDueDecisions, ListDueDecisionsRequest, ListDueDecisionsResponse)
  HAVEN_RPC(SetExploitationProfile, SetExploitationProfileRequest, ExploitationProfile)
  HAVEN_RPC(GetExploitationProfile, GetExploitationProfileRequest, ExploitationProfile)

 private:
  const services::Authenticator* auth_;
  std::unique_ptr<IdentificationDesk> desk_;
};

}  // namespace haven::identification

#endif  // HAVEN_SERVICES_IDENTIFICATION_IDENTIFICATION_SERVICE_H_
