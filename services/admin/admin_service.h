// AdminServiceImpl: the gRPC face of AdminService; thin handlers over Accounts.
#ifndef HAVEN_SERVICES_ADMIN_ADMIN_SERVICE_H_
#define HAVEN_SERVICES_ADMIN_ADMIN_SERVICE_H_

#include "haven/v1/admin.grpc.pb.h"
#include "services/common/authenticator.h"
#include "services/common/handler.h"
#include "storage/access/accounts.h"

namespace haven::admin {

class AdminServiceImpl final : public haven::v1::AdminService::Service {
 public:
  AdminServiceImpl(const services::Authenticator* auth, access::Accounts* accounts)
      : auth_(auth), accounts_(accounts) {}

  HAVEN_RPC(Login, LoginRequest, LoginResponse)
  HAVEN_RPC(Logout, LogoutRequest, LogoutResponse)
  HAVEN_RPC(ChangePassword, ChangePasswordRequest, ChangePasswordResponse)
  HAVEN_RPC(WhoAmI, WhoAmIRequest, WhoAmIResponse)
  HAVEN_RPC(CreateOrganisation, CreateOrganisationRequest, Organisation)
  HAVEN_RPC(ListOrganisations, ListOrganisationsRequest, ListOrganisationsResponse)
  HAVEN_RPC(CreateUser, CreateUserRequest, CreateUserResponse)
  HAVEN_RPC(ListUsers, ListUsersRequest, ListUsersResponse)
  HAVEN_RPC(SetUserDisabled, SetUserDisabledRequest, User)
  HAVEN_RPC(SetUserRoles, SetUserRolesRequest, User)
  HAVEN_RPC(ResetPassword, ResetPasswordRequest, ResetPasswordResponse)
  HAVEN_RPC(RevokeSessions, RevokeSessionsRequest, RevokeSessionsResponse)
  HAVEN_RPC(CreateServiceAccount, CreateServiceAccountRequest, ServiceAccount)
  HAVEN_RPC(ListServiceAccounts, ListServiceAccountsRequest, ListServiceAccountsResponse)
  HAVEN_RPC(SetServiceAccountDisabled, SetServiceAccountDisabledRequest, ServiceAccount)
  HAVEN_RPC(RotateServiceAccountCertificate, RotateServiceAccountCertificateRequest,
            ServiceAccount)

 private:
  const services::Authenticator* auth_;
  access::Accounts* accounts_;
};

}  // namespace haven::admin

#endif  // HAVEN_SERVICES_ADMIN_ADMIN_SERVICE_H_
