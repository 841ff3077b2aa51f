// WorkingCalendar: working days, holidays, zones and the identification deadlines.
#include "services/identification/calendar.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace haven::identification {
namespace {

using ::testing::HasSubstr;

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone(name, &tz)) << name;
  return tz;
}

absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

WorkingCalendar Calendar(const haven::v1::JurisdictionRules& rules) {
  absl::StatusOr<WorkingCalendar> cal = WorkingCalendar::FromRules(rules);
  EXPECT_TRUE(cal.ok()) << cal.status();
  return *std::move(cal);
}

WorkingCalendar DefaultCalendar() { return Calendar(haven::v1::JurisdictionRules()); }

TEST(WorkingCalendarTest, UnsetFieldsTakeDefaults) {
  const WorkingCalendar cal = DefaultCalendar();
  EXPECT_EQ(cal.reasonable_grounds_working_days(), 5);
  EXPECT_EQ(cal.reflection_period_days(), 30);
  EXPECT_EQ(cal.zone(), absl::UTCTimeZone());
  EXPECT_TRUE(cal.IsWorkingDay(absl::CivilDay(2024, 3, 8)));    // Friday
  EXPECT_FALSE(cal.IsWorkingDay(absl::CivilDay(2024, 3, 9)));   // Saturday
  EXPECT_FALSE(cal.IsWorkingDay(absl::CivilDay(2024, 3, 10)));  // Sunday
  EXPECT_TRUE(cal.IsWorkingDay(absl::CivilDay(2024, 3, 11)));   // Monday
}

TEST(WorkingCalendarTest, FridayReferralIsDueAtStartOfSaturdayAWeekLater) {
  // Mon 11 .. Fri 15 are the five working days; the decision is due by the end of Fri 15.
  EXPECT_EQ(DefaultCalendar().ReasonableGroundsDue(Utc(2024, 3, 8, 10, 0)), Utc(2024, 3, 16));
}

TEST(WorkingCalendarTest, ReferralDayNeverCountsHoweverEarly) {
  EXPECT_EQ(DefaultCalendar().ReasonableGroundsDue(Utc(2024, 3, 8, 0, 0, 0)), Utc(2024, 3, 16));
  EXPECT_EQ(DefaultCalendar().ReasonableGroundsDue(Utc(2024, 3, 8, 23, 59, 59)), Utc(2024, 3, 16));
}

TEST(WorkingCalendarTest, SaturdayReferralCountsFromMonday) {
  EXPECT_EQ(DefaultCalendar().ReasonableGroundsDue(Utc(2024, 3, 9, 14, 0)), Utc(2024, 3, 16));
}

TEST(WorkingCalendarTest, OneWorkingDayFromFridayIsEndOfMonday) {
  haven::v1::JurisdictionRules rules;
  rules.set_reasonable_grounds_working_days(1);
  EXPECT_EQ(Calendar(rules).ReasonableGroundsDue(Utc(2024, 3, 8, 9, 0)), Utc(2024, 3, 12));
}

TEST(WorkingCalendarTest, SkipsHolidayOnMondayAfterWeekend) {
  haven::v1::JurisdictionRules rules;
  rules.add_public_holidays("2024-03-11");
  const WorkingCalendar cal = Calendar(rules);
  EXPECT_FALSE(cal.IsWorkingDay(absl::CivilDay(2024, 3, 11)));
  // Tue 12, Wed 13, Thu 14, Fri 15, Mon 18.
  EXPECT_EQ(cal.ReasonableGroundsDue(Utc(2024, 3, 8, 10, 0)), Utc(2024, 3, 19));
}

TEST(WorkingCalendarTest, SkipsConsecutiveHolidays) {
  haven::v1::JurisdictionRules rules;
  for (const char* day : {"2024-12-24", "2024-12-25", "2024-12-26", "2025-01-01"}) {
    rules.add_public_holidays(day);
  }
  // From Mon 23 Dec: Fri 27, Mon 30, Tue 31, Thu 2, Fri 3 Jan.
  EXPECT_EQ(Calendar(rules).ReasonableGroundsDue(Utc(2024, 12, 23, 16, 0)), Utc(2025, 1, 4));
}

