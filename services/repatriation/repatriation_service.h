// RepatriationServiceImpl: the gRPC face of RepatriationService; thin handlers over the ReturnDesk.
#ifndef HAVEN_SERVICES_REPATRIATION_REPATRIATION_SERVICE_H_
#define HAVEN_SERVICES_REPATRIATION_REPATRIATION_SERVICE_H_

#include <memory>
#include <utility>

#include "haven/v1/repatriation.grpc.pb.h"
#include "services/common/authenticator.h"
#include "services/common/handler.h"
#include "services/repatriation/return_desk.h"

namespace haven::repatriation {

class RepatriationServiceImpl final : public haven::v1::RepatriationService::Service {
 public:
  RepatriationServiceImpl(const services::Authenticator* auth, std::unique_ptr<ReturnDesk> desk)
      : auth_(auth), desk_(std::move(desk)) {}

  HAVEN_RPC(CreateReturnPlan, CreateReturnPlanRequest, ReturnPlan)
  HAVEN_RPC(GetReturnPlan, GetReturnPlanRequest, ReturnPlan)
  HAVEN_RPC(ListReturnPlans, ListReturnPlansRequest, ListReturnPlansResponse)
  HAVEN_RPC(AssessReturnRisks, AssessReturnRisksRequest, ReturnPlan)
  HAVEN_RPC(ApproveReturn, ApproveReturnRequest, ReturnPlan)
  HAVEN_RPC(ReferReturnPlan, ReferReturnPlanRequest, ReferReturnPlanResponse)
  HAVEN_RPC(TakeOnReturnPlan, TakeOnReturnPlanRequest, ReturnPlan)
  HAVEN_RPC(RecordTravelDocuments, RecordTravelDocumentsRequest, ReturnPlan)
  HAVEN_RPC(ScheduleReturn, ScheduleReturnRequest, ScheduleReturnResponse)
  HAVEN_RPC(RecordDeparture, RecordDepartureRequest, ReturnPlan)
  HAVEN_RPC(RecordArrival, RecordArrivalRequest, ReturnPlan)
  HAVEN_RPC(RecordFollowUp, RecordFollowUpRequest, ReturnPlan)
  HAVEN_RPC(SuspendReturn, ReturnStatusChangeRequest, ReturnPlan)
  HAVEN_RPC(ResumeReturn, ReturnStatusChangeRequest, ReturnPlan)
  HAVEN_RPC(CancelReturn, ReturnStatusChangeRequest, ReturnPlan)
  HAVEN_RPC(CloseReturn, CloseReturnRequest, ReturnPlan)
  HAVEN_RPC(ListDueFollowUps, ListDueFollowUpsRequest, ListDueFollowUpsResponse)
  HAVEN_RPC(GetReceivedReturn, GetReceivedReturnRequest, ReceivedReturn)
  HAVEN_RPC(RecordReceivedFollowUp, RecordReceivedFollowUpRequest, ReceivedReturn)

 private:
  const services::Authenticator* auth_;
  std::unique_ptr<ReturnDesk> desk_;
};

}  // namespace haven::repatriation

#endif  // HAVEN_SERVICES_REPATRIATION_REPATRIATION_SERVICE_H_
