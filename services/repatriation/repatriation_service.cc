// RepatriationServiceImpl: each handler authenticates and hands the request to the desk.
#include "services/repatriation/repatriation_service.h"

namespace haven::repatriation {

HAVEN_RPC_HANDLER(RepatriationServiceImpl, CreateReturnPlan, CreateReturnPlanRequest, ReturnPlan,
                  desk_->Create(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, GetReturnPlan, GetReturnPlanRequest, ReturnPlan,
                  desk_->Get(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, ListReturnPlans, ListReturnPlansRequest,
                  ListReturnPlansResponse, desk_->List(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, AssessReturnRisks, AssessReturnRisksRequest, ReturnPlan,
                  desk_->Assess(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, ApproveReturn, ApproveReturnRequest, ReturnPlan,
                  desk_->Approve(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, ReferReturnPlan, ReferReturnPlanRequest,
                  ReferReturnPlanResponse, desk_->Refer(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, TakeOnReturnPlan, TakeOnReturnPlanRequest, ReturnPlan,
                  desk_->TakeOn(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, RecordTravelDocuments, RecordTravelDocumentsRequest,
                  ReturnPlan, desk_->RecordDocuments(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, ScheduleReturn, ScheduleReturnRequest,
                  ScheduleReturnResponse, desk_->Schedule(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, RecordDeparture, RecordDepartureRequest, ReturnPlan,
                  desk_->RecordDeparture(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, RecordArrival, RecordArrivalRequest, ReturnPlan,
                  desk_->RecordArrival(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, RecordFollowUp, RecordFollowUpRequest, ReturnPlan,
                  desk_->RecordFollowUp(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, SuspendReturn, ReturnStatusChangeRequest, ReturnPlan,
                  desk_->Suspend(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, ResumeReturn, ReturnStatusChangeRequest, ReturnPlan,
                  desk_->Resume(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, CancelReturn, ReturnStatusChangeRequest, ReturnPlan,
                  desk_->Cancel(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, CloseReturn, CloseReturnRequest, ReturnPlan,
                  desk_->Close(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, ListDueFollowUps, ListDueFollowUpsRequest,
                  ListDueFollowUpsResponse, desk_->ListDueFollowUps(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, GetReceivedReturn, GetReceivedReturnRequest,
                  ReceivedReturn, desk_->GetReceived(ctx, *request))
HAVEN_RPC_HANDLER(RepatriationServiceImpl, RecordReceivedFollowUp, RecordReceivedFollowUpRequest,
                  ReceivedReturn, desk_->RecordReceivedFollowUp(ctx, *request))

}  // namespace haven::repatriation
