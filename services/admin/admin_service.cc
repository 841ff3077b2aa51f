// AdminServiceImpl: the gRPC face of AdminService.
#include "services/admin/admin_service.h"

#include "services/common/handler.h"
#include "storage/timestamps.h"

namespace haven::admin {

namespace v1 = haven::v1;
using access::RequestContext;
using services::Authenticator;
using services::Into;
using services::Serve;

namespace {

// The caller's address without its port ("ipv4:10.0.0.7:5123" ->
// "ipv4:10.0.0.7"), for limiting attempts per address.
std::string SourceAddress(const grpc::ServerContext& context) {
  const std::string peer = context.peer();
  const size_t port = peer.rfind(':');
  return port == std::string::npos || port < peer.find(':') + 1 ? peer : peer.substr(0, port);
}

}  // namespace

grpc::Status AdminServiceImpl::Login(grpc::ServerContext* context, const v1::LoginRequest* request,
                                     v1::LoginResponse* response) {
  return services::ServeAnonymous(context, "Login", [&](const RequestContext& ctx) {
    absl::StatusOr<access::Accounts::Session> session = accounts_->Login(
        request->username(), request->password(), ctx.request_id, SourceAddress(*context));
    if (!session.ok()) return session.status();
    response->set_token(session->token);
    *response->mutable_expire_time() = ToTimestamp(session->expire_time);
    *response->mutable_user() = session->user;
    response->set_password_change_required(session->password_change_required);
    return absl::OkStatus();
  });
}

grpc::Status AdminServiceImpl::Logout(grpc::ServerContext* context, const v1::LogoutRequest*,
                                      v1::LogoutResponse*) {
  return Serve(
      *auth_, context, "Logout", [&](const RequestContext& ctx) { return accounts_->Logout(ctx); },
      Authenticator::Session::kMayBeRestricted);
}

grpc::Status AdminServiceImpl::ChangePassword(grpc::ServerContext* context,
                                              const v1::ChangePasswordRequest* request,
                                              v1::ChangePasswordResponse*) {
  return Serve(
      *auth_, context, "ChangePassword",
      [&](const RequestContext& ctx) {
        return accounts_->ChangePassword(ctx, request->current_password(), request->new_password());
      },
      Authenticator::Session::kMayBeRestricted);
}

grpc::Status AdminServiceImpl::WhoAmI(grpc::ServerContext* context, const v1::WhoAmIRequest*,
                                      v1::WhoAmIResponse* response) {
  return Serve(
      *auth_, context, "WhoAmI",
      [&](const RequestContext& ctx) {
        response->set_principal_id(ctx.principal.id);
        response->set_organisation_id(ctx.principal.organisation_id);
        for (v1::Role r : ctx.principal.roles) response->add_roles(r);
        return absl::OkStatus();
      },
      Authenticator::Session::kMayBeRestricted);
}

grpc::Status AdminServiceImpl::CreateOrganisation(grpc::ServerContext* context,
                                                  const v1::CreateOrganisationRequest* request,
                                                  v1::Organisation* response) {
  return Serve(*auth_, context, "CreateOrganisation", [&](const RequestContext& ctx) {
    return Into(accounts_->CreateOrganisation(ctx, request->organisation()), response);
  });
}

grpc::Status AdminServiceImpl::ListOrganisations(grpc::ServerContext* context,
                                                 const v1::ListOrganisationsRequest* request,
                                                 v1::ListOrganisationsResponse* response) {
  return Serve(*auth_, context, "ListOrganisations", [&](const RequestContext& ctx) {
    auto page = accounts_->ListOrganisations(ctx, request->page_size(), request->page_token());
    if (!page.ok()) return page.status();
    for (auto& org : page->first) *response->add_organisations() = std::move(org);
    response->set_next_page_token(page->second);
    return absl::OkStatus();
  });
}

grpc::Status AdminServiceImpl::CreateUser(grpc::ServerContext* context,
                                          const v1::CreateUserRequest* request,
                                          v1::CreateUserResponse* response) {
  return Serve(*auth_, context, "CreateUser", [&](const RequestContext& ctx) {
    auto created = accounts_->CreateUser(ctx, request->user());
    if (!created.ok()) return created.status();
    *response->mutable_user() = std::move(created->first);
    response->set_initial_password(std::move(created->second));
    return absl::OkStatus();
  });
}

grpc::Status AdminServiceImpl::ListUsers(grpc::ServerContext* context,
                                         const v1::ListUsersRequest* request,
                                         v1::ListUsersResponse* response) {
  return Serve(*auth_, context, "ListUsers", [&](const RequestContext& ctx) {
    auto page = accounts_->ListUsers(ctx, request->organisation_id(), request->page_size(),
                                     request->page_token());
    if (!page.ok()) return page.status();
    for (auto& user : page->first) *response->add_users() = std::move(user);
    response->set_next_page_token(page->second);
    return absl::OkStatus();
  });
}

grpc::Status AdminServiceImpl::SetUserDisabled(grpc::ServerContext* context,
                                               const v1::SetUserDisabledRequest* request,
                                               v1::User* response) {
  return Serve(*auth_, context, "SetUserDisabled", [&](const RequestContext& ctx) {
    return Into(accounts_->SetUserDisabled(ctx, request->user_id(), request->disabled()), response);
  });
}

grpc::Status AdminServiceImpl::SetUserRoles(grpc::ServerContext* context,
                                            const v1::SetUserRolesRequest* request,
                                            v1::User* response) {
  return Serve(*auth_, context, "SetUserRoles", [&](const RequestContext& ctx) {
    std::vector<v1::Role> roles;
    for (int r : request->roles()) roles.push_back(static_cast<v1::Role>(r));
    return Into(accounts_->SetUserRoles(ctx, request->user_id(), roles), response);
  });
}

grpc::Status AdminServiceImpl::ResetPassword(grpc::ServerContext* context,
                                             const v1::ResetPasswordRequest* request,
                                             v1::ResetPasswordResponse* response) {
  return Serve(*auth_, context, "ResetPassword", [&](const RequestContext& ctx) {
    return Into(accounts_->ResetPassword(ctx, request->user_id()),
                response->mutable_initial_password());
  });
}

grpc::Status AdminServiceImpl::RevokeSessions(grpc::ServerContext* context,
                                              const v1::RevokeSessionsRequest* request,
                                              v1::RevokeSessionsResponse*) {
  return Serve(*auth_, context, "RevokeSessions", [&](const RequestContext& ctx) {
    return accounts_->RevokeSessions(ctx, request->user_id());
  });
}

grpc::Status AdminServiceImpl::CreateServiceAccount(grpc::ServerContext* context,
                                                    const v1::CreateServiceAccountRequest* request,
                                                    v1::ServiceAccount* response) {
  return Serve(*auth_, context, "CreateServiceAccount", [&](const RequestContext& ctx) {
    return Into(accounts_->CreateServiceAccount(ctx, request->service_account()), response);
  });
}

grpc::Status AdminServiceImpl::ListServiceAccounts(grpc::ServerContext* context,
                                                   const v1::ListServiceAccountsRequest* request,
                                                   v1::ListServiceAccountsResponse* response) {
  return Serve(*auth_, context, "ListServiceAccounts", [&](const RequestContext& ctx) {
    auto accounts = accounts_->ListServiceAccounts(ctx, request->organisation_id());
    if (!accounts.ok()) return accounts.status();
    for (auto& a : *accounts) *response->add_service_accounts() = std::move(a);
    return absl::OkStatus();
  });
}

grpc::Status AdminServiceImpl::SetServiceAccountDisabled(
    grpc::ServerContext* context, const v1::SetServiceAccountDisabledRequest* request,
    v1::ServiceAccount* response) {
  return Serve(*auth_, context, "SetServiceAccountDisabled", [&](const RequestContext& ctx) {
    return Into(accounts_->SetServiceAccountDisabled(ctx, request->service_account_id(),
                                                     request->disabled()),
                response);
  });
}

grpc::Status AdminServiceImpl::RotateServiceAccountCertificate(
    grpc::ServerContext* context, const v1::RotateServiceAccountCertificateRequest* request,
    v1::ServiceAccount* response) {
  return Serve(*auth_, context, "RotateServiceAccountCertificate", [&](const RequestContext& ctx) {
    return Into(accounts_->RotateServiceAccountCertificate(ctx, request->service_account_id(),
                                                           request->certificate_sha256()),
                response);
  });
}

}  // namespace haven::admin
