// HavendProcess: the real havend as a child process on a temporary directory, plus client helpers.
#ifndef HAVEN_TESTS_E2E_HAVEND_PROCESS_H_
#define HAVEN_TESTS_E2E_HAVEND_PROCESS_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "google/protobuf/timestamp.pb.h"
#include <utility>
#include <vector>

#include "haven/v1/admin.grpc.pb.h"
#include "haven/v1/audit.grpc.pb.h"
#include "haven/v1/case.grpc.pb.h"
#include "haven/v1/hotline.grpc.pb.h"
#include "haven/v1/identification.grpc.pb.h"
#include "haven/v1/referral.grpc.pb.h"

namespace haven::e2e {

// One havend on its own temporary directory: config, master key, store,
// port file and stderr log (havend.log, appended by every run). All test
// assertions inside use gtest's ASSERT_*; wrap calls in ASSERT_NO_FATAL_FAILURE.
class HavendProcess {
 public:
  // `extra_config` is appended to the text-format haven.v1.ServerConfig.
  explicit HavendProcess(std::string extra_config = "");
  // SIGKILLs a running havend and removes the directory (kept when the
  // environment sets HAVEN_E2E_KEEP).
  ~HavendProcess();
  HavendProcess(const HavendProcess&) = delete;
  HavendProcess& operator=(const HavendProcess&) = delete;

  // Writes the config and runs `havend init`, keeping the one-time password.
  void Init();
  // Replaces the extra config and rewrites the config file; havend reads it
  // at the next Start.
  void Reconfigure(std::string extra_config);
  // Runs `havend <command> --config` (an offline subcommand such as
  // audit-verify) to its end; returns the wait status, its stdout in *out.
  int RunCommand(const std::string& command, std::string* out);
  // Starts havend on the directory and waits for its port file.
  void Start();
  // SIGTERM, then waits for the exit; returns the wait status.
  int Terminate();
  // SIGKILL, then reaps.
  void Kill();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string data_dir() const { return path("data"); }
  std::string log_path() const { return path("havend.log"); }
  std::string ReadLog() const;
  const std::string& admin_one_time_password() const { return one_time_password_; }
  int port() const { return port_; }
  int mtls_port() const { return mtls_port_; }
  // An insecure channel to the session-token listener of the current run.
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

 private:
  void WriteConfig();

  std::string extra_config_;
  std::string dir_;
  std::string one_time_password_;
  pid_t pid_ = -1;
  int port_ = 0;
  int mtls_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
};

// "exited with 0", "killed by signal 9", ...
std::string DescribeWaitStatus(int status);
bool ExitedCleanly(int status);

// A logged-in person whose one-time password has been changed.
struct Actor {
  std::string username;
  std::string password;
  std::string token;
  std::string user_id;
  std::string organisation_id;
};

// An organisation and its users, in the order asked for.
struct Team {
  std::string organisation_id;
  std::vector<Actor> users;
};

// Stubs of the implemented services over one channel.
struct Client {
  explicit Client(const std::shared_ptr<grpc::Channel>& channel);
  std::unique_ptr<haven::v1::AdminService::Stub> admin;
  std::unique_ptr<haven::v1::CaseService::Stub> cases;
  std::unique_ptr<haven::v1::AuditService::Stub> audit;
  std::unique_ptr<haven::v1::IdentificationService::Stub> identification;
  std::unique_ptr<haven::v1::HotlineService::Stub> hotline;
  std::unique_ptr<haven::v1::ReferralService::Stub> referrals;
};

constexpr std::chrono::seconds kCallDeadline(30);

// A context with a deadline, "authorization: Bearer <token>" unless token is
// empty, and "x-haven-purpose" unless purpose is empty.
std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token,
                                         const std::string& purpose = "");
// "CODE: message", for failure output.
std::string Describe(const grpc::Status& status);

// Logs in with a one-time password and changes it.
void Activate(Client& client, const std::string& username, const std::string& one_time_password,
              Actor* out);
// Activates havend's first administrator.
void SetUpAdministrator(const HavendProcess& havend, Client& client, Actor* admin);
void CreateOrganisation(Client& client, const Actor& admin, const std::string& name,
                        haven::v1::OrganisationType type, std::string* id);
// Creates and activates a user with one role.
void CreateUser(Client& client, const Actor& admin, const std::string& organisation_id,
                const std::string& username, haven::v1::Role role, Actor* out);
// An organisation with one activated user per (username, role).
void SetUpTeam(Client& client, const Actor& admin, const std::string& name,
               haven::v1::OrganisationType type,
               const std::vector<std::pair<std::string, haven::v1::Role>>& users, Team* out);

// grpc.health.v1.Health/Check for the server as a whole, through the generic
// stub; *response gets the serialized HealthCheckResponse.
grpc::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel, std::string* response);

// grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo with one
// list_services request; *response gets the serialized response.
grpc::Status ListServicesByReflection(const std::shared_ptr<grpc::Channel>& channel,
                                      std::string* response);

// A free TCP port on 127.0.0.1 (bound, read and released), for a listener
// whose address must be known before havend starts.
int PickFreePort();

// What a certificate made by MakeCertificates is for.
enum class CertificateUse {
  // A listener that also calls out: serverAuth and clientAuth, valid for
  // 127.0.0.1 and localhost.
  kServer,
  // clientAuth only.
  kClient,
};
// A certificate to make: files `name`.crt, `name`.key and `name`.sha256,
// signed by the CA `ca` (`ca`.crt, `ca`.key).
struct CertificateSpec {
  std::string name;
  std::string ca;
  CertificateUse use;
};
// With openssl, in `dir`: a self-signed CA for each name in `cas`, then each
// certificate with its P-256 key, its .sha256 (hex SHA-256 of the DER
// encoding, as a service account registers it) and its .pubkey.sha256 (of
// its public key, as a partner is pinned). All valid for 2 days.
void MakeCertificates(const std::string& dir, const std::vector<std::string>& cas,
                      const std::vector<CertificateSpec>& certificates);
// A channel to the mTLS listener on 127.0.0.1:`port` presenting the
// certificate `cert`.crt with key `cert`.key (paths without the extension),
// trusting a server certificate for "localhost" signed by the CA in `ca_file`.
std::shared_ptr<grpc::Channel> MtlsChannel(int port, const std::string& cert,
                                           const std::string& ca_file);

// Runs a shell command; returns its exit code (-1 when it did not exit).
int RunShell(const std::string& command);
std::string ReadFile(const std::string& path);
// Every regular file under `dir`, recursively.
std::vector<std::string> FilesUnder(const std::string& dir);
// `n` characters drawn at random from `alphabet`.
std::string RandomString(size_t n, const std::string& alphabet);
// Letters for canary names: upper case consonants, so that a canary never
// occurs by chance in hex, base64 or words the server writes.
inline constexpr char kCanaryAlphabet[] = "GHJKLMNPQRSTVWXYZ";
// The files under `dir` that hold any of `needles`, each named with the
// needle it holds: the canary scan.
std::vector<std::string> FilesContaining(const std::string& dir,
                                         const std::vector<std::string>& needles);
std::string Lower(std::string s);
std::string Upper(std::string s);
// The wall clock (havend runs on it), `seconds` from now.
google::protobuf::Timestamp SecondsFromNow(int64_t seconds);

}  // namespace haven::e2e

#endif  // HAVEN_TESTS_E2E_HAVEND_PROCESS_H_
