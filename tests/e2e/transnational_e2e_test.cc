// End-to-end test of transnational referrals: two real havend processes linked over mutual TLS.
#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <sstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "haven/v1/config.pb.h"
#include "haven/v1/partner.grpc.pb.h"
#include "haven/v1/protection.grpc.pb.h"
#include "haven/v1/repatriation.grpc.pb.h"
#include "tests/e2e/havend_process.h"

namespace haven::e2e {
namespace {

namespace v1 = haven::v1;
using grpc::StatusCode;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

// How long a packet or a status change may take to cross the border.
constexpr std::chrono::seconds kDeliveryTimeout(30);

constexpr int64_t kDay = 24 * 60 * 60;

// Personal data that must never be on disk or in a log in plaintext: the
// subject's names and the note on the subject's consent.
struct Canaries {
  std::string given = RandomString(16, kCanaryAlphabet);
  std::string family = RandomString(16, kCanaryAlphabet);
  std::string note = RandomString(16, kCanaryAlphabet);
  std::string interpreter = RandomString(16, kCanaryAlphabet);

  std::string given_name() const { return "Given" + given; }
  std::string family_name() const { return "Family" + family; }
  std::string consent_note() const { return "Note" + note; }
  std::string interpreter_name() const { return "Interpreter" + interpreter; }
  std::vector<std::string> needles() const {
    return {given, Lower(given), family, Lower(family), note, Lower(note),
            interpreter, Lower(interpreter)};
  }
};

// A subject named by the canaries, with pseudonymous facts besides.
v1::Subject CanarySubject(const Canaries& canaries) {
  v1::Subject s;
  s.set_given_name(canaries.given_name());
  s.set_family_name(canaries.family_name());
  s.set_sex(v1::SEX_FEMALE);
  s.mutable_date_of_birth()->set_year(2001);
  s.mutable_date_of_birth()->set_month(3);
  s.mutable_date_of_birth()->set_day(9);
  s.add_citizenships("RO");
  s.add_languages("ro");
  return s;
}

// The data scopes of the referrals: without and with the subject's identity.
std::vector<v1::ConfidentialityClass> PseudonymousScope() {
  return {v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS};
}
std::vector<v1::ConfidentialityClass> IdentifyingScope() {
  return {v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS,
          v1::CONFIDENTIALITY_IDENTIFYING};
}

// Polls `done` every 100 ms until it holds or `timeout` passes; returns
// whether it held.
bool Eventually(const std::function<bool()>& done,
                std::chrono::steady_clock::duration timeout = kDeliveryTimeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

// One partners { ... } entry: the partner's mTLS listener on 127.0.0.1:`port`,
// its certificates signed by the CA in `ca_file` for the key pinned in
// `pin_file` (a .pubkey.sha256 of MakeCertificates).
v1::PartnerConfig Partner(const std::string& id, const std::string& display_name,
                          const std::string& country, int port, const std::string& ca_file,
                          const std::string& pin_file) {
  v1::PartnerConfig p;
  std::string pin = ReadFile(pin_file);
  pin.erase(pin.find_last_not_of(" \n") + 1);
  p.add_public_key_sha256(pin);
  p.set_id(id);
  p.set_display_name(display_name);
  p.set_country(country);
  p.set_address("127.0.0.1:" + std::to_string(port));
  p.set_ca_file(ca_file);
  p.set_server_name("localhost");
  return p;
}

// The referral's timeline summaries of REFERRED events that name `referral_id`.
std::vector<std::string> ReferralEvents(const v1::ListTimelineResponse& timeline,
                                        const std::string& referral_id) {
  std::vector<std::string> summaries;
  for (const v1::TimelineEvent& e : timeline.events()) {
    if (e.kind() == v1::TIMELINE_EVENT_REFERRED &&
        e.summary().find(referral_id) != std::string::npos) {
      summaries.push_back(e.summary());
    }
  }
  return summaries;
}

// Whether any of `texts` holds `word` in any case ("accepted" matches
// "REFERRAL_STATUS_ACCEPTED").
bool AnyHolds(const std::vector<std::string>& texts, const std::string& word) {
  for (const std::string& t : texts) {
    if (Lower(t).find(word) != std::string::npos) return true;
  }
  return false;
}

// The lines of `log` that hold every one of `words`.
std::vector<std::string> LinesWith(const std::string& log, const std::vector<std::string>& words) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    bool all = true;
    for (const std::string& w : words) all = all && line.find(w) != std::string::npos;
    if (all) lines.push_back(line);
  }
  return lines;
}

// A ReferralService call that moves a referral along its life cycle.
using Transition = grpc::Status (v1::ReferralService::Stub::*)(
    grpc::ClientContext*, const v1::ReferralTransitionRequest&, v1::Referral*);

// Two mechanisms linked over mutual TLS: "de" in Germany, which knows "ro"
// as partner "nrm-ro" (and, through a CA that did not sign ro's certificate,
// as the untrusted "nrm-xx"), and "ro" in Romania, which knows "de" as
// "nrm-de". Each has its own CA for its mTLS certificate, another for its
// local service accounts, and one organisation whose caseworker refers and
// receives the partner's referrals.
class TransnationalTest : public ::testing::Test {
 protected:
  // One mechanism: its havend, a client of its session-token listener, and
  // its organisation (team.users[0] is the caseworker).
  struct Mechanism {
    std::unique_ptr<HavendProcess> havend;
    std::unique_ptr<Client> client;
    int mtls_port = 0;
    Actor admin;
    Team team;
    const Actor& caseworker() const { return team.users[0]; }
    std::string file(const std::string& name) const { return havend->path(name); }
  };

  void SetUp() override {
    de_.mtls_port = PickFreePort();
    ro_.mtls_port = PickFreePort();
    ASSERT_GT(de_.mtls_port, 0);
    ASSERT_GT(ro_.mtls_port, 0);
    ASSERT_NE(de_.mtls_port, ro_.mtls_port);
    de_.havend = std::make_unique<HavendProcess>();
    ro_.havend = std::make_unique<HavendProcess>();
    ASSERT_NO_FATAL_FAILURE(MakeCertificates(de_.havend->dir(), {"ca", "client-ca", "unrelated-ca"},
                                             {{"server", "ca", CertificateUse::kServer}}));
    ASSERT_NO_FATAL_FAILURE(MakeCertificates(
        ro_.havend->dir(), {"ca", "client-ca", "stranger-ca"},
        {{"server", "ca", CertificateUse::kServer},
         {"local-client", "client-ca", CertificateUse::kClient},
         {"stranger", "stranger-ca", CertificateUse::kClient}}));

    // The partners' inboxes are organisations, which exist only once havend
    // runs: start without them, then configure them and start again.
    ASSERT_NO_FATAL_FAILURE(Configure());
    ASSERT_NO_FATAL_FAILURE(Boot(de_, "Beratungsstelle Berlin", "de.worker"));
    ASSERT_NO_FATAL_FAILURE(Boot(ro_, "Casa Speranta Bucuresti", "ro.worker"));
    ASSERT_NO_FATAL_FAILURE(Stop(de_));
    ASSERT_NO_FATAL_FAILURE(Stop(ro_));
    ASSERT_NO_FATAL_FAILURE(Configure());
    ASSERT_NO_FATAL_FAILURE(Start(de_));
    ASSERT_NO_FATAL_FAILURE(Start(ro_));
  }

