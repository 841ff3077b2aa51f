// HotlineService over an in-process channel: logging contacts (anonymous by
// default, non-data contacts), who sees caller details, callbacks, repeat
// callers, escalation to a case and to a referral, the retention purge and
// the dashboard, and that no phone number reaches the store in the clear.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "haven/v1/hotline.grpc.pb.h"
#include "haven/v1/referral.grpc.pb.h"
#include "services/hotline/hotline_desk.h"
#include "services/hotline/hotline_service.h"
#include "storage/store.h"
#include "tests/service/service_fixture.h"

namespace haven::testing {
namespace {

namespace v1 = haven::v1;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp out;
  out.set_seconds(absl::ToUnixSeconds(t));
  return out;
}

class HotlineTest : public ServiceTest {
 protected:
  void Configure(v1::ServerConfig* config) override {
    config->set_hotline_caller_details_retention_days(7);
    // Sessions outlive the retention period, so that the same actors can
    // read the contacts after the purge.
    config->set_session_minutes(60 * 24 * 10);
  }

  void SetUp() override {
    ServiceTest::SetUp();
    hotline_ = v1::HotlineService::NewStub(channel_);
    hotline_org_ = NewOrganisation(v1::ORGANISATION_TYPE_HOTLINE);
    operator_ = NewUser(hotline_org_, v1::ROLE_HOTLINE_OPERATOR);
    supervisor_ = NewUser(hotline_org_, v1::ROLE_SUPERVISOR);
  }

  void TearDown() override {
    hotline_.reset();
    ServiceTest::TearDown();
  }

  v1::Contact SampleContact() {
    v1::Contact c;
    c.set_channel(v1::CONTACT_CHANNEL_PHONE);
    *c.mutable_start_time() = Ts(clock_.Now() - absl::Minutes(10));
    *c.mutable_end_time() = Ts(clock_.Now() - absl::Minutes(2));
    c.set_language("ro");
    c.set_interpreter_used(true);
    c.set_caller_type(v1::CALLER_TYPE_POTENTIAL_VICTIM);
    c.set_category(v1::CONTACT_CATEGORY_SUSPECTED_TRAFFICKING);
    c.add_indicators("general.debt-bondage");
    c.set_urgency(v1::CONTACT_URGENCY_HIGH);
    return c;
  }

  v1::Contact WithDetails(v1::Contact c, const std::string& phone) {
    c.mutable_caller_details()->set_phone_number(phone);
    c.mutable_caller_details()->set_name("Ioana");
    c.mutable_location()->set_country("RO");
    c.mutable_location()->set_city("Constanta");
    c.set_notes("works on a farm, passport taken by the employer");
    return c;
  }

  grpc::Status Log(const Actor& actor, const v1::Contact& contact, v1::Contact* out) {
    v1::LogContactRequest req;
    *req.mutable_contact() = contact;
    return hotline_->LogContact(As(actor).get(), req, out);
  }

