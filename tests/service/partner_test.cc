// Transnational referrals on a manual clock: a mechanism configured as its
// own partner ("self"), so that one in-process server is both sides of the
// border, over real mutual TLS on loopback. Packets carry only the scope,
// status changes flow back, expiry and cancellation reach both sides.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "haven/v1/partner.grpc.pb.h"
#include "haven/v1/repatriation.grpc.pb.h"
#include "haven/v1/referral.grpc.pb.h"
#include "services/common/partners.h"
#include "services/referral/partner_link.h"
#include "storage/store.h"
#include "storage/timestamps.h"
#include "tests/service/service_fixture.h"

namespace haven::testing {
namespace {

namespace v1 = haven::v1;
using ::testing::HasSubstr;

// A free loopback port (bound and released: another process could take it
// in between, which a test on this machine does not).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return 0;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

class PartnerTest : public ServiceTest {
 protected:
  // One CA, and one certificate from it that serves and presents as client.
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/haven-partner-certs-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    certs_ = new std::string(tmpl);
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    std::string script = "set -e; cd '" + *certs_ + "'\n" + "openssl req -x509 " + key +
                         " -keyout ca.key -out ca.crt -subj '/CN=Partner Test CA' -days 2\n" +
                         "printf 'subjectAltName=DNS:localhost\\nextendedKeyUsage=serverAuth,"
                         "clientAuth\\n' > ext\n" +
                         "openssl req " + key + " -keyout node.key -out node.csr -subj '/CN=node'\n" +
                         "openssl x509 -req -in node.csr -CA ca.crt -CAkey ca.key -CAcreateserial"
                         " -out node.crt -days 2 -extfile ext\n" +
                         // The same CA's certificate for another key, and one
                         // for the pinned key without any extended key usage.
                         "openssl req " + key + " -keyout other.key -out other.csr -subj '/CN=other'\n" +
                         "openssl x509 -req -in other.csr -CA ca.crt -CAkey ca.key -CAcreateserial"
                         " -out other.crt -days 2 -extfile ext\n" +
                         "printf 'subjectAltName=DNS:localhost\\n' > no-eku.ext\n" +
                         "cp node.key no-eku.key\n" +
                         "openssl x509 -req -in node.csr -CA ca.crt -CAkey ca.key -CAcreateserial"
                         " -out no-eku.crt -days 2 -extfile no-eku.ext\n";
    {
      std::ofstream out(*certs_ + "/make-certs.sh");
      out << script;
    }
    ASSERT_EQ(std::system(("sh '" + *certs_ + "/make-certs.sh' > '" + *certs_ +
                           "/openssl.out' 2>&1").c_str()),
              0);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*certs_);
    delete certs_;
  }

  void Configure(v1::ServerConfig* config) override {
    if (mtls_port_ == 0) mtls_port_ = FreePort();
    config->set_session_minutes(60 * 24 * 7);  // the tests move the clock by hours
    config->set_mtls_listen_address("127.0.0.1:" + std::to_string(mtls_port_));
    config->mutable_mtls()->set_certificate_file(*certs_ + "/node.crt");
    config->mutable_mtls()->set_private_key_file(*certs_ + "/node.key");
    config->mutable_mtls()->set_client_ca_file(*certs_ + "/ca.crt");
    v1::PartnerConfig* self = config->add_partners();
    self->set_id("self");
    self->set_display_name("This mechanism, as seen from abroad");
    self->set_country("RO");
    self->set_address("127.0.0.1:" + std::to_string(mtls_port_));
    self->set_ca_file(*certs_ + "/ca.crt");
    self->add_public_key_sha256(services::PublicKeySha256FromPem(Pem("node.crt")));
    self->set_server_name("localhost");
    self->set_inbox_organisation_id(inbox_);
    self->set_max_referrals_per_hour(max_referrals_per_hour_);
  }

  void SetUp() override {
    ServiceTest::SetUp();
    sender_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
    inbox_ = NewOrganisation(v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY);
    third_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
    caseworker_ = NewUser(sender_, v1::ROLE_CASEWORKER);
    receiver_ = NewUser(inbox_, v1::ROLE_CASEWORKER);
    outsider_ = NewUser(third_, v1::ROLE_CASEWORKER);
    ASSERT_NO_FATAL_FAILURE(RestartServer());  // now with the inbox configured
    referrals_ = v1::ReferralService::NewStub(channel_);
    case_ = CreateCase(caseworker_, "Amina");
  }