  // Writes both configs; each partner's referrals go to the organisation of
  // the mechanism receiving them (none before Boot).
  void Configure() {
    v1::PartnerConfig ro = Partner("nrm-ro", "Romanian NRM", "RO", ro_.mtls_port,
                                   ro_.file("ca.crt"), ro_.file("server.pubkey.sha256"));
    // The right key, under a CA that did not sign it.
    v1::PartnerConfig xx = Partner("nrm-xx", "Untrusted NRM", "BG", ro_.mtls_port,
                                   de_.file("unrelated-ca.crt"), ro_.file("server.pubkey.sha256"));
    v1::PartnerConfig de = Partner("nrm-de", "German NRM", "DE", de_.mtls_port,
                                   de_.file("ca.crt"), de_.file("server.pubkey.sha256"));
    ro.set_inbox_organisation_id(de_.team.organisation_id);
    xx.set_inbox_organisation_id(de_.team.organisation_id);
    de.set_inbox_organisation_id(ro_.team.organisation_id);
    ASSERT_NO_FATAL_FAILURE(de_.havend->Reconfigure(MechanismConfig(de_, {ro, xx})));
    ASSERT_NO_FATAL_FAILURE(ro_.havend->Reconfigure(MechanismConfig(ro_, {de})));
  }

  // The mTLS listener on the mechanism's fixed port with its certificate,
  // and its partners.
  static std::string MechanismConfig(const Mechanism& m,
                                     const std::vector<v1::PartnerConfig>& partners) {
    v1::ServerConfig config;
    config.set_mtls_listen_address("127.0.0.1:" + std::to_string(m.mtls_port));
    config.mutable_mtls()->set_certificate_file(m.file("server.crt"));
    config.mutable_mtls()->set_private_key_file(m.file("server.key"));
    config.mutable_mtls()->set_client_ca_file(m.file("client-ca.crt"));
    for (const v1::PartnerConfig& p : partners) *config.add_partners() = p;
    std::string text;
    google::protobuf::TextFormat::PrintToString(config, &text);
    return text;
  }

  // Init, start, the administrator and one organisation with a caseworker.
  void Boot(Mechanism& m, const std::string& organisation, const std::string& username) {
    ASSERT_NO_FATAL_FAILURE(m.havend->Init());
    ASSERT_NO_FATAL_FAILURE(Start(m));
    ASSERT_NO_FATAL_FAILURE(SetUpAdministrator(*m.havend, *m.client, &m.admin));
    ASSERT_NO_FATAL_FAILURE(SetUpTeam(*m.client, m.admin, organisation, v1::ORGANISATION_TYPE_NGO,
                                      {{username, v1::ROLE_CASEWORKER}}, &m.team));
  }

  void Start(Mechanism& m) {
    ASSERT_NO_FATAL_FAILURE(m.havend->Start());
    ASSERT_EQ(m.havend->mtls_port(), m.mtls_port);
    m.client = std::make_unique<Client>(m.havend->channel());
  }

  void Stop(Mechanism& m) {
    m.client.reset();
    const int status = m.havend->Terminate();
    ASSERT_TRUE(ExitedCleanly(status)) << "on SIGTERM havend " << DescribeWaitStatus(status)
                                       << "\n" << m.havend->ReadLog();
  }

  // A case at `m` for the canary subject, with consent to share it with
  // another country when `consent_abroad`.
  void OpenCase(Mechanism& m, const Canaries& canaries, bool consent_abroad, std::string* case_id) {
    v1::CreateCaseRequest create;
    *create.mutable_subject() = CanarySubject(canaries);
    v1::Case created;
    grpc::Status s = m.client->cases->CreateCase(Ctx(m.caseworker().token).get(), create, &created);
    ASSERT_TRUE(s.ok()) << Describe(s);
    *case_id = created.id();
    if (!consent_abroad) return;
    v1::RecordConsentRequest consent;
    consent.set_case_id(created.id());
    consent.mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_ANOTHER_COUNTRY);
    consent.mutable_consent()->set_given(true);
    consent.mutable_consent()->set_language("ro");
    consent.mutable_consent()->set_interpreter_used(true);
    consent.mutable_consent()->set_notes(canaries.consent_note());
    v1::Consent recorded;
    s = m.client->cases->RecordConsent(Ctx(m.caseworker().token).get(), consent, &recorded);
    ASSERT_TRUE(s.ok()) << Describe(s);
  }

  // A draft referral of `case_id` to the partner `partner_id`.
  void Draft(Mechanism& m, const std::string& case_id, const std::string& partner_id,
             const std::vector<v1::ConfidentialityClass>& scope, v1::ReferralPurpose purpose,
             v1::Referral* out) {
    v1::CreateReferralRequest request;
    v1::Referral* r = request.mutable_referral();
    r->set_case_id(case_id);
    r->set_partner_id(partner_id);
    r->set_purpose(purpose);
    r->set_urgency(v1::URGENCY_URGENT);
    r->set_lawful_basis(v1::LAWFUL_BASIS_CONSENT);
    for (v1::ConfidentialityClass c : scope) r->add_data_scope(c);
    *r->mutable_response_deadline() = SecondsFromNow(7 * kDay);
    request.set_reason("support on return to the country of origin");
    grpc::Status s =
        m.client->referrals->CreateReferral(Ctx(m.caseworker().token).get(), request, out);
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_EQ(out->status(), v1::REFERRAL_STATUS_DRAFT);
    EXPECT_EQ(out->partner_id(), partner_id);
    EXPECT_TRUE(out->receiver_organisation_id().empty()) << out->receiver_organisation_id();
  }

  // Calls a transition as the mechanism's caseworker.
  grpc::Status Move(Mechanism& m, Transition rpc, const std::string& referral_id,
                    v1::Referral* out, const std::string& reason = "") {
    v1::ReferralTransitionRequest request;
    request.set_referral_id(referral_id);
    request.set_reason(reason);
    return (m.client->referrals.get()->*rpc)(Ctx(m.caseworker().token).get(), request, out);
  }

  // Drafts and sends a referral of `case_id` to "nrm-ro".
  void Refer(const std::string& case_id, const std::vector<v1::ConfidentialityClass>& scope,
             v1::Referral* sent) {
    v1::Referral draft;
    ASSERT_NO_FATAL_FAILURE(
        Draft(de_, case_id, "nrm-ro", scope, v1::REFERRAL_PURPOSE_REINTEGRATION, &draft));
    grpc::Status s = Move(de_, &v1::ReferralService::Stub::SendReferral, draft.id(), sent);
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_EQ(sent->status(), v1::REFERRAL_STATUS_SENT);
  }

  grpc::Status FetchReferral(Mechanism& m, const std::string& id, v1::Referral* out) {
    v1::GetReferralRequest get;
    get.set_referral_id(id);
    *out = v1::Referral();
    return m.client->referrals->GetReferral(Ctx(m.caseworker().token).get(), get, out);
  }

