// End-to-end test of the hotline against the real havend over gRPC: a phone
// contact escalated to a case and a referral to an NGO, which accepts it and
// reads the case within the referral's scope; then SIGTERM, and the caller's
// number and name are nowhere in the data directory or the log.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/havend_process.h"

namespace haven::e2e {
namespace {

namespace v1 = haven::v1;
using grpc::StatusCode;
using ::testing::ElementsAre;

// Creates and activates a user with several roles.
void CreateUserWithRoles(Client& client, const Actor& admin, const std::string& organisation_id,
                         const std::string& username, const std::vector<v1::Role>& roles,
                         Actor* out) {
  v1::CreateUserRequest request;
  request.mutable_user()->set_organisation_id(organisation_id);
  request.mutable_user()->set_username(username);
  request.mutable_user()->set_display_name("E2E " + username);
  for (v1::Role role : roles) request.mutable_user()->add_roles(role);
  v1::CreateUserResponse created;
  grpc::Status s = client.admin->CreateUser(Ctx(admin.token).get(), request, &created);
  ASSERT_TRUE(s.ok()) << "create user " << username << ": " << Describe(s);
  ASSERT_NO_FATAL_FAILURE(Activate(client, username, created.initial_password(), out));
}

TEST(HotlineE2eTest, HotlineContactEscalatedToReferralAndCase) {
  HavendProcess havend;
  ASSERT_NO_FATAL_FAILURE(havend.Init());
  ASSERT_NO_FATAL_FAILURE(havend.Start());
  auto client = std::make_unique<Client>(havend.channel());
  Client& c = *client;

  // ------------------------------------------------------------ 1. set-up
  Actor admin;
  ASSERT_NO_FATAL_FAILURE(SetUpAdministrator(havend, c, &admin));
  std::string hotline_org;
  ASSERT_NO_FATAL_FAILURE(
      CreateOrganisation(c, admin, "Trafficking Hotline", v1::ORGANISATION_TYPE_HOTLINE, &hotline_org));
  // Sending a referral shares the case: the operator is also a caseworker.
  Actor operator_;
  ASSERT_NO_FATAL_FAILURE(CreateUserWithRoles(
      c, admin, hotline_org, "operator", {v1::ROLE_HOTLINE_OPERATOR, v1::ROLE_CASEWORKER},
      &operator_));
  Team ngo;
  ASSERT_NO_FATAL_FAILURE(SetUpTeam(c, admin, "Safe House", v1::ORGANISATION_TYPE_NGO,
                                    {{"caseworker", v1::ROLE_CASEWORKER}}, &ngo));
  const Actor& caseworker = ngo.users[0];

  // ------------------------------------------------------------ 2. the contact
  // The caller's number and name are canaries.
  const std::string subscriber = "7" + RandomString(9, "0123456789");
  const std::string phone = "+40 " + subscriber;  // as typed
  const std::string digits = "40" + subscriber;
  const std::string hex = RandomString(16, "0123456789abcdef");
  const std::string name = "Canary" + hex;

  v1::LogContactRequest log;
  v1::Contact* in = log.mutable_contact();
  in->set_channel(v1::CONTACT_CHANNEL_PHONE);
  *in->mutable_start_time() = SecondsFromNow(-600);
  *in->mutable_end_time() = SecondsFromNow(-60);
  in->set_language("ro");
  in->set_interpreter_used(true);
  in->set_caller_type(v1::CALLER_TYPE_POTENTIAL_VICTIM);
  in->set_category(v1::CONTACT_CATEGORY_SUSPECTED_TRAFFICKING);
  in->add_indicators("general.debt-bondage");
  in->set_urgency(v1::CONTACT_URGENCY_HIGH);
  in->mutable_caller_details()->set_phone_number(phone);
  in->mutable_caller_details()->set_name(name);
  v1::Contact contact;
  grpc::Status s = c.hotline->LogContact(Ctx(operator_.token).get(), log, &contact);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(contact.id().size(), 32u);
  EXPECT_EQ(contact.caller_details().phone_number(), phone);
  EXPECT_EQ(contact.caller_details().name(), name);

  // ------------------------------------------------------------ 3. escalation
  v1::EscalateContactToReferralRequest esc;
  esc.set_contact_id(contact.id());
  esc.mutable_subject()->set_given_name(name);
  esc.mutable_subject()->add_languages("ro");
  v1::Consent* consent = esc.mutable_consent();
  consent->set_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS);
  consent->set_given(true);
  consent->set_language("ro");
  consent->set_interpreter_used(true);
  v1::Referral* r = esc.mutable_referral();
  r->set_receiver_organisation_id(ngo.organisation_id);
  r->set_purpose(v1::REFERRAL_PURPOSE_SHELTER);
  r->set_urgency(v1::URGENCY_URGENT);
  r->set_lawful_basis(v1::LAWFUL_BASIS_CONSENT);
  r->add_data_scope(v1::CONFIDENTIALITY_ADMINISTRATIVE);
  r->add_data_scope(v1::CONFIDENTIALITY_PSEUDONYMOUS);
  *r->mutable_response_deadline() = SecondsFromNow(2 * 24 * 3600);
  esc.set_reason("needs a safe place tonight");
  v1::EscalateContactToReferralResponse escalated;
  s = c.hotline->EscalateContactToReferral(Ctx(operator_.token).get(), esc, &escalated);
  ASSERT_TRUE(s.ok()) << Describe(s);
  const std::string case_id = escalated.contact().case_id();
  const std::string referral_id = escalated.referral().id();
  ASSERT_EQ(case_id.size(), 32u);
  ASSERT_EQ(referral_id.size(), 32u);
  EXPECT_EQ(escalated.referral().status(), v1::REFERRAL_STATUS_SENT);
  EXPECT_EQ(escalated.referral().case_id(), case_id);

