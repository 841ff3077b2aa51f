// Directory rules: well-formed entries, and the fit between a service and a seeker.
#include "services/protection/directory_rules.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "storage/codes.h"

namespace haven::protection {
namespace {

namespace v1 = haven::v1;

constexpr size_t kMaxName = 200;
constexpr size_t kMaxText = 4000;
constexpr size_t kMaxShort = 200;
constexpr int kMaxRepeated = 50;
constexpr int kMaxAge = 130;

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, " ", what));
}

absl::Status CheckText(absl::string_view value, absl::string_view field, size_t max,
                       bool required) {
  if (required && value.empty()) return Invalid(field, "is required");
  if (value.size() > max) return Invalid(field, absl::StrCat("has at most ", max, " bytes"));
  return absl::OkStatus();
}

absl::Status CheckEmail(absl::string_view email, absl::string_view field) {
  if (email.empty()) return absl::OkStatus();
  const size_t at = email.find('@');
  if (email.size() > 254 || at == absl::string_view::npos || at == 0 ||
      email.find('.', at) == absl::string_view::npos || email.back() == '.' ||
      std::any_of(email.begin(), email.end(), [](char c) { return absl::ascii_isspace(c); })) {
    return Invalid(field, "must be an e-mail address such as help@example.org");
  }
  return absl::OkStatus();
}

absl::Status CheckUrl(absl::string_view url, absl::string_view field) {
  if (url.empty()) return absl::OkStatus();
  const bool scheme = absl::StartsWith(url, "https://") || absl::StartsWith(url, "http://");
  if (!scheme || url.size() > 2000 || url.size() <= std::string("https://").size() ||
      std::any_of(url.begin(), url.end(), [](char c) { return absl::ascii_isspace(c); })) {
    return Invalid(field, "must be a web address starting with https:// or http://");
  }
  return absl::OkStatus();
}

// Minutes since midnight of "HH:MM"; -1 when malformed.
int MinutesOf(absl::string_view hhmm) {
  int hours = 0;
  int minutes = 0;
  if (hhmm.size() != 5 || hhmm[2] != ':' || !absl::SimpleAtoi(hhmm.substr(0, 2), &hours) ||
      !absl::SimpleAtoi(hhmm.substr(3, 2), &minutes) || hours > 23 || minutes > 59 ||
      !absl::ascii_isdigit(hhmm[0]) || !absl::ascii_isdigit(hhmm[3])) {
    return -1;
  }
  return hours * 60 + minutes;
}

template <typename Enum, typename Valid>
absl::Status CheckEnum(Enum value, Valid is_valid, absl::string_view field) {
  if (!is_valid(value) || static_cast<int>(value) == 0) {
    return Invalid(field, "must be one of the listed values");
  }
  return absl::OkStatus();
}

