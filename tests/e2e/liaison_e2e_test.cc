// LiaisonService end to end: the real havend's mutual-TLS listener refusing
// every certificate but a mapped, valid one; law-enforcement systems kept to
// LiaisonService and other systems kept out of it; and the example client
// (clients/liaison) referring, watching across a havend restart, and asking
// for a disclosure that a supervisor approves.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/time/clock.h"

#include "haven/v1/liaison.grpc.pb.h"
#include "tests/e2e/havend_process.h"

namespace haven::e2e {
namespace {

namespace v1 = haven::v1;
using grpc::StatusCode;
using ::testing::HasSubstr;

std::string MtlsConfig(const std::string& receiving_organisation_id, int port = 0) {
  std::string config =
      "mtls_listen_address: \"127.0.0.1:" + std::to_string(port) + "\"\n"
      "mtls { certificate_file: \"server.crt\" private_key_file: \"server.key\" "
      "client_ca_file: \"ca.crt\" }\n";
  if (!receiving_organisation_id.empty()) {
    config += "liaison_receiving_organisation_id: \"" + receiving_organisation_id + "\"\n";
  }
  return config;
}

// "key=value key=value" into a map (the example client's output lines).
std::map<std::string, std::string> Fields(const std::string& line) {
  std::map<std::string, std::string> out;
  std::istringstream in(line);
  std::string word;
  while (in >> word) {
    size_t eq = word.find('=');
    if (eq != std::string::npos) out[word.substr(0, eq)] = word.substr(eq + 1);
  }
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

class LiaisonE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    havend_ = std::make_unique<HavendProcess>(MtlsConfig(""));
    // The server's certificate; "shelter-system" from its CA, "unregistered"
    // from it too but mapped to no account, "stranger" from a CA it does not
    // know, and "expired", from its CA but no longer valid. The police
    // system's certificate is made by deploy/make-dev-certs.sh with that CA.
    ASSERT_NO_FATAL_FAILURE(MakeCertificates(havend_->dir(), {"ca", "other-ca"},
                                             {{"server", "ca", CertificateUse::kServer},
                                              {"shelter-system", "ca", CertificateUse::kClient},
                                              {"unregistered", "ca", CertificateUse::kClient},
                                              {"stranger", "other-ca", CertificateUse::kClient}}));
    ASSERT_EQ(RunShell("cd '" + havend_->dir() +
                       "' && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                       "-keyout expired.key -out expired.csr -subj '/CN=expired' > openssl-expired.log 2>&1 "
                       "&& printf 'extendedKeyUsage=clientAuth\\n' > expired.ext "
                       "&& openssl x509 -req -in expired.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
                       "-out expired.crt -days -1 -extfile expired.ext >> openssl-expired.log 2>&1 "
                       "&& openssl x509 -in expired.crt -outform DER | sha256sum | cut -d' ' -f1 "
                       "> expired.sha256"),
              0);
    ASSERT_EQ(RunShell("sh '" HAVEN_SOURCE_DIR "/deploy/make-dev-certs.sh' '" + havend_->dir() +
                       "' police > '" + havend_->path("make-dev-certs.log") + "' 2>&1"),
              0)
        << ReadFile(havend_->path("make-dev-certs.log"));
    ASSERT_NO_FATAL_FAILURE(havend_->Init());
    ASSERT_NO_FATAL_FAILURE(Restart());
    ASSERT_NO_FATAL_FAILURE(SetUpAdministrator(*havend_, *client_, &admin_));

    ASSERT_NO_FATAL_FAILURE(CreateOrganisation(*client_, admin_, "National Police",
                                               v1::ORGANISATION_TYPE_LAW_ENFORCEMENT, &police_));
    ASSERT_NO_FATAL_FAILURE(SetUpTeam(*client_, admin_, "Safe Harbour", v1::ORGANISATION_TYPE_NGO,
                                      {{"worker.a", v1::ROLE_CASEWORKER},
                                       {"lead.a", v1::ROLE_SUPERVISOR},
                                       {"audit.a", v1::ROLE_AUDITOR}},
                                      &shelter_));
    ASSERT_NO_FATAL_FAILURE(Register("police", police_, v1::ROLE_LAW_ENFORCEMENT_LIAISON));
    ASSERT_NO_FATAL_FAILURE(Register("expired", police_, v1::ROLE_LAW_ENFORCEMENT_LIAISON));
    ASSERT_NO_FATAL_FAILURE(
        Register("shelter-system", shelter_.organisation_id, v1::ROLE_CASEWORKER));
    havend_->Reconfigure(MtlsConfig(shelter_.organisation_id));
    ASSERT_NO_FATAL_FAILURE(Terminate());
    ASSERT_NO_FATAL_FAILURE(Restart());
  }