  // ------------------------------------------------------------ 4. the NGO
  v1::ListReferralsResponse inbox;
  s = c.referrals->ListInbox(Ctx(caseworker.token).get(), v1::ListReferralsRequest(), &inbox);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(inbox.referrals_size(), 1);
  EXPECT_EQ(inbox.referrals(0).id(), referral_id);
  EXPECT_EQ(inbox.referrals(0).sender_organisation_id(), hotline_org);

  v1::GetCaseRequest get;
  get.set_case_id(case_id);
  v1::Case read;
  // Not before it accepts.
  s = c.cases->GetCase(Ctx(caseworker.token).get(), get, &read);
  EXPECT_EQ(s.error_code(), StatusCode::NOT_FOUND) << Describe(s);

  v1::ReferralTransitionRequest accept;
  accept.set_referral_id(referral_id);
  v1::Referral accepted;
  s = c.referrals->AcceptReferral(Ctx(caseworker.token).get(), accept, &accepted);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(accepted.status(), v1::REFERRAL_STATUS_ACCEPTED);

  // Within the scope: pseudonymous facts, not the name.
  s = c.cases->GetCase(Ctx(caseworker.token).get(), get, &read);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(read.id(), case_id);
  EXPECT_EQ(read.owning_organisation_id(), hotline_org);
  EXPECT_THAT(read.subject().languages(), ElementsAre("ro"));
  EXPECT_TRUE(read.subject().given_name().empty()) << "outside the referral's data scope";
  // The hotline's caseworker-operator reads the name: it was stored.
  s = c.cases->GetCase(Ctx(operator_.token).get(), get, &read);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(read.subject().given_name(), name);
  // The contact stays the hotline's.
  v1::GetContactRequest get_contact;
  get_contact.set_contact_id(contact.id());
  v1::Contact theirs;
  s = c.hotline->GetContact(Ctx(caseworker.token).get(), get_contact, &theirs);
  EXPECT_EQ(s.error_code(), StatusCode::NOT_FOUND) << Describe(s);

  // ------------------------------------------------------------ 5. both links
  v1::Contact reread;
  s = c.hotline->GetContact(Ctx(operator_.token).get(), get_contact, &reread);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(reread.case_id(), case_id);
  EXPECT_THAT(reread.referral_ids(), ElementsAre(referral_id));
  EXPECT_EQ(reread.caller_details().phone_number(), phone);
  v1::ListTimelineRequest tl;
  tl.set_case_id(case_id);
  v1::ListTimelineResponse timeline;
  s = c.cases->ListTimeline(Ctx(operator_.token).get(), tl, &timeline);
  ASSERT_TRUE(s.ok()) << Describe(s);
  bool opened_from_contact = false;
  int referral_events = 0;
  for (const v1::TimelineEvent& e : timeline.events()) {
    if (e.summary() == "opened from hotline contact " + contact.id()) opened_from_contact = true;
    if (e.kind() == v1::TIMELINE_EVENT_REFERRED &&
        e.summary().find(referral_id) != std::string::npos) {
      ++referral_events;
    }
  }
  EXPECT_TRUE(opened_from_contact);
  EXPECT_GE(referral_events, 2) << "drafted, sent (and accepted)";

  // A failing call that carries the canary name (the subject): the NGO may
  // not escalate the hotline's contact. It is logged, without the name.
  v1::EscalateContactToReferralResponse refused;
  s = c.hotline->EscalateContactToReferral(Ctx(caseworker.token).get(), esc, &refused);
  EXPECT_EQ(s.error_code(), StatusCode::NOT_FOUND) << Describe(s);
  EXPECT_EQ(s.error_message().find(hex), std::string::npos) << Describe(s);

  // ------------------------------------------------------------ 6. SIGTERM and the scan
  client.reset();
  const int status = havend.Terminate();
  EXPECT_TRUE(ExitedCleanly(status)) << "on SIGTERM havend " << DescribeWaitStatus(status);

  // Control: the scan finds what havend does write in plain (ids), so an
  // absent canary means absent.
  EXPECT_FALSE(FilesContaining(havend.data_dir(), {case_id}).empty())
      << "the scan cannot find the case id in the data directory";
  EXPECT_FALSE(FilesContaining(havend.data_dir(), {referral_id}).empty())
      << "the scan cannot find the referral id in the data directory";
  EXPECT_NE(havend.ReadLog().find(
                "\"method\":\"EscalateContactToReferral\",\"code\":\"NOT_FOUND\""),
            std::string::npos)
      << "the refused escalation was not logged, so the log check proves little";

  const std::vector<std::string> needles = {
      phone,                   // as typed
      digits,                  // digits only
      "+" + digits,            // with the leading +
      "00" + digits,           // with the international prefix
      subscriber,              // the number without the country code
      name, Lower(name), Upper(name), hex, Upper(hex),
  };
  std::vector<std::string> hits = FilesContaining(havend.data_dir(), needles);
  EXPECT_TRUE(hits.empty()) << "the caller's number or name found in the data directory:\n"
                            << ::testing::PrintToString(hits);
  const std::string server_log = havend.ReadLog();
  for (const std::string& needle : needles) {
    EXPECT_EQ(server_log.find(needle), std::string::npos)
        << "\"" << needle << "\" found in the server log";
  }
  // And the directory as a whole (config, port file, anything else).
  hits = FilesContaining(havend.dir(), needles);
  EXPECT_TRUE(hits.empty()) << ::testing::PrintToString(hits);
}

}  // namespace
}  // namespace haven::e2e
