// HSDS codec: the sample directory, round trips, ids, and every kind of invalid record
// refused with its path and field named and its value never echoed.
#include "services/protection/hsds.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/protection/hsds_format.h"

namespace haven::protection {
namespace {

using google::protobuf::Value;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
namespace v1 = haven::v1;

// Distinct text that a refused document carries, which no message may repeat.
constexpr char kSecret[] = "SECRETxq7";

std::string ReadSample() {
  std::ifstream in(HAVEN_SAMPLE_DIRECTORY);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string HexId(int n) {
  return absl::StrCat("00000000000000000000000000", absl::Hex(n, absl::kZeroPad6));
}

google::protobuf::Timestamp At(int64_t seconds, int32_t nanos) {
  google::protobuf::Timestamp time;
  time.set_seconds(seconds);
  time.set_nanos(nanos);
  return time;
}

// One provider with one location and a shelter using every field Haven writes.
v1::DirectorySnapshot SmallDirectory() {
  v1::DirectorySnapshot snapshot;
  v1::Organisation& organisation = *snapshot.add_organisations();
  organisation.set_id(HexId(1));
  organisation.set_display_name("Harbour \"Light\" Shelter");
  organisation.set_type(v1::ORGANISATION_TYPE_NGO);
  organisation.set_country("AT");
  v1::ProviderProfile& profile = *snapshot.add_profiles();
  profile.set_organisation_id(HexId(1));
  profile.set_description("Shelter and counselling.\nFor women.");
  profile.set_email("office@harbour.example.org");
  profile.set_url("https://harbour.example.org");
  profile.set_phone("+43 1 555 0001");
  v1::ProviderLocation& location = *snapshot.add_locations();
  location.set_id(HexId(2));
  location.set_organisation_id(HexId(1));
  location.set_name("Harbour house");
  location.mutable_address()->set_address_1("Hafengasse 1");
  location.mutable_address()->set_city("Capital City");
  location.mutable_address()->set_region("Capital Region");
  location.mutable_address()->set_postal_code("1010");
  location.mutable_address()->set_country("AT");
  location.add_accessibility(v1::ACCESSIBILITY_FEATURE_WHEELCHAIR);
  location.add_accessibility(v1::ACCESSIBILITY_FEATURE_BRAILLE);
  location.set_accessibility_note("Ring the lower bell.");
  location.set_phone("+43 1 555 0002");
  v1::ProviderService& service = *snapshot.add_services();
  service.set_id(HexId(3));
  service.set_organisation_id(HexId(1));
  service.set_name("Women's shelter");
  service.set_description("Safe accommodation.");
  service.set_kind(v1::SERVICE_KIND_SHELTER);
  service.set_status(v1::SERVICE_STATUS_TEMPORARILY_CLOSED);
  service.add_regions("Capital Region");
  service.add_regions("North Region");
  service.add_languages("ti");
  service.add_languages("uk");
  service.set_open_all_hours(true);
  v1::OpeningHours& hours = *service.add_hours();
  hours.add_days(v1::WEEKDAY_MONDAY);
  hours.add_days(v1::WEEKDAY_FRIDAY);
  hours.set_opens_at("18:00");
  hours.set_closes_at("08:00");
  service.set_time_zone("Europe/Vienna");
  service.set_phone("+43 1 555 0003");
  service.set_email("places@harbour.example.org");
  service.set_url("https://harbour.example.org/shelter");
  service.add_location_ids(HexId(2));
  v1::ShelterPlaces& shelter = *service.mutable_shelter();
  shelter.add_takes(v1::SHELTER_GROUP_WOMEN);
  shelter.add_takes(v1::SHELTER_GROUP_FAMILIES);
  shelter.set_min_age(16);
  shelter.set_max_age(70);
  shelter.set_capacity(12);
  shelter.set_free_places(3);
  *shelter.mutable_free_places_time() = At(1714638600, 250000000);
  shelter.set_free_places_by("0123456789abcdef0123456789abcdef");
  return snapshot;
}

void ExpectSameSnapshot(const v1::DirectorySnapshot& expected, const v1::DirectorySnapshot& got) {
  google::protobuf::util::MessageDifferencer differencer;
  std::string differences;
  differencer.ReportDifferencesToString(&differences);
  EXPECT_TRUE(differencer.Compare(expected, got)) << differences;
}

TEST(HsdsTest, SampleDirectoryParses) {
  const absl::StatusOr<v1::DirectorySnapshot> directory = ParseHsds(ReadSample());
  ASSERT_TRUE(directory.ok()) << directory.status();
  EXPECT_EQ(directory->organisations_size(), 6);
  EXPECT_EQ(directory->profiles_size(), 6);
  EXPECT_EQ(directory->locations_size(), 6);
  EXPECT_EQ(directory->services_size(), 9);
  const v1::ProviderService& shelter = directory->services(0);
  EXPECT_EQ(shelter.kind(), v1::SERVICE_KIND_SHELTER);
  EXPECT_EQ(shelter.status(), v1::SERVICE_STATUS_ACTIVE);
  EXPECT_TRUE(shelter.open_all_hours());
  EXPECT_EQ(shelter.time_zone(), "Europe/Vienna");
  EXPECT_THAT(shelter.languages(), ::testing::ElementsAre("en", "ro", "uk"));
  EXPECT_THAT(shelter.shelter().takes(), ::testing::ElementsAre(v1::SHELTER_GROUP_WOMEN));
  EXPECT_EQ(shelter.shelter().min_age(), 18);
  EXPECT_FALSE(shelter.shelter().has_max_age());
  EXPECT_EQ(shelter.shelter().capacity(), 12);
  EXPECT_EQ(shelter.shelter().free_places(), 3);
  EXPECT_EQ(shelter.location_ids(0), directory->locations(0).id());
  EXPECT_EQ(directory->organisations(0).country(), "AT");
  EXPECT_EQ(directory->organisations(0).type(), v1::ORGANISATION_TYPE_NGO);
  EXPECT_FALSE(directory->locations(0).has_address());  // a confidential shelter
}

TEST(HsdsTest, SampleRoundTripIsByteIdentical) {
  const absl::StatusOr<v1::DirectorySnapshot> first = ParseHsds(ReadSample());
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string written = WriteHsds(*first);
  const absl::StatusOr<v1::DirectorySnapshot> second = ParseHsds(written);
  ASSERT_TRUE(second.ok()) << second.status();
  ExpectSameSnapshot(*first, *second);
  EXPECT_EQ(WriteHsds(*second), written);
}

TEST(HsdsTest, SnapshotRoundTripGivesTheSameSnapshot) {
  const v1::DirectorySnapshot snapshot = SmallDirectory();
  const absl::StatusOr<v1::DirectorySnapshot> parsed = ParseHsds(WriteHsds(snapshot));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ExpectSameSnapshot(snapshot, *parsed);
}

TEST(HsdsTest, EveryStatusRoundTrips) {
  for (v1::ServiceStatus status :
       {v1::SERVICE_STATUS_ACTIVE, v1::SERVICE_STATUS_INACTIVE,
        v1::SERVICE_STATUS_TEMPORARILY_CLOSED, v1::SERVICE_STATUS_DEFUNCT}) {
    v1::DirectorySnapshot snapshot = SmallDirectory();
    snapshot.mutable_services(0)->set_status(status);
    const absl::StatusOr<v1::DirectorySnapshot> parsed = ParseHsds(WriteHsds(snapshot));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->services(0).status(), status);
  }
}

TEST(HsdsTest, WritingIsDeterministicAndIdsAreLowerCaseUuids) {
  const std::string written = WriteHsds(SmallDirectory());
  EXPECT_EQ(WriteHsds(SmallDirectory()), written);
  EXPECT_THAT(written, HasSubstr("\"id\":\"00000000-0000-0000-0000-000000000001\""));
  EXPECT_THAT(written, HasSubstr("\"status\":\"temporarily closed\""));
  EXPECT_THAT(written, HasSubstr("\"byday\":\"MO,FR\""));
}

TEST(HsdsTest, UpperCaseUuidsAreReadAsHavenIds) {
  const std::string lower = "00000000-0000-0000-0000-00000000000a";
  v1::DirectorySnapshot snapshot = SmallDirectory();
  snapshot.mutable_organisations(0)->set_id(HexId(10));
  snapshot.mutable_profiles(0)->set_organisation_id(HexId(10));
  snapshot.mutable_locations(0)->set_organisation_id(HexId(10));
  snapshot.mutable_services(0)->set_organisation_id(HexId(10));
  std::string written = WriteHsds(snapshot);
  ASSERT_THAT(written, HasSubstr(lower));
  written.replace(written.find(lower), lower.size(), "00000000-0000-0000-0000-00000000000A");
  const absl::StatusOr<v1::DirectorySnapshot> parsed = ParseHsds(written);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->organisations(0).id(), HexId(10));
}

TEST(HsdsTest, DerivedIdsAreStableDistinctVersion8Uuids) {
  const std::string id = hsds::DerivedUuid(HexId(3), "schedule", 0);
  EXPECT_TRUE(hsds::IsUuid(id));
  EXPECT_EQ(id[14], '8');
  EXPECT_EQ(hsds::DerivedUuid(HexId(3), "schedule", 0), id);
  EXPECT_NE(hsds::DerivedUuid(HexId(3), "schedule", 1), id);
  EXPECT_NE(hsds::DerivedUuid(HexId(3), "language", 0), id);
  EXPECT_NE(hsds::DerivedUuid(HexId(4), "schedule", 0), id);
}

// --- Invalid documents --------------------------------------------------------------------

Value* Field(Value* object, const std::string& key) {
  return &(*object->mutable_struct_value()->mutable_fields())[key];
}
Value* Item(Value* array, int index) { return array->mutable_list_value()->mutable_values(index); }
Value* Organization(Value* document) { return Item(Field(document, "contents"), 0); }
Value* Service(Value* document) { return Item(Field(Organization(document), "services"), 0); }
Value* Location(Value* document) { return Item(Field(Organization(document), "locations"), 0); }
void Remove(Value* object, const std::string& key) {
  object->mutable_struct_value()->mutable_fields()->erase(key);
}
void SetString(Value* object, const std::string& key, const std::string& text) {
  Field(object, key)->set_string_value(text);
}

// The small directory written, changed by `change`, as JSON.
std::string ChangedDocument(const std::function<void(Value*)>& change) {
  Value document;
  const std::string written = WriteHsds(SmallDirectory());
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(written, &document).ok());
  change(&document);
  std::string json;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(document, &json).ok());
  return json;
}

