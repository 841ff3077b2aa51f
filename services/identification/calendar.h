// WorkingCalendar: the jurisdiction's working days, holidays and identification deadlines.
#ifndef HAVEN_SERVICES_IDENTIFICATION_CALENDAR_H_
#define HAVEN_SERVICES_IDENTIFICATION_CALENDAR_H_

#include <array>
#include <set>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "haven/v1/config.pb.h"

namespace haven::identification {

// The jurisdiction's working days, holidays and deadlines, built once from
// JurisdictionRules. Immutable after construction: safe to share between threads.
//
//   absl::StatusOr<WorkingCalendar> cal = WorkingCalendar::FromRules(rules);
//   absl::Time due = cal->ReasonableGroundsDue(referral_time);
class WorkingCalendar {
 public:
  // Defaults for unset (zero or empty) fields: 5 working days, 30 days,
  // weekend {6, 7}, zone "UTC". INVALID_ARGUMENT naming the setting for: a
  // holiday not "YYYY-MM-DD" or not a real date, a weekday outside 1..7,
  // negative day counts, all seven days weekend, an unknown time zone (or a
  // zone name that is not an IANA name, such as a file path).
  static absl::StatusOr<WorkingCalendar> FromRules(const haven::v1::JurisdictionRules& rules);

  // Neither a weekend day nor a public holiday.
  bool IsWorkingDay(absl::CivilDay day) const;

  // The reasonable-grounds decision is due at the end of the Nth working day
  // after the day of the referral (in the jurisdiction's zone): returns the
  // start (00:00 local) of the day following that Nth working day. The
  // referral day itself never counts. An infinite `referral` is returned as is.
  absl::Time ReasonableGroundsDue(absl::Time referral) const;

  // The reflection and recovery period ends reflection_period_days calendar
  // days after the reasonable-grounds decision, at the same local time of day
  // (a local time skipped by a clock change maps as absl::FromCivil does). An
  // infinite `reasonable_grounds_decision` is returned as is.
  absl::Time ReflectionPeriodEnd(absl::Time reasonable_grounds_decision) const;

  int reasonable_grounds_working_days() const { return reasonable_grounds_working_days_; }
  int reflection_period_days() const { return reflection_period_days_; }
  absl::TimeZone zone() const { return zone_; }

 private:
  WorkingCalendar() = default;

  int reasonable_grounds_working_days_ = 5;
  int reflection_period_days_ = 30;
  // Indexed by ISO weekday, 1 = Monday ... 7 = Sunday; index 0 unused.
  std::array<bool, 8> weekend_{};
  std::set<absl::CivilDay> holidays_;
  absl::TimeZone zone_ = absl::UTCTimeZone();
};

}  // namespace haven::identification

#endif  // HAVEN_SERVICES_IDENTIFICATION_CALENDAR_H_
