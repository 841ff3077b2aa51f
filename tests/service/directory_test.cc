// The service-provider directory over an in-process channel: providers describe their
// services, their own staff say how many places are free, and a caseworker finds who can
// take a woman with a child tonight; who may change what; bad input writes nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "haven/v1/protection.grpc.pb.h"
#include "services/protection/hsds.h"
#include "tests/service/service_fixture.h"

namespace haven::testing {
namespace {

namespace v1 = haven::v1;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

class DirectoryTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    protection_ = v1::ProtectionService::NewStub(channel_);
    shelter_org_ = NewOrganisation(v1::ORGANISATION_TYPE_SERVICE_PROVIDER);
    shelter_supervisor_ = NewUser(shelter_org_, v1::ROLE_SUPERVISOR);
    shelter_staff_ = NewUser(shelter_org_, v1::ROLE_SERVICE_PROVIDER_STAFF);
    ngo_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
    caseworker_ = NewUser(ngo_, v1::ROLE_CASEWORKER);
    ngo_supervisor_ = NewUser(ngo_, v1::ROLE_SUPERVISOR);
  }

  void TearDown() override {
    protection_.reset();
    ServiceTest::TearDown();
  }

  // A women's and families' shelter in Vienna, open day and night, speaking
  // Tigrinya and English, 3 of 10 places free.
  static v1::ProviderService Shelter(const std::string& org) {
    v1::ProviderService s;
    s.set_organisation_id(org);
    s.set_name("Safe house");
    s.set_kind(v1::SERVICE_KIND_SHELTER);
    s.set_status(v1::SERVICE_STATUS_ACTIVE);
    s.add_regions("Vienna");
    s.add_languages("ti");
    s.add_languages("en");
    s.set_open_all_hours(true);
    s.set_time_zone("Europe/Vienna");
    v1::ShelterPlaces* places = s.mutable_shelter();
    places->add_takes(v1::SHELTER_GROUP_WOMEN);
    places->add_takes(v1::SHELTER_GROUP_FAMILIES);
    places->set_min_age(18);
    places->set_capacity(10);
    places->set_free_places(3);
    return s;
  }

  grpc::Status Put(const Actor& as, const v1::ProviderService& service, v1::ProviderService* out) {
    v1::PutProviderServiceRequest request;
    *request.mutable_service() = service;
    return protection_->PutProviderService(As(as).get(), request, out);
  }