absl::Status CheckHours(const v1::ProviderService& service) {
  if (service.hours_size() > kMaxRepeated) return Invalid("hours", "has too many entries");
  for (int i = 0; i < service.hours_size(); ++i) {
    const v1::OpeningHours& h = service.hours(i);
    const std::string at = absl::StrCat("hours[", i, "]");
    if (h.days().empty()) return Invalid(at + ".days", "must name at least one day");
    for (int d : h.days()) {
      if (absl::Status s = CheckEnum(static_cast<v1::Weekday>(d), v1::Weekday_IsValid,
                                     at + ".days");
          !s.ok()) {
        return s;
      }
    }
    if (MinutesOf(h.opens_at()) < 0) return Invalid(at + ".opens_at", "must be HH:MM (24-hour)");
    if (MinutesOf(h.closes_at()) < 0) return Invalid(at + ".closes_at", "must be HH:MM (24-hour)");
  }
  if (!service.time_zone().empty()) {
    absl::TimeZone zone;
    if (!absl::LoadTimeZone(service.time_zone(), &zone)) {
      return Invalid("time_zone", "must be an IANA time zone such as Europe/Vienna");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckShelter(const v1::ProviderService& service) {
  const v1::ShelterPlaces& shelter = service.shelter();
  if (service.kind() != v1::SERVICE_KIND_SHELTER) {
    if (service.has_shelter()) return Invalid("shelter", "is only for a service of kind shelter");
    return absl::OkStatus();
  }
  if (shelter.takes().empty()) {
    return Invalid("shelter.takes", "must say whom the shelter takes (women, men, children, families)");
  }
  for (int g : shelter.takes()) {
    if (absl::Status s = CheckEnum(static_cast<v1::ShelterGroup>(g), v1::ShelterGroup_IsValid,
                                   "shelter.takes");
        !s.ok()) {
      return s;
    }
  }
  for (const auto& [has, age, field] :
       {std::make_tuple(shelter.has_min_age(), shelter.min_age(), "shelter.min_age"),
        std::make_tuple(shelter.has_max_age(), shelter.max_age(), "shelter.max_age")}) {
    if (has && (age < 0 || age > kMaxAge)) {
      return Invalid(field, absl::StrCat("must be from 0 to ", kMaxAge));
    }
  }
  if (shelter.has_min_age() && shelter.has_max_age() && shelter.min_age() > shelter.max_age()) {
    return Invalid("shelter.max_age", "must not be below min_age");
  }
  if (shelter.capacity() <= 0) return Invalid("shelter.capacity", "must be at least 1");
  if (shelter.free_places() < 0 || shelter.free_places() > shelter.capacity()) {
    return Invalid("shelter.free_places", "must be from 0 to the capacity");
  }
  return absl::OkStatus();
}

bool Takes(const v1::ShelterPlaces& shelter, v1::ShelterGroup group) {
  return std::find(shelter.takes().begin(), shelter.takes().end(), group) != shelter.takes().end();
}

// Whether a shelter takes the seeker: by age, and by group (an adult with
// children needs a family place; a child alone a children's place).
bool TakesSeeker(const v1::ProviderService& service, const v1::ServiceSeeker& seeker) {
  if (service.kind() != v1::SERVICE_KIND_SHELTER) return true;
  const v1::ShelterPlaces& shelter = service.shelter();
  if (seeker.has_age()) {
    if (shelter.has_min_age() && seeker.age() < shelter.min_age()) return false;
    if (shelter.has_max_age() && seeker.age() > shelter.max_age()) return false;
  }
  if (seeker.children() > 0) return Takes(shelter, v1::SHELTER_GROUP_FAMILIES);
  if (seeker.has_age() && seeker.age() < 18) return Takes(shelter, v1::SHELTER_GROUP_CHILDREN);
  switch (seeker.sex()) {
    case v1::SEX_FEMALE:
      return Takes(shelter, v1::SHELTER_GROUP_WOMEN);
    case v1::SEX_MALE:
      return Takes(shelter, v1::SHELTER_GROUP_MEN);
    default:
      return true;
  }
}

}  // namespace

absl::Status CheckProfile(const v1::ProviderProfile& profile) {
  if (absl::Status s = CheckText(profile.description(), "description", kMaxText, false); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckEmail(profile.email(), "email"); !s.ok()) return s;
  if (absl::Status s = CheckUrl(profile.url(), "url"); !s.ok()) return s;
  return CheckText(profile.phone(), "phone", kMaxShort, false);
}

absl::Status CheckLocation(const v1::ProviderLocation& location) {
  if (absl::Status s = CheckText(location.name(), "name", kMaxName, true); !s.ok()) return s;
  const v1::ProviderAddress& a = location.address();
  // An address is whole (as HSDS requires) or absent: a shelter whose
  // address is kept confidential gives none.
  for (const auto& [value, field] :
       {std::make_pair(a.address_1(), "address.address_1"), std::make_pair(a.city(), "address.city"),
        std::make_pair(a.region(), "address.region"),
        std::make_pair(a.postal_code(), "address.postal_code"),
        std::make_pair(a.country(), "address.country")}) {
    if (absl::Status s = CheckText(value, field, kMaxShort, location.has_address()); !s.ok()) {
      return s;
    }
  }
  if (location.has_address() && !IsCountryCode(a.country())) {
    return Invalid("address.country", "must be an ISO 3166-1 alpha-2 code such as \"AT\"");
  }
  if (location.accessibility_size() > kMaxRepeated) {
    return Invalid("accessibility", "has too many entries");
  }
  for (int f : location.accessibility()) {
    if (absl::Status s = CheckEnum(static_cast<v1::AccessibilityFeature>(f),
                                   v1::AccessibilityFeature_IsValid, "accessibility");
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = CheckText(location.accessibility_note(), "accessibility_note", kMaxText, false);
      !s.ok()) {
    return s;
  }
  return CheckText(location.phone(), "phone", kMaxShort, false);
}

absl::Status CheckService(const v1::ProviderService& service) {
  if (absl::Status s = CheckText(service.name(), "name", kMaxName, true); !s.ok()) return s;
  if (absl::Status s = CheckText(service.description(), "description", kMaxText, false); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckEnum(service.kind(), v1::ServiceKind_IsValid, "kind"); !s.ok()) return s;
  if (absl::Status s = CheckEnum(service.status(), v1::ServiceStatus_IsValid, "status"); !s.ok()) {
    return s;
  }
  if (service.regions_size() > kMaxRepeated) return Invalid("regions", "has too many entries");
  for (const std::string& region : service.regions()) {
    if (absl::Status s = CheckText(region, "regions", kMaxShort, true); !s.ok()) return s;
  }
  if (service.languages_size() > kMaxRepeated) return Invalid("languages", "has too many entries");
  for (const std::string& language : service.languages()) {
    if (!IsLanguageTag(language)) {
      return Invalid("languages", "must hold ISO 639 language codes such as \"ti\" or \"ar\"");
    }
  }
  if (absl::Status s = CheckHours(service); !s.ok()) return s;
  if (absl::Status s = CheckText(service.phone(), "phone", kMaxShort, false); !s.ok()) return s;
  if (absl::Status s = CheckEmail(service.email(), "email"); !s.ok()) return s;
  if (absl::Status s = CheckUrl(service.url(), "url"); !s.ok()) return s;
  if (service.location_ids_size() > kMaxRepeated) {
    return Invalid("location_ids", "has too many entries");
  }
  return CheckShelter(service);
}

absl::Status CheckSearch(const v1::SearchServicesRequest& request) {
  if (!v1::ServiceKind_IsValid(request.kind())) {
    return Invalid("kind", "must be one of the listed values");
  }
  if (!request.language().empty() && !IsLanguageTag(request.language())) {
    return Invalid("language", "must be an ISO 639 language code such as \"ti\"");
  }
  if (request.seeker().has_age() && (request.seeker().age() < 0 || request.seeker().age() > kMaxAge)) {
    return Invalid("seeker.age", absl::StrCat("must be from 0 to ", kMaxAge));
  }
  if (request.seeker().children() < 0 || request.seeker().children() > 20) {
    return Invalid("seeker.children", "must be from 0 to 20");
  }
  if (!v1::Sex_IsValid(request.seeker().sex())) return Invalid("seeker.sex", "must be a listed value");
  for (int f : request.accessibility()) {
    if (absl::Status s = CheckEnum(static_cast<v1::AccessibilityFeature>(f),
                                   v1::AccessibilityFeature_IsValid, "accessibility");
        !s.ok()) {
      return s;
    }
  }
  if (request.page_size() < 0) return Invalid("page_size", "must not be negative");
  return CheckText(request.region(), "region", kMaxShort, false);
}

bool OpenAt(const v1::ProviderService& service, absl::Time when, absl::TimeZone default_zone) {
  if (service.open_all_hours()) return true;
  absl::TimeZone zone = default_zone;
  if (!service.time_zone().empty()) absl::LoadTimeZone(service.time_zone(), &zone);
  const absl::CivilMinute local = absl::ToCivilMinute(when, zone);
  const int minute_of_day = local.hour() * 60 + local.minute();
  // Monday 1 ... Sunday 7, as Weekday counts.
  auto weekday_of = [](absl::CivilDay day) {
    return static_cast<int>(absl::GetWeekday(day)) + 1;
  };
  const int today = weekday_of(absl::CivilDay(local));
  const int yesterday = weekday_of(absl::CivilDay(local) - 1);
  for (const v1::OpeningHours& h : service.hours()) {
    const int opens = MinutesOf(h.opens_at());
    const int closes = MinutesOf(h.closes_at());
    if (opens < 0 || closes < 0) continue;
    auto on = [&h](int day) { return std::find(h.days().begin(), h.days().end(), day) != h.days().end(); };
    if (opens < closes) {
      if (on(today) && minute_of_day >= opens && minute_of_day < closes) return true;
    } else {
      // Past midnight: from `opens` on its day until `closes` the next.
      if (on(today) && minute_of_day >= opens) return true;
      if (on(yesterday) && minute_of_day < closes) return true;
    }
  }
  return false;
}

bool Answers(const v1::ServiceMatch& match, const v1::SearchServicesRequest& request,
             absl::TimeZone default_zone) {
  const v1::ProviderService& service = match.service();
  if (service.status() != v1::SERVICE_STATUS_ACTIVE) return false;
  if (request.kind() != v1::SERVICE_KIND_UNSPECIFIED && service.kind() != request.kind()) return false;
  if (!request.language().empty() &&
      std::find(service.languages().begin(), service.languages().end(), request.language()) ==
          service.languages().end()) {
    return false;
  }
  if (!TakesSeeker(service, request.seeker())) return false;
  if (request.with_free_places() &&
      (service.kind() != v1::SERVICE_KIND_SHELTER ||
       service.shelter().free_places() < 1 + request.seeker().children())) {
    return false;
  }
  if (request.has_open_at() &&
      !OpenAt(service, absl::FromUnixSeconds(request.open_at().seconds()), default_zone)) {
    return false;
  }
  for (int feature : request.accessibility()) {
    bool somewhere = false;
    for (const v1::ProviderLocation& location : match.locations()) {
      somewhere = somewhere || std::find(location.accessibility().begin(),
                                         location.accessibility().end(),
                                         feature) != location.accessibility().end();
    }
    if (!somewhere) return false;
  }
  return true;
}

}  // namespace haven::protection
