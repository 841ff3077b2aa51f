// WorkingCalendar: working days, holidays and deadlines of a jurisdiction.
#include "services/identification/calendar.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace haven::identification {
namespace {

constexpr int kDefaultReasonableGroundsWorkingDays = 5;
constexpr int kDefaultReflectionPeriodDays = 30;

// ISO weekday: 1 = Monday ... 7 = Sunday.
int IsoWeekday(absl::CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::monday: return 1;
    case absl::Weekday::tuesday: return 2;
    case absl::Weekday::wednesday: return 3;
    case absl::Weekday::thursday: return 4;
    case absl::Weekday::friday: return 5;
    case absl::Weekday::saturday: return 6;
    case absl::Weekday::sunday: return 7;
  }
  return 0;
}

// Exactly "YYYY-MM-DD" naming a real date. Stricter than absl::ParseCivilTime,
// which accepts leading blanks, signs and short years.
bool ParseIsoDate(absl::string_view s, absl::CivilDay* day) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 4 || i == 7) continue;
    if (!absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  int y = 0, m = 0, d = 0;
  if (!absl::SimpleAtoi(s.substr(0, 4), &y) || !absl::SimpleAtoi(s.substr(5, 2), &m) ||
      !absl::SimpleAtoi(s.substr(8, 2), &d)) {
    return false;
  }
  const absl::CivilDay parsed(y, m, d);  // normalises 02-30 to 03-01
  if (parsed.year() != y || parsed.month() != m || parsed.day() != d) return false;
  *day = parsed;
  return true;
}

// absl::LoadTimeZone also opens absolute paths and "file:" names; a zone
// setting must be an IANA name such as "Europe/Amsterdam" or "Etc/GMT+5".
bool LooksLikeIanaName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' &&
        c != '-' && c != '+') {
      return false;
    }
  }
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<WorkingCalendar> WorkingCalendar::FromRules(
    const haven::v1::JurisdictionRules& rules) {
  WorkingCalendar cal;

  if (rules.reasonable_grounds_working_days() < 0) {
    return absl::InvalidArgumentError(
        "jurisdiction rules: reasonable_grounds_working_days must not be negative");
  }
  cal.reasonable_grounds_working_days_ = rules.reasonable_grounds_working_days() == 0
                                             ? kDefaultReasonableGroundsWorkingDays
                                             : rules.reasonable_grounds_working_days();

  if (rules.reflection_period_days() < 0) {
    return absl::InvalidArgumentError(
        "jurisdiction rules: reflection_period_days must not be negative");
  }
  cal.reflection_period_days_ = rules.reflection_period_days() == 0
                                    ? kDefaultReflectionPeriodDays
                                    : rules.reflection_period_days();

  if (rules.weekend_days().empty()) {
    cal.weekend_[6] = cal.weekend_[7] = true;
  }
  for (int weekday : rules.weekend_days()) {
    if (weekday < 1 || weekday > 7) {
      return absl::InvalidArgumentError(absl::StrCat(
          "jurisdiction rules: weekend_days holds ", weekday,
          "; ISO weekdays are 1 (Monday) to 7 (Sunday)"));
    }
    cal.weekend_[weekday] = true;
  }
  int weekend_count = 0;
  for (int weekday = 1; weekday <= 7; ++weekday) weekend_count += cal.weekend_[weekday] ? 1 : 0;
  if (weekend_count == 7) {
    return absl::InvalidArgumentError(
        "jurisdiction rules: weekend_days covers all seven days; no day would be a working day");
  }

  for (int i = 0; i < rules.public_holidays_size(); ++i) {
    absl::CivilDay day;
    if (!ParseIsoDate(rules.public_holidays(i), &day)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "jurisdiction rules: public_holidays[", i, "] is not a real date written YYYY-MM-DD"));
    }
    cal.holidays_.insert(day);
  }

  if (!rules.time_zone().empty()) {
    if (!LooksLikeIanaName(rules.time_zone()) ||
        !absl::LoadTimeZone(rules.time_zone(), &cal.zone_)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "jurisdiction rules: time_zone \"", absl::CHexEscape(rules.time_zone()),
          "\" is not a known IANA time zone"));
    }
  }
  return cal;
}

bool WorkingCalendar::IsWorkingDay(absl::CivilDay day) const {
  return !weekend_[IsoWeekday(day)] && holidays_.count(day) == 0;
}

absl::Time WorkingCalendar::ReasonableGroundsDue(absl::Time referral) const {
  if (referral == absl::InfinitePast() || referral == absl::InfiniteFuture()) return referral;
  absl::CivilDay day(absl::ToCivilSecond(referral, zone_));
  // Terminates: at least one weekday is a working day and holidays are finite.
  for (int counted = 0; counted < reasonable_grounds_working_days_;) {
    ++day;
    if (IsWorkingDay(day)) ++counted;
  }
  return absl::FromCivil(day + 1, zone_);
}

absl::Time WorkingCalendar::ReflectionPeriodEnd(absl::Time reasonable_grounds_decision) const {
  const absl::Time t = reasonable_grounds_decision;
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return t;
  const absl::CivilSecond local = absl::ToCivilSecond(t, zone_);
  const absl::CivilDay end_day = absl::CivilDay(local) + reflection_period_days_;
  const absl::CivilSecond end(end_day.year(), end_day.month(), end_day.day(), local.hour(),
                              local.minute(), local.second());
  // Keep the sub-second part; ToUnixSeconds rounds toward the infinite past.
  const absl::Duration fraction = t - absl::FromUnixSeconds(absl::ToUnixSeconds(t));
  return absl::FromCivil(end, zone_) + fraction;
}

}  // namespace haven::identification