  void TearDown() override {
    if (havend_ != nullptr && havend_->running()) Terminate();
  }

  void Restart() {
    client_.reset();
    ASSERT_NO_FATAL_FAILURE(havend_->Start());
    client_ = std::make_unique<Client>(havend_->channel());
  }

  void Terminate() {
    client_.reset();
    int status = havend_->Terminate();
    EXPECT_TRUE(ExitedCleanly(status)) << "on SIGTERM havend " << DescribeWaitStatus(status);
  }

  void Register(const std::string& cert, const std::string& organisation_id, v1::Role role) {
    std::string fingerprint = ReadFile(havend_->path(cert + ".sha256"));
    fingerprint.erase(fingerprint.find_last_not_of(" \n") + 1);
    ASSERT_EQ(fingerprint.size(), 64u) << fingerprint;
    v1::CreateServiceAccountRequest req;
    v1::ServiceAccount* sa = req.mutable_service_account();
    sa->set_organisation_id(organisation_id);
    sa->set_display_name("System " + cert);
    sa->add_roles(role);
    sa->set_certificate_sha256(fingerprint);
    v1::ServiceAccount out;
    grpc::Status s = client_->admin->CreateServiceAccount(Ctx(admin_.token).get(), req, &out);
    ASSERT_TRUE(s.ok()) << Describe(s);
  }

  std::shared_ptr<grpc::Channel> As(const std::string& cert) {
    return MtlsChannel(havend_->mtls_port(), havend_->path(cert), havend_->path("ca.crt"));
  }

  // The example client as the police system, with `args`.
  std::string ClientCommand(const std::string& args) {
    return std::string(HAVEN_LIAISON_PATH) + " --address 127.0.0.1:" +
           std::to_string(havend_->mtls_port()) + " --cert '" + havend_->path("police.crt") +
           "' --key '" + havend_->path("police.key") + "' --ca '" + havend_->path("ca.crt") + "' " +
           args;
  }

  // Runs the example client as the police system; its stdout.
  std::string RunClient(const std::string& args, int* exit_code = nullptr) {
    const std::string out = havend_->path("client.out");
    const std::string command =
        ClientCommand(args) + " > '" + out + "' 2> '" + havend_->path("client.err") + "'";
    int code = RunShell(command);
    if (exit_code != nullptr) {
      *exit_code = code;
    } else {
      EXPECT_EQ(code, 0) << command << "\n" << ReadFile(havend_->path("client.err"));
    }
    return ReadFile(out);
  }

  // Writes `text` to file `name` in havend's test directory; returns its path.
  std::string WriteTestFile(const std::string& name, const std::string& text) {
    const std::string path = havend_->path(name);
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  }

  std::string CaseIdFromAlert() {
    v1::ListAlertsResponse alerts;
    grpc::Status s = client_->cases->ListAlerts(Ctx(shelter_.users[1].token).get(),
                                                v1::ListAlertsRequest(), &alerts);
    EXPECT_TRUE(s.ok()) << Describe(s);
    for (const auto& a : alerts.alerts()) {
      if (a.kind() == v1::ALERT_KIND_LIAISON_REFERRAL) return a.case_ids(0);
    }
    return "";
  }