  void TearDown() override {
    referrals_.reset();
    ServiceTest::TearDown();
  }

  static std::string Pem(const std::string& name) {
    std::ifstream in(*certs_ + "/" + name);
    std::stringstream pem;
    pem << in.rdbuf();
    return pem.str();
  }

  // PartnerService on the mTLS listener, called with certificate `cert`
  // (name.crt, name.key).
  std::unique_ptr<v1::PartnerService::Stub> PartnerStub(const std::string& cert) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = Pem("ca.crt");
    tls.pem_private_key = Pem(cert + ".key");
    tls.pem_cert_chain = Pem(cert + ".crt");
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    return v1::PartnerService::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(mtls_port_), grpc::SslCredentials(tls), args));
  }

  void Consent(v1::ConsentPurpose purpose) { GiveConsent(caseworker_, case_.id(), purpose); }

  grpc::Status Draft(std::vector<v1::ConfidentialityClass> scope, v1::Referral* out,
                     absl::Duration deadline = absl::Hours(6),
                     v1::ReferralPurpose purpose = v1::REFERRAL_PURPOSE_ASSESSMENT) {
    v1::CreateReferralRequest req;
    v1::Referral* r = req.mutable_referral();
    r->set_case_id(case_.id());
    r->set_partner_id("self");
    r->set_purpose(purpose);
    r->set_urgency(v1::URGENCY_URGENT);
    r->set_lawful_basis(v1::LAWFUL_BASIS_CONSENT);
    for (auto c : scope) r->add_data_scope(c);
    r->mutable_response_deadline()->set_seconds(absl::ToUnixSeconds(clock_.Now() + deadline));
    return referrals_->CreateReferral(As(caseworker_).get(), req, out);
  }

  using Rpc = grpc::Status (v1::ReferralService::Stub::*)(
      grpc::ClientContext*, const v1::ReferralTransitionRequest&, v1::Referral*);
  grpc::Status Move(const Actor& actor, const std::string& id, Rpc rpc,
                    const std::string& reason = "") {
    v1::ReferralTransitionRequest req;
    req.set_referral_id(id);
    req.set_reason(reason);
    v1::Referral ignored;
    return (referrals_.get()->*rpc)(As(actor).get(), req, &ignored);
  }

  // A referral sent and delivered: the sender's, then the receiver's.
  void SendAndDeliver(std::vector<v1::ConfidentialityClass> scope, v1::Referral* sent,
                      v1::Referral* received) {
    ASSERT_NO_FATAL_FAILURE(Consent(v1::CONSENT_PURPOSE_SHARE_WITH_ANOTHER_COUNTRY));
    v1::Referral draft;
    ASSERT_TRUE(Draft(scope, &draft).ok());
    ASSERT_TRUE(Move(caseworker_, draft.id(), &v1::ReferralService::Stub::SendReferral).ok());
    ASSERT_EQ(server_->partner_link()->DeliverDue(), 1);
    *sent = Get(caseworker_, draft.id());
    ASSERT_TRUE(sent->has_deliver_time());
    *received = Get(receiver_, sent->partner_referral_id());
  }

  v1::Referral Get(const Actor& actor, const std::string& id, grpc::Status* status = nullptr) {
    v1::GetReferralRequest req;
    req.set_referral_id(id);
    v1::Referral out;
    grpc::Status s = referrals_->GetReferral(As(actor).get(), req, &out);
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return out;
  }

  void WithdrawConsentAbroad() {
    v1::WithdrawConsentRequest withdraw;
    withdraw.set_case_id(case_.id());
    withdraw.set_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_ANOTHER_COUNTRY);
    v1::Consent withdrawn;
    ASSERT_TRUE(cases_->WithdrawConsent(As(caseworker_).get(), withdraw, &withdrawn).ok());
  }

  // Messages waiting for partners.
  int Queued() {
    int n = 0;
    EXPECT_TRUE(server_->vault().store()
                    .Scan(storage::Cf::kPartnerOutbox, "", "",
                          [&](absl::string_view, absl::string_view) { return ++n > 0; })
                    .ok());
    return n;
  }

  std::vector<std::string> TimelineSummaries(const Actor& actor, const std::string& case_id) {
    v1::ListTimelineRequest req;
    req.set_case_id(case_id);
    req.set_page_size(100);
    v1::ListTimelineResponse out;
    EXPECT_TRUE(cases_->ListTimeline(As(actor).get(), req, &out).ok());
    std::vector<std::string> summaries;
    for (const auto& e : out.events()) summaries.push_back(e.summary());
    return summaries;
  }

  static std::string* certs_;
  int mtls_port_ = 0;
  int max_referrals_per_hour_ = 0;  // the default
  std::string sender_, inbox_, third_;
  Actor caseworker_, receiver_, outsider_;
  std::unique_ptr<v1::ReferralService::Stub> referrals_;
  v1::Case case_;
};

