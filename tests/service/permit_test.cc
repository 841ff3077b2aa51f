// Residence permits and what falls due, over an in-process channel on a manual clock: an
// application, its decision and renewal; the alert a set number of days before a permit
// expires, once; the expiring and overdue lists; bad input writes nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "haven/v1/protection.grpc.pb.h"
#include "tests/service/service_fixture.h"

namespace haven::testing {
namespace {

namespace v1 = haven::v1;
using ::testing::HasSubstr;
using ::testing::SizeIs;

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp out;
  out.set_seconds(absl::ToUnixSeconds(t));
  return out;
}

class PermitTest : public ServiceTest {
 protected:
  void Configure(v1::ServerConfig* config) override {
    config->set_session_minutes(60 * 24 * 500);  // the actors outlive the permits
    config->set_permit_expiry_alert_days(30);
  }

  void SetUp() override {
    ServiceTest::SetUp();
    protection_ = v1::ProtectionService::NewStub(channel_);
    ngo_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
    caseworker_ = NewUser(ngo_, v1::ROLE_CASEWORKER);
    supervisor_ = NewUser(ngo_, v1::ROLE_SUPERVISOR);
    case_id_ = CreateCase(caseworker_, "Canary-Permit-Amina").id();
  }

  void TearDown() override {
    protection_.reset();
    ServiceTest::TearDown();
  }

  grpc::Status Apply(v1::PermitType type, v1::ResidencePermit* out,
                     const std::string& renews = "") {
    v1::RecordResidencePermitRequest request;
    request.set_case_id(case_id_);
    request.mutable_permit()->set_type(type);
    request.mutable_permit()->set_issuing_authority("Immigration office");
    request.mutable_permit()->set_renews_permit_id(renews);
    return protection_->RecordResidencePermit(As(caseworker_).get(), request, out);
  }

  grpc::Status Grant(const std::string& id, absl::Duration validity, v1::ResidencePermit* out) {
    v1::RecordResidencePermitRequest request;
    request.set_case_id(case_id_);
    v1::ResidencePermit* p = request.mutable_permit();
    p->set_id(id);
    p->set_status(v1::PERMIT_STATUS_GRANTED);
    *p->mutable_valid_from() = Ts(clock_.Now());
    *p->mutable_expire_time() = Ts(clock_.Now() + validity);
    p->set_document_number("AT-RP-0042");
    for (const char* path : {"status", "valid_from", "expire_time", "document_number"}) {
      request.mutable_update_mask()->add_paths(path);
    }
    return protection_->RecordResidencePermit(As(caseworker_).get(), request, out);
  }