TEST(WorkingCalendarTest, HolidayOnWeekendChangesNothing) {
  haven::v1::JurisdictionRules rules;
  rules.add_public_holidays("2024-03-09");
  EXPECT_EQ(Calendar(rules).ReasonableGroundsDue(Utc(2024, 3, 8, 10, 0)), Utc(2024, 3, 16));
}

TEST(WorkingCalendarTest, AcceptsLeapDayHoliday) {
  haven::v1::JurisdictionRules rules;
  rules.add_public_holidays("2024-02-29");
  EXPECT_FALSE(Calendar(rules).IsWorkingDay(absl::CivilDay(2024, 2, 29)));
}

TEST(WorkingCalendarTest, CustomFridaySaturdayWeekend) {
  haven::v1::JurisdictionRules rules;
  rules.add_weekend_days(5);
  rules.add_weekend_days(6);
  const WorkingCalendar cal = Calendar(rules);
  EXPECT_FALSE(cal.IsWorkingDay(absl::CivilDay(2024, 3, 8)));  // Friday
  EXPECT_TRUE(cal.IsWorkingDay(absl::CivilDay(2024, 3, 10)));  // Sunday
  // From Thu 7: Sun 10, Mon 11, Tue 12, Wed 13, Thu 14; due at the start of Fri 15.
  EXPECT_EQ(cal.ReasonableGroundsDue(Utc(2024, 3, 7, 12, 0)), Utc(2024, 3, 15));
}

TEST(WorkingCalendarTest, CountsDaysInTheJurisdictionsZone) {
  haven::v1::JurisdictionRules rules;
  rules.set_time_zone("Europe/Amsterdam");
  const WorkingCalendar cal = Calendar(rules);
  const absl::TimeZone ams = Zone("Europe/Amsterdam");
  // 23:30 on Friday in Amsterdam is still Friday: due at 00:00 local on Sat 16.
  const absl::Time friday_late = absl::FromCivil(absl::CivilSecond(2024, 3, 8, 23, 30, 0), ams);
  EXPECT_EQ(cal.ReasonableGroundsDue(friday_late),
            absl::FromCivil(absl::CivilDay(2024, 3, 16), ams));
  EXPECT_EQ(cal.ReasonableGroundsDue(friday_late), Utc(2024, 3, 15, 23, 0));  // UTC+1 in March
  // 00:30 on Thursday in Amsterdam is still Wednesday in UTC; the local day counts.
  const absl::Time thursday_early = absl::FromCivil(absl::CivilSecond(2024, 3, 7, 0, 30, 0), ams);
  ASSERT_EQ(thursday_early, Utc(2024, 3, 6, 23, 30));
  // Fri 8, Mon 11, Tue 12, Wed 13, Thu 14: due 00:00 local on Fri 15.
  EXPECT_EQ(cal.ReasonableGroundsDue(thursday_early), Utc(2024, 3, 14, 23, 0));
  EXPECT_EQ(DefaultCalendar().ReasonableGroundsDue(thursday_early), Utc(2024, 3, 14));
}

TEST(WorkingCalendarTest, ReflectionPeriodEndsAtSameUtcTimeInUtc) {
  const absl::Time decision = Utc(2024, 3, 8, 10, 15, 30) + absl::Milliseconds(250);
  EXPECT_EQ(DefaultCalendar().ReflectionPeriodEnd(decision),
            Utc(2024, 4, 7, 10, 15, 30) + absl::Milliseconds(250));
}

TEST(WorkingCalendarTest, ReflectionPeriodCountsCalendarDaysNotWorkingDays) {
  haven::v1::JurisdictionRules rules;
  rules.set_reflection_period_days(45);
  rules.add_public_holidays("2024-03-11");
  EXPECT_EQ(Calendar(rules).ReflectionPeriodEnd(Utc(2024, 3, 8, 10, 0)), Utc(2024, 4, 22, 10, 0));
}

