// HavendProcess: the real havend as a child process on a temporary directory, plus client helpers.
#include "tests/e2e/havend_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <algorithm>
#include <chrono>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#ifndef HAVEND_PATH
#error "HAVEND_PATH must name the havend binary"
#endif

namespace haven::e2e {
namespace {

namespace v1 = haven::v1;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kStartTimeout(60);
constexpr std::chrono::seconds kStopTimeout(60);

// fork + exec `argv` with stdin from /dev/null and stdout, stderr appended
// to the named files ("" for /dev/null). The child dies with the test.
pid_t Spawn(const std::vector<std::string>& args, const std::string& stdout_path,
            const std::string& stderr_path) {
  // Everything the child needs is made before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string out = stdout_path.empty() ? "/dev/null" : stdout_path;
  const std::string err = stderr_path.empty() ? "/dev/null" : stderr_path;
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  int in_fd = open("/dev/null", O_RDONLY);
  int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (in_fd < 0 || out_fd < 0 || err_fd < 0) _exit(126);
  dup2(in_fd, 0);
  dup2(out_fd, 1);
  dup2(err_fd, 2);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(125);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execv(argv[0], argv.data());
  _exit(127);
}

// Waits up to `timeout` for `pid`; returns true and the status when it ended.
bool WaitFor(pid_t pid, std::chrono::steady_clock::duration timeout, int* status) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0) return false;
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string Tail(const std::string& text, size_t n = 4000) {
  return text.size() <= n ? text : text.substr(text.size() - n);
}

}  // namespace

// ---------------------------------------------------------------- process

HavendProcess::HavendProcess(std::string extra_config) : extra_config_(std::move(extra_config)) {
  char tmpl[] = "/tmp/haven-e2e-XXXXXX";
  if (mkdtemp(tmpl) != nullptr) dir_ = tmpl;
}

