// HotlineServiceImpl: the gRPC face of HotlineService; thin handlers over
// the HotlineDesk. It also owns the background thread that runs the
// retention purge of caller details every configured interval.
#ifndef HAVEN_SERVICES_HOTLINE_HOTLINE_SERVICE_H_
#define HAVEN_SERVICES_HOTLINE_HOTLINE_SERVICE_H_

#include <memory>

#include "absl/time/time.h"
#include "haven/v1/hotline.grpc.pb.h"
#include "services/common/authenticator.h"
#include "services/common/handler.h"
#include "services/common/periodic.h"
#include "services/hotline/hotline_desk.h"

namespace haven::hotline {

class HotlineServiceImpl final : public haven::v1::HotlineService::Service {
 public:
  HotlineServiceImpl(const services::Authenticator* auth, std::unique_ptr<HotlineDesk> desk)
      : auth_(auth), desk_(std::move(desk)) {}
  ~HotlineServiceImpl() override;

  HotlineDesk& desk() { return *desk_; }

  // Runs the retention purge now, then every `interval` (wall time; the
  // purge itself reads the desk's clock) until StopPurger. Call once.
  void StartPurger(absl::Duration interval);
  // Stops the purge thread and waits for it; safe to call more than once.
  void StopPurger();

  HAVEN_RPC(LogContact, LogContactRequest, Contact)
  HAVEN_RPC(GetContact, GetContactRequest, Contact)
  HAVEN_RPC(EscalateContact, EscalateContactRequest, Contact)
  HAVEN_RPC(EscalateContactToReferral, EscalateContactToReferralRequest,
            EscalateContactToReferralResponse)
  HAVEN_RPC(ScheduleCallback, ScheduleCallbackRequest, Callback)
  HAVEN_RPC(CloseCallback, CloseCallbackRequest, Callback)
  HAVEN_RPC(ListCallbacks, ListCallbacksRequest, ListCallbacksResponse)
  HAVEN_RPC(GetHotlineDashboard, GetHotlineDashboardRequest, HotlineDashboard)

 private:
  const services::Authenticator* auth_;
  std::unique_ptr<HotlineDesk> desk_;
  services::Periodic purger_;
};

}  // namespace haven::hotline

#endif  // HAVEN_SERVICES_HOTLINE_HOTLINE_SERVICE_H_