  std::vector<v1::ExpiringPermit> Expiring(const Actor& as, int within_days) {
    v1::ListExpiringPermitsRequest request;
    request.set_within_days(within_days);
    v1::ListExpiringPermitsResponse response;
    grpc::Status s = protection_->ListExpiringPermits(As(as).get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {response.permits().begin(), response.permits().end()};
  }

  std::unique_ptr<v1::ProtectionService::Stub> protection_;
  std::string ngo_;
  Actor caseworker_;
  Actor supervisor_;
  std::string case_id_;
};

TEST_F(PermitTest, AGrantedPermitIsAlertedOnceThirtyDaysBeforeItExpiresAndUntilRenewed) {
  v1::ResidencePermit permit;
  ASSERT_TRUE(Apply(v1::PERMIT_TYPE_TEMPORARY_VICTIM, &permit).ok());
  EXPECT_EQ(permit.status(), v1::PERMIT_STATUS_APPLIED);
  EXPECT_FALSE(permit.in_force());
  grpc::Status s = Grant(permit.id(), absl::Hours(24 * 90), &permit);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(permit.in_force());
  EXPECT_EQ(permit.days_left(), 90);
  EXPECT_EQ(permit.decide_time().seconds(), absl::ToUnixSeconds(clock_.Now()));

  clock_.Advance(absl::Hours(24 * 59));  // 31 days left
  server_->RaiseDueAlerts();
  EXPECT_TRUE(Alerts(supervisor_, v1::ALERT_KIND_PERMIT_EXPIRING).empty());
  EXPECT_TRUE(Expiring(caseworker_, 30).empty());
  clock_.Advance(absl::Hours(24 * 2));  // 29 days left
  server_->RaiseDueAlerts();
  server_->RaiseDueAlerts();
  // No one is assigned: the organisation's supervisors hear of it, once.
  std::vector<v1::Alert> alerts = Alerts(supervisor_, v1::ALERT_KIND_PERMIT_EXPIRING);
  ASSERT_THAT(alerts, SizeIs(1));
  EXPECT_EQ(alerts[0].case_ids(0), case_id_);
  EXPECT_EQ(LastAudit().action(), "system.due_alert");
  std::vector<v1::ExpiringPermit> expiring = Expiring(caseworker_, 30);
  ASSERT_THAT(expiring, SizeIs(1));
  EXPECT_EQ(expiring[0].case_id(), case_id_);
  EXPECT_EQ(expiring[0].permit().days_left(), 29);
  EXPECT_TRUE(Expiring(caseworker_, 10).empty());
  // Another organisation's caseworker lists nothing of it.
  const Actor stranger = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_NGO), v1::ROLE_CASEWORKER);
  EXPECT_TRUE(Expiring(stranger, 366).empty());

  // A renewal, once granted, takes the old permit out of force and the
  // case off the list until the new one nears its end.
  v1::ResidencePermit renewal;
  ASSERT_TRUE(Apply(v1::PERMIT_TYPE_TEMPORARY_VICTIM, &renewal, permit.id()).ok());
  ASSERT_TRUE(Grant(renewal.id(), absl::Hours(24 * 365), &renewal).ok());
  EXPECT_TRUE(Expiring(caseworker_, 30).empty());
  v1::ListResidencePermitsRequest list;
  list.set_case_id(case_id_);
  v1::ListResidencePermitsResponse permits;
  ASSERT_TRUE(protection_->ListResidencePermits(As(caseworker_).get(), list, &permits).ok());
  ASSERT_THAT(permits.permits(), SizeIs(2));
  EXPECT_FALSE(permits.permits(0).in_force());
  EXPECT_TRUE(permits.permits(1).in_force());
  EXPECT_EQ(permits.permits(1).document_number(), "AT-RP-0042");
  clock_.Advance(absl::Hours(24 * 340));
  server_->RaiseDueAlerts();
  EXPECT_THAT(Alerts(supervisor_, v1::ALERT_KIND_PERMIT_EXPIRING), SizeIs(2));
}