HavendProcess::~HavendProcess() {
  channel_.reset();
  if (running()) Kill();
  if (!dir_.empty() && std::getenv("HAVEN_E2E_KEEP") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

void HavendProcess::WriteConfig() {
  ASSERT_FALSE(dir_.empty()) << "mkdtemp failed";
  std::ofstream config(path("haven.conf"), std::ios::trunc);
  config << "data_dir: \"data\"\n"
            "master_key_file: \"master.key\"\n"
            "audit_signing_key_file: \"audit-signing.key\"\n"
            "audit_witness_file: \"audit-witness.log\"\n"
            "wrap_keys_file: \"wrap.keys\"\n"
            "listen_address: \"127.0.0.1:0\"\n"
            "port_file: \"havend.port\"\n"
         << extra_config_ << "\n";
  config.close();
  ASSERT_TRUE(config.good()) << "cannot write " << path("haven.conf");
}

void HavendProcess::Reconfigure(std::string extra_config) {
  extra_config_ = std::move(extra_config);
  ASSERT_NO_FATAL_FAILURE(WriteConfig());
}

void HavendProcess::Init() {
  ASSERT_NO_FATAL_FAILURE(WriteConfig());
  const std::string out = path("init.out");
  pid_t pid = Spawn({HAVEND_PATH, "init", "--config", path("haven.conf")}, out, log_path());
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_TRUE(WaitFor(pid, kStartTimeout, &status)) << "havend init did not finish";
  std::string printed = ReadFile(out);
  ASSERT_TRUE(ExitedCleanly(status)) << "havend init " << DescribeWaitStatus(status) << "\n"
                                     << printed << ReadLog();
  constexpr char kLabel[] = "one-time password: ";
  size_t at = printed.find(kLabel);
  ASSERT_NE(at, std::string::npos) << printed;
  size_t begin = at + sizeof(kLabel) - 1;
  one_time_password_ = printed.substr(begin, printed.find('\n', begin) - begin);
  ASSERT_FALSE(one_time_password_.empty()) << printed;
  ASSERT_NE(printed.find("username:          admin"), std::string::npos) << printed;
}

int HavendProcess::RunCommand(const std::string& command, std::string* out) {
  const std::string printed = path(command + ".out");
  pid_t pid = Spawn({HAVEND_PATH, command, "--config", path("haven.conf")}, printed, log_path());
  int status = -1;
  EXPECT_GT(pid, 0);
  if (pid > 0) {
    EXPECT_TRUE(WaitFor(pid, kStartTimeout, &status)) << "havend " << command << " hangs";
  }
  *out = ReadFile(printed);
  return status;
}

void HavendProcess::Start() {
  ASSERT_FALSE(running()) << "havend is already running";
  const std::string port_file = path("havend.port");
  unlink(port_file.c_str());  // the last run's ports are stale
  pid_t pid = Spawn({HAVEND_PATH, "--config", path("haven.conf")}, "", log_path());
  ASSERT_GT(pid, 0);
  pid_ = pid;
  const auto deadline = Clock::now() + kStartTimeout;
  while (true) {
    std::ifstream in(port_file);
    if (in >> port_ >> mtls_port_ && port_ > 0) break;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL() << "havend " << DescribeWaitStatus(status) << " before listening:\n"
             << Tail(ReadLog());
    }
    if (Clock::now() > deadline) {
      Kill();
      FAIL() << "havend wrote no port file within " << kStartTimeout.count() << " s:\n"
             << Tail(ReadLog());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  channel_ = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port_),
                                       grpc::InsecureChannelCredentials(), args);
  ASSERT_TRUE(channel_->WaitForConnected(std::chrono::system_clock::now() + kCallDeadline))
      << "cannot connect to havend on port " << port_;
}

int HavendProcess::Terminate() {
  if (!running()) {
    ADD_FAILURE() << "Terminate: havend is not running";
    return -1;
  }
  channel_.reset();
  kill(pid_, SIGTERM);
  int status = 0;
  if (!WaitFor(pid_, kStopTimeout, &status)) {
    ADD_FAILURE() << "havend did not exit within " << kStopTimeout.count()
                  << " s of SIGTERM; killing it";
    Kill();
    return -1;
  }
  pid_ = -1;
  return status;
}

void HavendProcess::Kill() {
  if (!running()) return;
  channel_.reset();
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string HavendProcess::ReadLog() const { return ReadFile(log_path()); }

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

bool ExitedCleanly(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

// ---------------------------------------------------------------- clients

Client::Client(const std::shared_ptr<grpc::Channel>& channel)
    : admin(v1::AdminService::NewStub(channel)),
      cases(v1::CaseService::NewStub(channel)),
      audit(v1::AuditService::NewStub(channel)),
      identification(v1::IdentificationService::NewStub(channel)),
      hotline(v1::HotlineService::NewStub(channel)),
      referrals(v1::ReferralService::NewStub(channel)) {}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token, const std::string& purpose) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  if (!purpose.empty()) ctx->AddMetadata("x-haven-purpose", purpose);
  return ctx;
}

std::string Describe(const grpc::Status& status) {
  static const char* const kNames[] = {
      "OK",        "CANCELLED",          "UNKNOWN",        "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",  "ALREADY_EXISTS", "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",       "UNAVAILABLE",    "DATA_LOSS",
      "UNAUTHENTICATED"};
  int code = static_cast<int>(status.error_code());
  std::string name = code >= 0 && code <= 16 ? kNames[code] : std::to_string(code);
  return name + ": " + status.error_message();
}

void Activate(Client& client, const std::string& username, const std::string& one_time_password,
              Actor* out) {
  v1::LoginRequest login;
  login.set_username(username);
  login.set_password(one_time_password);
  v1::LoginResponse session;
  grpc::Status s = client.admin->Login(Ctx("", "").get(), login, &session);
  ASSERT_TRUE(s.ok()) << "login " << username << ": " << Describe(s);
  ASSERT_TRUE(session.password_change_required()) << username;
  ASSERT_FALSE(session.token().empty());

  // Until the password is changed only ChangePassword, Logout and WhoAmI work.
  v1::ListOrganisationsResponse orgs;
  s = client.admin->ListOrganisations(Ctx(session.token()).get(), v1::ListOrganisationsRequest(),
                                      &orgs);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(s);

  v1::ChangePasswordRequest change;
  change.set_current_password(one_time_password);
  change.set_new_password("e2e-password-of-" + username);
  v1::ChangePasswordResponse changed;
  s = client.admin->ChangePassword(Ctx(session.token()).get(), change, &changed);
  ASSERT_TRUE(s.ok()) << "change password of " << username << ": " << Describe(s);

  out->username = username;
  out->password = change.new_password();
  out->token = session.token();
  out->user_id = session.user().id();
  out->organisation_id = session.user().organisation_id();
  ASSERT_FALSE(out->user_id.empty());
}

void SetUpAdministrator(const HavendProcess& havend, Client& client, Actor* admin) {
  ASSERT_NO_FATAL_FAILURE(Activate(client, "admin", havend.admin_one_time_password(), admin));
}

void CreateOrganisation(Client& client, const Actor& admin, const std::string& name,
                        v1::OrganisationType type, std::string* id) {
  v1::CreateOrganisationRequest request;
  request.mutable_organisation()->set_display_name(name);
  request.mutable_organisation()->set_type(type);
  request.mutable_organisation()->set_country("NL");
  v1::Organisation org;
  grpc::Status s = client.admin->CreateOrganisation(Ctx(admin.token).get(), request, &org);
  ASSERT_TRUE(s.ok()) << "create organisation " << name << ": " << Describe(s);
  ASSERT_EQ(org.id().size(), 32u);
  *id = org.id();
}

void CreateUser(Client& client, const Actor& admin, const std::string& organisation_id,
                const std::string& username, v1::Role role, Actor* out) {
  v1::CreateUserRequest request;
  request.mutable_user()->set_organisation_id(organisation_id);
  request.mutable_user()->set_username(username);
  request.mutable_user()->set_display_name("E2E " + username);
  request.mutable_user()->add_roles(role);
  v1::CreateUserResponse created;
  grpc::Status s = client.admin->CreateUser(Ctx(admin.token).get(), request, &created);
  ASSERT_TRUE(s.ok()) << "create user " << username << ": " << Describe(s);
  ASSERT_FALSE(created.initial_password().empty());
  ASSERT_NO_FATAL_FAILURE(Activate(client, username, created.initial_password(), out));
  ASSERT_EQ(out->organisation_id, organisation_id);
}

void SetUpTeam(Client& client, const Actor& admin, const std::string& name,
               v1::OrganisationType type,
               const std::vector<std::pair<std::string, v1::Role>>& users, Team* out) {
  ASSERT_NO_FATAL_FAILURE(CreateOrganisation(client, admin, name, type, &out->organisation_id));
  for (const auto& [username, role] : users) {
    Actor actor;
    ASSERT_NO_FATAL_FAILURE(CreateUser(client, admin, out->organisation_id, username, role, &actor));
    out->users.push_back(std::move(actor));
  }
}

grpc::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel, std::string* response) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  grpc::Slice empty("");  // HealthCheckRequest{service: ""} serializes to no bytes
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer reply;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &reply,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();
  response->clear();
  if (status.ok()) {
    std::vector<grpc::Slice> slices;
    if (!reply.Dump(&slices).ok()) return grpc::Status(grpc::StatusCode::INTERNAL, "bad reply");
    for (const grpc::Slice& slice : slices) {
      response->append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
  }
  return status;
}