  // Polls GetReferral at `m` until `done` holds for referral `id`; *last
  // gets the last answer.
  void Await(Mechanism& m, const std::string& id, const std::string& what,
             const std::function<bool(const v1::Referral&)>& done, v1::Referral* last) {
    grpc::Status s;
    const bool held = Eventually([&] {
      s = FetchReferral(m, id, last);
      return s.ok() && done(*last);
    });
    ASSERT_TRUE(held) << what << " within " << kDeliveryTimeout.count() << " s; last answer "
                      << Describe(s) << " " << last->ShortDebugString() << "\n"
                      << LogTails();
  }

  void AwaitStatus(Mechanism& m, const std::string& id, v1::ReferralStatus status) {
    v1::Referral last;
    ASSERT_NO_FATAL_FAILURE(Await(m, id, "status " + v1::ReferralStatus_Name(status),
                                  [&](const v1::Referral& r) { return r.status() == status; },
                                  &last));
  }

  // Waits until de's referral `id` is delivered to ro.
  void AwaitDelivery(const std::string& id, v1::Referral* delivered) {
    ASSERT_NO_FATAL_FAILURE(Await(de_, id, "delivery to nrm-ro",
                                  [](const v1::Referral& r) { return r.has_deliver_time(); },
                                  delivered));
    EXPECT_EQ(delivered->partner_referral_id().size(), 32u) << delivered->ShortDebugString();
  }

  // ro's inbox.
  void Inbox(std::vector<v1::Referral>* out) {
    v1::ListReferralsRequest request;
    request.set_page_size(500);
    v1::ListReferralsResponse inbox;
    grpc::Status s = ro_.client->referrals->ListInbox(Ctx(ro_.caseworker().token).get(), request,
                                                      &inbox);
    ASSERT_TRUE(s.ok()) << Describe(s);
    out->assign(inbox.referrals().begin(), inbox.referrals().end());
  }

  // The referral in ro's inbox that de knows as `de_referral_id`: exactly one.
  void Received(const std::string& de_referral_id, v1::Referral* out) {
    std::vector<v1::Referral> inbox;
    ASSERT_NO_FATAL_FAILURE(Inbox(&inbox));
    int found = 0;
    for (const v1::Referral& r : inbox) {
      if (r.partner_referral_id() == de_referral_id) {
        *out = r;
        ++found;
      }
    }
    ASSERT_EQ(found, 1) << "ro's inbox holds " << found << " referrals for " << de_referral_id;
  }

  void Timeline(Mechanism& m, const std::string& case_id, v1::ListTimelineResponse* out) {
    v1::ListTimelineRequest request;
    request.set_case_id(case_id);
    request.set_page_size(1000);
    grpc::Status s = m.client->cases->ListTimeline(Ctx(m.caseworker().token).get(), request, out);
    ASSERT_TRUE(s.ok()) << Describe(s);
  }

  void GetCase(Mechanism& m, const std::string& case_id, v1::Case* out) {
    v1::GetCaseRequest get;
    get.set_case_id(case_id);
    grpc::Status s = m.client->cases->GetCase(Ctx(m.caseworker().token).get(), get, out);
    ASSERT_TRUE(s.ok()) << Describe(s);
  }

  std::string LogTails() const {
    auto tail = [](const std::string& log) {
      return log.size() <= 3000 ? log : log.substr(log.size() - 3000);
    };
    return "de's log:\n" + tail(de_.havend->ReadLog()) + "\nro's log:\n" +
           tail(ro_.havend->ReadLog());
  }

  // SIGTERM to both, then the canary scan of both directories (data, logs,
  // config). `controls` are ids each mechanism does store in plain, so that
  // the scan is seen to read what havend wrote.
  void StopBothAndScan(const Canaries& canaries, const std::string& de_control,
                       const std::string& ro_control) {
    ASSERT_NO_FATAL_FAILURE(Stop(de_));
    ASSERT_NO_FATAL_FAILURE(Stop(ro_));
    EXPECT_FALSE(FilesContaining(de_.havend->data_dir(), {de_control}).empty())
        << "the scan cannot find " << de_control << " in de's data directory";
    EXPECT_FALSE(FilesContaining(ro_.havend->data_dir(), {ro_control}).empty())
        << "the scan cannot find " << ro_control << " in ro's data directory";
    for (const Mechanism* m : {&de_, &ro_}) {
      std::vector<std::string> hits = FilesContaining(m->havend->dir(), canaries.needles());
      EXPECT_TRUE(hits.empty()) << "personal data in plaintext:\n"
                                << ::testing::PrintToString(hits);
    }
  }

  Mechanism de_;
  Mechanism ro_;
};

// ---------------------------------------------------------------- 1