  std::unique_ptr<HavendProcess> havend_;
  std::unique_ptr<Client> client_;
  Actor admin_;
  std::string police_;
  Team shelter_;
};

TEST_F(LiaisonE2eTest, OnlyAMappedValidCertificateReachesLiaisonService) {
  v1::AskNonPunishmentRequest req;
  req.set_pseudonym("lp-00112233445566778899aabbccddeeff");
  v1::AskNonPunishmentResponse out;

  // The mapped, valid certificate: answered.
  auto police = v1::LiaisonService::NewStub(As("police"));
  grpc::Status s = police->AskNonPunishment(Ctx("").get(), req, &out);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_FALSE(out.presumed_or_confirmed_victim());

  // No certificate at all: no handshake.
  grpc::SslCredentialsOptions no_cert;
  no_cert.pem_root_certs = ReadFile(havend_->path("ca.crt"));
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  auto anonymous = v1::LiaisonService::NewStub(grpc::CreateCustomChannel(
      "127.0.0.1:" + std::to_string(havend_->mtls_port()), grpc::SslCredentials(no_cert), args));
  s = anonymous->AskNonPunishment(Ctx("").get(), req, &out);
  EXPECT_EQ(s.error_code(), StatusCode::UNAVAILABLE) << Describe(s);

  // A CA the server does not know; a certificate that has expired.
  s = v1::LiaisonService::NewStub(As("stranger"))->AskNonPunishment(Ctx("").get(), req, &out);
  EXPECT_EQ(s.error_code(), StatusCode::UNAVAILABLE) << Describe(s);
  s = v1::LiaisonService::NewStub(As("expired"))->AskNonPunishment(Ctx("").get(), req, &out);
  EXPECT_EQ(s.error_code(), StatusCode::UNAVAILABLE) << Describe(s);

  // From the right CA, valid, but no service account holds it.
  s = v1::LiaisonService::NewStub(As("unregistered"))->AskNonPunishment(Ctx("").get(), req, &out);
  EXPECT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED) << Describe(s);
}

TEST_F(LiaisonE2eTest, LawEnforcementSystemsUseOnlyLiaisonServiceAndOthersCannotUseIt) {
  // The police system may not use CaseService, even to open a case.
  auto police_channel = As("police");
  auto police_cases = v1::CaseService::NewStub(police_channel);
  v1::CreateCaseRequest create;
  create.mutable_subject()->set_given_name("Amina");
  v1::Case made;
  grpc::Status s = police_cases->CreateCase(Ctx("").get(), create, &made);
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("LiaisonService"));
  v1::SearchCasesResponse found;
  s = police_cases->SearchCases(Ctx("").get(), v1::SearchCasesRequest(), &found);
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED) << Describe(s);

  // A shelter's system may not use LiaisonService.
  auto shelter = v1::LiaisonService::NewStub(As("shelter-system"));
  v1::ReferRequest refer;
  refer.mutable_subject()->set_given_name("Amina");
  v1::ReferResponse referred;
  s = shelter->Refer(Ctx("").get(), refer, &referred);
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED) << Describe(s);
  v1::AskNonPunishmentRequest ask;
  ask.set_pseudonym("lp-00112233445566778899aabbccddeeff");
  v1::AskNonPunishmentResponse answer;
  s = shelter->AskNonPunishment(Ctx("").get(), ask, &answer);
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED) << Describe(s);
  grpc::ClientContext watch_ctx;
  auto reader = shelter->Watch(&watch_ctx, v1::WatchRequest());
  v1::LiaisonEvent event;
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_EQ(reader->Finish().error_code(), StatusCode::PERMISSION_DENIED);
}