grpc::Status ListServicesByReflection(const std::shared_ptr<grpc::Channel>& channel,
                                      std::string* response) {
  response->clear();
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                               &cq);
  // One operation at a time; each returns whether it succeeded.
  auto step = [&cq](auto op) {
    int tag = 0;
    op(&tag);
    void* got = nullptr;
    bool ok = false;
    return cq.Next(&got, &ok) && got == &tag && ok;
  };
  grpc::Slice list_services(std::string("\x3a\x00", 2));  // ServerReflectionRequest{list_services: ""}
  grpc::ByteBuffer request(&list_services, 1);
  grpc::ByteBuffer reply;
  bool sent = step([&](void* tag) { call->StartCall(tag); }) &&
              step([&](void* tag) { call->Write(request, tag); }) &&
              step([&](void* tag) { call->WritesDone(tag); });
  bool received = sent && step([&](void* tag) { call->Read(&reply, tag); });
  grpc::Status status;
  step([&](void* tag) { call->Finish(&status, tag); });
  cq.Shutdown();
  void* ignored_tag;
  bool ignored_ok;
  while (cq.Next(&ignored_tag, &ignored_ok)) {
  }
  if (status.ok() && received) {
    std::vector<grpc::Slice> slices;
    if (reply.Dump(&slices).ok()) {
      for (const grpc::Slice& slice : slices) {
        response->append(reinterpret_cast<const char*>(slice.begin()), slice.size());
      }
    }
  } else if (status.ok()) {
    return grpc::Status(grpc::StatusCode::UNKNOWN, "the reflection stream returned no response");
  }
  return status;
}

