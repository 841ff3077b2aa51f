// ServiceTest: a HavenServer in-process, on a memory store and a manual
// clock, with helpers to make organisations and users and call as them.
#ifndef HAVEN_TESTS_SERVICE_SERVICE_FIXTURE_H_
#define HAVEN_TESTS_SERVICE_SERVICE_FIXTURE_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "haven/v1/admin.grpc.pb.h"
#include "haven/v1/audit.grpc.pb.h"
#include "haven/v1/case.grpc.pb.h"
#include "rocksdb/env.h"
#include "services/server/haven_server.h"
#include "storage/clock.h"

namespace haven::testing {

// A logged-in user whose one-time password has been changed.
struct Actor {
  std::string token;
  std::string user_id;
  std::string organisation_id;
  std::string password;
};

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Adjusts the server's configuration before it starts.
  virtual void Configure(haven::v1::ServerConfig*) {}
  // Whether the store lives on the real disk (in dir_ + "/db") rather than
  // in a memory env: for tests that search the files themselves.
  virtual bool OnDisk() const { return false; }
  // Stops the server and starts it again on the same store and clock, with
  // the configuration Configure gives now.
  void RestartServer();

  // A context that calls as `actor` (no credentials when token is empty).
  std::unique_ptr<grpc::ClientContext> As(const Actor& actor,
                                          const std::string& purpose = "");
  std::string NewOrganisation(haven::v1::OrganisationType type);
  Actor NewUser(const std::string& organisation_id, haven::v1::Role role);
  Actor NewUser(const std::string& organisation_id, const std::vector<haven::v1::Role>& roles);
  // Logs in; fails the test on error.
  std::string Login(const std::string& username, const std::string& password,
                    bool* change_required = nullptr);

  haven::v1::Subject SampleSubject(const std::string& given_name) const;
  // Creates a case as `actor`; fails the test on error.
  haven::v1::Case CreateCase(const Actor& actor, const std::string& given_name = "Amina");

  // Records, as `actor`, the subject's consent (explained in English, with a
  // narrative note) for `purpose`; fails the test on error.
  void GiveConsent(const Actor& actor, const std::string& case_id,
                   haven::v1::ConsentPurpose purpose);

  // Grants `organisation_id`, as `actor`, READ of `classes` on a case until
  // `lifetime` from now.
  grpc::Status GrantRead(const Actor& actor, const std::string& case_id,
                             const std::string& organisation_id, const std::string& purpose,
                             const std::vector<haven::v1::ConfidentialityClass>& classes,
                             absl::Duration lifetime = absl::Hours(24));

  // The open alerts of `kind` that `actor` sees.
  std::vector<haven::v1::Alert> Alerts(const Actor& actor, haven::v1::AlertKind kind);

  // The newest audit entry.
  haven::v1::AuditEntry LastAudit();
  uint64_t AuditSequence();

  void StartServer();

  ManualClock clock_;
  std::unique_ptr<rocksdb::Env> env_;
  std::string dir_;
  std::unique_ptr<server::HavenServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<haven::v1::AdminService::Stub> admin_;
  std::unique_ptr<haven::v1::CaseService::Stub> cases_;
  std::unique_ptr<haven::v1::AuditService::Stub> audit_;
  Actor administrator_;
  int next_user_ = 0;
};

}  // namespace haven::testing

#endif  // HAVEN_TESTS_SERVICE_SERVICE_FIXTURE_H_
