// Service plans over an in-process channel: a caseworker plans, a supervisor approves the
// version read, an item goes to its provider with its referral in one transaction, the
// referral's answer moves the item, and the provider's staff see and deliver only their own.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "haven/v1/protection.grpc.pb.h"
#include "haven/v1/referral.grpc.pb.h"
#include "tests/service/service_fixture.h"

namespace haven::testing {
namespace {

namespace v1 = haven::v1;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class ServicePlanTest : public ServiceTest {
 protected:
  // Sessions outlive the response deadlines and due times the tests pass.
  void Configure(v1::ServerConfig* config) override { config->set_session_minutes(60 * 24 * 30); }

  void SetUp() override {
    ServiceTest::SetUp();
    protection_ = v1::ProtectionService::NewStub(channel_);
    referrals_ = v1::ReferralService::NewStub(channel_);
    ngo_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
    caseworker_ = NewUser(ngo_, v1::ROLE_CASEWORKER);
    supervisor_ = NewUser(ngo_, v1::ROLE_SUPERVISOR);
    shelter_ = NewOrganisation(v1::ORGANISATION_TYPE_SERVICE_PROVIDER);
    shelter_intake_ = NewUser(shelter_, v1::ROLE_CASEWORKER);
    shelter_staff_ = NewUser(shelter_, v1::ROLE_SERVICE_PROVIDER_STAFF);
    clinic_ = NewOrganisation(v1::ORGANISATION_TYPE_SERVICE_PROVIDER);
    clinic_staff_ = NewUser(clinic_, v1::ROLE_SERVICE_PROVIDER_STAFF);
    case_id_ = CreateCase(caseworker_, "Canary-Plan-Amina").id();
    GiveConsent(caseworker_, case_id_, v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS);
  }

  void TearDown() override {
    protection_.reset();
    referrals_.reset();
    ServiceTest::TearDown();
  }

  grpc::Status AddItem(const Actor& as, v1::ServiceKind kind, const std::string& provider,
                       v1::ServicePlan* plan, const std::string& need = "A safe place with her son") {
    v1::AddPlanItemRequest request;
    request.set_case_id(case_id_);
    request.mutable_item()->set_kind(kind);
    request.mutable_item()->set_need(need);
    request.mutable_item()->set_provider_organisation_id(provider);
    request.mutable_item()->mutable_due_time()->set_seconds(
        absl::ToUnixSeconds(clock_.Now() + absl::Hours(24 * 14)));
    return protection_->AddPlanItem(As(as).get(), request, plan);
  }

  v1::ServicePlan Plan(const Actor& as, grpc::Status* status = nullptr) {
    v1::GetServicePlanRequest request;
    request.set_case_id(case_id_);
    v1::ServicePlan plan;
    grpc::Status s = protection_->GetServicePlan(As(as).get(), request, &plan);
    if (status != nullptr) *status = s;
    else EXPECT_TRUE(s.ok()) << s.error_message();
    return plan;
  }

  grpc::Status Approve(const Actor& as, int64_t version, v1::ServicePlan* plan) {
    v1::ApproveServicePlanRequest request;
    request.set_case_id(case_id_);
    request.set_version(version);
    return protection_->ApproveServicePlan(As(as).get(), request, plan);
  }

  // Refers an item with the shelter's usual terms: consent, administrative,
  // pseudonymous and identifying data, an answer within two days.
  grpc::Status Refer(const std::string& item_id, v1::ReferPlanItemResponse* response,
                     bool with_deadline = true) {
    v1::ReferPlanItemRequest request;
    request.set_case_id(case_id_);
    request.set_item_id(item_id);
    v1::Referral* r = request.mutable_referral();
    r->set_urgency(v1::URGENCY_URGENT);
    r->set_lawful_basis(v1::LAWFUL_BASIS_CONSENT);
    for (auto c : {v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS,
                   v1::CONFIDENTIALITY_IDENTIFYING}) {
      r->add_data_scope(c);
    }
    if (with_deadline) {
      r->mutable_response_deadline()->set_seconds(
          absl::ToUnixSeconds(clock_.Now() + absl::Hours(48)));
    }
    request.set_reason("Planned shelter");
    return protection_->ReferPlanItem(As(caseworker_).get(), request, response);
  }

