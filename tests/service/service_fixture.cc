// ServiceTest: a HavenServer in-process on a memory store and a manual clock.
#include "tests/service/service_fixture.h"

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "services/server/config.h"
#include "storage/crypto.h"
#include "storage/store.h"

namespace haven::testing {

namespace v1 = haven::v1;

void ServiceTest::SetUp() {
  ASSERT_TRUE(crypto::Init().ok());
  char tmpl[] = "/tmp/haven-service-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  dir_ = tmpl;
  ASSERT_TRUE(crypto::KeyRing::CreateKeyFile(dir_ + "/master.key").ok());
  ASSERT_TRUE(crypto::KeyRing::CreateKeyFile(dir_ + "/audit-signing.key").ok());
  if (!OnDisk()) env_.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
  ASSERT_NO_FATAL_FAILURE(StartServer());

  auto boot = server_->vault().accounts().Bootstrap("Mechanism administration", "admin");
  ASSERT_TRUE(boot.ok() && boot->created);
  bool change = false;
  std::string token = Login("admin", boot->one_time_password, &change);
  ASSERT_TRUE(change);
  administrator_.token = token;
  administrator_.organisation_id = boot->organisation_id;
  v1::ChangePasswordRequest req;
  req.set_current_password(boot->one_time_password);
  req.set_new_password("administrator-password-1");
  v1::ChangePasswordResponse resp;
  ASSERT_TRUE(admin_->ChangePassword(As(administrator_).get(), req, &resp).ok());
  v1::WhoAmIResponse me;
  ASSERT_TRUE(admin_->WhoAmI(As(administrator_).get(), v1::WhoAmIRequest(), &me).ok());
  administrator_.user_id = me.principal_id();
}

void ServiceTest::StartServer() {
  v1::ServerConfig config;
  config.set_data_dir(OnDisk() ? dir_ + "/db" : "/haven-db");  // else inside the memory env
  config.set_master_key_file(dir_ + "/master.key");
  config.set_audit_signing_key_file(dir_ + "/audit-signing.key");
  config.set_audit_witness_file(dir_ + "/audit-witness.log");
  config.set_listen_address("127.0.0.1:0");
  config.set_audit_checkpoint_interval(16);
  Configure(&config);
  auto finished = server::Finish(config);
  ASSERT_TRUE(finished.ok()) << finished.status();
  server::HavenServer::Options options;
  options.clock = &clock_;
  options.env = env_.get();
  options.partner_worker = false;  // tests deliver explicitly, on the manual clock
  auto started = server::HavenServer::Start(*finished, options);
  ASSERT_TRUE(started.ok()) << started.status();
  server_ = *std::move(started);
  channel_ = server_->InProcessChannel();
  admin_ = v1::AdminService::NewStub(channel_);
  cases_ = v1::CaseService::NewStub(channel_);
  audit_ = v1::AuditService::NewStub(channel_);
}

void ServiceTest::RestartServer() {
  admin_.reset();
  cases_.reset();
  audit_.reset();
  channel_.reset();
  server_.reset();
  ASSERT_NO_FATAL_FAILURE(StartServer());
}

void ServiceTest::TearDown() {
  admin_.reset();
  cases_.reset();
  audit_.reset();
  channel_.reset();
  server_.reset();
  env_.reset();
  std::filesystem::remove_all(dir_);
}

std::unique_ptr<grpc::ClientContext> ServiceTest::As(const Actor& actor, const std::string& purpose) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!actor.token.empty()) ctx->AddMetadata("authorization", "Bearer " + actor.token);
  if (!purpose.empty()) ctx->AddMetadata("x-haven-purpose", purpose);
  return ctx;
}