TEST_F(LiaisonE2eTest, ExampleClientRefersWatchesAcrossARestartAndAsksForADisclosure) {
  const std::string name = "Amina" + RandomString(6, kCanaryAlphabet);
  // The person's details from a file, the observations from standard input:
  // nothing of them on the client's command line.
  const std::string subject = WriteTestFile(
      "subject.txtpb", "given_name: \"" + name +
                           "\"\nfamily_name: \"Okafor\"\nsex: SEX_FEMALE\ncitizenships: \"NG\"\n");
  const std::string observations = WriteTestFile("observations.txt", "Passport held by the boss");
  const std::string command = "refer --subject-file '" + subject +
                              "' --setting labour_inspection --indicator FL-DOCS-WITHHELD "
                              "--form forced_labour --observations-file -";
  EXPECT_EQ(command.find(name), std::string::npos);
  std::string out = RunClient(command + " < '" + observations + "'");
  const std::string pseudonym = Fields(out)["pseudonym"];
  ASSERT_EQ(pseudonym.size(), 35u) << out;
  const std::string case_id = CaseIdFromAlert();
  ASSERT_FALSE(case_id.empty());

  // The shelter takes the case on.
  const Actor& worker = shelter_.users[0];
  const Actor& lead = shelter_.users[1];
  v1::AssignCaseRequest assign;
  assign.set_case_id(case_id);
  assign.add_assignee_ids(worker.user_id);
  v1::Case ignored;
  grpc::Status s = client_->cases->AssignCase(Ctx(lead.token).get(), assign, &ignored);
  ASSERT_TRUE(s.ok()) << Describe(s);

  // The client follows: two events, its position kept in a file.
  const std::string state = havend_->path("watch.position");
  std::vector<std::string> lines = Lines(RunClient("watch --state-file '" + state + "' --count 2"));
  ASSERT_EQ(lines.size(), 2u) << ReadFile(havend_->path("client.err"));
  EXPECT_EQ(Fields(lines[0])["sequence"], "1");
  EXPECT_EQ(Fields(lines[0])["kind"], "LIAISON_EVENT_RECEIVED");
  EXPECT_EQ(Fields(lines[0])["pseudonym"], pseudonym);
  EXPECT_EQ(Fields(lines[1])["sequence"], "2");
  EXPECT_EQ(Fields(lines[1])["kind"], "LIAISON_EVENT_ACCEPTED");

  // havend restarts; the case is closed meanwhile; the client resumes from
  // its position: the closure, once, nothing before it again.
  ASSERT_NO_FATAL_FAILURE(Terminate());
  ASSERT_NO_FATAL_FAILURE(Restart());
  v1::CloseCaseRequest close;
  close.set_case_id(case_id);
  close.set_reason(v1::CLOSURE_REASON_SERVICES_COMPLETED);
  s = client_->cases->CloseCase(Ctx(worker.token).get(), close, &ignored);
  ASSERT_TRUE(s.ok()) << Describe(s);
  lines = Lines(RunClient("watch --state-file '" + state + "' --count 1"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Fields(lines[0])["sequence"], "3");
  EXPECT_EQ(Fields(lines[0])["kind"], "LIAISON_EVENT_CLOSED");
  EXPECT_EQ(Lower(ReadFile(state)).substr(0, 1), "3");

  // Pseudonymous only, until a disclosure runs.
  out = RunClient("case --pseudonym " + pseudonym);
  EXPECT_EQ(Fields(out)["given_name"], "") << out;
  EXPECT_EQ(Fields(out)["status"], "CASE_STATUS_CLOSED") << out;

  // A disclosure with no consent recorded is refused; with it, it waits for
  // the shelter's supervisor.
  int code = 0;
  RunClient("disclose --pseudonym " + pseudonym + " --basis consent", &code);
  EXPECT_NE(code, 0);
  v1::RecordConsentRequest consent;
  consent.set_case_id(case_id);
  consent.mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT);
  consent.mutable_consent()->set_given(true);
  consent.mutable_consent()->set_language("en");
  v1::Consent recorded;
  s = client_->cases->RecordConsent(Ctx(worker.token).get(), consent, &recorded);
  ASSERT_TRUE(s.ok()) << Describe(s);
  out = RunClient("disclose --pseudonym " + pseudonym +
                  " --basis consent --class identifying --class narrative --days 7");
  std::map<std::string, std::string> disclosure = Fields(out);
  ASSERT_EQ(disclosure["state"], "DISCLOSURE_STATE_AWAITING_APPROVAL") << out;
  v1::ApproveGrantRequest approve;
  approve.set_case_id(case_id);
  approve.set_grant_id(disclosure["disclosure"]);
  v1::Grant grant;
  s = client_->cases->ApproveGrant(Ctx(lead.token).get(), approve, &grant);
  ASSERT_TRUE(s.ok()) << Describe(s);
  out = RunClient("case --pseudonym " + pseudonym);
  EXPECT_EQ(Fields(out)["given_name"], name) << out;
  EXPECT_THAT(out, HasSubstr("state=DISCLOSURE_STATE_APPROVED"));
  // What the client read from a file and from standard input arrived.
  v1::GetLiaisonCaseRequest get;
  get.set_pseudonym(pseudonym);
  v1::LiaisonCase seen;
  s = v1::LiaisonService::NewStub(As("police"))->GetCase(Ctx("").get(), get, &seen);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(seen.subject().sex(), v1::SEX_FEMALE);
  EXPECT_EQ(seen.subject().family_name(), "Okafor");
  EXPECT_EQ(seen.report().observations(), "Passport held by the boss");

  // Asking by name: the name from a file too; names on the command line are refused.
  const std::string asked = WriteTestFile("name.txtpb", "given_name: \"" + name +
                                                            "\" family_name: \"Okafor\"");
  out = RunClient("ask --name-file '" + asked + "'");
  EXPECT_EQ(Fields(out)["presumed_or_confirmed_victim"], "no") << out;  // not identified yet
  RunClient("ask --given-name " + name + " --family-name Okafor", &code);
  EXPECT_EQ(code, 2);
  EXPECT_THAT(ReadFile(havend_->path("client.err")), HasSubstr("--name-file"));

  // The disclosure is in the audit log with its basis.
  v1::QueryAuditEntriesRequest query;
  query.set_case_id(case_id);
  query.set_page_size(1000);
  v1::QueryAuditEntriesResponse audit;
  s = client_->audit->QueryAuditEntries(Ctx(shelter_.users[2].token).get(), query, &audit);
  ASSERT_TRUE(s.ok()) << Describe(s);
  bool with_basis = false;
  for (const auto& e : audit.entries()) {
    with_basis = with_basis ||
                 (e.action() == "liaison.get_case" && e.lawful_basis() == "LAWFUL_BASIS_CONSENT");
  }
  EXPECT_TRUE(with_basis);

  // The name never reaches havend's log, nor, in clear, its files.
  EXPECT_EQ(havend_->ReadLog().find(name), std::string::npos);
  ASSERT_NO_FATAL_FAILURE(Terminate());
  const std::string canary = name.substr(5);  // the random part
  EXPECT_THAT(FilesContaining(havend_->data_dir(), {canary, Lower(canary)}), ::testing::IsEmpty());
}

