// Accounts and authentication over an in-process channel: one-time
// passwords, sessions, expiry, revocation, back-off, and administration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/service/service_fixture.h"

namespace haven::testing {
namespace {

namespace v1 = haven::v1;

class AuthTest : public ServiceTest {
 protected:
  grpc::Status WhoAmI(const Actor& actor, v1::WhoAmIResponse* out = nullptr) {
    v1::WhoAmIResponse ignored;
    return admin_->WhoAmI(As(actor).get(), v1::WhoAmIRequest(), out ? out : &ignored);
  }
  grpc::Status LoginStatus(const std::string& user, const std::string& password) {
    grpc::ClientContext ctx;
    v1::LoginRequest req;
    req.set_username(user);
    req.set_password(password);
    v1::LoginResponse resp;
    return admin_->Login(&ctx, req, &resp);
  }
};

TEST_F(AuthTest, CredentialsAloneNameTheCaller) {
  std::string ngo = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
  Actor caseworker = NewUser(ngo, v1::ROLE_CASEWORKER);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + caseworker.token);
  ctx.AddMetadata("x-haven-principal", administrator_.user_id);  // a claim, ignored
  v1::WhoAmIResponse me;
  ASSERT_TRUE(admin_->WhoAmI(&ctx, v1::WhoAmIRequest(), &me).ok());
  EXPECT_EQ(me.principal_id(), caseworker.user_id);
  EXPECT_EQ(me.organisation_id(), ngo);
  EXPECT_THAT(me.roles(), ::testing::ElementsAre(v1::ROLE_CASEWORKER));
}

TEST_F(AuthTest, MissingOrForgedTokensAreUnauthenticated) {
  Actor nobody;
  EXPECT_EQ(WhoAmI(nobody).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  nobody.token = "hvn_" + std::string(43, 'A');
  EXPECT_EQ(WhoAmI(nobody).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  nobody.token = administrator_.token + "x";
  EXPECT_EQ(WhoAmI(nobody).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTest, OneTimePasswordAllowsOnlyAPasswordChange) {
  std::string ngo = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
  v1::CreateUserRequest req;
  req.mutable_user()->set_username("fresh.user");
  req.mutable_user()->set_display_name("Fresh");
  req.mutable_user()->set_organisation_id(ngo);
  req.mutable_user()->add_roles(v1::ROLE_CASEWORKER);
  v1::CreateUserResponse created;
  ASSERT_TRUE(admin_->CreateUser(As(administrator_).get(), req, &created).ok());
  bool change = false;
  Actor fresh;
  fresh.token = Login("fresh.user", created.initial_password(), &change);
  EXPECT_TRUE(change);
  v1::CreateCaseRequest create;
  *create.mutable_subject() = SampleSubject("Amina");
  v1::Case out;
  EXPECT_EQ(cases_->CreateCase(As(fresh).get(), create, &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::ChangePasswordRequest change_req;
  change_req.set_current_password(created.initial_password());
  change_req.set_new_password("short");
  v1::ChangePasswordResponse changed;
  EXPECT_EQ(admin_->ChangePassword(As(fresh).get(), change_req, &changed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  change_req.set_new_password("a-much-longer-password");
  ASSERT_TRUE(admin_->ChangePassword(As(fresh).get(), change_req, &changed).ok());
  EXPECT_TRUE(cases_->CreateCase(As(fresh).get(), create, &out).ok());
}

TEST_F(AuthTest, SessionsExpireOnTheServerClock) {
  EXPECT_TRUE(WhoAmI(administrator_).ok());
  clock_.Advance(absl::Hours(8) + absl::Seconds(1));
  EXPECT_EQ(WhoAmI(administrator_).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTest, LogoutEndsTheSession) {
  Actor admin2 = administrator_;
  admin2.token = Login("admin", "administrator-password-1");
  v1::LogoutResponse out;
  ASSERT_TRUE(admin_->Logout(As(admin2).get(), v1::LogoutRequest(), &out).ok());
  EXPECT_EQ(WhoAmI(admin2).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(WhoAmI(administrator_).ok()) << "other sessions live on";
}

TEST_F(AuthTest, DisablingAUserOrRevokingSessionsLocksThemOutAtOnce) {
  std::string ngo = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
  Actor a = NewUser(ngo, v1::ROLE_CASEWORKER);
  Actor b = NewUser(ngo, v1::ROLE_CASEWORKER);
  v1::RevokeSessionsRequest revoke;
  revoke.set_user_id(a.user_id);
  v1::RevokeSessionsResponse revoked;
  ASSERT_TRUE(admin_->RevokeSessions(As(administrator_).get(), revoke, &revoked).ok());
  EXPECT_EQ(WhoAmI(a).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(WhoAmI(b).ok());

  v1::SetUserDisabledRequest disable;
  disable.set_user_id(b.user_id);
  disable.set_disabled(true);
  v1::User user;
  ASSERT_TRUE(admin_->SetUserDisabled(As(administrator_).get(), disable, &user).ok());
  EXPECT_EQ(WhoAmI(b).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(LoginStatus(user.username(), b.password).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTest, RepeatedFailedLoginsBackOffEvenForTheRightPassword) {
  std::string ngo = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
  Actor a = NewUser(ngo, v1::ROLE_CASEWORKER);
  v1::WhoAmIResponse me;
  ASSERT_TRUE(WhoAmI(a, &me).ok());
  v1::ListUsersRequest list;
  list.set_organisation_id(ngo);
  v1::ListUsersResponse users;
  ASSERT_TRUE(admin_->ListUsers(As(administrator_).get(), list, &users).ok());
  ASSERT_EQ(users.users_size(), 1);
  const std::string username = users.users(0).username();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(LoginStatus(username, "wrong-password-123").error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_EQ(LoginStatus(username, a.password).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  clock_.Advance(absl::Seconds(2));
  EXPECT_TRUE(LoginStatus(username, a.password).ok());
  EXPECT_EQ(LastAudit().action(), "auth.login");
}

TEST_F(AuthTest, UnknownUsernameAndWrongPasswordLookAlike) {
  grpc::Status unknown = LoginStatus("no.such.user", "whatever-password");
  grpc::Status wrong = LoginStatus("admin", "whatever-password");
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(unknown.error_message(), wrong.error_message());
}

TEST_F(AuthTest, OnlyAdministratorsManageAccounts) {
  std::string ngo = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
  Actor supervisor = NewUser(ngo, v1::ROLE_SUPERVISOR);
  v1::CreateOrganisationRequest req;
  req.mutable_organisation()->set_display_name("Rogue");
  req.mutable_organisation()->set_type(v1::ORGANISATION_TYPE_NGO);
  v1::Organisation org;
  EXPECT_EQ(admin_->CreateOrganisation(As(supervisor).get(), req, &org).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::CreateUserRequest user_req;
  user_req.mutable_user()->set_username("rogue");
  user_req.mutable_user()->set_display_name("Rogue");
  user_req.mutable_user()->set_organisation_id(ngo);
  user_req.mutable_user()->add_roles(v1::ROLE_SUPERVISOR);
  v1::CreateUserResponse created;
  EXPECT_EQ(admin_->CreateUser(As(supervisor).get(), user_req, &created).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(AuthTest, AdministratorsCannotGrantThemselvesCaseAccess) {
  v1::SetUserRolesRequest self;
  self.set_user_id(administrator_.user_id);
  self.add_roles(v1::ROLE_ADMINISTRATOR);
  self.add_roles(v1::ROLE_CASEWORKER);
  v1::User user;
  EXPECT_EQ(admin_->SetUserRoles(As(administrator_).get(), self, &user).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  std::string ngo = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
  v1::CreateUserRequest both;
  both.mutable_user()->set_username("two.hats");
  both.mutable_user()->set_display_name("Two hats");
  both.mutable_user()->set_organisation_id(ngo);
  both.mutable_user()->add_roles(v1::ROLE_ADMINISTRATOR);
  both.mutable_user()->add_roles(v1::ROLE_SUPERVISOR);
  v1::CreateUserResponse created;
  EXPECT_EQ(admin_->CreateUser(As(administrator_).get(), both, &created).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::WhoAmIResponse me;
  ASSERT_TRUE(admin_->WhoAmI(As(administrator_).get(), v1::WhoAmIRequest(), &me).ok());
  EXPECT_THAT(me.roles(), ::testing::ElementsAre(v1::ROLE_ADMINISTRATOR));
}

TEST_F(AuthTest, AccountInputIsValidated) {
  std::string ngo = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
  auto create_user = [&](const std::string& username, int role, const std::string& org) {
    v1::CreateUserRequest req;
    req.mutable_user()->set_username(username);
    req.mutable_user()->set_display_name("Someone");
    req.mutable_user()->set_organisation_id(org);
    req.mutable_user()->add_roles(static_cast<v1::Role>(role));
    v1::CreateUserResponse out;
    return admin_->CreateUser(As(administrator_).get(), req, &out).error_code();
  };
  EXPECT_EQ(create_user("Bad Name", v1::ROLE_CASEWORKER, ngo), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(create_user("okname", 77, ngo), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(create_user("okname", v1::ROLE_CASEWORKER, "not-an-id"), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(create_user("okname", v1::ROLE_CASEWORKER, std::string(32, 'c')), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(create_user("okname", v1::ROLE_CASEWORKER, ngo), grpc::StatusCode::OK);
  EXPECT_EQ(create_user("okname", v1::ROLE_CASEWORKER, ngo), grpc::StatusCode::ALREADY_EXISTS);

  v1::CreateOrganisationRequest org_req;
  org_req.mutable_organisation()->set_display_name("No type");
  v1::Organisation org;
  EXPECT_EQ(admin_->CreateOrganisation(As(administrator_).get(), org_req, &org).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::CreateServiceAccountRequest sa;
  sa.mutable_service_account()->set_organisation_id(ngo);
  sa.mutable_service_account()->set_display_name("Police system");
  sa.mutable_service_account()->add_roles(v1::ROLE_LAW_ENFORCEMENT_LIAISON);
  sa.mutable_service_account()->set_certificate_sha256("not-a-fingerprint");
  v1::ServiceAccount account;
  EXPECT_EQ(admin_->CreateServiceAccount(As(administrator_).get(), sa, &account).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace haven::testing
