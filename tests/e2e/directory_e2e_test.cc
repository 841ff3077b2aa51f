// The service-provider directory end to end: `havend init` loads the configured HSDS file
// once, and havenctl's directory commands work against the real havend.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "absl/time/time.h"
#include "haven/v1/protection.grpc.pb.h"
#include "haven/v1/repatriation.grpc.pb.h"
#include "tests/e2e/havend_process.h"

namespace haven::e2e {
namespace {

namespace v1 = haven::v1;

// In the shipped sample (data/hsds/directory.json): Safe Harbour's women's
// shelter, 3 of 12 places free, and its provider.
constexpr char kWomensShelter[] = "f637ef631729441abe585eb7ebad7446";
constexpr char kSafeHarbour[] = "325d433ece334e5eaf2d0104a44f02c1";

std::string InitialDirectoryConfig() {
  return std::string("initial_directory_file: \"") + HAVEN_SOURCE_DIR +
         "/data/hsds/directory.json\"\n";
}

class DirectoryE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(havend_.Init());
    ASSERT_NO_FATAL_FAILURE(StartAndConnect());
    ASSERT_NO_FATAL_FAILURE(SetUpAdministrator(havend_, *client_, &admin_));
  }

  void StartAndConnect() {
    ASSERT_NO_FATAL_FAILURE(havend_.Start());
    client_ = std::make_unique<Client>(havend_.channel());
    protection_ = v1::ProtectionService::NewStub(havend_.channel());
  }

  v1::ServiceMatch GetService(const std::string& id) {
    v1::GetProviderServiceRequest request;
    request.set_service_id(id);
    v1::ServiceMatch match;
    grpc::Status s = protection_->GetProviderService(Ctx(admin_.token).get(), request, &match);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return match;
  }

  int CountShelters() {
    v1::SearchServicesRequest request;
    request.set_kind(v1::SERVICE_KIND_SHELTER);
    v1::SearchServicesResponse response;
    grpc::Status s = protection_->SearchServices(Ctx(admin_.token).get(), request, &response);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return response.matches_size();
  }

  // Runs havenctl as `actor`; returns its exit code and leaves its standard
  // output in *out (its standard error after it when it fails).
  int Havenctl(const Actor& actor, const std::string& arguments, std::string* out) {
    const std::string out_path = havend_.path("havenctl.out");
    const int code = RunShell("HAVEN_SERVER=127.0.0.1:" + std::to_string(havend_.port()) +
                              " HAVEN_TOKEN=" + actor.token + " " + HAVENCTL_PATH + " " +
                              arguments + " >" + out_path + " 2>" + havend_.path("havenctl.err"));
    *out = ReadFile(out_path);
    if (code != 0) *out += ReadFile(havend_.path("havenctl.err"));
    return code;
  }

  std::string WriteFile(const std::string& name, const std::string& contents) {
    const std::string path = havend_.path(name);
    std::ofstream(path) << contents;
    return path;
  }

  HavendProcess havend_{InitialDirectoryConfig()};
  std::unique_ptr<Client> client_;
  std::unique_ptr<v1::ProtectionService::Stub> protection_;
  Actor admin_;
};

TEST_F(DirectoryE2eTest, InitImportsTheDirectoryOnlyWhenItCreatesTheStore) {
  EXPECT_EQ(CountShelters(), 4);
  v1::ServiceMatch shelter = GetService(kWomensShelter);
  EXPECT_EQ(shelter.provider_name(), "Safe Harbour Women's Shelter");

  // A change made after init survives the next init and start.
  v1::PutProviderServiceRequest rename;
  *rename.mutable_service() = shelter.service();
  rename.mutable_service()->set_name("Renamed shelter");
  v1::ProviderService renamed;
  grpc::Status s = protection_->PutProviderService(Ctx(admin_.token).get(), rename, &renamed);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_TRUE(ExitedCleanly(havend_.Terminate()));
  const std::string init_out = havend_.path("second-init.out");
  ASSERT_EQ(RunShell(std::string(HAVEND_PATH) + " init --config " + havend_.path("haven.conf") +
                     " >" + init_out + " 2>>" + havend_.log_path()),
            0);
  EXPECT_NE(ReadFile(init_out).find("nothing to do"), std::string::npos) << ReadFile(init_out);
  EXPECT_EQ(ReadFile(init_out).find("Imported"), std::string::npos) << ReadFile(init_out);
  ASSERT_NO_FATAL_FAILURE(StartAndConnect());
  EXPECT_EQ(GetService(kWomensShelter).service().name(), "Renamed shelter");
  EXPECT_EQ(CountShelters(), 4);
}