// Waits up to 30 s for `path` to hold at least `n` lines; returns them.
std::vector<std::string> WaitForLines(const std::string& path, size_t n) {
  std::vector<std::string> lines;
  for (int i = 0; i < 300; ++i) {
    lines = Lines(ReadFile(path));
    if (lines.size() >= n) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return lines;
}

TEST_F(LiaisonE2eTest, AWatchingClientRidesThroughAHavendRestartWithNothingLostOrRepeated) {
  // A fixed port, so that the client finds havend again after the restart.
  havend_->Reconfigure(MtlsConfig(shelter_.organisation_id, PickFreePort()));
  ASSERT_NO_FATAL_FAILURE(Terminate());
  ASSERT_NO_FATAL_FAILURE(Restart());
  const std::string subject =
      WriteTestFile("subject.txtpb", "given_name: \"Amina\" family_name: \"Okafor\"");
  const std::string pseudonym =
      Fields(RunClient("refer --subject-file - < '" + subject + "'"))["pseudonym"];
  ASSERT_FALSE(pseudonym.empty());
  const std::string case_id = CaseIdFromAlert();

  // The client watches in the background, for three events.
  const std::string out = havend_->path("live.out");
  ASSERT_EQ(RunShell(ClientCommand("watch --state-file '" + havend_->path("live.position") +
                                   "' --count 3") +
                     " > '" + out + "' 2> '" + havend_->path("live.err") + "' & echo $! > '" +
                     havend_->path("live.pid") + "'"),
            0);
  ASSERT_EQ(WaitForLines(out, 1).size(), 1u) << ReadFile(havend_->path("live.err"));

  // havend stops with the stream open: the stream ends at once rather than
  // holding the shutdown to its grace period.
  const absl::Time stopping = absl::Now();
  ASSERT_NO_FATAL_FAILURE(Terminate());
  const absl::Duration shutdown = absl::Now() - stopping;
  EXPECT_LT(shutdown, absl::Seconds(9));
  RecordProperty("shutdown_with_open_watch_ms", std::to_string(absl::ToInt64Milliseconds(shutdown)));
  std::cerr << "havend stopped in " << absl::FormatDuration(shutdown) << " with a Watch open\n";
  ASSERT_NO_FATAL_FAILURE(Restart());
  const Actor& worker = shelter_.users[0];
  const Actor& lead = shelter_.users[1];
  v1::AssignCaseRequest assign;
  assign.set_case_id(case_id);
  assign.add_assignee_ids(worker.user_id);
  v1::Case ignored;
  grpc::Status s = client_->cases->AssignCase(Ctx(lead.token).get(), assign, &ignored);
  ASSERT_TRUE(s.ok()) << Describe(s);
  v1::CloseCaseRequest close;
  close.set_case_id(case_id);
  close.set_reason(v1::CLOSURE_REASON_SERVICES_COMPLETED);
  s = client_->cases->CloseCase(Ctx(worker.token).get(), close, &ignored);
  ASSERT_TRUE(s.ok()) << Describe(s);

  std::vector<std::string> lines = WaitForLines(out, 3);
  ASSERT_EQ(lines.size(), 3u) << ReadFile(havend_->path("live.err"));
  EXPECT_EQ(Fields(lines[0])["sequence"], "1");
  EXPECT_EQ(Fields(lines[0])["kind"], "LIAISON_EVENT_RECEIVED");
  EXPECT_EQ(Fields(lines[1])["sequence"], "2");
  EXPECT_EQ(Fields(lines[1])["kind"], "LIAISON_EVENT_ACCEPTED");
  EXPECT_EQ(Fields(lines[2])["sequence"], "3");
  EXPECT_EQ(Fields(lines[2])["kind"], "LIAISON_EVENT_CLOSED");
  for (const std::string& line : lines) EXPECT_EQ(Fields(line)["pseudonym"], pseudonym);
  EXPECT_THAT(ReadFile(havend_->path("live.err")), HasSubstr("resuming after 1"));
  // The client has what it asked for and leaves.
  std::string pid = ReadFile(havend_->path("live.pid"));
  pid.erase(pid.find_last_not_of(" \n") + 1);
  ASSERT_FALSE(pid.empty());
  for (int i = 0; i < 100 && RunShell("kill -0 " + pid + " 2>/dev/null") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(RunShell("kill -0 " + pid + " 2>/dev/null"), 0);
}

}  // namespace
}  // namespace haven::e2e
