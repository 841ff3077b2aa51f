// LiaisonServiceImpl: the gRPC face of LiaisonService; thin handlers over the LiaisonDesk.
#ifndef HAVEN_SERVICES_LIAISON_LIAISON_SERVICE_H_
#define HAVEN_SERVICES_LIAISON_LIAISON_SERVICE_H_

#include <memory>
#include <utility>

#include "haven/v1/liaison.grpc.pb.h"
#include "services/common/authenticator.h"
#include "services/common/handler.h"
#include "services/liaison/liaison_desk.h"

namespace haven::liaison {

class LiaisonServiceImpl final : public haven::v1::LiaisonService::Service {
 public:
  LiaisonServiceImpl(const services::Authenticator* auth, std::unique_ptr<LiaisonDesk> desk)
      : auth_(auth), desk_(std::move(desk)) {}

  HAVEN_RPC(Refer, ReferRequest, ReferResponse)
  HAVEN_RPC(GetCase, GetLiaisonCaseRequest, LiaisonCase)
  HAVEN_RPC(RequestDisclosure, RequestDisclosureRequest, Disclosure)
  HAVEN_RPC(AskNonPunishment, AskNonPunishmentRequest, AskNonPunishmentResponse)
  HAVEN_RPC(IntroduceCase, IntroduceCaseRequest, IntroduceCaseResponse)
  grpc::Status Watch(grpc::ServerContext* context, const haven::v1::WatchRequest* request,
                     grpc::ServerWriter<haven::v1::LiaisonEvent>* writer) override;

  // Ends every Watch stream (the server is stopping); clients resume.
  void Stop() { desk_->Stop(); }

 private:
  const services::Authenticator* auth_;
  std::unique_ptr<LiaisonDesk> desk_;
};

}  // namespace haven::liaison

#endif  // HAVEN_SERVICES_LIAISON_LIAISON_SERVICE_H_