TEST(WorkingCalendarTest, ReflectionPeriodKeepsLocalTimeAcrossClockChange) {
  haven::v1::JurisdictionRules rules;
  rules.set_time_zone("Europe/Amsterdam");
  const WorkingCalendar cal = Calendar(rules);
  // Amsterdam moves to summer time on 31 March 2024: 10:00 local is 09:00 UTC
  // before and 08:00 UTC after.
  EXPECT_EQ(cal.ReflectionPeriodEnd(Utc(2024, 3, 20, 9, 0)), Utc(2024, 4, 19, 8, 0));
}

TEST(WorkingCalendarTest, InfiniteTimesPassThrough) {
  const WorkingCalendar cal = DefaultCalendar();
  EXPECT_EQ(cal.ReasonableGroundsDue(absl::InfiniteFuture()), absl::InfiniteFuture());
  EXPECT_EQ(cal.ReflectionPeriodEnd(absl::InfinitePast()), absl::InfinitePast());
}

struct BadRules {
  std::string name;
  haven::v1::JurisdictionRules rules;
  std::string setting;  // the message must name it
};

std::vector<BadRules> AllBadRules() {
  std::vector<BadRules> bad;
  auto add = [&bad](std::string name, std::string setting, auto fill) {
    haven::v1::JurisdictionRules rules;
    fill(rules);
    bad.push_back({std::move(name), std::move(rules), std::move(setting)});
  };
  using R = haven::v1::JurisdictionRules;
  for (const char* holiday : {"2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10", "2024-2-01",
                              "24-02-01", " 2024-02-01", "+2024-02-01", "2024/02/01",
                              "2024-02-01T00:00", "", "abcd-ef-gh"}) {
    add(std::string("holiday '") + holiday + "'", "public_holidays",
        [holiday](R& r) { r.add_public_holidays(holiday); });
  }
  for (int weekday : {0, 8, -1}) {
    add("weekday " + std::to_string(weekday), "weekend_days",
        [weekday](R& r) { r.add_weekend_days(weekday); });
  }
  add("all seven days weekend", "weekend_days", [](R& r) {
    for (int d = 1; d <= 7; ++d) r.add_weekend_days(d);
  });
  add("negative working days", "reasonable_grounds_working_days",
      [](R& r) { r.set_reasonable_grounds_working_days(-1); });
  add("negative reflection days", "reflection_period_days",
      [](R& r) { r.set_reflection_period_days(-30); });
  for (const char* zone : {"Mars/Olympus_Mons", "/usr/share/zoneinfo/UTC", "file:UTC",
                           "../zoneinfo/UTC", "Europe/../UTC", "Europe//Amsterdam"}) {
    add(std::string("zone '") + zone + "'", "time_zone",
        [zone](R& r) { r.set_time_zone(zone); });
  }
  return bad;
}

TEST(WorkingCalendarTest, RejectsBadSettingsNamingTheSetting) {
  for (const BadRules& bad : AllBadRules()) {
    SCOPED_TRACE(bad.name);
    absl::StatusOr<WorkingCalendar> cal = WorkingCalendar::FromRules(bad.rules);
    ASSERT_FALSE(cal.ok());
    EXPECT_EQ(cal.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(cal.status().message()), HasSubstr(bad.setting));
  }
}

TEST(WorkingCalendarTest, AcceptsSixWeekendDaysAndOtherZones) {
  haven::v1::JurisdictionRules rules;
  for (int d = 1; d <= 6; ++d) rules.add_weekend_days(d);
  rules.set_time_zone("America/New_York");
  const WorkingCalendar cal = Calendar(rules);
  // Only Sundays work: from Fri 8 March, Sun 10, 17, 24, 31 March and 7 April.
  EXPECT_EQ(cal.ReasonableGroundsDue(
                absl::FromCivil(absl::CivilSecond(2024, 3, 8, 12, 0, 0), cal.zone())),
            absl::FromCivil(absl::CivilDay(2024, 4, 8), cal.zone()));
}

}  // namespace
}  // namespace haven::identification