struct InvalidCase {
  std::string name;
  std::function<void(Value*)> change;
  std::string path;  // the message starts with "<path>: "
};

class InvalidDocumentTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidDocumentTest, IsRefusedNamingPathAndFieldWithoutTheValue) {
  const InvalidCase& invalid = GetParam();
  const absl::StatusOr<v1::DirectorySnapshot> parsed = ParseHsds(ChangedDocument(invalid.change));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(parsed.status().message()), StartsWith(invalid.path + ": "));
  EXPECT_THAT(std::string(parsed.status().message()), Not(HasSubstr(kSecret)));
  EXPECT_THAT(std::string(parsed.status().message()), Not(HasSubstr("12345")));
}

const std::string kSecretUuid = "12345678-1234-1234-1234-123456789abc";

INSTANTIATE_TEST_SUITE_P(
    Records, InvalidDocumentTest,
    ::testing::Values(
        InvalidCase{"MissingRequiredField", [](Value* d) { Remove(Service(d), "name"); },
                    "contents[0].services[0].name"},
        InvalidCase{"MissingPageField", [](Value* d) { Remove(d, "empty"); }, "empty"},
        InvalidCase{"BadUuid", [](Value* d) { SetString(Location(d), "id", kSecret); },
                    "contents[0].locations[0].id"},
        InvalidCase{"BadEmail", [](Value* d) { SetString(Organization(d), "email", kSecret); },
                    "contents[0].email"},
        InvalidCase{"BadUrl",
                    [](Value* d) { SetString(Service(d), "url", absl::StrCat("ftp://", kSecret)); },
                    "contents[0].services[0].url"},
        InvalidCase{"BadTime",
                    [](Value* d) {
                      SetString(Item(Field(Service(d), "schedules"), 1), "opens_at", "25:00");
                    },
                    "contents[0].services[0].schedules[1].opens_at"},
        InvalidCase{
            "BadLanguageCode",
            [](Value* d) { SetString(Item(Field(Service(d), "languages"), 0), "code", kSecret); },
            "contents[0].services[0].languages[0].code"},
        InvalidCase{
            "BadCountry",
            [](Value* d) { SetString(Item(Field(Location(d), "addresses"), 0), "country", "XQ"); },
            "contents[0].locations[0].addresses[0].country"},
        InvalidCase{"BadOrganisationCountry",
                    [](Value* d) {
                      SetString(Item(Field(Organization(d), "attributes"), 1), "value", kSecret);
                    },
                    "contents[0].attributes[1].value"},
        InvalidCase{"UnknownStatus", [](Value* d) { SetString(Service(d), "status", kSecret); },
                    "contents[0].services[0].status"},
        InvalidCase{"UnknownHavenTerm",
                    [](Value* d) {
                      SetString(Field(Item(Field(Service(d), "attributes"), 0), "taxonomy_term"),
                                "code", kSecret);
                    },
                    "contents[0].services[0].attributes[0].taxonomy_term.code"},
        InvalidCase{"FreePlacesAboveCapacity",
                    [](Value* d) {
                      Field(Item(Field(Service(d), "service_capacities"), 0), "available")
                          ->set_number_value(12345);
                    },
                    "contents[0].services[0].service_capacities[0].available"},
        InvalidCase{"NegativeCapacity",
                    [](Value* d) {
                      Field(Item(Field(Service(d), "service_capacities"), 0), "maximum")
                          ->set_number_value(-12345);
                    },
                    "contents[0].services[0].service_capacities[0].maximum"},
        InvalidCase{"DanglingLocationReference",
                    [](Value* d) {
                      SetString(Item(Field(Service(d), "service_at_locations"), 0), "location_id",
                                kSecretUuid);
                    },
                    "contents[0].services[0].service_at_locations[0].location_id"},
        InvalidCase{
            "DuplicateId",
            [](Value* d) { SetString(Service(d), "id", Field(Location(d), "id")->string_value()); },
            "contents[0].services[0].id"},
        InvalidCase{"WrongJsonType",
                    [](Value* d) { Field(Organization(d), "name")->set_number_value(12345); },
                    "contents[0].name"},
        InvalidCase{
            "RecordNotAnObject",
            [](Value* d) { Item(Field(Service(d), "phones"), 0)->set_string_value(kSecret); },
            "contents[0].services[0].phones[0]"},
        InvalidCase{
            "MonthlySchedule",
            [](Value* d) { SetString(Item(Field(Service(d), "schedules"), 0), "freq", "MONTHLY"); },
            "contents[0].services[0].schedules[0].freq"}),
    [](const ::testing::TestParamInfo<InvalidCase>& param_info) { return param_info.param.name; });

