// Directory rules: opening hours across midnight and time zones, whom a shelter takes, and the
// checks on an entry's fields.
#include "services/protection/directory_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace haven::protection {
namespace {

namespace v1 = haven::v1;
using ::testing::HasSubstr;

absl::Time Vienna(int year, int month, int day, int hour, int minute) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Vienna", &zone));
  return absl::FromCivil(absl::CivilMinute(year, month, day, hour, minute), zone);
}

v1::ProviderService NightShelter() {
  v1::ProviderService s;
  s.set_name("Night shelter");
  s.set_kind(v1::SERVICE_KIND_SHELTER);
  s.set_status(v1::SERVICE_STATUS_ACTIVE);
  s.set_time_zone("Europe/Vienna");
  v1::OpeningHours* friday = s.add_hours();
  friday->add_days(v1::WEEKDAY_FRIDAY);
  friday->set_opens_at("18:00");
  friday->set_closes_at("08:00");
  v1::ShelterPlaces* places = s.mutable_shelter();
  places->add_takes(v1::SHELTER_GROUP_MEN);
  places->set_min_age(18);
  places->set_max_age(65);
  places->set_capacity(4);
  places->set_free_places(2);
  return s;
}

TEST(DirectoryRulesTest, HoursPastMidnightBelongToTheDayTheyOpen) {
  const v1::ProviderService s = NightShelter();
  const absl::TimeZone utc = absl::UTCTimeZone();
  // Friday 3 December 2027.
  EXPECT_FALSE(OpenAt(s, Vienna(2027, 12, 3, 17, 59), utc));
  EXPECT_TRUE(OpenAt(s, Vienna(2027, 12, 3, 18, 0), utc));
  EXPECT_TRUE(OpenAt(s, Vienna(2027, 12, 4, 7, 59), utc)) << "Saturday morning, Friday's night";
  EXPECT_FALSE(OpenAt(s, Vienna(2027, 12, 4, 8, 0), utc));
  EXPECT_FALSE(OpenAt(s, Vienna(2027, 12, 4, 19, 0), utc)) << "not open on Saturday evening";
  EXPECT_FALSE(OpenAt(s, Vienna(2027, 12, 3, 7, 0), utc)) << "Thursday's night is not one";
}

TEST(DirectoryRulesTest, HoursAreReadInTheServicesTimeZoneOrTheJurisdictions) {
  v1::ProviderService s = NightShelter();
  s.clear_time_zone();
  absl::TimeZone vienna;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Vienna", &vienna));
  // 18:30 in Vienna is 17:30 UTC in winter: open by Vienna's clock only.
  EXPECT_TRUE(OpenAt(s, Vienna(2027, 12, 3, 18, 30), vienna));
  EXPECT_FALSE(OpenAt(s, Vienna(2027, 12, 3, 18, 30), absl::UTCTimeZone()));
  s.clear_hours();
  EXPECT_FALSE(OpenAt(s, Vienna(2027, 12, 3, 18, 30), vienna)) << "by appointment";
  s.set_open_all_hours(true);
  EXPECT_TRUE(OpenAt(s, Vienna(2027, 12, 3, 3, 0), vienna));
}

TEST(DirectoryRulesTest, AShelterTakesWhomItSaysItTakes) {
  v1::ServiceMatch match;
  *match.mutable_service() = NightShelter();
  v1::SearchServicesRequest request;
  request.mutable_seeker()->set_sex(v1::SEX_MALE);
  request.mutable_seeker()->set_age(40);
  EXPECT_TRUE(Answers(match, request, absl::UTCTimeZone()));
  request.mutable_seeker()->set_age(70);
  EXPECT_FALSE(Answers(match, request, absl::UTCTimeZone())) << "above the age limit";
  request.mutable_seeker()->set_age(16);
  EXPECT_FALSE(Answers(match, request, absl::UTCTimeZone())) << "a child needs a children's place";
  request.mutable_seeker()->set_age(40);
  request.mutable_seeker()->set_sex(v1::SEX_FEMALE);
  EXPECT_FALSE(Answers(match, request, absl::UTCTimeZone())) << "a men's shelter";
  request.mutable_seeker()->set_sex(v1::SEX_MALE);
  request.mutable_seeker()->set_children(1);
  EXPECT_FALSE(Answers(match, request, absl::UTCTimeZone())) << "no family places";
  request.mutable_seeker()->set_children(0);
  request.set_with_free_places(true);
  EXPECT_TRUE(Answers(match, request, absl::UTCTimeZone()));
  match.mutable_service()->mutable_shelter()->set_free_places(0);
  EXPECT_FALSE(Answers(match, request, absl::UTCTimeZone())) << "full";
  request.add_accessibility(v1::ACCESSIBILITY_FEATURE_WHEELCHAIR);
  match.mutable_service()->mutable_shelter()->set_free_places(2);
  EXPECT_FALSE(Answers(match, request, absl::UTCTimeZone())) << "no location with wheelchair access";
  match.add_locations()->add_accessibility(v1::ACCESSIBILITY_FEATURE_WHEELCHAIR);
  EXPECT_TRUE(Answers(match, request, absl::UTCTimeZone()));
}

TEST(DirectoryRulesTest, EntriesAreCheckedFieldByField) {
  EXPECT_TRUE(CheckService(NightShelter()).ok());
  v1::ProviderService s = NightShelter();
  s.mutable_hours(0)->set_closes_at("24:00");
  EXPECT_THAT(std::string(CheckService(s).message()), HasSubstr("hours[0].closes_at"));
  s = NightShelter();
  s.mutable_shelter()->set_min_age(70);
  EXPECT_THAT(std::string(CheckService(s).message()), HasSubstr("shelter.max_age"));
  s = NightShelter();
  s.set_kind(v1::SERVICE_KIND_MEDICAL);
  EXPECT_THAT(std::string(CheckService(s).message()), HasSubstr("shelter"));
  v1::ProviderLocation location;
  location.set_name("Clinic");
  EXPECT_TRUE(CheckLocation(location).ok()) << "no address: kept confidential";
  location.mutable_address()->set_city("Vienna");
  EXPECT_THAT(std::string(CheckLocation(location).message()), HasSubstr("address.address_1"))
      << "an address is whole or absent, as HSDS requires";
  location.mutable_address()->set_address_1("Hauptstrasse 1");
  location.mutable_address()->set_region("Vienna");
  location.mutable_address()->set_postal_code("1010");
  location.mutable_address()->set_country("at");
  EXPECT_THAT(std::string(CheckLocation(location).message()), HasSubstr("address.country"));
  location.mutable_address()->set_country("AT");
  EXPECT_TRUE(CheckLocation(location).ok());
  v1::ProviderProfile profile;
  profile.set_email("help@example");
  EXPECT_THAT(std::string(CheckProfile(profile).message()), HasSubstr("email"));
  profile.set_email("help@example.org");
  EXPECT_TRUE(CheckProfile(profile).ok());
}

}  // namespace
}  // namespace haven::protection