TEST_F(DirectoryE2eTest, HavenctlSearchesUpdatesExportsAndImports) {
  Actor staff;
  ASSERT_NO_FATAL_FAILURE(
      CreateUser(*client_, admin_, kSafeHarbour, "harbour-staff", v1::ROLE_SERVICE_PROVIDER_STAFF,
                 &staff));
  std::string out;
  const std::string search =
      "directory search --kind shelter --region 'Capital Region' --sex female --age 30 --free "
      "--open-now";
  ASSERT_EQ(Havenctl(admin_, search, &out), 0) << out;
  EXPECT_NE(out.find("Women's shelter"), std::string::npos) << out;
  EXPECT_NE(out.find("3/12"), std::string::npos) << out;
  EXPECT_NE(out.find("24/7"), std::string::npos) << out;
  EXPECT_EQ(out.find("Men's shelter"), std::string::npos) << out;

  ASSERT_EQ(Havenctl(staff, std::string("directory free-places ") + kWomensShelter + " 0", &out), 0)
      << out;
  ASSERT_EQ(Havenctl(admin_, search, &out), 0) << out;
  EXPECT_EQ(out.find("Women's shelter"), std::string::npos) << out;

  ASSERT_EQ(Havenctl(admin_, std::string("directory get ") + kWomensShelter, &out), 0) << out;
  EXPECT_NE(out.find("0/12"), std::string::npos) << out;
  EXPECT_NE(out.find("Safe Harbour house (address confidential)"), std::string::npos) << out;
  EXPECT_NE(out.find("step-free,accessible-toilet"), std::string::npos) << out;

  const std::string profile = WriteFile(
      "profile.textproto", std::string("organisation_id: \"") + kSafeHarbour +
                               "\"\ndescription: \"Shelter and counselling for women.\"\n");
  ASSERT_EQ(Havenctl(admin_, "directory put-profile " + profile, &out), 0) << out;
  EXPECT_NE(out.find("update_time"), std::string::npos) << out;
  const std::string location = WriteFile(
      "location.textproto", std::string("organisation_id: \"") + kSafeHarbour +
                                "\"\nname: \"Day centre\"\n"
                                "address { address_1: \"Ringstrasse 1\" city: \"Capital\" "
                                "region: \"Capital Region\" postal_code: \"1010\" "
                                "country: \"AT\" }\n"
                                "accessibility: ACCESSIBILITY_FEATURE_WHEELCHAIR\n");
  ASSERT_EQ(Havenctl(admin_, "directory put-location " + location, &out), 0) << out;
  EXPECT_NE(out.find("id: \""), std::string::npos) << out;
  const std::string service = WriteFile(
      "service.textproto",
      std::string("organisation_id: \"") + kSafeHarbour +
          "\"\nname: \"Night shelter\"\nkind: SERVICE_KIND_SHELTER\n"
          "status: SERVICE_STATUS_ACTIVE\nregions: \"Capital Region\"\nlanguages: \"en\"\n"
          "open_all_hours: true\n"
          "shelter { takes: SHELTER_GROUP_WOMEN capacity: 4 free_places: 4 }\n");
  ASSERT_EQ(Havenctl(admin_, "directory put-service " + service, &out), 0) << out;
  ASSERT_EQ(Havenctl(admin_, search, &out), 0) << out;
  EXPECT_NE(out.find("Night shelter"), std::string::npos) << out;
  EXPECT_NE(out.find("4/4"), std::string::npos) << out;

  const std::string exported = havend_.path("exported.json");
  ASSERT_EQ(Havenctl(admin_, "directory export --out " + exported, &out), 0) << out;
  ASSERT_EQ(Havenctl(admin_, "directory export", &out), 0);
  EXPECT_EQ(out, ReadFile(exported));
  ASSERT_EQ(Havenctl(admin_, "directory import " + exported, &out), 0) << out;
  EXPECT_NE(out.find("services: 10"), std::string::npos) << out;
  EXPECT_EQ(Havenctl(staff, "directory import " + exported, &out), 1);

  EXPECT_EQ(Havenctl(admin_, "directory search --open-now --open-at 2024-01-01", &out), 2);
  EXPECT_EQ(Havenctl(admin_, "directory search --kind castle", &out), 2);
  EXPECT_EQ(Havenctl(admin_, std::string("directory free-places ") + kWomensShelter + " -1", &out),
            2);
}