TEST(HsdsTest, MalformedJsonIsRefusedWithoutEcho) {
  const absl::StatusOr<v1::DirectorySnapshot> parsed =
      ParseHsds(absl::StrCat("{\"contents\": [\"", kSecret, "\""));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(parsed.status().message()), StartsWith("document: "));
  EXPECT_THAT(std::string(parsed.status().message()), Not(HasSubstr(kSecret)));
}

TEST(HsdsTest, DocumentThatIsNoObjectIsRefused) {
  const absl::StatusOr<v1::DirectorySnapshot> parsed = ParseHsds("[1, 2]");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HsdsTest, DeepNestingIsRefusedBeforeParsing) {
  const std::string deep = std::string(1000, '[') + std::string(1000, ']');
  const absl::StatusOr<v1::DirectorySnapshot> parsed = ParseHsds(deep);
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("nest deeper"));
}

TEST(HsdsTest, DocumentOver64MiBIsRefused) {
  const std::string huge((size_t{64} << 20) + 1, ' ');
  const absl::StatusOr<v1::DirectorySnapshot> parsed = ParseHsds(huge);
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("64 MiB"));
}

TEST(HsdsTest, AttributesOfOtherTaxonomiesArePassedOver) {
  const std::string json = ChangedDocument([](Value* d) {
    Value* term = Field(Item(Field(Service(d), "attributes"), 0), "taxonomy_term");
    SetString(term, "taxonomy", "https://example.org/another-taxonomy");
    SetString(term, "code", "anything");
  });
  const absl::StatusOr<v1::DirectorySnapshot> parsed = ParseHsds(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->services(0).kind(), v1::SERVICE_KIND_UNSPECIFIED);
}