std::string ServiceTest::Login(const std::string& username, const std::string& password,
                               bool* change_required) {
  grpc::ClientContext ctx;
  v1::LoginRequest req;
  req.set_username(username);
  req.set_password(password);
  v1::LoginResponse resp;
  grpc::Status s = admin_->Login(&ctx, req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  if (change_required != nullptr) *change_required = resp.password_change_required();
  return resp.token();
}

std::string ServiceTest::NewOrganisation(v1::OrganisationType type) {
  v1::CreateOrganisationRequest req;
  req.mutable_organisation()->set_display_name(absl::StrCat("Organisation ", ++next_user_));
  req.mutable_organisation()->set_type(type);
  req.mutable_organisation()->set_country("NL");
  v1::Organisation org;
  grpc::Status s = admin_->CreateOrganisation(As(administrator_).get(), req, &org);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return org.id();
}

Actor ServiceTest::NewUser(const std::string& organisation_id, v1::Role role) {
  return NewUser(organisation_id, std::vector<v1::Role>{role});
}

Actor ServiceTest::NewUser(const std::string& organisation_id, const std::vector<v1::Role>& roles) {
  v1::CreateUserRequest req;
  std::string username = absl::StrCat("user", ++next_user_);
  req.mutable_user()->set_username(username);
  req.mutable_user()->set_display_name("Staff member");
  req.mutable_user()->set_organisation_id(organisation_id);
  for (v1::Role role : roles) req.mutable_user()->add_roles(role);
  v1::CreateUserResponse created;
  grpc::Status s = admin_->CreateUser(As(administrator_).get(), req, &created);
  EXPECT_TRUE(s.ok()) << s.error_message();
  Actor actor;
  actor.user_id = created.user().id();
  actor.organisation_id = organisation_id;
  actor.token = Login(username, created.initial_password());
  actor.password = absl::StrCat("password-of-", username);
  v1::ChangePasswordRequest change;
  change.set_current_password(created.initial_password());
  change.set_new_password(actor.password);
  v1::ChangePasswordResponse changed;
  s = admin_->ChangePassword(As(actor).get(), change, &changed);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return actor;
}

v1::Subject ServiceTest::SampleSubject(const std::string& given_name) const {
  v1::Subject subject;
  subject.set_given_name(given_name);
  subject.set_family_name("Okafor");
  subject.set_sex(v1::SEX_FEMALE);
  subject.mutable_date_of_birth()->set_year(2001);
  subject.mutable_date_of_birth()->set_month(4);
  subject.mutable_date_of_birth()->set_day(12);
  subject.add_citizenships("NG");
  subject.add_languages("en");
  return subject;
}

v1::Case ServiceTest::CreateCase(const Actor& actor, const std::string& given_name) {
  v1::CreateCaseRequest req;
  *req.mutable_subject() = SampleSubject(given_name);
  v1::Case created;
  grpc::Status s = cases_->CreateCase(As(actor).get(), req, &created);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return created;
}

void ServiceTest::GiveConsent(const Actor& actor, const std::string& case_id,
                              v1::ConsentPurpose purpose) {
  v1::RecordConsentRequest req;
  req.set_case_id(case_id);
  req.mutable_consent()->set_purpose(purpose);
  req.mutable_consent()->set_given(true);
  req.mutable_consent()->set_language("en");
  req.mutable_consent()->set_notes("Explained with an interpreter");
  v1::Consent out;
  grpc::Status s = cases_->RecordConsent(As(actor).get(), req, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
}

grpc::Status ServiceTest::GrantRead(const Actor& actor, const std::string& case_id,
                                 const std::string& organisation_id, const std::string& purpose,
                                 const std::vector<v1::ConfidentialityClass>& classes,
                                 absl::Duration lifetime) {
  v1::CreateGrantRequest req;
  v1::Grant* g = req.mutable_grant();
  g->set_case_id(case_id);
  g->set_grantee_organisation_id(organisation_id);
  g->set_purpose(purpose);
  for (v1::ConfidentialityClass c : classes) g->add_classes(c);
  g->add_actions(v1::CASE_ACTION_READ);
  g->mutable_expire_time()->set_seconds(absl::ToUnixSeconds(clock_.Now() + lifetime));
  g->set_lawful_basis(v1::LAWFUL_BASIS_LEGAL_OBLIGATION);
  g->mutable_basis_detail()->set_reference("Act 12, art. 3");

  v1::Grant out;
  return cases_->CreateGrant(As(actor).get(), req, &out);
}

std::vector<v1::Alert> ServiceTest::Alerts(const Actor& actor, v1::AlertKind kind) {
  v1::ListAlertsResponse response;
  EXPECT_TRUE(cases_->ListAlerts(As(actor).get(), v1::ListAlertsRequest(), &response).ok());
  std::vector<v1::Alert> out;
  for (const v1::Alert& alert : response.alerts()) {
    if (alert.kind() == kind) out.push_back(alert);
  }
  return out;
}

uint64_t ServiceTest::AuditSequence() { return server_->vault().last_audit_sequence(); }

v1::AuditEntry ServiceTest::LastAudit() {
  auto entry = server_->vault().store().ReadAuditEntry(AuditSequence());
  EXPECT_TRUE(entry.ok()) << entry.status();
  return entry.ok() ? *entry : v1::AuditEntry();
}

}  // namespace haven::testing
