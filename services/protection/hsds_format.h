// HSDS formats: the checks an imported field passes (UUID, e-mail, URL, clock time, ISO codes)
// and the ids Haven writes (its own ids as UUIDs, derived ids for records it does not keep).
#ifndef HAVEN_SERVICES_PROTECTION_HSDS_FORMAT_H_
#define HAVEN_SERVICES_PROTECTION_HSDS_FORMAT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace haven::protection::hsds {

// 8-4-4-4-12 hexadecimal digits, either case (any version and variant).
bool IsUuid(absl::string_view text);
// A local part, one "@" and a dotted domain; no spaces or control characters.
bool IsEmail(absl::string_view text);
// An absolute http or https URL with a host; no spaces or control characters.
bool IsWebUrl(absl::string_view text);
// "HH:MM", 24-hour, 00:00 to 23:59.
bool IsClockTime(absl::string_view text);
// A lower-case ISO 639-1 code, or an ISO 639-2/3 code, as ICU knows them.
bool IsLanguageCode(absl::string_view text);
// An upper-case ISO 3166-1 alpha-2 code, as ICU knows them.
bool IsCountryCode(absl::string_view text);
// An IANA time zone name's shape ("Europe/Vienna", "UTC").
bool IsTimeZoneName(absl::string_view text);

// A Haven id (32 lower-case hex) as a UUID; anything else is written as it is.
std::string HavenIdToUuid(absl::string_view haven_id);
// A UUID (checked by IsUuid) as a Haven id: lower case, no hyphens.
std::string UuidToHavenId(absl::string_view uuid);

// The id of the `position`th record of `kind` under the record `parent_id`: BLAKE2b
// (libsodium's crypto_generichash) of the three, as an RFC 9562 version 8 UUID. The same
// inputs always give the same id.
std::string DerivedUuid(absl::string_view parent_id, absl::string_view kind, int position);

}  // namespace haven::protection::hsds

#endif  // HAVEN_SERVICES_PROTECTION_HSDS_FORMAT_H_