TEST_F(PermitTest, BadPermitsAreRefusedAndNothingIsWritten) {
  v1::ResidencePermit permit;
  ASSERT_TRUE(Apply(v1::PERMIT_TYPE_HUMANITARIAN, &permit).ok());
  v1::ResidencePermit out;
  grpc::Status s = Apply(v1::PERMIT_TYPE_UNSPECIFIED, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("type"));
  // Granted without an expiry; then refused after being granted.
  v1::RecordResidencePermitRequest request;
  request.set_case_id(case_id_);
  request.mutable_permit()->set_id(permit.id());
  request.mutable_permit()->set_status(v1::PERMIT_STATUS_GRANTED);
  request.mutable_update_mask()->add_paths("status");
  s = protection_->RecordResidencePermit(As(caseworker_).get(), request, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("expire_time"));
  ASSERT_TRUE(Grant(permit.id(), absl::Hours(24 * 180), &permit).ok());
  request.mutable_permit()->set_status(v1::PERMIT_STATUS_REFUSED);
  s = protection_->RecordResidencePermit(As(caseworker_).get(), request, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("from GRANTED to REFUSED"));
  request.mutable_update_mask()->set_paths(0, "renews_permit_id");
  EXPECT_EQ(protection_->RecordResidencePermit(As(caseworker_).get(), request, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Only the grant between the refusals was written.
  v1::ListResidencePermitsRequest list;
  list.set_case_id(case_id_);
  v1::ListResidencePermitsResponse permits;
  ASSERT_TRUE(protection_->ListResidencePermits(As(caseworker_).get(), list, &permits).ok());
  ASSERT_THAT(permits.permits(), SizeIs(1));
  EXPECT_EQ(permits.permits(0).status(), v1::PERMIT_STATUS_GRANTED);
  // Another organisation cannot tell the case exists.
  const Actor stranger = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_NGO), v1::ROLE_CASEWORKER);
  EXPECT_EQ(protection_->ListResidencePermits(As(stranger).get(), list, &permits).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::ListExpiringPermitsRequest too_far;
  too_far.set_within_days(400);
  v1::ListExpiringPermitsResponse none;
  EXPECT_EQ(protection_->ListExpiringPermits(As(caseworker_).get(), too_far, &none).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(PermitTest, AnOverduePlanItemIsAlertedToTheAssignedCaseworkerAndListed) {
  v1::AssignCaseRequest assign;
  assign.set_case_id(case_id_);
  assign.add_assignee_ids(caseworker_.user_id);
  v1::Case assigned;
  ASSERT_TRUE(cases_->AssignCase(As(supervisor_).get(), assign, &assigned).ok());
  const std::string clinic = NewOrganisation(v1::ORGANISATION_TYPE_SERVICE_PROVIDER);
  v1::AddPlanItemRequest add;
  add.set_case_id(case_id_);
  add.mutable_item()->set_kind(v1::SERVICE_KIND_MEDICAL);
  add.mutable_item()->set_provider_organisation_id(clinic);
  *add.mutable_item()->mutable_due_time() = Ts(clock_.Now() + absl::Hours(24 * 7));
  v1::ServicePlan plan;
  ASSERT_TRUE(protection_->AddPlanItem(As(caseworker_).get(), add, &plan).ok());

  v1::ListOverduePlanItemsResponse overdue;
  server_->RaiseDueAlerts();
  EXPECT_TRUE(Alerts(caseworker_, v1::ALERT_KIND_PLAN_ITEM_OVERDUE).empty());
  ASSERT_TRUE(protection_->ListOverduePlanItems(As(caseworker_).get(), {}, &overdue).ok());
  EXPECT_THAT(overdue.items(), SizeIs(0));
  clock_.Advance(absl::Hours(24 * 8));
  server_->RaiseDueAlerts();
  EXPECT_THAT(Alerts(caseworker_, v1::ALERT_KIND_PLAN_ITEM_OVERDUE), SizeIs(1));
  EXPECT_TRUE(Alerts(supervisor_, v1::ALERT_KIND_PLAN_ITEM_OVERDUE).empty())
      << "the assigned caseworker is told, not every supervisor";
  ASSERT_TRUE(protection_->ListOverduePlanItems(As(caseworker_).get(), {}, &overdue).ok());
  ASSERT_THAT(overdue.items(), SizeIs(1));
  EXPECT_EQ(overdue.items(0).case_id(), case_id_);
  EXPECT_TRUE(overdue.items(0).item().overdue());

  // Delivered, it is no longer due.
  v1::RecordServiceDeliveryRequest deliver;
  deliver.set_case_id(case_id_);
  deliver.set_item_id(plan.items(0).id());
  ASSERT_TRUE(protection_->RecordServiceDelivery(As(caseworker_).get(), deliver, &plan).ok());
  ASSERT_TRUE(protection_->ListOverduePlanItems(As(caseworker_).get(), {}, &overdue).ok());
  EXPECT_THAT(overdue.items(), SizeIs(0));
}

}  // namespace
}  // namespace haven::testing