// ---------------------------------------------------------------- ports and mTLS

int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

void MakeCertificates(const std::string& dir, const std::vector<std::string>& cas,
                      const std::vector<CertificateSpec>& certificates) {
  const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
  std::string script = "set -e; cd '" + dir + "'\n";
  script += "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n"
            "extendedKeyUsage=serverAuth,clientAuth\\n' > server.ext\n";
  script += "printf 'extendedKeyUsage=clientAuth\\n' > client.ext\n";
  for (const std::string& ca : cas) {
    script += "openssl req -x509 " + key + " -keyout " + ca + ".key -out " + ca +
              ".crt -subj '/CN=Haven E2E " + ca + "' -days 2\n";
  }
  for (const CertificateSpec& c : certificates) {
    const std::string ext = c.use == CertificateUse::kServer ? "server.ext" : "client.ext";
    script += "openssl req " + key + " -keyout " + c.name + ".key -out " + c.name +
              ".csr -subj '/CN=" + c.name + "'\n";
    script += "openssl x509 -req -in " + c.name + ".csr -CA " + c.ca + ".crt -CAkey " + c.ca +
              ".key -CAcreateserial -out " + c.name + ".crt -days 2 -extfile " + ext + "\n";
    script += "openssl x509 -in " + c.name + ".crt -outform der | sha256sum | cut -d' ' -f1 > " +
              c.name + ".sha256\n";
    script += "openssl x509 -in " + c.name + ".crt -pubkey -noout | openssl pkey -pubin -outform "
              "der | sha256sum | cut -d' ' -f1 > " + c.name + ".pubkey.sha256\n";
  }
  {
    std::ofstream out(dir + "/make-certs.sh");
    out << script;
  }
  ASSERT_EQ(RunShell("sh '" + dir + "/make-certs.sh' > '" + dir + "/openssl.out' 2>&1"), 0)
      << ReadFile(dir + "/openssl.out");
}

std::shared_ptr<grpc::Channel> MtlsChannel(int port, const std::string& cert,
                                           const std::string& ca_file) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadFile(ca_file);
  options.pem_private_key = ReadFile(cert + ".key");
  options.pem_cert_chain = ReadFile(cert + ".crt");
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::SslCredentials(options), args);
}

// ---------------------------------------------------------------- files

int RunShell(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file()) files.push_back(it->path().string());
  }
  return files;
}

std::string RandomString(size_t n, const std::string& alphabet) {
  static std::mt19937_64 rng(std::random_device{}());
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string out;
  for (size_t i = 0; i < n; ++i) out.push_back(alphabet[pick(rng)]);
  return out;
}

std::vector<std::string> FilesContaining(const std::string& dir,
                                         const std::vector<std::string>& needles) {
  std::vector<std::string> hits;
  for (const std::string& file : FilesUnder(dir)) {
    const std::string bytes = ReadFile(file);
    for (const std::string& needle : needles) {
      if (bytes.find(needle) != std::string::npos) {
        hits.push_back(file + " (holds \"" + needle + "\")");
        break;
      }
    }
  }
  return hits;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

google::protobuf::Timestamp SecondsFromNow(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count() +
                seconds);
  return t;
}

}  // namespace haven::e2e