// A caseworker plans with havenctl: an item for the sample's women's shelter,
// a supervisor's approval, a referral, a residence permit and its decision.
TEST_F(DirectoryE2eTest, HavenctlPlansServicesAndRecordsPermits) {
  Team ngo;
  ASSERT_NO_FATAL_FAILURE(SetUpTeam(*client_, admin_, "Plan NGO", v1::ORGANISATION_TYPE_NGO,
                                    {{"plan.worker", v1::ROLE_CASEWORKER},
                                     {"plan.super", v1::ROLE_SUPERVISOR}},
                                    &ngo));
  const Actor& worker = ngo.users[0];
  const Actor& supervisor = ngo.users[1];
  v1::CreateCaseRequest create;
  create.mutable_subject()->set_given_name("Canary-Ctl-Plan");
  v1::Case created;
  ASSERT_TRUE(client_->cases->CreateCase(Ctx(worker.token).get(), create, &created).ok());
  v1::RecordConsentRequest consent;
  consent.set_case_id(created.id());
  consent.mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS);
  consent.mutable_consent()->set_given(true);
  consent.mutable_consent()->set_language("en");
  v1::Consent recorded;
  ASSERT_TRUE(client_->cases->RecordConsent(Ctx(worker.token).get(), consent, &recorded).ok());

  std::string out;
  ASSERT_EQ(Havenctl(worker,
                     "plan add " + created.id() + " --kind shelter --provider " + kSafeHarbour +
                         " --service " + kWomensShelter + " --due 2099-01-01",
                     &out),
            0)
      << out;
  EXPECT_NE(out.find("awaiting approval"), std::string::npos) << out;
  EXPECT_NE(out.find("planned"), std::string::npos) << out;
  EXPECT_EQ(Havenctl(worker, "plan approve " + created.id() + " --version 1", &out), 1)
      << "a caseworker does not approve";
  ASSERT_EQ(Havenctl(supervisor, "plan approve " + created.id() + " --version 1", &out), 0) << out;
  EXPECT_NE(out.find("approved by"), std::string::npos) << out;
  v1::GetServicePlanRequest get;
  get.set_case_id(created.id());
  v1::ServicePlan plan;
  ASSERT_TRUE(protection_->GetServicePlan(Ctx(worker.token).get(), get, &plan).ok());
  ASSERT_EQ(plan.items_size(), 1);
  ASSERT_EQ(Havenctl(worker,
                     "plan refer " + created.id() + " " + plan.items(0).id() +
                         " --urgency urgent --deadline " +
                         absl::FormatTime("%Y-%m-%d", absl::Now() + absl::Hours(24 * 7),
                                          absl::UTCTimeZone()) +
                         " --scope administrative "
                         "--scope pseudonymous --basis consent",
                     &out),
            0)
      << out;
  EXPECT_NE(out.find("referred"), std::string::npos) << out;
  ASSERT_EQ(Havenctl(worker, "plan get " + created.id(), &out), 0) << out;
  EXPECT_NE(out.find("referred"), std::string::npos) << out;

  ASSERT_EQ(Havenctl(worker, "permit apply " + created.id() + " --type temporary-victim", &out), 0)
      << out;
  v1::ListResidencePermitsRequest list;
  list.set_case_id(created.id());
  v1::ListResidencePermitsResponse permits;
  ASSERT_TRUE(protection_->ListResidencePermits(Ctx(worker.token).get(), list, &permits).ok());
  ASSERT_EQ(permits.permits_size(), 1);
  const absl::Time until = absl::Now() + absl::Hours(24 * 20);
  ASSERT_EQ(Havenctl(worker,
                     "permit decide " + created.id() + " " + permits.permits(0).id() +
                         " --status granted --until " +
                         absl::FormatTime("%Y-%m-%d", until, absl::UTCTimeZone()),
                     &out),
            0)
      << out;
  ASSERT_EQ(Havenctl(worker, "permit expiring --within 30", &out), 0) << out;
  EXPECT_NE(out.find(created.id()), std::string::npos) << out;
  EXPECT_NE(out.find("temporary-victim"), std::string::npos) << out;
  EXPECT_EQ(Havenctl(worker, "permit decide " + created.id() + " " + permits.permits(0).id() +
                                 " --status refused",
                     &out),
            1)
      << "a granted permit is not refused";
  EXPECT_NE(out.find("from GRANTED to REFUSED"), std::string::npos) << out;
}