// --- Scale ----------------------------------------------------------------------------------

v1::DirectorySnapshot LargeDirectory(int organisations, int services_each) {
  v1::DirectorySnapshot large;
  const v1::DirectorySnapshot small = SmallDirectory();
  int next_id = 100;
  for (int o = 0; o < organisations; ++o) {
    const std::string organisation_id = HexId(next_id++);
    v1::Organisation& organisation = *large.add_organisations() = small.organisations(0);
    organisation.set_id(organisation_id);
    v1::ProviderLocation& location = *large.add_locations() = small.locations(0);
    location.set_id(HexId(next_id++));
    location.set_organisation_id(organisation_id);
    for (int s = 0; s < services_each; ++s) {
      v1::ProviderService& service = *large.add_services() = small.services(0);
      service.set_id(HexId(next_id++));
      service.set_organisation_id(organisation_id);
      service.set_location_ids(0, location.id());
    }
  }
  return large;
}

TEST(HsdsTest, TenThousandServicesParse) {
  const std::string json = WriteHsds(LargeDirectory(1000, 10));
  const auto start = std::chrono::steady_clock::now();
  const absl::StatusOr<v1::DirectorySnapshot> parsed = ParseHsds(json);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->services_size(), 10000);
  std::cout << "[ timing ] parsed 10,000 services (" << (json.size() >> 10) << " KiB) in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms\n";
}

}  // namespace
}  // namespace haven::protection