std::string* PartnerTest::certs_ = nullptr;

TEST_F(PartnerTest, PartnersAreListedForCaseWork) {
  v1::ListPartnersResponse partners;
  ASSERT_TRUE(referrals_->ListPartners(As(caseworker_).get(), {}, &partners).ok());
  ASSERT_EQ(partners.partners_size(), 1);
  EXPECT_EQ(partners.partners(0).id(), "self");
  EXPECT_EQ(partners.partners(0).country(), "RO");
}

TEST_F(PartnerTest, PacketCarriesOnlyTheScope) {
  v1::Referral sent, received;
  ASSERT_NO_FATAL_FAILURE(SendAndDeliver(
      {v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS}, &sent, &received));
  EXPECT_EQ(received.status(), v1::REFERRAL_STATUS_SENT);
  EXPECT_EQ(received.partner_id(), "self");
  EXPECT_EQ(received.partner_referral_id(), sent.id());
  EXPECT_EQ(received.receiver_organisation_id(), inbox_);
  EXPECT_TRUE(received.sender_organisation_id().empty());
  EXPECT_NE(received.case_id(), case_.id()) << "the receiver has a case of its own";

  v1::GetCaseRequest get;
  get.set_case_id(received.case_id());
  v1::Case theirs;
  ASSERT_TRUE(cases_->GetCase(As(receiver_).get(), get, &theirs).ok());
  EXPECT_EQ(theirs.owning_organisation_id(), inbox_);
  EXPECT_EQ(theirs.subject().sex(), v1::SEX_FEMALE);
  EXPECT_THAT(theirs.subject().citizenships(), ::testing::ElementsAre("NG"));
  EXPECT_TRUE(theirs.subject().given_name().empty()) << "names were outside the scope";
  EXPECT_TRUE(theirs.subject().family_name().empty());
  EXPECT_FALSE(theirs.subject().has_date_of_birth());

  v1::ListConsentsRequest consents_req;
  consents_req.set_case_id(received.case_id());
  v1::ListConsentsResponse consents;
  ASSERT_TRUE(cases_->ListConsents(As(receiver_).get(), consents_req, &consents).ok());
  ASSERT_EQ(consents.consents_size(), 1);
  EXPECT_EQ(consents.consents(0).purpose(), v1::CONSENT_PURPOSE_SHARE_WITH_ANOTHER_COUNTRY);
  EXPECT_TRUE(consents.consents(0).notes().empty()) << "narrative was outside the scope";

  // The disclosure to the partner is audited: exactly the scope, to whom.
  bool audited = false;
  for (uint64_t seq = AuditSequence(); seq > 0 && !audited; --seq) {
    auto entry = server_->vault().store().ReadAuditEntry(seq);
    ASSERT_TRUE(entry.ok());
    if (entry->action() != "referral.deliver") continue;
    audited = true;
    EXPECT_EQ(entry->principal_id(), "partner/self");
    EXPECT_EQ(entry->case_id(), case_.id());
    EXPECT_THAT(entry->classes(), ::testing::ElementsAre(v1::CONFIDENTIALITY_ADMINISTRATIVE,
                                                         v1::CONFIDENTIALITY_PSEUDONYMOUS));
  }
  EXPECT_TRUE(audited) << "no audit entry for the delivery";

  // A third organisation sees neither the new case nor the referral.
  v1::Case nothing;
  grpc::Status s = cases_->GetCase(As(outsider_).get(), get, &nothing);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  Get(outsider_, received.id(), &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(PartnerTest, IdentifyingScopeCarriesTheNames) {
  v1::Referral sent, received;
  ASSERT_NO_FATAL_FAILURE(SendAndDeliver(
      {v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_IDENTIFYING}, &sent, &received));
  v1::GetCaseRequest get;
  get.set_case_id(received.case_id());
  v1::Case theirs;
  ASSERT_TRUE(cases_->GetCase(As(receiver_).get(), get, &theirs).ok());
  EXPECT_EQ(theirs.subject().given_name(), "Amina");
  EXPECT_EQ(theirs.subject().date_of_birth().year(), 2001);
  EXPECT_EQ(theirs.subject().sex(), v1::SEX_UNSPECIFIED) << "pseudonymous was outside the scope";
}

TEST_F(PartnerTest, StatusFlowsBackToTheSender) {
  v1::Referral sent, received;
  ASSERT_NO_FATAL_FAILURE(
      SendAndDeliver({v1::CONFIDENTIALITY_ADMINISTRATIVE}, &sent, &received));
  using S = v1::ReferralService::Stub;
  ASSERT_TRUE(Move(receiver_, received.id(), &S::AcknowledgeReferral).ok());
  ASSERT_EQ(server_->partner_link()->DeliverDue(), 1);
  EXPECT_EQ(Get(caseworker_, sent.id()).status(), v1::REFERRAL_STATUS_ACKNOWLEDGED);
  clock_.Advance(absl::Minutes(30));
  ASSERT_TRUE(Move(receiver_, received.id(), &S::AcceptReferral).ok());
  ASSERT_EQ(server_->partner_link()->DeliverDue(), 1);
  v1::Referral accepted = Get(caseworker_, sent.id());
  EXPECT_EQ(accepted.status(), v1::REFERRAL_STATUS_ACCEPTED);
  EXPECT_TRUE(accepted.grant_id().empty()) << "nobody abroad reads the case here";
  ASSERT_TRUE(Move(receiver_, received.id(), &S::CompleteReferral).ok());
  ASSERT_EQ(server_->partner_link()->DeliverDue(), 1);
  EXPECT_EQ(Get(caseworker_, sent.id()).status(), v1::REFERRAL_STATUS_COMPLETED);

  // The sender cannot answer its own referral for the partner.
  EXPECT_EQ(Move(caseworker_, sent.id(), &S::AcceptReferral).error_code(),
            grpc::StatusCode::NOT_FOUND);
  std::vector<std::string> timeline = TimelineSummaries(caseworker_, case_.id());
  EXPECT_THAT(timeline, ::testing::Contains(HasSubstr("delivered")));
  EXPECT_THAT(timeline, ::testing::Contains(HasSubstr("REFERRAL_STATUS_ACCEPTED by the partner")));
  EXPECT_THAT(timeline, ::testing::Contains(HasSubstr("REFERRAL_STATUS_COMPLETED by the partner")));

  v1::GetReferralFiguresResponse figures;
  ASSERT_TRUE(referrals_->GetReferralFigures(As(caseworker_).get(), {}, &figures).ok());
  ASSERT_EQ(figures.figures_size(), 1);
  EXPECT_EQ(figures.figures(0).receiver_partner_id(), "self");
  EXPECT_EQ(figures.figures(0).accepted(), 1);
  EXPECT_NEAR(figures.figures(0).mean_hours_to_accept(), 0.5, 0.01);
}

TEST_F(PartnerTest, FollowUpsAreRecordedOnAReceivedReturnAndGoBackOnlyToAPlan) {
  ASSERT_NO_FATAL_FAILURE(Consent(v1::CONSENT_PURPOSE_SHARE_WITH_ANOTHER_COUNTRY));
  ASSERT_NO_FATAL_FAILURE(Consent(v1::CONSENT_PURPOSE_RETURN));
  using S = v1::ReferralService::Stub;
  v1::Referral draft;
  ASSERT_TRUE(Draft({v1::CONFIDENTIALITY_ADMINISTRATIVE}, &draft, absl::Hours(6),
                    v1::REFERRAL_PURPOSE_RETURN).ok());
  ASSERT_TRUE(Move(caseworker_, draft.id(), &S::SendReferral).ok());
  ASSERT_EQ(server_->partner_link()->DeliverDue(), 1);
  const v1::Referral received = Get(receiver_, Get(caseworker_, draft.id()).partner_referral_id());
  auto returns = v1::RepatriationService::NewStub(channel_);
  v1::RecordReceivedFollowUpRequest record;
  record.set_case_id(received.case_id());
  record.set_referral_id(received.id());
  record.mutable_follow_up()->set_months(1);
  record.mutable_follow_up()->set_reached(true);
  record.mutable_follow_up()->set_situation("Amina works at a bakery");
  v1::ReceivedReturn shown;

  // Not before the person arrives (the referral is completed).
  grpc::Status s = returns->RecordReceivedFollowUp(As(receiver_).get(), record, &shown);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  ASSERT_TRUE(Move(receiver_, received.id(), &S::AcceptReferral).ok());
  const absl::Time arrival = clock_.Now();
  ASSERT_TRUE(Move(receiver_, received.id(), &S::CompleteReferral).ok());
  ASSERT_EQ(server_->partner_link()->DeliverDue(), 2);

  // Bad input, or a stranger to the case: refused, nothing written.
  const uint64_t before = AuditSequence();
  v1::RecordReceivedFollowUpRequest bad = record;
  bad.mutable_follow_up()->set_months(2);
  s = returns->RecordReceivedFollowUp(As(receiver_).get(), bad, &shown);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("follow_up.months"));
  EXPECT_EQ(AuditSequence(), before);
  s = returns->RecordReceivedFollowUp(As(outsider_).get(), record, &shown);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  // The sender's own referral is not a return received from abroad.
  v1::GetReceivedReturnRequest get;
  get.set_case_id(case_.id());
  get.set_referral_id(draft.id());
  s = returns->GetReceivedReturn(As(caseworker_).get(), get, &shown);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();

  s = returns->RecordReceivedFollowUp(As(receiver_).get(), record, &shown);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(shown.follow_ups_size(), 4);
  EXPECT_EQ(FromTimestamp(shown.arrive_time()), arrival);
  EXPECT_TRUE(shown.follow_ups(0).has_done_time());
  EXPECT_EQ(shown.follow_ups(0).situation(), "Amina works at a bakery");
  EXPECT_FALSE(shown.follow_ups(1).has_done_time());
  EXPECT_EQ(shown.follow_ups(3).months(), 12);

  // The sender made this return referral without a return plan, so nothing
  // here takes the follow-up in: the partner refuses it and it is dropped,
  // not tried for ever.
  EXPECT_EQ(server_->partner_link()->DeliverDue(), 0);
  EXPECT_EQ(server_->partner_link()->DeliverDue(), 0);
  EXPECT_THAT(TimelineSummaries(caseworker_, case_.id()),
              ::testing::Not(::testing::Contains(HasSubstr("follow-up"))));
}

TEST_F(PartnerTest, ChangesReachThePartnerInTheOrderTheyWereMade) {
  v1::Referral sent, received;
  ASSERT_NO_FATAL_FAILURE(
      SendAndDeliver({v1::CONFIDENTIALITY_ADMINISTRATIVE}, &sent, &received));
  // Both in the same microsecond of the manual clock; completion before
  // acceptance would be refused and the sender left at ACCEPTED.
  using S = v1::ReferralService::Stub;
  ASSERT_TRUE(Move(receiver_, received.id(), &S::AcceptReferral).ok());
  ASSERT_TRUE(Move(receiver_, received.id(), &S::CompleteReferral).ok());
  EXPECT_EQ(Queued(), 2);
  EXPECT_EQ(server_->partner_link()->DeliverDue(), 2);
  EXPECT_EQ(Get(caseworker_, sent.id()).status(), v1::REFERRAL_STATUS_COMPLETED);
}

TEST_F(PartnerTest, CancellationReachesTheReceiver) {
  v1::Referral sent, received;
  ASSERT_NO_FATAL_FAILURE(
      SendAndDeliver({v1::CONFIDENTIALITY_ADMINISTRATIVE}, &sent, &received));
  using S = v1::ReferralService::Stub;
  ASSERT_TRUE(Move(caseworker_, sent.id(), &S::CancelReferral).ok());
  ASSERT_EQ(server_->partner_link()->DeliverDue(), 1);
  EXPECT_EQ(Get(receiver_, received.id()).status(), v1::REFERRAL_STATUS_CANCELLED);
  grpc::Status s = Move(receiver_, received.id(), &S::AcceptReferral);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("only a sent or acknowledged referral"));
}