  std::string PutOk(const Actor& as, const v1::ProviderService& service) {
    v1::ProviderService out;
    grpc::Status s = Put(as, service, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.id();
  }

  // "An adult woman with a child, tonight, in Vienna, speaking Tigrinya,
  // with free places."
  v1::SearchServicesRequest WomanWithChildTonight() {
    v1::SearchServicesRequest r;
    r.set_kind(v1::SERVICE_KIND_SHELTER);
    r.set_region("Vienna");
    r.set_language("ti");
    r.mutable_seeker()->set_sex(v1::SEX_FEMALE);
    r.mutable_seeker()->set_age(29);
    r.mutable_seeker()->set_children(1);
    r.set_with_free_places(true);
    // A Tuesday, 22:00 in Vienna (UTC+1 in January).
    r.mutable_open_at()->set_seconds(absl::ToUnixSeconds(
        absl::FromCivil(absl::CivilMinute(2027, 1, 12, 21, 0), absl::UTCTimeZone())));
    return r;
  }

  // Every service the search finds, over all pages.
  std::vector<std::string> FindAll(const Actor& as, v1::SearchServicesRequest request) {
    std::vector<std::string> ids;
    do {
      v1::SearchServicesResponse page;
      grpc::Status s = protection_->SearchServices(As(as).get(), request, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      for (const v1::ServiceMatch& m : page.matches()) ids.push_back(m.service().id());
      request.set_page_token(page.next_page_token());
    } while (!request.page_token().empty());
    return ids;
  }

  // Sends `json` to ImportDirectory in pieces of `piece` bytes.
  grpc::Status Import(const Actor& as, const std::string& json,
                      v1::ImportDirectoryResponse* response, size_t piece = 256 << 10) {
    auto context = As(as);
    auto writer = protection_->ImportDirectory(context.get(), response);
    for (size_t at = 0; at < json.size(); at += piece) {
      v1::DirectoryChunk chunk;
      chunk.set_hsds_json(json.substr(at, piece));
      if (!writer->Write(chunk)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  std::string Export(const Actor& as) {
    auto context = As(as);
    auto reader = protection_->ExportDirectory(context.get(), v1::ExportDirectoryRequest());
    std::string json;
    v1::DirectoryChunk chunk;
    while (reader->Read(&chunk)) json += chunk.hsds_json();
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return json;
  }

  static std::string SampleFile() {
    std::ifstream in(std::string(HAVEN_SOURCE_DIR) + "/data/hsds/directory.json");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::unique_ptr<v1::ProtectionService::Stub> protection_;
  std::string shelter_org_;
  Actor shelter_supervisor_;
  Actor shelter_staff_;
  std::string ngo_;
  Actor caseworker_;
  Actor ngo_supervisor_;
};

TEST_F(DirectoryTest, FindsWhoCanTakeAWomanWithAChildTonight) {
  const std::string fits = PutOk(shelter_supervisor_, Shelter(shelter_org_));
  std::vector<v1::ProviderService> misses(7, Shelter(shelter_org_));
  misses[0].mutable_shelter()->clear_takes();  // men only
  misses[0].mutable_shelter()->add_takes(v1::SHELTER_GROUP_MEN);
  misses[1].set_regions(0, "Graz");
  misses[2].clear_languages();
  misses[2].add_languages("en");
  misses[3].mutable_shelter()->set_free_places(1);  // no place for the child
  misses[4].set_open_all_hours(false);               // closes at 17:00
  auto* hours = misses[4].add_hours();
  for (int d = v1::WEEKDAY_MONDAY; d <= v1::WEEKDAY_FRIDAY; ++d) {
    hours->add_days(static_cast<v1::Weekday>(d));
  }
  hours->set_opens_at("09:00");
  hours->set_closes_at("17:00");
  misses[5].set_status(v1::SERVICE_STATUS_TEMPORARILY_CLOSED);
  misses[6].mutable_shelter()->clear_takes();  // women alone, no families
  misses[6].mutable_shelter()->add_takes(v1::SHELTER_GROUP_WOMEN);
  for (const v1::ProviderService& miss : misses) PutOk(shelter_supervisor_, miss);
  // A night shelter open 18:00 to 08:00 takes her too.
  v1::ProviderService night = Shelter(shelter_org_);
  night.set_open_all_hours(false);
  auto* evenings = night.add_hours();
  evenings->add_days(v1::WEEKDAY_TUESDAY);
  evenings->set_opens_at("18:00");
  evenings->set_closes_at("08:00");
  const std::string night_shelter = PutOk(shelter_supervisor_, night);

  EXPECT_THAT(FindAll(caseworker_, WomanWithChildTonight()),
              UnorderedElementsAre(fits, night_shelter));
  // At 17:30 the day shelter is closed and the night shelter not yet open.
  v1::SearchServicesRequest early = WomanWithChildTonight();
  early.mutable_open_at()->set_seconds(early.open_at().seconds() - 270 * 60);
  EXPECT_THAT(FindAll(caseworker_, early), UnorderedElementsAre(fits));

  v1::GetProviderServiceRequest get;
  get.set_service_id(fits);
  v1::ServiceMatch match;
  ASSERT_TRUE(protection_->GetProviderService(As(caseworker_).get(), get, &match).ok());
  EXPECT_EQ(match.service().shelter().free_places(), 3);
  EXPECT_EQ(match.provider_name(), "Organisation 1");
}

TEST_F(DirectoryTest, ProviderStaffSayHowManyPlacesAreFree) {
  const std::string id = PutOk(shelter_supervisor_, Shelter(shelter_org_));
  clock_.Advance(absl::Hours(1));
  v1::UpdateFreePlacesRequest update;
  update.set_service_id(id);
  update.set_free_places(0);
  v1::ProviderService updated;
  ASSERT_TRUE(protection_->UpdateFreePlaces(As(shelter_staff_).get(), update, &updated).ok());
  EXPECT_EQ(updated.shelter().free_places(), 0);
  EXPECT_EQ(updated.shelter().free_places_by(), shelter_staff_.user_id);
  EXPECT_EQ(updated.shelter().free_places_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(LastAudit().action(), "directory.update_free_places");
  EXPECT_TRUE(FindAll(caseworker_, WomanWithChildTonight()).empty()) << "the shelter is full";

  // Not another organisation's staff; not above the capacity; not for a
  // service without places.
  update.set_free_places(2);
  v1::ProviderService ignored;
  EXPECT_EQ(protection_->UpdateFreePlaces(As(caseworker_).get(), update, &ignored).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  update.set_free_places(11);
  grpc::Status too_many = protection_->UpdateFreePlaces(As(shelter_staff_).get(), update, &ignored);
  EXPECT_EQ(too_many.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(too_many.error_message(), HasSubstr("free_places"));
  v1::ProviderService legal = Shelter(shelter_org_);
  legal.set_kind(v1::SERVICE_KIND_LEGAL_AID);
  legal.clear_shelter();
  update.set_service_id(PutOk(shelter_supervisor_, legal));
  update.set_free_places(1);
  EXPECT_EQ(protection_->UpdateFreePlaces(As(shelter_staff_).get(), update, &ignored).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // A supervisor's later edit of the entry keeps what the staff said.
  v1::ProviderService edited = Shelter(shelter_org_);
  edited.set_id(id);
  edited.set_name("Safe house (east)");
  v1::ProviderService after;
  ASSERT_TRUE(Put(shelter_supervisor_, edited, &after).ok());
  EXPECT_EQ(after.shelter().free_places(), 0);
  EXPECT_EQ(after.shelter().free_places_by(), shelter_staff_.user_id);
}

TEST_F(DirectoryTest, OnlyTheProvidersSupervisorsOrAnAdministratorChangeItsEntries) {
  v1::ProviderService out;
  EXPECT_EQ(Put(shelter_staff_, Shelter(shelter_org_), &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Put(ngo_supervisor_, Shelter(shelter_org_), &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Put(administrator_, Shelter(shelter_org_), &out).ok());
  EXPECT_EQ(LastAudit().action(), "directory.put_service");
  EXPECT_EQ(LastAudit().record(), "directory/services/" + out.id());
  // An NGO describes its own services; the police do not provide any.
  EXPECT_TRUE(Put(ngo_supervisor_, Shelter(ngo_), &out).ok());
  const std::string police = NewOrganisation(v1::ORGANISATION_TYPE_LAW_ENFORCEMENT);
  EXPECT_EQ(Put(administrator_, Shelter(police), &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Another provider's entry cannot be taken over by naming its id.
  v1::ProviderService takeover = Shelter(ngo_);
  takeover.set_id(FindAll(caseworker_, v1::SearchServicesRequest())[0]);
  if (takeover.id() == out.id()) takeover.set_id(FindAll(caseworker_, {})[1]);
  EXPECT_EQ(Put(ngo_supervisor_, takeover, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  // Law-enforcement liaison does not read the directory.
  const Actor liaison = NewUser(police, v1::ROLE_LAW_ENFORCEMENT_LIAISON);
  v1::SearchServicesResponse none;
  EXPECT_EQ(protection_->SearchServices(As(liaison).get(), {}, &none).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(DirectoryTest, BadEntriesAreRefusedNamingTheFieldAndNothingIsWritten) {
  PutOk(shelter_supervisor_, Shelter(shelter_org_));
  const uint64_t audited = AuditSequence();
  struct Case {
    std::string field;
    std::function<void(v1::ProviderService*)> spoil;
  };
  const std::vector<Case> cases = {
      {"name", [](v1::ProviderService* s) { s->clear_name(); }},
      {"kind", [](v1::ProviderService* s) { s->set_kind(v1::SERVICE_KIND_UNSPECIFIED); }},
      {"languages", [](v1::ProviderService* s) { s->add_languages("??"); }},
      {"hours[0].opens_at",
       [](v1::ProviderService* s) {
         auto* h = s->add_hours();
         h->add_days(v1::WEEKDAY_MONDAY);
         h->set_opens_at("9am");
         h->set_closes_at("17:00");
       }},
      {"time_zone", [](v1::ProviderService* s) { s->set_time_zone("Mars/Olympus"); }},
      {"email", [](v1::ProviderService* s) { s->set_email("not an address"); }},
      {"url", [](v1::ProviderService* s) { s->set_url("ftp://example.org"); }},
      {"shelter.takes", [](v1::ProviderService* s) { s->mutable_shelter()->clear_takes(); }},
      {"shelter.free_places",
       [](v1::ProviderService* s) { s->mutable_shelter()->set_free_places(11); }},
      {"shelter.max_age", [](v1::ProviderService* s) { s->mutable_shelter()->set_max_age(12); }},
  };
  for (const Case& c : cases) {
    v1::ProviderService bad = Shelter(shelter_org_);
    c.spoil(&bad);
    v1::ProviderService out;
    grpc::Status s = Put(shelter_supervisor_, bad, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_THAT(s.error_message(), HasSubstr(c.field));
  }
  // A location that is not the provider's own.
  v1::PutProviderLocationRequest elsewhere;
  elsewhere.mutable_location()->set_organisation_id(ngo_);
  elsewhere.mutable_location()->set_name("NGO office");
  v1::ProviderLocation ngo_office;
  ASSERT_TRUE(
      protection_->PutProviderLocation(As(ngo_supervisor_).get(), elsewhere, &ngo_office).ok());
  const uint64_t after_location = AuditSequence();
  v1::ProviderService wrong_place = Shelter(shelter_org_);
  wrong_place.add_location_ids(ngo_office.id());
  v1::ProviderService out;
  grpc::Status s = Put(shelter_supervisor_, wrong_place, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("location_ids[0]"));
  EXPECT_EQ(AuditSequence(), after_location);
  EXPECT_EQ(after_location, audited + 1) << "only the location was written";
  EXPECT_EQ(FindAll(caseworker_, {}).size(), 1u);
}

TEST_F(DirectoryTest, PagesGiveEveryServiceOnce) {
  std::vector<std::string> ids;
  for (int i = 0; i < 23; ++i) {
    v1::ProviderService s = Shelter(shelter_org_);
    s.set_kind(i % 2 == 0 ? v1::SERVICE_KIND_SHELTER : v1::SERVICE_KIND_MEDICAL);
    if (s.kind() != v1::SERVICE_KIND_SHELTER) s.clear_shelter();
    ids.push_back(PutOk(shelter_supervisor_, s));
  }
  for (const auto& [kind, region] :
       std::vector<std::pair<v1::ServiceKind, std::string>>{{v1::SERVICE_KIND_UNSPECIFIED, ""},
                                                            {v1::SERVICE_KIND_UNSPECIFIED, "Vienna"},
                                                            {v1::SERVICE_KIND_MEDICAL, ""},
                                                            {v1::SERVICE_KIND_MEDICAL, "Vienna"}}) {
    v1::SearchServicesRequest request;
    request.set_kind(kind);
    request.set_region(region);
    request.set_page_size(4);
    std::vector<std::string> found = FindAll(caseworker_, request);
    std::vector<std::string> expected;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (kind == v1::SERVICE_KIND_UNSPECIFIED || i % 2 == 1) expected.push_back(ids[i]);
    }
    EXPECT_THAT(found, UnorderedElementsAreArray(expected)) << kind << " " << region;
  }
  v1::SearchServicesRequest forged;
  forged.set_page_token("00ff");
  v1::SearchServicesResponse page;
  EXPECT_EQ(protection_->SearchServices(As(caseworker_).get(), forged, &page).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(DirectoryTest, ImportsHsdsAndExportsTheSameOnAFreshStore) {
  const std::string sample = SampleFile();
  ASSERT_FALSE(sample.empty());
  v1::ImportDirectoryResponse imported;
  v1::ImportDirectoryResponse refused;
  EXPECT_EQ(Import(caseworker_, sample, &refused).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status s = Import(administrator_, sample, &imported);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(imported.organisations(), 6);
  EXPECT_GT(imported.services(), 6);
  EXPECT_EQ(LastAudit().action(), "directory.import");
  v1::SearchServicesRequest shelters;
  shelters.set_kind(v1::SERVICE_KIND_SHELTER);
  EXPECT_FALSE(FindAll(caseworker_, shelters).empty());

  const std::string exported = Export(caseworker_);
  EXPECT_EQ(exported, protection::WriteHsds(*protection::ParseHsds(exported)));
  TearDown();
  SetUp();
  ASSERT_TRUE(Import(administrator_, exported, &imported, 1000).ok());
  EXPECT_EQ(Export(caseworker_), exported) << "export, import on a fresh store, export";
}

TEST_F(DirectoryTest, AnInvalidFileIsRefusedWholeNamingTheRecordAndField) {
  std::string broken = SampleFile();
  // The last service's status becomes one HSDS does not know.
  const size_t at = broken.rfind("\"status\": \"active\"");
  ASSERT_NE(at, std::string::npos);
  broken.replace(at, std::string("\"status\": \"active\"").size(), "\"status\": \"open\"");
  const uint64_t audited = AuditSequence();
  v1::ImportDirectoryResponse response;
  grpc::Status s = Import(administrator_, broken, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::MatchesRegex("contents\\[[0-9]+\\]\\.services\\[[0-9]+\\]\\.status: .*"));
  EXPECT_THAT(s.error_message(), ::testing::Not(HasSubstr("open")));
  EXPECT_EQ(AuditSequence(), audited);
  EXPECT_TRUE(FindAll(caseworker_, {}).empty()) << "nothing of the file was written";
  // Nor is a file over the limit kept in memory: refused as it arrives.
  grpc::Status huge = Import(administrator_, std::string((64 << 20) + 1, ' '), &response, 1 << 19);
  EXPECT_EQ(huge.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(DirectoryTest, TenThousandServicesImportInOneCall) {
  v1::DirectorySnapshot snapshot;
  v1::Organisation* org = snapshot.add_organisations();
  org->set_id("0123456789abcdef0123456789abcdef");
  org->set_display_name("Large provider network");
  org->set_type(v1::ORGANISATION_TYPE_SERVICE_PROVIDER);
  org->set_country("AT");
  for (int i = 0; i < 10000; ++i) {
    v1::ProviderService* service = snapshot.add_services();
    *service = Shelter(org->id());
    service->set_id(absl::StrCat("fedcba98765432100123456789", absl::Hex(i, absl::kZeroPad6)));
    service->set_name(absl::StrCat("Shelter ", i));
    service->set_regions(0, absl::StrCat("Region ", i % 50));
    service->mutable_shelter()->set_free_places(i % 4);
  }
  const std::string json = protection::WriteHsds(snapshot);
  const auto start = std::chrono::steady_clock::now();
  v1::ImportDirectoryResponse response;
  grpc::Status s = Import(administrator_, json, &response, 512 << 10);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.services(), 10000);
  std::cout << "[ timing ] imported 10,000 services (" << json.size() / (1 << 20) << " MiB) in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  v1::SearchServicesRequest region;
  region.set_region("Region 7");
  region.set_page_size(200);
  EXPECT_EQ(FindAll(caseworker_, region).size(), 200u);
}

}  // namespace
}  // namespace haven::testing