TEST_F(TransnationalTest, ReferralsCrossTheBorderWithinConsentAndScope) {
  // Each mechanism lists the other (and de the untrusted one).
  v1::ListPartnersResponse partners;
  grpc::Status s = de_.client->referrals->ListPartners(Ctx(de_.caseworker().token).get(),
                                                       v1::ListPartnersRequest(), &partners);
  ASSERT_TRUE(s.ok()) << Describe(s);
  std::vector<std::string> listed;
  for (const v1::PartnerMechanism& p : partners.partners()) {
    listed.push_back(p.id() + " " + p.country() + " " + p.display_name());
  }
  EXPECT_THAT(listed, UnorderedElementsAre("nrm-ro RO Romanian NRM", "nrm-xx BG Untrusted NRM"));
  s = ro_.client->referrals->ListPartners(Ctx(ro_.caseworker().token).get(),
                                          v1::ListPartnersRequest(), &partners);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(partners.partners_size(), 1);
  EXPECT_EQ(partners.partners(0).id(), "nrm-de");
  EXPECT_EQ(partners.partners(0).country(), "DE");

  const Canaries canaries;
  std::string case_id, unconsented_case_id;
  ASSERT_NO_FATAL_FAILURE(OpenCase(de_, canaries, true, &case_id));
  ASSERT_NO_FATAL_FAILURE(OpenCase(de_, canaries, false, &unconsented_case_id));

  // ------------------------------------------------------------ refused sends
  // Without consent to share with another country; and a return without
  // consent to return.
  v1::Referral unconsented, to_return, refused;
  ASSERT_NO_FATAL_FAILURE(Draft(de_, unconsented_case_id, "nrm-ro", IdentifyingScope(),
                                v1::REFERRAL_PURPOSE_REINTEGRATION, &unconsented));
  s = Move(de_, &v1::ReferralService::Stub::SendReferral, unconsented.id(), &refused);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION) << Describe(s);
  ASSERT_NO_FATAL_FAILURE(
      Draft(de_, case_id, "nrm-ro", IdentifyingScope(), v1::REFERRAL_PURPOSE_RETURN, &to_return));
  s = Move(de_, &v1::ReferralService::Stub::SendReferral, to_return.id(), &refused);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION) << Describe(s);

  // ------------------------------------------------------------ pseudonymous scope
  v1::Referral sent, delivered, received;
  ASSERT_NO_FATAL_FAILURE(Refer(case_id, PseudonymousScope(), &sent));
  ASSERT_NO_FATAL_FAILURE(AwaitDelivery(sent.id(), &delivered));
  ASSERT_NO_FATAL_FAILURE(Received(sent.id(), &received));
  const std::string pseudonymous_id = sent.id();
  EXPECT_EQ(delivered.partner_referral_id(), received.id());
  EXPECT_EQ(received.partner_id(), "nrm-de");
  EXPECT_EQ(received.receiver_organisation_id(), ro_.team.organisation_id);
  EXPECT_TRUE(received.sender_organisation_id().empty()) << received.sender_organisation_id();
  EXPECT_EQ(received.status(), v1::REFERRAL_STATUS_SENT);
  EXPECT_EQ(received.purpose(), v1::REFERRAL_PURPOSE_REINTEGRATION);
  EXPECT_THAT(received.data_scope(),
              ElementsAre(v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS));
  EXPECT_NE(received.case_id(), case_id) << "ro opens a case of its own";
  v1::Case ro_case;
  ASSERT_NO_FATAL_FAILURE(GetCase(ro_, received.case_id(), &ro_case));
  EXPECT_EQ(ro_case.owning_organisation_id(), ro_.team.organisation_id);
  EXPECT_EQ(ro_case.subject().sex(), v1::SEX_FEMALE);
  EXPECT_THAT(ro_case.subject().citizenships(), ElementsAre("RO"));
  EXPECT_THAT(ro_case.subject().languages(), ElementsAre("ro"));
  EXPECT_TRUE(ro_case.subject().given_name().empty()) << "outside the scope";
  EXPECT_TRUE(ro_case.subject().family_name().empty()) << "outside the scope";
  EXPECT_FALSE(ro_case.subject().has_date_of_birth()) << "outside the scope";
  v1::ListConsentsRequest list_consents;
  list_consents.set_case_id(received.case_id());
  v1::ListConsentsResponse consents;
  s = ro_.client->cases->ListConsents(Ctx(ro_.caseworker().token).get(), list_consents, &consents);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(consents.consents_size(), 1) << "the consent the sender recorded travels with the case";
  EXPECT_EQ(consents.consents(0).purpose(), v1::CONSENT_PURPOSE_SHARE_WITH_ANOTHER_COUNTRY);
  EXPECT_TRUE(consents.consents(0).given());
  EXPECT_EQ(consents.consents(0).language(), "ro");
  EXPECT_TRUE(consents.consents(0).notes().empty()) << "narrative, outside the scope";
  const std::string ro_pseudonymous_case = received.case_id();
  const std::string ro_pseudonymous_id = received.id();

  // ------------------------------------------------------------ identifying scope
  ASSERT_NO_FATAL_FAILURE(Refer(case_id, IdentifyingScope(), &sent));
  ASSERT_NO_FATAL_FAILURE(AwaitDelivery(sent.id(), &delivered));
  ASSERT_NO_FATAL_FAILURE(Received(sent.id(), &received));
  const std::string identifying_id = sent.id();
  EXPECT_EQ(delivered.partner_referral_id(), received.id());
  ASSERT_NO_FATAL_FAILURE(GetCase(ro_, received.case_id(), &ro_case));
  EXPECT_EQ(ro_case.subject().given_name(), canaries.given_name());
  EXPECT_EQ(ro_case.subject().family_name(), canaries.family_name());
  EXPECT_EQ(ro_case.subject().date_of_birth().year(), 2001);
  EXPECT_THAT(ro_case.subject().citizenships(), ElementsAre("RO"));
  const std::string ro_identifying_id = received.id();

  // ------------------------------------------------------------ ro answers, de sees it
  v1::Referral moved;
  s = Move(ro_, &v1::ReferralService::Stub::AcknowledgeReferral, ro_pseudonymous_id, &moved);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_NO_FATAL_FAILURE(AwaitStatus(de_, pseudonymous_id, v1::REFERRAL_STATUS_ACKNOWLEDGED));
  s = Move(ro_, &v1::ReferralService::Stub::AcceptReferral, ro_pseudonymous_id, &moved);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_NO_FATAL_FAILURE(AwaitStatus(de_, pseudonymous_id, v1::REFERRAL_STATUS_ACCEPTED));
  s = Move(ro_, &v1::ReferralService::Stub::CompleteReferral, ro_pseudonymous_id, &moved);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_NO_FATAL_FAILURE(AwaitStatus(de_, pseudonymous_id, v1::REFERRAL_STATUS_COMPLETED));
  s = Move(ro_, &v1::ReferralService::Stub::DeclineReferral, ro_identifying_id, &moved);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT)
      << "a decline needs a reason: " << Describe(s);
  s = Move(ro_, &v1::ReferralService::Stub::DeclineReferral, ro_identifying_id, &moved,
           "no shelter place in the region");
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_NO_FATAL_FAILURE(AwaitStatus(de_, identifying_id, v1::REFERRAL_STATUS_DECLINED));

  // ------------------------------------------------------------ de cancels, ro sees it
  ASSERT_NO_FATAL_FAILURE(Refer(case_id, PseudonymousScope(), &sent));
  ASSERT_NO_FATAL_FAILURE(AwaitDelivery(sent.id(), &delivered));
  const std::string cancelled_id = sent.id();
  s = Move(de_, &v1::ReferralService::Stub::CancelReferral, cancelled_id, &moved);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(moved.status(), v1::REFERRAL_STATUS_CANCELLED);
  ASSERT_NO_FATAL_FAILURE(AwaitStatus(ro_, delivered.partner_referral_id(),
                                      v1::REFERRAL_STATUS_CANCELLED));
  ASSERT_NO_FATAL_FAILURE(Received(cancelled_id, &received));
  const std::string ro_cancelled_case = received.case_id();

  // ------------------------------------------------------------ nothing else crossed
  std::vector<v1::Referral> inbox;
  ASSERT_NO_FATAL_FAILURE(Inbox(&inbox));
  std::vector<std::string> crossed;
  for (const v1::Referral& r : inbox) crossed.push_back(r.partner_referral_id());
  EXPECT_THAT(crossed, UnorderedElementsAre(pseudonymous_id, identifying_id, cancelled_id))
      << "only the three sent referrals reach ro, not the refused ones";
  for (const std::string& id : {unconsented.id(), to_return.id()}) {
    v1::Referral draft;
    s = FetchReferral(de_, id, &draft);
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_EQ(draft.status(), v1::REFERRAL_STATUS_DRAFT);
    EXPECT_FALSE(draft.has_deliver_time());
  }

  // ------------------------------------------------------------ both timelines
  v1::ListTimelineResponse timeline;
  ASSERT_NO_FATAL_FAILURE(Timeline(de_, case_id, &timeline));
  std::vector<std::string> events = ReferralEvents(timeline, pseudonymous_id);
  for (const char* word : {"sent", "acknowledged", "accepted", "completed"}) {
    EXPECT_TRUE(AnyHolds(events, word)) << "de's timeline has no \"" << word << "\" event of "
                                        << pseudonymous_id << ":\n"
                                        << ::testing::PrintToString(events);
  }
  EXPECT_TRUE(AnyHolds(ReferralEvents(timeline, identifying_id), "declined"))
      << ::testing::PrintToString(ReferralEvents(timeline, identifying_id));
  EXPECT_TRUE(AnyHolds(ReferralEvents(timeline, cancelled_id), "cancelled"))
      << ::testing::PrintToString(ReferralEvents(timeline, cancelled_id));
  ASSERT_NO_FATAL_FAILURE(Timeline(ro_, ro_pseudonymous_case, &timeline));
  events = ReferralEvents(timeline, ro_pseudonymous_id);
  for (const char* word : {"acknowledged", "accepted", "completed"}) {
    EXPECT_TRUE(AnyHolds(events, word)) << "ro's timeline has no \"" << word << "\" event of "
                                        << ro_pseudonymous_id << ":\n"
                                        << ::testing::PrintToString(events);
  }
  ASSERT_NO_FATAL_FAILURE(Timeline(ro_, ro_cancelled_case, &timeline));
  EXPECT_TRUE(AnyHolds(ReferralEvents(timeline, received.id()), "cancelled"))
      << ::testing::PrintToString(ReferralEvents(timeline, received.id()));

  ASSERT_NO_FATAL_FAILURE(StopBothAndScan(canaries, case_id, ro_pseudonymous_case));
}