TEST_F(PartnerTest, ExpiresOnBothSidesWithoutAnyoneActing) {
  v1::Referral sent, received;
  ASSERT_NO_FATAL_FAILURE(
      SendAndDeliver({v1::CONFIDENTIALITY_ADMINISTRATIVE}, &sent, &received));
  clock_.Advance(absl::Hours(7));  // past the six-hour response deadline
  EXPECT_EQ(Get(caseworker_, sent.id()).status(), v1::REFERRAL_STATUS_EXPIRED);
  EXPECT_EQ(Get(receiver_, received.id()).status(), v1::REFERRAL_STATUS_EXPIRED);
  EXPECT_EQ(Move(receiver_, received.id(), &v1::ReferralService::Stub::AcceptReferral).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(PartnerTest, NothingLeavesWithoutConsent) {
  v1::Referral draft;
  ASSERT_TRUE(Draft({v1::CONFIDENTIALITY_ADMINISTRATIVE}, &draft).ok());
  grpc::Status s = Move(caseworker_, draft.id(), &v1::ReferralService::Stub::SendReferral);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("CONSENT_PURPOSE_SHARE_WITH_ANOTHER_COUNTRY"));
  EXPECT_EQ(Queued(), 0);
  EXPECT_EQ(server_->partner_link()->DeliverDue(), 0);
  v1::ListReferralsRequest inbox_req;
  v1::ListReferralsResponse inbox;
  ASSERT_TRUE(referrals_->ListInbox(As(receiver_).get(), inbox_req, &inbox).ok());
  EXPECT_EQ(inbox.referrals_size(), 0);
}

TEST_F(PartnerTest, ConsentWithdrawnBeforeDeliveryCancelsTheReferral) {
  ASSERT_NO_FATAL_FAILURE(Consent(v1::CONSENT_PURPOSE_SHARE_WITH_ANOTHER_COUNTRY));
  v1::Referral draft;
  ASSERT_TRUE(Draft({v1::CONFIDENTIALITY_ADMINISTRATIVE}, &draft).ok());
  ASSERT_TRUE(Move(caseworker_, draft.id(), &v1::ReferralService::Stub::SendReferral).ok());
  ASSERT_NO_FATAL_FAILURE(WithdrawConsentAbroad());

  EXPECT_EQ(server_->partner_link()->DeliverDue(), 0);
  v1::Referral cancelled = Get(caseworker_, draft.id());
  EXPECT_EQ(cancelled.status(), v1::REFERRAL_STATUS_CANCELLED);
  EXPECT_FALSE(cancelled.has_deliver_time());
  v1::ListReferralsResponse inbox;
  ASSERT_TRUE(referrals_->ListInbox(As(receiver_).get(), {}, &inbox).ok());
  EXPECT_EQ(inbox.referrals_size(), 0) << "the packet left after consent was withdrawn";
  EXPECT_EQ(Queued(), 0) << "the queue still holds the packet";
  EXPECT_THAT(TimelineSummaries(caseworker_, case_.id()),
              ::testing::Contains(HasSubstr("withdrew the consent")));
}

TEST_F(PartnerTest, ConsentWithdrawnAfterDeliveryIsPassedOnToTheReceiver) {
  v1::Referral sent, received;
  ASSERT_NO_FATAL_FAILURE(
      SendAndDeliver({v1::CONFIDENTIALITY_ADMINISTRATIVE}, &sent, &received));
  ASSERT_NO_FATAL_FAILURE(WithdrawConsentAbroad());
  EXPECT_EQ(server_->partner_link()->DeliverDue(), 1);

  const Actor supervisor = NewUser(inbox_, v1::ROLE_SUPERVISOR);
  v1::ListAlertsResponse alerts;
  ASSERT_TRUE(cases_->ListAlerts(As(supervisor).get(), {}, &alerts).ok());
  ASSERT_EQ(alerts.alerts_size(), 1);
  EXPECT_EQ(alerts.alerts(0).kind(), v1::ALERT_KIND_CONSENT_WITHDRAWN_ABROAD);
  EXPECT_THAT(alerts.alerts(0).case_ids(), ::testing::ElementsAre(received.case_id()));
  EXPECT_THAT(TimelineSummaries(receiver_, received.case_id()),
              ::testing::Contains(HasSubstr("withdrew consent")));
  // Nobody in a third organisation is told.
  const Actor elsewhere = NewUser(third_, v1::ROLE_SUPERVISOR);
  v1::ListAlertsResponse none;
  ASSERT_TRUE(cases_->ListAlerts(As(elsewhere).get(), {}, &none).ok());
  EXPECT_EQ(none.alerts_size(), 0);
}

TEST_F(PartnerTest, ErasureIsPassedOnToTheReceiver) {
  v1::Referral sent, received;
  ASSERT_NO_FATAL_FAILURE(
      SendAndDeliver({v1::CONFIDENTIALITY_ADMINISTRATIVE}, &sent, &received));
  const Actor approver = NewUser(sender_, v1::ROLE_SUPERVISOR);
  v1::RequestErasureRequest request;
  request.set_case_id(case_.id());
  request.set_reason("The subject asked for it");
  v1::Case requested;
  ASSERT_TRUE(cases_->RequestErasure(As(caseworker_).get(), request, &requested).ok());
  v1::EraseCaseRequest erase;
  erase.set_case_id(case_.id());
  v1::EraseCaseResponse erased;
  grpc::Status s = cases_->EraseCase(As(approver).get(), erase, &erased);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(server_->partner_link()->DeliverDue(), 1);

  const Actor supervisor = NewUser(inbox_, v1::ROLE_SUPERVISOR);
  v1::ListAlertsResponse alerts;
  ASSERT_TRUE(cases_->ListAlerts(As(supervisor).get(), {}, &alerts).ok());
  ASSERT_EQ(alerts.alerts_size(), 1);
  EXPECT_EQ(alerts.alerts(0).kind(), v1::ALERT_KIND_ERASED_ABROAD);
  EXPECT_THAT(alerts.alerts(0).case_ids(), ::testing::ElementsAre(received.case_id()));
}

TEST_F(PartnerTest, ReferralsBeyondAPartnersHourlyAllowanceWaitForTheNextHour) {
  max_referrals_per_hour_ = 2;
  ASSERT_NO_FATAL_FAILURE(RestartServer());
  referrals_ = v1::ReferralService::NewStub(channel_);
  ASSERT_NO_FATAL_FAILURE(Consent(v1::CONSENT_PURPOSE_SHARE_WITH_ANOTHER_COUNTRY));
  for (int i = 0; i < 3; ++i) {
    v1::Referral draft;
    ASSERT_TRUE(Draft({v1::CONFIDENTIALITY_ADMINISTRATIVE}, &draft).ok());
    ASSERT_TRUE(Move(caseworker_, draft.id(), &v1::ReferralService::Stub::SendReferral).ok());
  }
  EXPECT_EQ(server_->partner_link()->DeliverDue(), 2);
  EXPECT_EQ(Queued(), 1) << "the third waits, it is not dropped";
  clock_.Advance(absl::Minutes(30));
  EXPECT_EQ(server_->partner_link()->DeliverDue(), 0);
  clock_.Advance(absl::Minutes(31));
  EXPECT_EQ(server_->partner_link()->DeliverDue(), 1);
  v1::ListReferralsResponse inbox;
  ASSERT_TRUE(referrals_->ListInbox(As(receiver_).get(), {}, &inbox).ok());
  EXPECT_EQ(inbox.referrals_size(), 3);
}

TEST_F(PartnerTest, BadPartnerOrReceiverIsRefused) {
  v1::CreateReferralRequest req;
  v1::Referral* r = req.mutable_referral();
  r->set_case_id(case_.id());
  r->set_partner_id("nowhere");
  r->set_purpose(v1::REFERRAL_PURPOSE_ASSESSMENT);
  r->set_urgency(v1::URGENCY_URGENT);
  r->set_lawful_basis(v1::LAWFUL_BASIS_CONSENT);
  r->add_data_scope(v1::CONFIDENTIALITY_ADMINISTRATIVE);
  r->mutable_response_deadline()->set_seconds(absl::ToUnixSeconds(clock_.Now() + absl::Hours(6)));
  v1::Referral out;
  grpc::Status s = referrals_->CreateReferral(As(caseworker_).get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("partner_id"));
  r->set_partner_id("self");
  r->set_receiver_organisation_id(third_);
  s = referrals_->CreateReferral(As(caseworker_).get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("either"));
}

// Calls as the partner itself: its certificate, on the mTLS listener.
TEST_F(PartnerTest, PartnerCallsWithBadInputOrForeignReferralsChangeNothing) {
  auto partner = PartnerStub("node");

  v1::ReferralPacket packet;
  packet.set_referral_id(std::string(32, 'a'));
  packet.set_purpose(v1::REFERRAL_PURPOSE_SHELTER);
  packet.set_urgency(v1::URGENCY_URGENT);
  packet.set_lawful_basis(v1::LAWFUL_BASIS_CONSENT);
  packet.add_data_scope(v1::CONFIDENTIALITY_ADMINISTRATIVE);
  packet.mutable_response_deadline()->set_seconds(
      absl::ToUnixSeconds(clock_.Now() + absl::Hours(6)));
  auto receive = [&](const v1::ReferralPacket& p) {
    grpc::ClientContext ctx;
    v1::ReferralReceipt receipt;
    return partner->ReceiveReferral(&ctx, p, &receipt);
  };
  const uint64_t before = AuditSequence();
  v1::ReferralPacket bad = packet;
  bad.set_purpose(static_cast<v1::ReferralPurpose>(99));
  grpc::Status s = receive(bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("purpose"));
  bad = packet;
  bad.set_referral_id("not-an-id");
  EXPECT_EQ(receive(bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad = packet;
  bad.mutable_response_deadline()->set_seconds(absl::ToUnixSeconds(clock_.Now()) - 1);
  EXPECT_EQ(receive(bad).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(AuditSequence(), before) << "a refused packet wrote something";
  v1::ListReferralsResponse inbox;
  ASSERT_TRUE(referrals_->ListInbox(As(receiver_).get(), {}, &inbox).ok());
  EXPECT_EQ(inbox.referrals_size(), 0);

  // A referral between two organisations here is not the partner's to move.
  v1::CreateReferralRequest domestic;
  v1::Referral* r = domestic.mutable_referral();
  r->set_case_id(case_.id());
  r->set_receiver_organisation_id(third_);
  r->set_purpose(v1::REFERRAL_PURPOSE_SHELTER);
  r->set_urgency(v1::URGENCY_URGENT);
  r->set_lawful_basis(v1::LAWFUL_BASIS_LEGAL_OBLIGATION);
  r->mutable_basis_detail()->set_reference("Act 12, art. 3");
  r->add_data_scope(v1::CONFIDENTIALITY_ADMINISTRATIVE);
  r->mutable_response_deadline()->set_seconds(absl::ToUnixSeconds(clock_.Now() + absl::Hours(6)));
  v1::Referral local;
  ASSERT_TRUE(referrals_->CreateReferral(As(caseworker_).get(), domestic, &local).ok());
  ASSERT_TRUE(Move(caseworker_, local.id(), &v1::ReferralService::Stub::SendReferral).ok());
  auto update = [&](const v1::PartnerReferralUpdate& u) {
    grpc::ClientContext ctx;
    v1::PartnerReferralUpdateResponse out;
    return partner->UpdateReferral(&ctx, u, &out);
  };
  v1::PartnerReferralUpdate move;
  move.set_referral_id(local.id());
  move.set_status(v1::REFERRAL_STATUS_CANCELLED);
  EXPECT_EQ(update(move).error_code(), grpc::StatusCode::NOT_FOUND);
  move.set_notice(v1::PARTNER_NOTICE_SUBJECT_ERASED);
  EXPECT_EQ(update(move).error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << "a status and a notice at once";
  EXPECT_EQ(Get(caseworker_, local.id()).status(), v1::REFERRAL_STATUS_SENT);
}

TEST_F(PartnerTest, PartnerServiceRefusesCallersWithoutAPartnerCertificate) {
  auto partner = v1::PartnerService::NewStub(channel_);  // no certificate at all
  v1::ReferralPacket packet;
  v1::ReferralReceipt receipt;
  grpc::ClientContext ctx;
  grpc::Status s = partner->ReceiveReferral(&ctx, packet, &receipt);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // ... and a session token does not make one a partner.
  grpc::ClientContext with_token;
  with_token.AddMetadata("authorization", "Bearer " + caseworker_.token);
  s = partner->ReceiveReferral(&with_token, packet, &receipt);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(PartnerTest, OnlyThePartnersPinnedKeyForClientAuthenticationIsThePartner) {
  auto receive = [&](const std::string& cert) {
    v1::ReferralReceipt receipt;
    grpc::ClientContext ctx;
    return PartnerStub(cert)->ReceiveReferral(&ctx, v1::ReferralPacket(), &receipt).error_code();
  };
  // The pinned key: the partner (whose empty packet is then refused).
  EXPECT_EQ(receive("node"), grpc::StatusCode::INVALID_ARGUMENT);
  // Its own CA signed both of these, which is not enough.
  EXPECT_EQ(receive("other"), grpc::StatusCode::UNAUTHENTICATED) << "a key that is not pinned";
  EXPECT_EQ(receive("no-eku"), grpc::StatusCode::UNAUTHENTICATED)
      << "the pinned key in a certificate not meant for client authentication";
}

}  // namespace
}  // namespace haven::testing