TEST_F(DirectoryE2eTest, HavenctlWalksAReturnFromAssessmentToCancellation) {
  Team ngo;
  ASSERT_NO_FATAL_FAILURE(SetUpTeam(*client_, admin_, "Return NGO", v1::ORGANISATION_TYPE_NGO,
                                    {{"return.worker", v1::ROLE_CASEWORKER},
                                     {"return.super", v1::ROLE_SUPERVISOR}},
                                    &ngo));
  const Actor& worker = ngo.users[0];
  const Actor& supervisor = ngo.users[1];
  v1::CreateCaseRequest create;
  create.mutable_subject()->set_given_name("Canary-Ctl-Return");
  v1::Case created;
  ASSERT_TRUE(client_->cases->CreateCase(Ctx(worker.token).get(), create, &created).ok());
  v1::RecordConsentRequest consent;
  consent.set_case_id(created.id());
  consent.mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_RETURN);
  consent.mutable_consent()->set_given(true);
  consent.mutable_consent()->set_language("en");
  v1::Consent recorded;
  ASSERT_TRUE(client_->cases->RecordConsent(Ctx(worker.token).get(), consent, &recorded).ok());

  std::string out;
  ASSERT_EQ(Havenctl(worker, "return create " + created.id() + " --country NG --region Edo", &out),
            0)
      << out;
  v1::ListReturnPlansRequest list;
  list.set_case_id(created.id());
  v1::ListReturnPlansResponse plans;
  auto returns = v1::RepatriationService::NewStub(havend_.channel());
  ASSERT_TRUE(returns->ListReturnPlans(Ctx(worker.token).get(), list, &plans).ok());
  ASSERT_EQ(plans.plans_size(), 1);
  const std::string on_plan = created.id() + " " + plans.plans(0).id();
  // What people write comes from a file, not the command line.
  const std::string risks = WriteFile("risks.textproto",
                                      "re_trafficking { level: RISK_LEVEL_LOW }\n"
                                      "retaliation { level: RISK_LEVEL_LOW reasons: "
                                      "\"Canary-Ctl-Reasons: the recruiter was convicted\" }\n"
                                      "family_situation { level: RISK_LEVEL_LOW }\n"
                                      "health_needs { level: RISK_LEVEL_LOW }\n");
  ASSERT_EQ(Havenctl(worker, "return assess " + on_plan + " " + risks, &out), 0) << out;
  EXPECT_NE(out.find("assessed"), std::string::npos) << out;
  EXPECT_EQ(Havenctl(worker, "return assess " + on_plan + " " + havend_.path("missing.textproto"),
                     &out),
            1);
  ASSERT_EQ(Havenctl(supervisor, "return approve " + on_plan, &out), 0) << out;
  EXPECT_NE(out.find("approved"), std::string::npos) << out;
  ASSERT_EQ(Havenctl(worker, "return cancel " + on_plan + " --reason changed-her-mind", &out), 0)
      << out;
  EXPECT_NE(out.find("cancelled"), std::string::npos) << out;
  ASSERT_EQ(Havenctl(worker, "case timeline " + created.id(), &out), 0) << out;
  EXPECT_NE(out.find("return-moved"), std::string::npos) << out;
  EXPECT_NE(out.find("return-assessed"), std::string::npos) << out;
}