// ---------------------------------------------------------------- 2

TEST_F(TransnationalTest, PacketSentWhilePartnerIsDownArrivesOnceWhenItIsBack) {
  const Canaries canaries;
  std::string case_id;
  ASSERT_NO_FATAL_FAILURE(OpenCase(de_, canaries, true, &case_id));
  ASSERT_NO_FATAL_FAILURE(Stop(ro_));

  v1::Referral sent;
  ASSERT_NO_FATAL_FAILURE(Refer(case_id, IdentifyingScope(), &sent));
  // Long enough for the first attempt and the retry after 1 s to fail.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  v1::Referral pending;
  grpc::Status s = FetchReferral(de_, sent.id(), &pending);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(pending.status(), v1::REFERRAL_STATUS_SENT);
  EXPECT_FALSE(pending.has_deliver_time()) << "delivered to a stopped partner?";
  EXPECT_TRUE(pending.partner_referral_id().empty()) << pending.partner_referral_id();

  EXPECT_GE(LinesWith(de_.havend->ReadLog(), {"\"level\":\"warning\"", "nrm-ro", sent.id()}).size(),
            2u)
      << "de did not log its failed attempts, so the retries are not seen:\n" << LogTails();

  ASSERT_NO_FATAL_FAILURE(Start(ro_));
  v1::Referral delivered, received;
  ASSERT_NO_FATAL_FAILURE(AwaitDelivery(sent.id(), &delivered));
  ASSERT_NO_FATAL_FAILURE(Received(sent.id(), &received));
  EXPECT_EQ(delivered.partner_referral_id(), received.id());
  v1::Case ro_case;
  ASSERT_NO_FATAL_FAILURE(GetCase(ro_, received.case_id(), &ro_case));
  EXPECT_EQ(ro_case.subject().given_name(), canaries.given_name());

  // The same packet again, as de would retry it after a lost receipt: the
  // same receipt, and still one referral.
  v1::ReferralPacket packet;
  packet.set_referral_id(sent.id());
  packet.set_purpose(sent.purpose());
  packet.set_urgency(sent.urgency());
  *packet.mutable_response_deadline() = sent.response_deadline();
  *packet.mutable_data_scope() = sent.data_scope();
  packet.set_lawful_basis(sent.lawful_basis());
  *packet.mutable_send_time() = sent.send_time();
  *packet.mutable_subject() = CanarySubject(canaries);
  std::vector<v1::Referral> before, after;
  ASSERT_NO_FATAL_FAILURE(Inbox(&before));
  {
    auto as_de = v1::PartnerService::NewStub(
        MtlsChannel(ro_.mtls_port, de_.file("server"), ro_.file("ca.crt")));
    v1::ReferralReceipt receipt;
    s = as_de->ReceiveReferral(Ctx("", "").get(), packet, &receipt);
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_EQ(receipt.referral_id(), received.id());
  }
  ASSERT_NO_FATAL_FAILURE(Received(sent.id(), &received));
  ASSERT_NO_FATAL_FAILURE(Inbox(&after));
  EXPECT_EQ(after.size(), before.size());

  ASSERT_NO_FATAL_FAILURE(StopBothAndScan(canaries, case_id, received.case_id()));
}

// ---------------------------------------------------------------- 3

TEST_F(TransnationalTest, UntrustedCertificatesAreNoPartners) {
  const Canaries canaries;
  v1::ReferralPacket packet;
  packet.set_referral_id(RandomString(32, "0123456789abcdef"));
  packet.set_purpose(v1::REFERRAL_PURPOSE_SHELTER);
  packet.set_urgency(v1::URGENCY_URGENT);
  *packet.mutable_response_deadline() = SecondsFromNow(7 * kDay);
  for (v1::ConfidentialityClass c : IdentifyingScope()) packet.add_data_scope(c);
  packet.set_lawful_basis(v1::LAWFUL_BASIS_CONSENT);
  *packet.mutable_send_time() = SecondsFromNow(0);
  *packet.mutable_subject() = CanarySubject(canaries);

  // Straight to ro's PartnerService: a CA nobody configured fails the
  // handshake; ro's own client CA signs local service accounts, not partners.
  {
    auto stranger = v1::PartnerService::NewStub(
        MtlsChannel(ro_.mtls_port, ro_.file("stranger"), ro_.file("ca.crt")));
    v1::ReferralReceipt receipt;
    grpc::Status s = stranger->ReceiveReferral(Ctx("", "").get(), packet, &receipt);
    EXPECT_EQ(s.error_code(), StatusCode::UNAVAILABLE) << Describe(s);
    EXPECT_TRUE(receipt.referral_id().empty());
    auto local = v1::PartnerService::NewStub(
        MtlsChannel(ro_.mtls_port, ro_.file("local-client"), ro_.file("ca.crt")));
    s = local->ReceiveReferral(Ctx("", "").get(), packet, &receipt);
    EXPECT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED) << Describe(s);
    EXPECT_TRUE(receipt.referral_id().empty());
    v1::PartnerReferralUpdate update;
    update.set_referral_id(packet.referral_id());
    update.set_status(v1::REFERRAL_STATUS_CANCELLED);
    v1::PartnerReferralUpdateResponse updated;
    s = local->UpdateReferral(Ctx("", "").get(), update, &updated);
    EXPECT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED) << Describe(s);

    // A partner's certificate is a partner, nobody else: no other service,
    // even with a valid session token.
    Client as_de(MtlsChannel(ro_.mtls_port, de_.file("server"), ro_.file("ca.crt")));
    v1::ListReferralsResponse inbox;
    s = as_de.referrals->ListInbox(Ctx(ro_.caseworker().token).get(), v1::ListReferralsRequest(),
                                   &inbox);
    EXPECT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED) << Describe(s);
    v1::CreateCaseRequest create;
    *create.mutable_subject() = CanarySubject(canaries);
    v1::Case created;
    s = as_de.cases->CreateCase(Ctx("").get(), create, &created);
    EXPECT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED) << Describe(s);
    v1::WhoAmIResponse me;
    s = as_de.admin->WhoAmI(Ctx("").get(), v1::WhoAmIRequest(), &me);
    EXPECT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED) << Describe(s);
  }

  // de refers to "nrm-xx", which names ro's address but a CA that did not
  // sign ro's certificate: de never delivers, and says so in its log.
  std::string case_id;
  ASSERT_NO_FATAL_FAILURE(OpenCase(de_, canaries, true, &case_id));
  v1::Referral draft, sent;
  ASSERT_NO_FATAL_FAILURE(
      Draft(de_, case_id, "nrm-xx", IdentifyingScope(), v1::REFERRAL_PURPOSE_SHELTER, &draft));
  grpc::Status s = Move(de_, &v1::ReferralService::Stub::SendReferral, draft.id(), &sent);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(sent.status(), v1::REFERRAL_STATUS_SENT);
  const std::vector<std::string> warning = {"\"level\":\"warning\"", "nrm-xx", draft.id()};
  EXPECT_TRUE(Eventually([&] { return !LinesWith(de_.havend->ReadLog(), warning).empty(); },
                         std::chrono::seconds(10)))
      << "no warning naming nrm-xx and referral " << draft.id() << " in de's log:\n"
      << LogTails();
  // And a retry later, still nothing.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  v1::Referral undelivered;
  s = FetchReferral(de_, draft.id(), &undelivered);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(undelivered.status(), v1::REFERRAL_STATUS_SENT);
  EXPECT_FALSE(undelivered.has_deliver_time()) << undelivered.ShortDebugString();
  EXPECT_TRUE(undelivered.partner_referral_id().empty()) << undelivered.ShortDebugString();

  std::vector<v1::Referral> inbox;
  ASSERT_NO_FATAL_FAILURE(Inbox(&inbox));
  EXPECT_TRUE(inbox.empty()) << "ro received from untrusted callers: " << inbox.size();

  ASSERT_NO_FATAL_FAILURE(StopBothAndScan(canaries, case_id, ro_.team.organisation_id));
}