  grpc::Status Deliver(const Actor& as, const std::string& item_id, const std::string& outcome,
                       v1::ServicePlan* plan) {
    v1::RecordServiceDeliveryRequest request;
    request.set_case_id(case_id_);
    request.set_item_id(item_id);
    request.set_outcome(outcome);
    return protection_->RecordServiceDelivery(As(as).get(), request, plan);
  }

  // Moves referral `referral_id` as its receiver, the shelter, would.
  using Move = grpc::Status (v1::ReferralService::Stub::*)(
      grpc::ClientContext*, const v1::ReferralTransitionRequest&, v1::Referral*);
  grpc::Status Answer(Move move, const std::string& referral_id) {
    v1::ReferralTransitionRequest request;
    request.set_referral_id(referral_id);
    request.set_reason("Answered by the shelter");
    v1::Referral out;
    return (referrals_.get()->*move)(As(shelter_intake_).get(), request, &out);
  }

  int OutboxSize() {
    v1::ListReferralsResponse outbox;
    EXPECT_TRUE(referrals_->ListOutbox(As(caseworker_).get(), {}, &outbox).ok());
    return outbox.referrals_size();
  }

  std::unique_ptr<v1::ProtectionService::Stub> protection_;
  std::unique_ptr<v1::ReferralService::Stub> referrals_;
  std::string ngo_;
  Actor caseworker_;
  Actor supervisor_;
  std::string shelter_;
  Actor shelter_intake_;
  Actor shelter_staff_;
  std::string clinic_;
  Actor clinic_staff_;
  std::string case_id_;
};

TEST_F(ServicePlanTest, PlannedApprovedReferredAcceptedDelivered) {
  v1::ServicePlan plan;
  ASSERT_TRUE(AddItem(caseworker_, v1::SERVICE_KIND_SHELTER, shelter_, &plan).ok());
  ASSERT_TRUE(AddItem(caseworker_, v1::SERVICE_KIND_PSYCHOLOGICAL, clinic_, &plan,
                      "Trauma counselling")
                  .ok());
  ASSERT_THAT(plan.items(), SizeIs(2));
  EXPECT_EQ(plan.version(), 2);
  EXPECT_FALSE(plan.approved());
  const std::string shelter_item = plan.items(0).id();
  const std::string clinic_item = plan.items(1).id();
  EXPECT_EQ(plan.items(0).status(), v1::PLAN_ITEM_STATUS_PLANNED);

  // Not referred before a supervisor approves the latest version.
  v1::ReferPlanItemResponse referred;
  grpc::Status early = Refer(shelter_item, &referred);
  EXPECT_EQ(early.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(early.error_message(), HasSubstr("approval"));
  EXPECT_EQ(OutboxSize(), 0) << "the referral went with the refused move";
  EXPECT_EQ(Approve(caseworker_, 2, &plan).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status stale = Approve(supervisor_, 1, &plan);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(stale.error_message(), HasSubstr("version 2"));
  ASSERT_TRUE(Approve(supervisor_, 2, &plan).ok());
  EXPECT_TRUE(plan.approved());
  EXPECT_EQ(plan.approved_by(), supervisor_.user_id);

  grpc::Status s = Refer(shelter_item, &referred);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(referred.item().status(), v1::PLAN_ITEM_STATUS_REFERRED);
  EXPECT_EQ(referred.item().referral_id(), referred.referral().id());
  EXPECT_EQ(referred.referral().receiver_organisation_id(), shelter_);
  EXPECT_EQ(referred.referral().purpose(), v1::REFERRAL_PURPOSE_SHELTER);
  EXPECT_EQ(referred.referral().status(), v1::REFERRAL_STATUS_SENT);
  EXPECT_EQ(Refer(shelter_item, &referred).error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << "an item is referred once";

  // The provider accepts: the item is in progress.
  v1::ReferralTransitionRequest accept;
  accept.set_referral_id(referred.referral().id());
  v1::Referral accepted;
  ASSERT_TRUE(referrals_->AcceptReferral(As(shelter_intake_).get(), accept, &accepted).ok());
  EXPECT_EQ(Plan(caseworker_).items(0).status(), v1::PLAN_ITEM_STATUS_IN_PROGRESS);

  // The shelter's staff see their own item only, without the health data
  // the referral did not scope; the clinic, not referred to, sees nothing.
  v1::ServicePlan seen = Plan(shelter_staff_);
  ASSERT_THAT(seen.items(), SizeIs(1));
  EXPECT_EQ(seen.items(0).id(), shelter_item);
  EXPECT_EQ(seen.items(0).status(), v1::PLAN_ITEM_STATUS_IN_PROGRESS);
  EXPECT_TRUE(seen.items(0).need().empty());
  EXPECT_EQ(seen.items(0).kind(), v1::SERVICE_KIND_UNSPECIFIED);
  grpc::Status clinic_status;
  Plan(clinic_staff_, &clinic_status);
  EXPECT_EQ(clinic_status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(clinic_status.error_message(), "case not found");

  // Delivery: the outcome is health data the shelter may not write; without
  // it, the delivery is recorded.
  EXPECT_EQ(Deliver(shelter_staff_, shelter_item, "Settled in well", &plan).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Deliver(shelter_staff_, clinic_item, "", &plan).error_code(),
            grpc::StatusCode::NOT_FOUND)
      << "another provider's item is as good as missing";
  clock_.Advance(absl::Hours(3));
  s = Deliver(shelter_staff_, shelter_item, "", &plan);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::ServicePlan after = Plan(caseworker_);
  EXPECT_EQ(after.items(0).status(), v1::PLAN_ITEM_STATUS_DELIVERED);
  EXPECT_EQ(after.items(0).delivered_by(), shelter_staff_.user_id);
  EXPECT_EQ(after.items(0).deliver_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(after.items(0).need(), "A safe place with her son") << "kept whole";
  EXPECT_EQ(LastAudit().action(), "protection.get_plan");

  // A change after approval needs approval again.
  ASSERT_TRUE(AddItem(caseworker_, v1::SERVICE_KIND_LEGAL_AID, clinic_, &plan).ok());
  EXPECT_EQ(plan.version(), 3);
  EXPECT_FALSE(plan.approved());
  EXPECT_EQ(Refer(clinic_item, &referred).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ServicePlanTest, TheItemAndItsReferralAreWrittenTogetherOrNotAtAll) {
  v1::ServicePlan plan;
  ASSERT_TRUE(AddItem(caseworker_, v1::SERVICE_KIND_SHELTER, shelter_, &plan).ok());
  ASSERT_TRUE(Approve(supervisor_, plan.version(), &plan).ok());
  const std::string item = plan.items(0).id();
  v1::ReferPlanItemResponse referred;
  // A referral the referral rules refuse leaves the item planned.
  EXPECT_EQ(Refer(item, &referred, /*with_deadline=*/false).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // So does one the consent does not cover: withdrawn, the referral is refused.
  v1::WithdrawConsentRequest withdraw;
  withdraw.set_case_id(case_id_);
  withdraw.set_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS);
  v1::Consent withdrawn;
  ASSERT_TRUE(cases_->WithdrawConsent(As(caseworker_).get(), withdraw, &withdrawn).ok());
  EXPECT_EQ(Refer(item, &referred).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(OutboxSize(), 0);
  EXPECT_EQ(Plan(caseworker_).items(0).status(), v1::PLAN_ITEM_STATUS_PLANNED);
}

TEST_F(ServicePlanTest, TheProvidersAnswerMovesTheItem) {
  v1::ServicePlan plan;
  ASSERT_TRUE(AddItem(caseworker_, v1::SERVICE_KIND_SHELTER, shelter_, &plan).ok());
  ASSERT_TRUE(AddItem(caseworker_, v1::SERVICE_KIND_SHELTER, shelter_, &plan).ok());
  ASSERT_TRUE(Approve(supervisor_, plan.version(), &plan).ok());
  v1::ReferPlanItemResponse declined_one;
  v1::ReferPlanItemResponse expired_one;
  ASSERT_TRUE(Refer(plan.items(0).id(), &declined_one).ok());
  ASSERT_TRUE(Refer(plan.items(1).id(), &expired_one).ok());
  v1::ReferralTransitionRequest decline;
  decline.set_referral_id(declined_one.referral().id());
  decline.set_reason("No family places this month");
  v1::Referral answered;
  ASSERT_TRUE(referrals_->DeclineReferral(As(shelter_intake_).get(), decline, &answered).ok());
  clock_.Advance(absl::Hours(49));  // past the other's response deadline
  v1::ServicePlan now = Plan(caseworker_);
  EXPECT_EQ(now.items(0).status(), v1::PLAN_ITEM_STATUS_DECLINED);
  EXPECT_EQ(now.items(1).status(), v1::PLAN_ITEM_STATUS_DECLINED) << "no answer in time";
  // A declined item is final.
  v1::UpdatePlanItemRequest cancel;
  cancel.set_case_id(case_id_);
  cancel.mutable_item()->set_id(now.items(0).id());
  cancel.mutable_item()->set_status(v1::PLAN_ITEM_STATUS_CANCELLED);
  cancel.mutable_update_mask()->add_paths("status");
  grpc::Status s = protection_->UpdatePlanItem(As(caseworker_).get(), cancel, &plan);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("final"));
}

TEST_F(ServicePlanTest, BadChangesAreRefusedAndOthersSeeNothing) {
  v1::ServicePlan plan;
  ASSERT_TRUE(AddItem(caseworker_, v1::SERVICE_KIND_SHELTER, shelter_, &plan).ok());
  v1::ServicePlan ignored;
  grpc::Status s = AddItem(caseworker_, v1::SERVICE_KIND_UNSPECIFIED, shelter_, &ignored);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("kind"));
  const std::string police = NewOrganisation(v1::ORGANISATION_TYPE_LAW_ENFORCEMENT);
  const uint64_t after_police = AuditSequence();
  EXPECT_EQ(AddItem(caseworker_, v1::SERVICE_KIND_SHELTER, police, &ignored).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(AuditSequence(), after_police) << "refused before the case was opened";
  EXPECT_EQ(Plan(caseworker_).version(), 1) << "nothing was written";

  v1::UpdatePlanItemRequest update;
  update.set_case_id(case_id_);
  update.mutable_item()->set_id(plan.items(0).id());
  update.mutable_item()->set_status(v1::PLAN_ITEM_STATUS_DELIVERED);
  update.mutable_update_mask()->add_paths("status");
  s = protection_->UpdatePlanItem(As(caseworker_).get(), update, &ignored);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("RecordServiceDelivery"));
  update.mutable_update_mask()->set_paths(0, "referral_id");
  EXPECT_EQ(protection_->UpdatePlanItem(As(caseworker_).get(), update, &ignored).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  update.mutable_item()->set_need("Needs a place near her school");
  update.mutable_update_mask()->set_paths(0, "need");
  ASSERT_TRUE(protection_->UpdatePlanItem(As(caseworker_).get(), update, &plan).ok());
  EXPECT_EQ(plan.items(0).need(), "Needs a place near her school");
  EXPECT_EQ(plan.version(), 2);

  // Another organisation cannot tell the case exists.
  const Actor stranger = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_NGO), v1::ROLE_SUPERVISOR);
  grpc::Status denied;
  Plan(stranger, &denied);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(denied.error_message(), "case not found");
  EXPECT_EQ(AddItem(stranger, v1::SERVICE_KIND_SHELTER, shelter_, &ignored).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(LastAudit().outcome(), v1::AUDIT_OUTCOME_DENIED);
  // The plan's changes are on the timeline, withheld from whoever may not
  // see health data.
  v1::ListTimelineRequest timeline;
  timeline.set_case_id(case_id_);
  v1::ListTimelineResponse events;
  ASSERT_TRUE(cases_->ListTimeline(As(caseworker_).get(), timeline, &events).ok());
  int plan_events = 0;
  for (const v1::TimelineEvent& e : events.events()) {
    if (e.kind() == v1::TIMELINE_EVENT_PLAN_CHANGED) {
      ++plan_events;
      EXPECT_THAT(e.summary(), HasSubstr("service plan version"));
      EXPECT_EQ(e.about(), v1::CONFIDENTIALITY_HEALTH);
    }
  }
  EXPECT_EQ(plan_events, 2);
}

TEST_F(ServicePlanTest, AnItemFinishedThroughItsReferralIsNoLongerWatched) {
  // Three items due in 14 days (AddItem); the third, still planned, due
  // later: the watch must move to it, not stay on the first.
  v1::ServicePlan plan;
  ASSERT_TRUE(AddItem(caseworker_, v1::SERVICE_KIND_SHELTER, shelter_, &plan).ok());
  ASSERT_TRUE(AddItem(caseworker_, v1::SERVICE_KIND_SHELTER, shelter_, &plan).ok());
  clock_.Advance(absl::Hours(24 * 7));
  ASSERT_TRUE(AddItem(caseworker_, v1::SERVICE_KIND_LEGAL_AID, clinic_, &plan).ok());
  ASSERT_TRUE(Approve(supervisor_, plan.version(), &plan).ok());
  v1::ReferPlanItemResponse completed_one;
  v1::ReferPlanItemResponse declined_one;
  ASSERT_TRUE(Refer(plan.items(0).id(), &completed_one).ok());
  ASSERT_TRUE(Refer(plan.items(1).id(), &declined_one).ok());
  // The provider answers through the referrals alone; the plan is not touched.
  const std::string completed = completed_one.referral().id();
  ASSERT_TRUE(Answer(&v1::ReferralService::Stub::AcceptReferral, completed).ok());
  ASSERT_TRUE(Answer(&v1::ReferralService::Stub::CompleteReferral, completed).ok());
  ASSERT_TRUE(Answer(&v1::ReferralService::Stub::DeclineReferral, declined_one.referral().id()).ok());
  v1::ServicePlan now = Plan(caseworker_);
  EXPECT_EQ(now.items(0).status(), v1::PLAN_ITEM_STATUS_DELIVERED);
  EXPECT_EQ(now.items(1).status(), v1::PLAN_ITEM_STATUS_DECLINED);

  // Past the first two's due time (no one is assigned: the supervisors
  // would be told): nothing is overdue.
  clock_.Advance(absl::Hours(24 * 8));
  server_->RaiseDueAlerts();
  EXPECT_THAT(Alerts(supervisor_, v1::ALERT_KIND_PLAN_ITEM_OVERDUE), SizeIs(0));
  v1::ListOverduePlanItemsResponse overdue;
  ASSERT_TRUE(protection_->ListOverduePlanItems(As(caseworker_).get(), {}, &overdue).ok());
  EXPECT_THAT(overdue.items(), SizeIs(0));
  // Past the third's: it is.
  clock_.Advance(absl::Hours(24 * 7));
  server_->RaiseDueAlerts();
  EXPECT_THAT(Alerts(supervisor_, v1::ALERT_KIND_PLAN_ITEM_OVERDUE), SizeIs(1));
}

TEST_F(ServicePlanTest, AShelterThatFillsUpAlertsTheCaseworkersWaitingOnIt) {
  const Actor shelter_supervisor = NewUser(shelter_, v1::ROLE_SUPERVISOR);
  auto put_shelter = [&](const std::string& name) {
    v1::PutProviderServiceRequest request;
    v1::ProviderService* s = request.mutable_service();
    s->set_organisation_id(shelter_);
    s->set_name(name);
    s->set_kind(v1::SERVICE_KIND_SHELTER);
    s->set_status(v1::SERVICE_STATUS_ACTIVE);
    s->add_regions("Vienna");
    s->set_open_all_hours(true);
    s->mutable_shelter()->add_takes(v1::SHELTER_GROUP_WOMEN);
    s->mutable_shelter()->set_capacity(10);
    s->mutable_shelter()->set_free_places(3);
    v1::ProviderService out;
    grpc::Status st = protection_->PutProviderService(As(shelter_supervisor).get(), request, &out);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out.id();
  };
  const std::string safe_house = put_shelter("Safe house");
  const std::string other_house = put_shelter("Other house");
  auto plan_stay = [&](const Actor& as, const std::string& case_id, const std::string& service) {
    v1::AddPlanItemRequest request;
    request.set_case_id(case_id);
    request.mutable_item()->set_kind(v1::SERVICE_KIND_SHELTER);
    request.mutable_item()->set_need("A safe place tonight");
    request.mutable_item()->set_provider_organisation_id(shelter_);
    request.mutable_item()->set_provider_service_id(service);
    v1::ServicePlan plan;
    grpc::Status st = protection_->AddPlanItem(As(as).get(), request, &plan);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return plan;
  };
  auto assign = [&](const Actor& supervisor, const std::string& case_id, const Actor& worker) {
    v1::AssignCaseRequest request;
    request.set_case_id(case_id);
    request.add_assignee_ids(worker.user_id);
    v1::Case assigned;
    ASSERT_TRUE(cases_->AssignCase(As(supervisor).get(), request, &assigned).ok());
  };
  auto set_free = [&](int free) {
    v1::UpdateFreePlacesRequest request;
    request.set_service_id(safe_house);
    request.set_free_places(free);
    v1::ProviderService out;
    grpc::Status st = protection_->UpdateFreePlaces(As(shelter_staff_).get(), request, &out);
    ASSERT_TRUE(st.ok()) << st.error_message();
  };

  // Waiting on the safe house: this case's item, planned.
  assign(supervisor_, case_id_, caseworker_);
  plan_stay(caseworker_, case_id_, safe_house);
  // Not waiting: a case of the same organisation whose item for the safe
  // house the shelter has already accepted...
  const Actor placed_worker = NewUser(ngo_, v1::ROLE_CASEWORKER);
  const std::string placed_case = CreateCase(placed_worker, "Canary-Placed-Bola").id();
  GiveConsent(placed_worker, placed_case, v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS);
  assign(supervisor_, placed_case, placed_worker);
  v1::ServicePlan placed = plan_stay(placed_worker, placed_case, safe_house);
  v1::ApproveServicePlanRequest approve;
  approve.set_case_id(placed_case);
  approve.set_version(placed.version());
  ASSERT_TRUE(protection_->ApproveServicePlan(As(supervisor_).get(), approve, &placed).ok());
  v1::ReferPlanItemRequest refer;
  refer.set_case_id(placed_case);
  refer.set_item_id(placed.items(0).id());
  refer.mutable_referral()->set_urgency(v1::URGENCY_URGENT);
  refer.mutable_referral()->set_lawful_basis(v1::LAWFUL_BASIS_CONSENT);
  refer.mutable_referral()->add_data_scope(v1::CONFIDENTIALITY_ADMINISTRATIVE);
  refer.mutable_referral()->mutable_response_deadline()->set_seconds(
      absl::ToUnixSeconds(clock_.Now() + absl::Hours(48)));
  v1::ReferPlanItemResponse referred;
  grpc::Status s = protection_->ReferPlanItem(As(placed_worker).get(), refer, &referred);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(Answer(&v1::ReferralService::Stub::AcceptReferral, referred.referral().id()).ok());
  // ...and an unrelated case of another organisation, waiting on the other house.
  const std::string other_ngo = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
  const Actor other_worker = NewUser(other_ngo, v1::ROLE_CASEWORKER);
  const Actor other_supervisor = NewUser(other_ngo, v1::ROLE_SUPERVISOR);
  const std::string other_case = CreateCase(other_worker, "Canary-Other-Chen").id();
  assign(other_supervisor, other_case, other_worker);
  plan_stay(other_worker, other_case, other_house);

  set_free(1);
  EXPECT_THAT(Alerts(caseworker_, v1::ALERT_KIND_SHELTER_FULL), SizeIs(0)) << "places left";
  set_free(0);
  std::vector<v1::Alert> told = Alerts(caseworker_, v1::ALERT_KIND_SHELTER_FULL);
  ASSERT_THAT(told, SizeIs(1));
  EXPECT_THAT(told[0].case_ids(), ::testing::ElementsAre(case_id_)) << "ids only";
  EXPECT_EQ(told[0].addressee_user_id(), caseworker_.user_id);
  EXPECT_THAT(Alerts(placed_worker, v1::ALERT_KIND_SHELTER_FULL), SizeIs(0)) << "already placed";
  EXPECT_THAT(Alerts(other_worker, v1::ALERT_KIND_SHELTER_FULL), SizeIs(0)) << "another shelter";
  EXPECT_THAT(Alerts(supervisor_, v1::ALERT_KIND_SHELTER_FULL), SizeIs(0))
      << "the assigned caseworker is told, not every supervisor";
  EXPECT_EQ(LastAudit().action(), "directory.update_free_places");

  // Full again when already full: no second alert. Places free up and run
  // out again: told again.
  set_free(0);
  EXPECT_THAT(Alerts(caseworker_, v1::ALERT_KIND_SHELTER_FULL), SizeIs(1));
  set_free(2);
  set_free(0);
  EXPECT_THAT(Alerts(caseworker_, v1::ALERT_KIND_SHELTER_FULL), SizeIs(2));
}

}  // namespace
}  // namespace haven::testing