TEST_F(DirectoryE2eTest, HavenctlRecordsClaimsAndInterpretersFromFiles) {
  Team ngo;
  ASSERT_NO_FATAL_FAILURE(SetUpTeam(*client_, admin_, "Measures NGO", v1::ORGANISATION_TYPE_NGO,
                                    {{"measures.worker", v1::ROLE_CASEWORKER}}, &ngo));
  const Actor& worker = ngo.users[0];
  v1::CreateCaseRequest create;
  create.mutable_subject()->set_given_name("Canary-Ctl-Measures");
  v1::Case created;
  ASSERT_TRUE(client_->cases->CreateCase(Ctx(worker.token).get(), create, &created).ok());

  std::string out;
  ASSERT_EQ(Havenctl(worker, "protect reflection " + created.id(), &out), 0) << out;
  EXPECT_NE(out.find("no reflection period yet"), std::string::npos) << out;

  const std::string claim = WriteFile(
      "claim.textproto",
      "route: COMPENSATION_ROUTE_STATE_FUND status: COMPENSATION_STATUS_FILED "
      "currency: \"EUR\" claimed_minor: 1250000\n");
  ASSERT_EQ(Havenctl(worker, "protect claim " + created.id() + " " + claim, &out), 0) << out;
  ASSERT_EQ(Havenctl(worker, "protect claims " + created.id(), &out), 0) << out;
  EXPECT_NE(out.find("state-fund"), std::string::npos) << out;
  EXPECT_NE(out.find("12500.00 EUR"), std::string::npos) << out;

  // The interpreter's name comes from a file, and comes back to the caseworker.
  const std::string interpreter = WriteFile(
      "interpreter.textproto", "language: \"ti\" interpreter_name: \"Canary-Ctl-Interpreter\"\n");
  ASSERT_EQ(Havenctl(worker, "protect interpreter " + created.id() + " " + interpreter, &out), 0)
      << out;
  ASSERT_EQ(Havenctl(worker, "protect interpretation " + created.id(), &out), 0) << out;
  EXPECT_NE(out.find("Canary-Ctl-Interpreter"), std::string::npos) << out;
  EXPECT_NE(out.find("ti"), std::string::npos) << out;

  // Language needs: set from a file, read back readably.
  const std::string needs = WriteFile(
      "needs.textproto",
      "languages: \"ti\" languages: \"ar\" preferences: \"a woman interpreter\"\n");
  ASSERT_EQ(Havenctl(worker, "protect language-needs " + created.id() + " --set " + needs, &out),
            0)
      << out;
  EXPECT_NE(out.find("languages needed: ti, ar"), std::string::npos) << out;
  ASSERT_EQ(Havenctl(worker, "protect language-needs " + created.id(), &out), 0) << out;
  EXPECT_NE(out.find("languages needed: ti, ar"), std::string::npos) << out;
  EXPECT_NE(out.find("preferences: a woman interpreter"), std::string::npos) << out;
  const std::string bad = WriteFile("bad-needs.textproto", "languages: \"not a tag!\"\n");
  EXPECT_NE(Havenctl(worker, "protect language-needs " + created.id() + " --set " + bad, &out), 0)
      << out;
  EXPECT_NE(out.find("INVALID_ARGUMENT"), std::string::npos) << out;
}

TEST_F(DirectoryE2eTest, HavenctlExtendsTheReflectionPeriodAndShowsWhy) {
  Team ngo;
  ASSERT_NO_FATAL_FAILURE(SetUpTeam(*client_, admin_, "Reflection NGO", v1::ORGANISATION_TYPE_NGO,
                                    {{"reflection.worker", v1::ROLE_CASEWORKER}}, &ngo));
  Team authority;
  ASSERT_NO_FATAL_FAILURE(SetUpTeam(*client_, admin_, "Reflection Authority",
                                    v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY,
                                    {{"reflection.decider", v1::ROLE_DECISION_MAKER}}, &authority));
  const Actor& worker = ngo.users[0];
  const Actor& decider = authority.users[0];
  v1::CreateCaseRequest create;
  create.mutable_subject()->set_given_name("Canary-Ctl-Reflection");
  v1::Case created;
  ASSERT_TRUE(client_->cases->CreateCase(Ctx(worker.token).get(), create, &created).ok());
  std::string out;
  ASSERT_EQ(Havenctl(worker,
                     "ident refer " + created.id() + " --authority " + authority.organisation_id,
                     &out),
            0)
      << out;
  ASSERT_EQ(Havenctl(decider, "ident decide rg " + created.id() +
                                  " --positive --reasons \"Consistent account\"",
                     &out),
            0)
      << out;
  ASSERT_EQ(Havenctl(decider, "ident extend-reflection " + created.id() +
                                  " --until 2099-01-31T12:00:00Z --reasons \"Still in hospital\"",
                     &out),
            0)
      << out;
  ASSERT_EQ(Havenctl(worker, "protect reflection " + created.id(), &out), 0) << out;
  EXPECT_NE(out.find("extended 1 time"), std::string::npos) << out;
  EXPECT_NE(out.find("2099-01-31"), std::string::npos) << out;
  EXPECT_NE(out.find("Still in hospital"), std::string::npos) << out;
  // An end not later than the current one: refused, saying what to fix.
  EXPECT_NE(Havenctl(decider, "ident extend-reflection " + created.id() +
                                  " --until 2099-01-01 --reasons \"Again\"",
                     &out),
            0);
  EXPECT_NE(out.find("new_end must be later"), std::string::npos) << out;
}

}  // namespace
}  // namespace haven::e2e