// ---------------------------------------------------------------- 4

// The whole path of one person: identified in Germany, sheltered and
// helped under an approved service plan with an interpreter, returned by
// choice to Romania, received there by the Romanian mechanism, and followed
// up from there; each step on the timeline and in the audit log, and the
// names of the person and the interpreter in no file of either mechanism.
TEST_F(TransnationalTest, AWholePathFromIdentificationThroughShelterToFollowUpsAbroad) {
  const Canaries canaries;
  std::string case_id;
  ASSERT_NO_FATAL_FAILURE(OpenCase(de_, canaries, true, &case_id));
  const std::string token = de_.caseworker().token;
  Actor supervisor, auditor;
  ASSERT_NO_FATAL_FAILURE(CreateUser(*de_.client, de_.admin, de_.team.organisation_id,
                                     "de.supervisor", v1::ROLE_SUPERVISOR, &supervisor));
  ASSERT_NO_FATAL_FAILURE(CreateUser(*de_.client, de_.admin, de_.admin.organisation_id,
                                     "de.auditor", v1::ROLE_AUDITOR, &auditor));
  Team authority, shelter;
  ASSERT_NO_FATAL_FAILURE(SetUpTeam(*de_.client, de_.admin, "Identifizierungsstelle",
                                    v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY,
                                    {{"de.decider", v1::ROLE_DECISION_MAKER}}, &authority));
  ASSERT_NO_FATAL_FAILURE(SetUpTeam(*de_.client, de_.admin, "Schutzhaus Berlin",
                                    v1::ORGANISATION_TYPE_SERVICE_PROVIDER,
                                    {{"de.intake", v1::ROLE_CASEWORKER},
                                     {"de.shelter", v1::ROLE_SERVICE_PROVIDER_STAFF}},
                                    &shelter));
  const Actor& decider = authority.users[0];

  // Identified: referred to the competent authority, reasonable then
  // conclusive grounds (she asks for the decision before the period ends).
  v1::ReferPresumedVictimRequest presume;
  presume.set_case_id(case_id);
  presume.set_competent_authority_organisation_id(authority.organisation_id);
  v1::Identification identified;
  grpc::Status s =
      de_.client->identification->ReferPresumedVictim(Ctx(token).get(), presume, &identified);
  ASSERT_TRUE(s.ok()) << Describe(s);
  v1::DecideRequest decide;
  decide.set_case_id(case_id);
  decide.set_positive(true);
  decide.set_reasons("Credible account; strong indicators of act, means and purpose.");
  s = de_.client->identification->DecideReasonableGrounds(Ctx(decider.token).get(), decide,
                                                          &identified);
  ASSERT_TRUE(s.ok()) << Describe(s);
  decide.set_waive_reflection_period(true);
  decide.set_waiver_reasons("She asked for an early decision.");
  s = de_.client->identification->DecideConclusiveGrounds(Ctx(decider.token).get(), decide,
                                                          &identified);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(identified.status(), v1::IDENTIFICATION_STATUS_CONFIRMED_VICTIM);

  // An interpreter, whose name is sealed like hers.
  auto protection = v1::ProtectionService::NewStub(de_.havend->channel());
  v1::AssignInterpreterRequest interpret;
  interpret.set_case_id(case_id);
  interpret.mutable_interpreter()->set_language("ro");
  interpret.mutable_interpreter()->set_interpreter_name(canaries.interpreter_name());
  v1::Interpretation interpretation;
  s = protection->AssignInterpreter(Ctx(token).get(), interpret, &interpretation);
  ASSERT_TRUE(s.ok()) << Describe(s);

  // A shelter place in the approved service plan: referred, accepted, delivered.
  v1::RecordConsentRequest consent;
  consent.set_case_id(case_id);
  consent.mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS);
  consent.mutable_consent()->set_given(true);
  consent.mutable_consent()->set_language("ro");
  v1::Consent recorded;
  ASSERT_TRUE(de_.client->cases->RecordConsent(Ctx(token).get(), consent, &recorded).ok());
  v1::AddPlanItemRequest add;
  add.set_case_id(case_id);
  add.mutable_item()->set_kind(v1::SERVICE_KIND_SHELTER);
  add.mutable_item()->set_need("A safe place for a woman on her own");
  add.mutable_item()->set_provider_organisation_id(shelter.organisation_id);
  *add.mutable_item()->mutable_due_time() = SecondsFromNow(7 * kDay);
  v1::ServicePlan service_plan;
  s = protection->AddPlanItem(Ctx(token).get(), add, &service_plan);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(service_plan.items_size(), 1);
  const std::string item_id = service_plan.items(0).id();
  v1::ApproveServicePlanRequest approve_plan;
  approve_plan.set_case_id(case_id);
  approve_plan.set_version(service_plan.version());
  s = protection->ApproveServicePlan(Ctx(supervisor.token).get(), approve_plan, &service_plan);
  ASSERT_TRUE(s.ok()) << Describe(s);
  v1::ReferPlanItemRequest refer_item;
  refer_item.set_case_id(case_id);
  refer_item.set_item_id(item_id);
  refer_item.mutable_referral()->set_urgency(v1::URGENCY_URGENT);
  refer_item.mutable_referral()->set_lawful_basis(v1::LAWFUL_BASIS_CONSENT);
  for (v1::ConfidentialityClass c : IdentifyingScope()) {
    refer_item.mutable_referral()->add_data_scope(c);
  }
  *refer_item.mutable_referral()->mutable_response_deadline() = SecondsFromNow(2 * kDay);
  refer_item.set_reason("Needs a shelter place tonight");
  v1::ReferPlanItemResponse referred_item;
  s = protection->ReferPlanItem(Ctx(token).get(), refer_item, &referred_item);
  ASSERT_TRUE(s.ok()) << Describe(s);
  v1::ReferralTransitionRequest accept_shelter;
  accept_shelter.set_referral_id(referred_item.item().referral_id());
  v1::Referral shelter_referral;
  s = de_.client->referrals->AcceptReferral(Ctx(shelter.users[0].token).get(), accept_shelter,
                                            &shelter_referral);
  ASSERT_TRUE(s.ok()) << Describe(s);
  v1::RecordServiceDeliveryRequest deliver;
  deliver.set_case_id(case_id);
  deliver.set_item_id(item_id);
  deliver.set_outcome("Stayed six weeks; saw the doctor twice");
  s = protection->RecordServiceDelivery(Ctx(shelter.users[1].token).get(), deliver,
                                        &service_plan);
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED) << Describe(s);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("outcome is health data")) << "the shelter was not "
                                                                         "given health data";
  deliver.clear_outcome();
  s = protection->RecordServiceDelivery(Ctx(shelter.users[1].token).get(), deliver,
                                        &service_plan);
  ASSERT_TRUE(s.ok()) << Describe(s);
  v1::GetServicePlanRequest get_plan;
  get_plan.set_case_id(case_id);
  ASSERT_TRUE(protection->GetServicePlan(Ctx(token).get(), get_plan, &service_plan).ok());
  EXPECT_EQ(service_plan.items(0).status(), v1::PLAN_ITEM_STATUS_DELIVERED);

  // She chooses to go home.
  consent.mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_RETURN);
  ASSERT_TRUE(de_.client->cases->RecordConsent(Ctx(token).get(), consent, &recorded).ok());
  auto returns = v1::RepatriationService::NewStub(de_.havend->channel());

  // Planned, assessed, approved, documents issued.
  v1::CreateReturnPlanRequest create;
  create.set_case_id(case_id);
  create.mutable_plan()->set_destination_country("RO");
  create.mutable_plan()->set_destination_region("Bucharest");
  v1::ReturnPlan plan;
  s = returns->CreateReturnPlan(Ctx(token).get(), create, &plan);
  ASSERT_TRUE(s.ok()) << Describe(s);
  v1::AssessReturnRisksRequest assess;
  assess.set_case_id(case_id);
  assess.set_plan_id(plan.id());
  for (v1::RiskScore* score :
       {assess.mutable_risks()->mutable_re_trafficking(), assess.mutable_risks()->mutable_retaliation(),
        assess.mutable_risks()->mutable_family_situation()}) {
    score->set_level(v1::RISK_LEVEL_LOW);
  }
  assess.mutable_risks()->mutable_health_needs()->set_level(v1::RISK_LEVEL_LOW);
  ASSERT_TRUE(returns->AssessReturnRisks(Ctx(token).get(), assess, &plan).ok());
  v1::ApproveReturnRequest approve;
  approve.set_case_id(case_id);
  approve.set_plan_id(plan.id());
  s = returns->ApproveReturn(Ctx(supervisor.token).get(), approve, &plan);
  ASSERT_TRUE(s.ok()) << Describe(s);
  v1::RecordTravelDocumentsRequest documents;
  documents.set_case_id(case_id);
  documents.set_plan_id(plan.id());
  v1::TravelDocument* passport = documents.add_documents();
  passport->set_kind(v1::TRAVEL_DOCUMENT_KIND_PASSPORT);
  passport->set_status(v1::TRAVEL_DOCUMENT_STATUS_ISSUED);
  passport->set_consulate("Embassy of Romania, Berlin");
  *passport->mutable_issue_time() = SecondsFromNow(-kDay);
  ASSERT_TRUE(returns->RecordTravelDocuments(Ctx(token).get(), documents, &plan).ok());
  ASSERT_EQ(plan.status(), v1::RETURN_STATUS_DOCUMENTS_READY);

  // Scheduled with a hand-over to the Romanian mechanism: the referral and
  // the plan's move together.
  v1::ScheduleReturnRequest schedule;
  schedule.set_case_id(case_id);
  schedule.set_plan_id(plan.id());
  const std::time_t in_three_days = std::time(nullptr) + 3 * kDay;
  std::tm day{};
  gmtime_r(&in_three_days, &day);
  schedule.mutable_travel()->mutable_date()->set_year(day.tm_year + 1900);
  schedule.mutable_travel()->mutable_date()->set_month(day.tm_mon + 1);
  schedule.mutable_travel()->mutable_date()->set_day(day.tm_mday);
  schedule.mutable_reception()->set_partner_id("nrm-ro");
  schedule.mutable_reception()->set_handover_place("Henri Coanda airport");
  v1::Referral* terms = schedule.mutable_referral();
  terms->set_urgency(v1::URGENCY_URGENT);
  terms->set_lawful_basis(v1::LAWFUL_BASIS_CONSENT);
  for (v1::ConfidentialityClass c : IdentifyingScope()) terms->add_data_scope(c);
  terms->add_data_scope(v1::CONFIDENTIALITY_NARRATIVE);
  *terms->mutable_response_deadline() = SecondsFromNow(7 * kDay);
  v1::ScheduleReturnResponse scheduled;
  s = returns->ScheduleReturn(Ctx(token).get(), schedule, &scheduled);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(scheduled.plan().status(), v1::RETURN_STATUS_SCHEDULED);
  EXPECT_EQ(scheduled.referral().purpose(), v1::REFERRAL_PURPOSE_RETURN);
  EXPECT_EQ(scheduled.plan().reception().referral_id(), scheduled.referral().id());
  const std::string referral_id = scheduled.referral().id();

  // Nobody leaves before the receiving mechanism accepts.
  v1::RecordDepartureRequest depart;
  depart.set_case_id(case_id);
  depart.set_plan_id(plan.id());
  s = returns->RecordDeparture(Ctx(token).get(), depart, &plan);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION) << Describe(s);

  v1::Referral delivered, at_ro, moved;
  ASSERT_NO_FATAL_FAILURE(AwaitDelivery(referral_id, &delivered));
  ASSERT_NO_FATAL_FAILURE(Received(referral_id, &at_ro));
  EXPECT_EQ(at_ro.purpose(), v1::REFERRAL_PURPOSE_RETURN);
  ASSERT_TRUE(Move(ro_, &v1::ReferralService::Stub::AcceptReferral, at_ro.id(), &moved).ok());
  ASSERT_NO_FATAL_FAILURE(AwaitStatus(de_, referral_id, v1::REFERRAL_STATUS_ACCEPTED));
  s = returns->RecordDeparture(Ctx(token).get(), depart, &plan);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(plan.status(), v1::RETURN_STATUS_TRAVELLED);

  // The partner confirms the hand-over by completing its referral: received.
  ASSERT_TRUE(Move(ro_, &v1::ReferralService::Stub::CompleteReferral, at_ro.id(), &moved).ok());
  ASSERT_NO_FATAL_FAILURE(AwaitStatus(de_, referral_id, v1::REFERRAL_STATUS_COMPLETED));
  v1::GetReturnPlanRequest get;
  get.set_case_id(case_id);
  get.set_plan_id(plan.id());
  ASSERT_TRUE(returns->GetReturnPlan(Ctx(token).get(), get, &plan).ok());
  EXPECT_EQ(plan.status(), v1::RETURN_STATUS_RECEIVED);
  EXPECT_EQ(plan.reception().referral_status(), v1::REFERRAL_STATUS_COMPLETED);
  EXPECT_TRUE(plan.reception().has_arrive_time());
  EXPECT_EQ(plan.follow_ups_size(), 4);

  // The receiving organisation abroad follows the person up; each follow-up
  // comes home over the partner link within the referral's scope (the
  // narrative, not the health class).
  auto ro_returns = v1::RepatriationService::NewStub(ro_.havend->channel());
  const std::string ro_token = ro_.caseworker().token;
  v1::RecordReceivedFollowUpRequest abroad;
  abroad.set_case_id(at_ro.case_id());
  abroad.set_referral_id(at_ro.id());
  abroad.mutable_follow_up()->set_months(1);
  abroad.mutable_follow_up()->set_reached(true);
  abroad.mutable_follow_up()->set_situation("living with her sister, looking for work");
  abroad.mutable_follow_up()->set_health("sleeps badly");
  v1::ReceivedReturn received;
  s = ro_returns->RecordReceivedFollowUp(Ctx(ro_token).get(), abroad, &received);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(received.follow_ups_size(), 4);
  EXPECT_TRUE(received.follow_ups(0).has_done_time());
  EXPECT_EQ(received.follow_ups(0).health(), "sleeps badly");
  // The same follow-up twice is refused abroad, and nothing goes twice.
  s = ro_returns->RecordReceivedFollowUp(Ctx(ro_token).get(), abroad, &received);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION) << Describe(s);

  // (A read is not one snapshot: it may see the follow-up and not yet the
  // plan's move, written in the same transaction. Wait for both.)
  ASSERT_TRUE(Eventually([&] {
    return returns->GetReturnPlan(Ctx(token).get(), get, &plan).ok() &&
           plan.follow_ups_size() == 4 && plan.follow_ups(0).has_done_time() &&
           plan.status() == v1::RETURN_STATUS_REINTEGRATING;
  })) << plan.ShortDebugString();
  EXPECT_TRUE(plan.follow_ups(0).reported_by_partner());
  EXPECT_TRUE(plan.follow_ups(0).reached());
  EXPECT_EQ(plan.follow_ups(0).situation(), "living with her sister, looking for work");
  EXPECT_EQ(plan.follow_ups(0).health(), "") << "health is outside the referral's scope";
  EXPECT_FALSE(plan.follow_ups(1).has_done_time());

  // A person not reached abroad is alerted at home.
  abroad.mutable_follow_up()->set_months(3);
  abroad.mutable_follow_up()->set_reached(false);
  abroad.mutable_follow_up()->set_situation("moved away; the family does not know where");
  abroad.mutable_follow_up()->clear_health();
  s = ro_returns->RecordReceivedFollowUp(Ctx(ro_token).get(), abroad, &received);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_TRUE(Eventually([&] {
    return returns->GetReturnPlan(Ctx(token).get(), get, &plan).ok() &&
           plan.follow_ups(1).has_done_time();
  })) << plan.ShortDebugString();
  EXPECT_FALSE(plan.follow_ups(1).reached());
  std::set<std::string> not_reached;  // to the case's caseworker, or else its supervisors
  for (const std::string& reader : {token, supervisor.token}) {
    v1::ListAlertsResponse alerts;
    ASSERT_TRUE(
        de_.client->cases->ListAlerts(Ctx(reader).get(), v1::ListAlertsRequest(), &alerts).ok());
    for (const v1::Alert& alert : alerts.alerts()) {
      if (alert.kind() == v1::ALERT_KIND_RETURN_PERSON_NOT_REACHED) not_reached.insert(alert.id());
    }
  }
  EXPECT_EQ(not_reached.size(), 1u);

  // The timelines of both sides show the follow-ups.
  v1::ListTimelineResponse timeline;
  v1::ListTimelineRequest list;
  list.set_case_id(case_id);
  list.set_page_size(1000);
  ASSERT_TRUE(de_.client->cases->ListTimeline(Ctx(token).get(), list, &timeline).ok());
  int home_follow_ups = 0;
  for (const v1::TimelineEvent& event : timeline.events()) {
    if (event.kind() == v1::TIMELINE_EVENT_RETURN_FOLLOW_UP) ++home_follow_ups;
  }
  EXPECT_EQ(home_follow_ups, 2);
  std::set<v1::TimelineEventKind> kinds;
  for (const v1::TimelineEvent& event : timeline.events()) kinds.insert(event.kind());
  for (v1::TimelineEventKind step :
       {v1::TIMELINE_EVENT_STATUS_CHANGED, v1::TIMELINE_EVENT_PLAN_APPROVED,
        v1::TIMELINE_EVENT_REFERRED, v1::TIMELINE_EVENT_SERVICE_DELIVERED,
        v1::TIMELINE_EVENT_RETURN_PLANNED, v1::TIMELINE_EVENT_RETURN_ASSESSED,
        v1::TIMELINE_EVENT_RETURN_APPROVED, v1::TIMELINE_EVENT_RETURN_MOVED}) {
    EXPECT_EQ(kinds.count(step), 1u) << "no " << v1::TimelineEventKind_Name(step) << " on the timeline";
  }
  list.set_case_id(at_ro.case_id());
  ASSERT_TRUE(ro_.client->cases->ListTimeline(Ctx(ro_token).get(), list, &timeline).ok());
  int abroad_follow_ups = 0;
  for (const v1::TimelineEvent& event : timeline.events()) {
    if (event.kind() == v1::TIMELINE_EVENT_RETURN_FOLLOW_UP) ++abroad_follow_ups;
  }
  EXPECT_EQ(abroad_follow_ups, 2);

  // The audit log holds every step, the partner's follow-ups among them.
  std::set<std::string> actions;
  v1::QueryAuditEntriesRequest query;
  query.set_case_id(case_id);
  query.set_page_size(1000);
  v1::QueryAuditEntriesResponse entries;
  s = de_.client->audit->QueryAuditEntries(Ctx(auditor.token).get(), query, &entries);
  ASSERT_TRUE(s.ok()) << Describe(s);
  for (const v1::AuditEntry& entry : entries.entries()) {
    if (entry.outcome() == v1::AUDIT_OUTCOME_ALLOWED) actions.insert(entry.action());
  }
  for (const char* step :
       {"identification.refer", "protection.approve_plan", "protection.record_delivery",
        "protection.assign_interpreter", "repatriation.approve", "repatriation.partner_follow_up"}) {
    EXPECT_EQ(actions.count(step), 1u) << "no audited " << step;
  }

  ASSERT_NO_FATAL_FAILURE(StopBothAndScan(canaries, case_id, at_ro.case_id()));
}

}  // namespace
}  // namespace haven::e2e