  v1::Contact MustLog(const Actor& actor, const v1::Contact& contact) {
    v1::Contact out;
    grpc::Status s = Log(actor, contact, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status Get(const Actor& actor, const std::string& id, v1::Contact* out) {
    v1::GetContactRequest req;
    req.set_contact_id(id);
    return hotline_->GetContact(As(actor).get(), req, out);
  }

  // Every raw key and value of a column family.
  std::vector<std::string> RawEntries(storage::Cf cf) {
    std::vector<std::string> out;
    EXPECT_TRUE(server_->vault().store()
                    .Scan(cf, "", "",
                          [&](absl::string_view k, absl::string_view v) {
                            out.emplace_back(k);
                            out.emplace_back(v);
                            return true;
                          })
                    .ok());
    return out;
  }

  size_t CountIndexKeys(char tag) {
    size_t n = 0;
    EXPECT_TRUE(server_->vault().store()
                    .Scan(storage::Cf::kContactIndex, std::string(1, tag), "",
                          [&](absl::string_view, absl::string_view) {
                            ++n;
                            return true;
                          })
                    .ok());
    return n;
  }

  v1::HotlineDashboard Dashboard(const Actor& actor) {
    v1::HotlineDashboard out;
    grpc::Status s =
        hotline_->GetHotlineDashboard(As(actor).get(), v1::GetHotlineDashboardRequest(), &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  static uint32_t TallyOf(const google::protobuf::RepeatedPtrField<v1::Tally>& tallies,
                          const std::string& key) {
    for (const v1::Tally& t : tallies) {
      if (t.key() == key) return t.count();
    }
    return 0;
  }

  std::unique_ptr<v1::HotlineService::Stub> hotline_;
  std::string hotline_org_;
  Actor operator_, supervisor_;
};

TEST_F(HotlineTest, LogsAnAnonymousContactAndReadsItBack) {
  v1::Contact logged = MustLog(operator_, SampleContact());
  EXPECT_EQ(logged.id().size(), 32u);
  EXPECT_EQ(logged.organisation_id(), hotline_org_);
  EXPECT_EQ(logged.operator_id(), operator_.user_id);
  EXPECT_TRUE(logged.anonymous());
  EXPECT_FALSE(logged.has_caller_details());
  EXPECT_FALSE(logged.has_details_expire_time());
  EXPECT_EQ(LastAudit().action(), "contact.create");
  EXPECT_EQ(LastAudit().outcome(), v1::AUDIT_OUTCOME_ALLOWED);

  v1::Contact read;
  ASSERT_TRUE(Get(operator_, logged.id(), &read).ok());
  EXPECT_EQ(read.channel(), v1::CONTACT_CHANNEL_PHONE);
  EXPECT_EQ(read.category(), v1::CONTACT_CATEGORY_SUSPECTED_TRAFFICKING);
  EXPECT_EQ(read.language(), "ro");
  EXPECT_TRUE(read.interpreter_used());
  EXPECT_EQ(read.caller_type(), v1::CALLER_TYPE_POTENTIAL_VICTIM);
  EXPECT_THAT(read.indicators(), Contains("general.debt-bondage"));
  EXPECT_EQ(read.start_time().seconds(), absl::ToUnixSeconds(clock_.Now() - absl::Minutes(10)));
  EXPECT_TRUE(read.anonymous());
  EXPECT_EQ(read.repeat_contact_count(), 0u);
  EXPECT_EQ(LastAudit().action(), "contact.read");
  EXPECT_EQ(LastAudit().record(), "contacts/" + logged.id());
}

TEST_F(HotlineTest, CallerDetailsOnlyForTheHotlinesOperatorsOthersGetNotFound) {
  v1::Contact logged = MustLog(operator_, WithDetails(SampleContact(), "+40 721 000 111"));
  EXPECT_FALSE(logged.anonymous());
  EXPECT_TRUE(logged.has_details_expire_time());
  EXPECT_EQ(logged.details_expire_time().seconds(), absl::ToUnixSeconds(clock_.Now() + absl::Hours(24 * 7)));

  for (const Actor* insider : {&operator_, &supervisor_}) {
    v1::Contact read;
    ASSERT_TRUE(Get(*insider, logged.id(), &read).ok());
    EXPECT_EQ(read.caller_details().phone_number(), "+40 721 000 111");
    EXPECT_EQ(read.caller_details().name(), "Ioana");
    EXPECT_EQ(read.location().city(), "Constanta");
    EXPECT_THAT(read.notes(), HasSubstr("passport"));
    v1::AuditEntry audit = LastAudit();
    EXPECT_EQ(audit.outcome(), v1::AUDIT_OUTCOME_ALLOWED);
    EXPECT_EQ(audit.principal_id(), insider->user_id);
    EXPECT_THAT(audit.classes(), Contains(v1::CONFIDENTIALITY_IDENTIFYING));
  }

  // Another hotline's operator, a caseworker of the same organisation, the
  // administrator: all see no contact, exactly as for a missing id.
  std::string other_org = NewOrganisation(v1::ORGANISATION_TYPE_HOTLINE);
  Actor stranger = NewUser(other_org, v1::ROLE_HOTLINE_OPERATOR);
  Actor colleague = NewUser(hotline_org_, v1::ROLE_CASEWORKER);
  v1::Contact missing_out;
  grpc::Status missing = Get(operator_, std::string(32, 'a'), &missing_out);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  for (const Actor* outsider : {&stranger, &colleague, &administrator_}) {
    v1::Contact denied;
    grpc::Status s = Get(*outsider, logged.id(), &denied);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(s.error_message(), missing.error_message());
    EXPECT_FALSE(denied.has_caller_details());
    EXPECT_TRUE(denied.id().empty());
    v1::AuditEntry audit = LastAudit();
    EXPECT_EQ(audit.outcome(), v1::AUDIT_OUTCOME_DENIED);
    EXPECT_EQ(audit.principal_id(), outsider->user_id);
    EXPECT_EQ(audit.action(), "contact.read");
    EXPECT_EQ(audit.record(), "contacts/" + logged.id());
  }
  // Nor can they schedule callbacks on it.
  v1::ScheduleCallbackRequest cb;
  cb.set_contact_id(logged.id());
  *cb.mutable_due_time() = Ts(clock_.Now() + absl::Hours(1));
  v1::Callback callback;
  EXPECT_EQ(hotline_->ScheduleCallback(As(stranger).get(), cb, &callback).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(HotlineTest, NonDataContactRefusesPersonalFieldsAndStoresNone) {
  uint64_t before = AuditSequence();
  for (v1::ContactCategory category :
       {v1::CONTACT_CATEGORY_SILENT, v1::CONTACT_CATEGORY_HANG_UP, v1::CONTACT_CATEGORY_TEST,
        v1::CONTACT_CATEGORY_ABUSIVE}) {
    v1::Contact c = SampleContact();
    c.clear_indicators();
    c.set_category(category);
    v1::Contact with_phone = c;
    with_phone.mutable_caller_details()->set_phone_number("0721000111");
    v1::Contact with_notes = c;
    with_notes.set_notes("said nothing");
    v1::Contact with_location = c;
    with_location.mutable_location()->set_country("RO");
    v1::Contact with_indicator = c;
    with_indicator.add_indicators("general.debt-bondage");
    for (const v1::Contact* bad : {&with_phone, &with_notes, &with_location, &with_indicator}) {
      v1::Contact out;
      grpc::Status s = Log(operator_, *bad, &out);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_THAT(s.error_message(), Not(HasSubstr("0721000111")));
    }
  }
  EXPECT_EQ(AuditSequence(), before) << "refused input writes nothing";
  EXPECT_THAT(RawEntries(storage::Cf::kContacts), IsEmpty());

  // Without personal fields it is logged and counted, and holds no key.
  v1::Contact silent = SampleContact();
  silent.clear_indicators();
  silent.set_category(v1::CONTACT_CATEGORY_SILENT);
  v1::Contact logged = MustLog(operator_, silent);
  EXPECT_TRUE(logged.anonymous());
  EXPECT_EQ(CountIndexKeys('r'), 0u);
  EXPECT_EQ(CountIndexKeys('h'), 0u);
  EXPECT_EQ(TallyOf(Dashboard(operator_).by_category(), "CONTACT_CATEGORY_SILENT"), 1u);
  // And it cannot be escalated.
  v1::EscalateContactRequest esc;
  esc.set_contact_id(logged.id());
  v1::Contact escalated;
  EXPECT_EQ(hotline_->EscalateContact(As(operator_).get(), esc, &escalated).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(HotlineTest, BadInputGetsTheMostSpecificCodeAndWritesNothing) {
  uint64_t before = AuditSequence();
  auto expect_invalid = [&](v1::Contact c, const std::string& field) {
    v1::Contact out;
    grpc::Status s = Log(operator_, c, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_THAT(s.error_message(), HasSubstr(field));
    EXPECT_THAT(s.error_message(), Not(HasSubstr("555")));
  };
  v1::Contact c = SampleContact();
  c.clear_channel();
  expect_invalid(c, "channel");
  c = SampleContact();
  c.clear_start_time();
  expect_invalid(c, "start_time");
  c = SampleContact();
  *c.mutable_start_time() = Ts(clock_.Now() + absl::Hours(2));
  c.clear_end_time();
  expect_invalid(c, "start_time");
  c = SampleContact();
  c.set_immediate_danger(true);
  expect_invalid(c, "emergency_action");
  c = SampleContact();
  c.set_caller_type(v1::CALLER_TYPE_ANONYMOUS);
  c.mutable_caller_details()->set_phone_number("555 1234");
  expect_invalid(c, "caller_details");
  c = SampleContact();
  c.mutable_caller_details()->set_phone_number("call 555 after six");
  expect_invalid(c, "phone_number");
  c = SampleContact();
  c.add_indicators("Free text about 555");
  expect_invalid(c, "indicators");
  c = SampleContact();
  c.set_language("r");
  expect_invalid(c, "language");
  EXPECT_EQ(AuditSequence(), before);
  EXPECT_THAT(RawEntries(storage::Cf::kContacts), IsEmpty());

  // A well-formed request in immediate danger records the action taken.
  c = SampleContact();
  c.set_immediate_danger(true);
  c.set_emergency_action(v1::EMERGENCY_ACTION_POLICE_CALLED);
  v1::Contact logged = MustLog(operator_, c);
  EXPECT_EQ(logged.emergency_action(), v1::EMERGENCY_ACTION_POLICE_CALLED);

  // A caseworker may not log contacts: PERMISSION_DENIED, audited.
  Actor caseworker = NewUser(hotline_org_, v1::ROLE_CASEWORKER);
  v1::Contact out;
  EXPECT_EQ(Log(caseworker, SampleContact(), &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(LastAudit().outcome(), v1::AUDIT_OUTCOME_DENIED);
}

TEST_F(HotlineTest, CallbacksQueueInDueOrderAndTurnOverdueOnTheClock) {
  v1::Contact first = MustLog(operator_, SampleContact());
  v1::Contact second = MustLog(operator_, SampleContact());
  auto schedule = [&](const std::string& id, absl::Duration in) {
    v1::ScheduleCallbackRequest req;
    req.set_contact_id(id);
    *req.mutable_due_time() = Ts(clock_.Now() + in);
    v1::Callback cb;
    grpc::Status s = hotline_->ScheduleCallback(As(operator_).get(), req, &cb);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return cb;
  };
  v1::Callback later = schedule(first.id(), absl::Hours(3));
  v1::Callback sooner = schedule(second.id(), absl::Hours(1));
  EXPECT_EQ(sooner.status(), v1::CALLBACK_STATUS_OPEN);
  EXPECT_FALSE(sooner.overdue());

  // A due time in the past is refused.
  v1::ScheduleCallbackRequest past;
  past.set_contact_id(first.id());
  *past.mutable_due_time() = Ts(clock_.Now() - absl::Hours(1));
  v1::Callback cb;
  EXPECT_EQ(hotline_->ScheduleCallback(As(operator_).get(), past, &cb).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::ListCallbacksResponse queue;
  ASSERT_TRUE(hotline_->ListCallbacks(As(operator_).get(), v1::ListCallbacksRequest(), &queue).ok());
  ASSERT_EQ(queue.callbacks_size(), 2);
  EXPECT_EQ(queue.callbacks(0).id(), sooner.id());
  EXPECT_EQ(queue.callbacks(0).contact_id(), second.id());
  EXPECT_EQ(queue.callbacks(1).id(), later.id());
  EXPECT_FALSE(queue.callbacks(0).overdue());

  clock_.Advance(absl::Hours(2));
  v1::ListCallbacksRequest overdue_only;
  overdue_only.set_overdue_only(true);
  ASSERT_TRUE(hotline_->ListCallbacks(As(operator_).get(), overdue_only, &queue).ok());
  ASSERT_EQ(queue.callbacks_size(), 1);
  EXPECT_EQ(queue.callbacks(0).id(), sooner.id());
  EXPECT_TRUE(queue.callbacks(0).overdue());
  v1::HotlineDashboard dash = Dashboard(supervisor_);
  EXPECT_EQ(dash.open_callbacks(), 2u);
  EXPECT_EQ(dash.overdue_callbacks(), 1u);

  // Another operator's queue is their own.
  ASSERT_TRUE(hotline_->ListCallbacks(As(supervisor_).get(), v1::ListCallbacksRequest(), &queue).ok());
  EXPECT_EQ(queue.callbacks_size(), 0);

  v1::CloseCallbackRequest close;
  close.set_contact_id(second.id());
  close.set_callback_id(sooner.id());
  close.set_status(v1::CALLBACK_STATUS_DONE);
  v1::Callback closed;
  ASSERT_TRUE(hotline_->CloseCallback(As(operator_).get(), close, &closed).ok());
  EXPECT_EQ(closed.status(), v1::CALLBACK_STATUS_DONE);
  EXPECT_FALSE(closed.overdue());
  EXPECT_EQ(hotline_->CloseCallback(As(operator_).get(), close, &closed).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(hotline_->ListCallbacks(As(operator_).get(), v1::ListCallbacksRequest(), &queue).ok());
  ASSERT_EQ(queue.callbacks_size(), 1);
  EXPECT_EQ(queue.callbacks(0).id(), later.id());
  EXPECT_EQ(Dashboard(operator_).open_callbacks(), 1u);
}

TEST_F(HotlineTest, PhoneNumberNormalizationIsDigitsOnlyWithoutALeadingDoubleZero) {
  EXPECT_EQ(hotline::NormalizePhoneNumber("+40 721 000 111"), "40721000111");
  EXPECT_EQ(hotline::NormalizePhoneNumber("0040721000111"), "40721000111");
  EXPECT_EQ(hotline::NormalizePhoneNumber("(0040) 721-000.111"), "40721000111");
  // A national form is not guessed into an international one.
  EXPECT_EQ(hotline::NormalizePhoneNumber("0721 000 111"), "0721000111");
  EXPECT_EQ(hotline::NormalizePhoneNumber("+-"), "");
}

TEST_F(HotlineTest, RepeatCallerIsRecognisedByNumberInAnotherFormattingAndOnlyCounted) {
  v1::Contact first = MustLog(operator_, WithDetails(SampleContact(), "+40 721 000 111"));
  EXPECT_EQ(first.repeat_contact_count(), 0u);
  v1::Contact second = MustLog(operator_, WithDetails(SampleContact(), "0040721000111"));
  EXPECT_EQ(second.repeat_contact_count(), 1u);
  v1::Contact other = MustLog(operator_, WithDetails(SampleContact(), "+40 721 999 888"));
  EXPECT_EQ(other.repeat_contact_count(), 0u);

  // Another hotline learns the count only: the earlier contacts stay hidden.
  Actor elsewhere = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_HOTLINE), v1::ROLE_HOTLINE_OPERATOR);
  v1::Contact third = MustLog(elsewhere, WithDetails(SampleContact(), "0040 721 000 111"));
  EXPECT_EQ(third.repeat_contact_count(), 2u);
  v1::Contact hidden;
  EXPECT_EQ(Get(elsewhere, first.id(), &hidden).error_code(), grpc::StatusCode::NOT_FOUND);
  std::string serialized = third.SerializeAsString();
  EXPECT_THAT(serialized, Not(HasSubstr(first.id())));
  EXPECT_THAT(serialized, Not(HasSubstr(second.id())));

  // The count is kept on the contact.
  v1::Contact reread;
  ASSERT_TRUE(Get(operator_, second.id(), &reread).ok());
  EXPECT_EQ(reread.repeat_contact_count(), 1u);
}

TEST_F(HotlineTest, EscalationOpensACaseTheOperatorCanReadLinkedBothWays) {
  v1::Contact contact = MustLog(operator_, WithDetails(SampleContact(), "+40 721 000 111"));
  v1::EscalateContactRequest req;
  req.set_contact_id(contact.id());
  req.mutable_subject()->set_given_name("Ioana");
  req.mutable_subject()->add_languages("ro");
  v1::Contact escalated;
  grpc::Status s = hotline_->EscalateContact(As(operator_).get(), req, &escalated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(escalated.case_id().size(), 32u);
  EXPECT_EQ(escalated.caller_details().phone_number(), "+40 721 000 111");

  // Contact -> case.
  v1::Contact reread;
  ASSERT_TRUE(Get(operator_, contact.id(), &reread).ok());
  EXPECT_EQ(reread.case_id(), escalated.case_id());

  // The operator reads the case, owned by the hotline.
  v1::GetCaseRequest get;
  get.set_case_id(escalated.case_id());
  v1::Case c;
  ASSERT_TRUE(cases_->GetCase(As(operator_).get(), get, &c).ok());
  EXPECT_EQ(c.owning_organisation_id(), hotline_org_);
  EXPECT_EQ(c.subject().given_name(), "Ioana");

  // Case -> contact, on the timeline (ids only).
  v1::ListTimelineRequest tl;
  tl.set_case_id(escalated.case_id());
  v1::ListTimelineResponse timeline;
  ASSERT_TRUE(cases_->ListTimeline(As(operator_).get(), tl, &timeline).ok());
  ASSERT_GE(timeline.events_size(), 1);
  EXPECT_EQ(timeline.events(0).kind(), v1::TIMELINE_EVENT_OPENED);
  EXPECT_EQ(timeline.events(0).summary(), "opened from hotline contact " + contact.id());

  // A contact is escalated once.
  EXPECT_EQ(hotline_->EscalateContact(As(operator_).get(), req, &escalated).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // A case can have many contacts: a later one is linked to the same case.
  v1::Contact later = MustLog(operator_, SampleContact());
  v1::EscalateContactRequest link;
  link.set_contact_id(later.id());
  link.set_case_id(escalated.case_id());
  v1::Contact linked;
  s = hotline_->EscalateContact(As(operator_).get(), link, &linked);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(linked.case_id(), escalated.case_id());
  ASSERT_TRUE(cases_->ListTimeline(As(operator_).get(), tl, &timeline).ok());
  bool found = false;
  for (const v1::TimelineEvent& e : timeline.events()) {
    if (e.summary() == "hotline contact " + later.id() + " linked") found = true;
  }
  EXPECT_TRUE(found);

  // Someone else's contact cannot be escalated, and no case is opened for it.
  Actor stranger = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_HOTLINE), v1::ROLE_HOTLINE_OPERATOR);
  v1::Contact theirs = MustLog(stranger, SampleContact());
  v1::EscalateContactRequest steal;
  steal.set_contact_id(theirs.id());
  uint64_t before = AuditSequence();
  EXPECT_EQ(hotline_->EscalateContact(As(operator_).get(), steal, &linked).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(AuditSequence(), before + 1);  // the denial only
  EXPECT_EQ(LastAudit().outcome(), v1::AUDIT_OUTCOME_DENIED);
}

TEST_F(HotlineTest, RetentionPurgeRemovesCallerDetailsAndKeepsTheCounts) {
  v1::Contact contact = MustLog(operator_, WithDetails(SampleContact(), "+40 721 000 111"));
  v1::Contact anonymous = MustLog(operator_, SampleContact());
  EXPECT_EQ(CountIndexKeys('h'), 1u);
  EXPECT_EQ(CountIndexKeys('r'), 1u);
  v1::HotlineDashboard before = Dashboard(operator_);
  EXPECT_EQ(before.total_contacts(), 2u);

  // Not yet expired: nothing to purge.
  clock_.Advance(absl::Hours(24 * 6));
  absl::StatusOr<int> purged = server_->hotline().desk().PurgeExpiredDetails();
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_EQ(*purged, 0);

  clock_.Advance(absl::Hours(24 * 1) + absl::Minutes(1));
  purged = server_->hotline().desk().PurgeExpiredDetails();
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(CountIndexKeys('h'), 0u);
  EXPECT_EQ(CountIndexKeys('r'), 0u);
  EXPECT_EQ(LastAudit().action(), "contact.purge_details");

  v1::Contact read;
  ASSERT_TRUE(Get(operator_, contact.id(), &read).ok());
  EXPECT_FALSE(read.has_caller_details());
  EXPECT_FALSE(read.has_location());
  EXPECT_TRUE(read.notes().empty());
  EXPECT_TRUE(read.anonymous());
  EXPECT_TRUE(read.has_details_purge_time());
  EXPECT_EQ(read.category(), v1::CONTACT_CATEGORY_SUSPECTED_TRAFFICKING);
  for (const std::string& raw : RawEntries(storage::Cf::kContacts)) {
    EXPECT_THAT(raw, Not(HasSubstr("Constanta")));
  }

  // A second run finds nothing more.
  purged = server_->hotline().desk().PurgeExpiredDetails();
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 0);

  // The counts of that day stay.
  v1::GetHotlineDashboardRequest day;
  *day.mutable_day() = before.day();
  v1::HotlineDashboard after;
  ASSERT_TRUE(hotline_->GetHotlineDashboard(As(operator_).get(), day, &after).ok());
  EXPECT_EQ(after.total_contacts(), 2u);
  EXPECT_EQ(TallyOf(after.by_channel(), "CONTACT_CHANNEL_PHONE"), 2u);
  EXPECT_EQ(TallyOf(after.by_language(), "ro"), 2u);
  (void)anonymous;
}

TEST_F(HotlineTest, DashboardCountsTodaysContactsOfTheCallersOrganisationOnly) {
  MustLog(operator_, SampleContact());
  v1::Contact chat = SampleContact();
  chat.set_channel(v1::CONTACT_CHANNEL_CHAT);
  chat.set_language("en");
  chat.set_category(v1::CONTACT_CATEGORY_INFORMATION);
  MustLog(operator_, chat);
  v1::Contact test = SampleContact();
  test.clear_indicators();
  test.clear_language();
  test.set_category(v1::CONTACT_CATEGORY_TEST);
  MustLog(supervisor_, test);
  Actor elsewhere = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_HOTLINE), v1::ROLE_HOTLINE_OPERATOR);
  MustLog(elsewhere, SampleContact());
  // Yesterday's contact is not today's.
  v1::Contact old = SampleContact();
  *old.mutable_start_time() = Ts(clock_.Now() - absl::Hours(30));
  old.clear_end_time();
  MustLog(operator_, old);

  v1::HotlineDashboard dash = Dashboard(operator_);
  EXPECT_EQ(dash.total_contacts(), 3u);
  EXPECT_EQ(TallyOf(dash.by_channel(), "CONTACT_CHANNEL_PHONE"), 2u);
  EXPECT_EQ(TallyOf(dash.by_channel(), "CONTACT_CHANNEL_CHAT"), 1u);
  EXPECT_EQ(TallyOf(dash.by_category(), "CONTACT_CATEGORY_TEST"), 1u);
  EXPECT_EQ(TallyOf(dash.by_category(), "CONTACT_CATEGORY_INFORMATION"), 1u);
  EXPECT_EQ(TallyOf(dash.by_language(), "ro"), 1u);
  EXPECT_EQ(TallyOf(dash.by_language(), "en"), 1u);
  EXPECT_EQ(TallyOf(dash.by_language(), "und"), 1u);

  // An analyst of the hotline sees the counts; a caseworker does not.
  Actor analyst = NewUser(hotline_org_, v1::ROLE_ANALYST);
  EXPECT_EQ(Dashboard(analyst).total_contacts(), 3u);
  Actor caseworker = NewUser(hotline_org_, v1::ROLE_CASEWORKER);
  v1::HotlineDashboard none;
  EXPECT_EQ(hotline_->GetHotlineDashboard(As(caseworker).get(), v1::GetHotlineDashboardRequest(),
                                          &none)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(HotlineTest, CanaryPhoneNumberNeverAppearsInTheContactColumnFamilies) {
  const std::string canary = "+40 799 123 457";
  const std::string canary_digits = "40799123457";
  v1::Contact c = WithDetails(SampleContact(), canary);
  c.mutable_caller_details()->set_email("canary-7f3a@example.org");
  v1::Contact logged = MustLog(operator_, c);
  MustLog(operator_, WithDetails(SampleContact(), "0040799123457"));
  v1::ScheduleCallbackRequest cb;
  cb.set_contact_id(logged.id());
  *cb.mutable_due_time() = Ts(clock_.Now() + absl::Hours(1));
  v1::Callback callback;
  ASSERT_TRUE(hotline_->ScheduleCallback(As(operator_).get(), cb, &callback).ok());
  v1::EscalateContactRequest esc;
  esc.set_contact_id(logged.id());
  v1::Contact escalated;
  ASSERT_TRUE(hotline_->EscalateContact(As(operator_).get(), esc, &escalated).ok());

  for (storage::Cf cf : {storage::Cf::kContacts, storage::Cf::kContactIndex}) {
    std::vector<std::string> raw = RawEntries(cf);
    EXPECT_FALSE(raw.empty());
    for (const std::string& bytes : raw) {
      for (const std::string& needle :
           {canary, canary_digits, std::string("0799123457"), std::string("799123457"),
            std::string("canary-7f3a"), std::string("Ioana"), std::string("Constanta")}) {
        EXPECT_EQ(bytes.find(needle), std::string::npos) << storage::CfName(cf) << " holds " << needle;
      }
    }
  }
  // Nor in the audit log.
  for (uint64_t seq = 1; seq <= AuditSequence(); ++seq) {
    auto entry = server_->vault().store().ReadAuditEntry(seq);
    ASSERT_TRUE(entry.ok());
    EXPECT_EQ(entry->SerializeAsString().find(canary_digits), std::string::npos);
  }
}

// Escalation to a referral: an NGO with a caseworker to refer to, and a
// hotline user who may share the hotline's cases (operator and caseworker).
class HotlineReferralTest : public HotlineTest {
 protected:
  void SetUp() override {
    HotlineTest::SetUp();
    referrals_ = v1::ReferralService::NewStub(channel_);
    ngo_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
    ngo_caseworker_ = NewUser(ngo_, v1::ROLE_CASEWORKER);
    escalator_ = NewUser(hotline_org_, {v1::ROLE_HOTLINE_OPERATOR, v1::ROLE_CASEWORKER});
  }

  void TearDown() override {
    referrals_.reset();
    HotlineTest::TearDown();
  }

  v1::EscalateContactToReferralRequest Escalation(const std::string& contact_id,
                                                  bool with_consent) {
    v1::EscalateContactToReferralRequest req;
    req.set_contact_id(contact_id);
    req.mutable_subject()->set_given_name("Ioana");
    req.mutable_subject()->add_languages("ro");
    if (with_consent) {
      v1::Consent* c = req.mutable_consent();
      c->set_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS);
      c->set_given(true);
      c->set_language("ro");
      c->set_interpreter_used(true);
    }
    v1::Referral* r = req.mutable_referral();
    r->set_receiver_organisation_id(ngo_);
    r->set_purpose(v1::REFERRAL_PURPOSE_SHELTER);
    r->set_urgency(v1::URGENCY_URGENT);
    r->set_lawful_basis(v1::LAWFUL_BASIS_CONSENT);
    r->add_data_scope(v1::CONFIDENTIALITY_ADMINISTRATIVE);
    r->add_data_scope(v1::CONFIDENTIALITY_PSEUDONYMOUS);
    r->add_data_scope(v1::CONFIDENTIALITY_IDENTIFYING);
    *r->mutable_response_deadline() = Ts(clock_.Now() + absl::Hours(48));
    req.set_reason("needs a safe place tonight");
    return req;
  }

  std::vector<v1::TimelineEvent> Timeline(const Actor& actor, const std::string& case_id) {
    v1::ListTimelineRequest tl;
    tl.set_case_id(case_id);
    v1::ListTimelineResponse timeline;
    grpc::Status s = cases_->ListTimeline(As(actor).get(), tl, &timeline);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {timeline.events().begin(), timeline.events().end()};
  }

  std::unique_ptr<v1::ReferralService::Stub> referrals_;
  std::string ngo_;
  Actor ngo_caseworker_;
  Actor escalator_;
};

TEST_F(HotlineReferralTest, EscalationToAReferralTheReceiverSeesAndAccepts) {
  v1::Contact contact = MustLog(escalator_, WithDetails(SampleContact(), "+40 721 000 111"));
  v1::EscalateContactToReferralResponse out;
  grpc::Status s = hotline_->EscalateContactToReferral(As(escalator_).get(),
                                                       Escalation(contact.id(), true), &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::Referral& referral = out.referral();
  EXPECT_EQ(referral.status(), v1::REFERRAL_STATUS_SENT);
  EXPECT_EQ(referral.receiver_organisation_id(), ngo_);
  EXPECT_EQ(referral.sender_organisation_id(), hotline_org_);
  EXPECT_EQ(referral.purpose(), v1::REFERRAL_PURPOSE_SHELTER);
  EXPECT_EQ(referral.urgency(), v1::URGENCY_URGENT);
  EXPECT_EQ(referral.lawful_basis(), v1::LAWFUL_BASIS_CONSENT);
  ASSERT_EQ(out.contact().case_id().size(), 32u);
  EXPECT_EQ(referral.case_id(), out.contact().case_id());
  EXPECT_THAT(out.contact().referral_ids(), ::testing::ElementsAre(referral.id()));

  // Contact -> case and referral, as stored.
  v1::Contact reread;
  ASSERT_TRUE(Get(escalator_, contact.id(), &reread).ok());
  EXPECT_EQ(reread.case_id(), referral.case_id());
  EXPECT_THAT(reread.referral_ids(), ::testing::ElementsAre(referral.id()));
  // A plain operator sees the links too.
  ASSERT_TRUE(Get(operator_, contact.id(), &reread).ok());
  EXPECT_THAT(reread.referral_ids(), ::testing::ElementsAre(referral.id()));

  // The consent is on the case as given.
  v1::ListConsentsRequest lc;
  lc.set_case_id(referral.case_id());
  v1::ListConsentsResponse consents;
  ASSERT_TRUE(cases_->ListConsents(As(escalator_).get(), lc, &consents).ok());
  ASSERT_EQ(consents.consents_size(), 1);
  EXPECT_EQ(consents.consents(0).purpose(), v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS);
  EXPECT_TRUE(consents.consents(0).given());
  EXPECT_EQ(consents.consents(0).language(), "ro");
  EXPECT_TRUE(consents.consents(0).interpreter_used());

  // Case -> contact and referral, on the timeline.
  bool opened = false, drafted = false, sent = false;
  for (const v1::TimelineEvent& e : Timeline(escalator_, referral.case_id())) {
    if (e.summary() == "opened from hotline contact " + contact.id()) opened = true;
    if (e.kind() == v1::TIMELINE_EVENT_REFERRED &&
        e.summary().find(referral.id() + " drafted") != std::string::npos) {
      drafted = true;
      EXPECT_THAT(e.detail(), HasSubstr("escalated from hotline contact " + contact.id()));
    }
    if (e.kind() == v1::TIMELINE_EVENT_REFERRED &&
        e.summary().find(referral.id() + " sent") != std::string::npos) {
      sent = true;
    }
  }
  EXPECT_TRUE(opened);
  EXPECT_TRUE(drafted);
  EXPECT_TRUE(sent);

  // The NGO sees it in its inbox, accepts it, and reads the case in scope.
  v1::ListReferralsRequest list;
  v1::ListReferralsResponse inbox;
  ASSERT_TRUE(referrals_->ListInbox(As(ngo_caseworker_).get(), list, &inbox).ok());
  ASSERT_EQ(inbox.referrals_size(), 1);
  EXPECT_EQ(inbox.referrals(0).id(), referral.id());
  v1::ReferralTransitionRequest accept;
  accept.set_referral_id(referral.id());
  v1::Referral accepted;
  s = referrals_->AcceptReferral(As(ngo_caseworker_).get(), accept, &accepted);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(accepted.status(), v1::REFERRAL_STATUS_ACCEPTED);
  v1::GetCaseRequest get;
  get.set_case_id(referral.case_id());
  v1::Case c;
  s = cases_->GetCase(As(ngo_caseworker_).get(), get, &c);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(c.subject().given_name(), "Ioana");
  // The NGO has no hotline role: the contact stays the hotline's.
  EXPECT_EQ(Get(ngo_caseworker_, contact.id(), &reread).error_code(), grpc::StatusCode::NOT_FOUND);

  // A second referral from the same contact uses its case.
  v1::EscalateContactToReferralRequest again = Escalation(contact.id(), false);
  again.clear_subject();
  again.mutable_referral()->set_purpose(v1::REFERRAL_PURPOSE_PSYCHOLOGICAL);
  v1::EscalateContactToReferralResponse second;
  s = hotline_->EscalateContactToReferral(As(escalator_).get(), again, &second);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(second.referral().case_id(), referral.case_id());
  EXPECT_THAT(second.contact().referral_ids(),
              ::testing::ElementsAre(referral.id(), second.referral().id()));
}

TEST_F(HotlineReferralTest, EscalationWithoutConsentIsRefusedAndLinksNoReferral) {
  v1::Contact contact = MustLog(escalator_, WithDetails(SampleContact(), "+40 721 000 222"));
  v1::EscalateContactToReferralResponse out;
  // No case yet: refused before anything is written.
  grpc::Status s = hotline_->EscalateContactToReferral(As(escalator_).get(),
                                                       Escalation(contact.id(), false), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS"));
  v1::Contact reread;
  ASSERT_TRUE(Get(escalator_, contact.id(), &reread).ok());
  EXPECT_THAT(reread.referral_ids(), IsEmpty());
  EXPECT_THAT(reread.case_id(), IsEmpty());

  // Consent given for another purpose is not the consent needed.
  v1::EscalateContactToReferralRequest wrong = Escalation(contact.id(), true);
  wrong.mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_STATISTICS);
  EXPECT_EQ(hotline_->EscalateContactToReferral(As(escalator_).get(), wrong, &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // With a case already (escalated as before), the send is refused and
  // nothing of the escalation is written: no draft, no consent, no link.
  v1::EscalateContactRequest open;
  open.set_contact_id(contact.id());
  v1::Contact escalated;
  ASSERT_TRUE(hotline_->EscalateContact(As(escalator_).get(), open, &escalated).ok());
  v1::EscalateContactToReferralRequest refused = Escalation(contact.id(), true);
  refused.clear_subject();
  refused.mutable_consent()->set_given(false);  // the caller said no
  s = hotline_->EscalateContactToReferral(As(escalator_).get(), refused, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  ASSERT_TRUE(Get(escalator_, contact.id(), &reread).ok());
  EXPECT_EQ(reread.case_id(), escalated.case_id());
  EXPECT_THAT(reread.referral_ids(), IsEmpty());
  v1::ListReferralsRequest list;
  v1::ListReferralsResponse inbox;
  ASSERT_TRUE(referrals_->ListInbox(As(ngo_caseworker_).get(), list, &inbox).ok());
  EXPECT_EQ(inbox.referrals_size(), 0);
  v1::ListReferralsResponse outbox;
  ASSERT_TRUE(referrals_->ListOutbox(As(escalator_).get(), list, &outbox).ok());
  EXPECT_EQ(outbox.referrals_size(), 0);
  v1::ListConsentsRequest consents_request;
  consents_request.set_case_id(escalated.case_id());
  v1::ListConsentsResponse consents;
  ASSERT_TRUE(cases_->ListConsents(As(escalator_).get(), consents_request, &consents).ok());
  EXPECT_THAT(consents.consents(), IsEmpty());

  // An emergency basis needs its reason, and a second person to send it:
  // the escalation, one transaction, writes nothing without them.
  v1::EscalateContactToReferralRequest vital = Escalation(contact.id(), false);
  vital.clear_subject();
  vital.mutable_referral()->set_lawful_basis(v1::LAWFUL_BASIS_VITAL_INTERESTS);
  s = hotline_->EscalateContactToReferral(As(escalator_).get(), vital, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  vital.mutable_referral()->mutable_basis_detail()->set_reason("The caller is in danger now");
  s = hotline_->EscalateContactToReferral(As(escalator_).get(), vital, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  ASSERT_TRUE(referrals_->ListOutbox(As(escalator_).get(), list, &outbox).ok());
  EXPECT_EQ(outbox.referrals_size(), 0);

  // A basis that needs neither is recorded instead.
  v1::EscalateContactToReferralRequest obliged = Escalation(contact.id(), false);
  obliged.clear_subject();
  obliged.mutable_referral()->set_lawful_basis(v1::LAWFUL_BASIS_LEGAL_OBLIGATION);
  obliged.mutable_referral()->mutable_basis_detail()->set_reference("Child Act s. 47");
  s = hotline_->EscalateContactToReferral(As(escalator_).get(), obliged, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.referral().status(), v1::REFERRAL_STATUS_SENT);
  EXPECT_THAT(out.contact().referral_ids(), ::testing::ElementsAre(out.referral().id()));
}

TEST_F(HotlineReferralTest, OnlyTheContactsOrganisationWithTheShareRightEscalates) {
  v1::Contact contact = MustLog(escalator_, WithDetails(SampleContact(), "+40 721 000 333"));
  v1::EscalateContactToReferralResponse out;
  // Another organisation (even one that may share its own cases): NOT_FOUND,
  // and only the denial is written.
  Actor stranger = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_HOTLINE),
                                    {v1::ROLE_HOTLINE_OPERATOR, v1::ROLE_SUPERVISOR});
  uint64_t before = AuditSequence();
  grpc::Status s = hotline_->EscalateContactToReferral(As(stranger).get(),
                                                       Escalation(contact.id(), true), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_EQ(s.error_message(), "contact not found");
  EXPECT_EQ(AuditSequence(), before + 1);
  EXPECT_EQ(LastAudit().outcome(), v1::AUDIT_OUTCOME_DENIED);
  // The receiving NGO cannot either.
  EXPECT_EQ(hotline_->EscalateContactToReferral(As(ngo_caseworker_).get(),
                                                Escalation(contact.id(), true), &out)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  // A plain hotline operator may not share the case: nothing is written.
  s = hotline_->EscalateContactToReferral(As(operator_).get(), Escalation(contact.id(), true),
                                          &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  v1::Contact reread;
  ASSERT_TRUE(Get(escalator_, contact.id(), &reread).ok());
  EXPECT_THAT(reread.case_id(), IsEmpty());
  EXPECT_THAT(reread.referral_ids(), IsEmpty());
  // A hotline supervisor may.
  s = hotline_->EscalateContactToReferral(As(supervisor_).get(), Escalation(contact.id(), true),
                                          &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

}  // namespace
}  // namespace haven::testing
