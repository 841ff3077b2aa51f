// HSDS formats: field checks and id forms (see hsds_format.h).
#include "services/protection/hsds_format.h"

#include <sodium.h>
#include <unicode/uloc.h>

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace haven::protection::hsds {
namespace {

constexpr size_t kHavenIdLength = 32;
constexpr size_t kUuidLength = 36;

bool IsHexDigits(absl::string_view text) {
  for (char c : text) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool HasSpaceOrControl(absl::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) return true;
  }
  return false;
}

bool IsDigits(absl::string_view text) {
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return !text.empty();
}

// The number in `digits` when it is all digits and within [low, high].
bool IsNumberIn(absl::string_view digits, int low, int high) {
  int number = 0;
  return IsDigits(digits) && absl::SimpleAtoi(digits, &number) && number >= low && number <= high;
}

bool IsDomain(absl::string_view domain) {
  if (domain.empty() || domain.front() == '.' || domain.back() == '.') return false;
  return absl::StrContains(domain, '.') && !absl::StrContains(domain, "..");
}

// Every code in an ICU null-terminated list.
absl::flat_hash_set<std::string> CodeSet(const char* const* codes) {
  absl::flat_hash_set<std::string> set;
  for (; *codes != nullptr; ++codes) set.insert(*codes);
  return set;
}

// ICU's ISO 639 codes: two-letter ones, their three-letter forms, and the three-letter
// codes of languages without a two-letter one.
absl::flat_hash_set<std::string> LanguageCodes() {
  absl::flat_hash_set<std::string> codes = CodeSet(uloc_getISOLanguages());
  std::vector<std::string> three_letter;
  for (const std::string& code : codes) {
    if (code.size() == 2) three_letter.push_back(uloc_getISO3Language(code.c_str()));
  }
  for (std::string& code : three_letter) {
    if (!code.empty()) codes.insert(std::move(code));
  }
  return codes;
}

}  // namespace

bool IsUuid(absl::string_view text) {
  if (text.size() != kUuidLength) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool hyphen_place = i == 8 || i == 13 || i == 18 || i == 23;
    if (hyphen_place != (text[i] == '-')) return false;
    if (!hyphen_place && !absl::ascii_isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

bool IsEmail(absl::string_view text) {
  const size_t at = text.find('@');
  if (text.size() > 254 || HasSpaceOrControl(text) || at == absl::string_view::npos) return false;
  const absl::string_view local = text.substr(0, at);
  const absl::string_view domain = text.substr(at + 1);
  return !local.empty() && !absl::StrContains(domain, '@') && IsDomain(domain);
}

bool IsWebUrl(absl::string_view text) {
  if (text.size() > 2048 || HasSpaceOrControl(text)) return false;
  absl::string_view rest = text;
  if (!absl::ConsumePrefix(&rest, "https://") && !absl::ConsumePrefix(&rest, "http://")) {
    return false;
  }
  const absl::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  return !host.empty() && host.front() != ':' && !absl::StrContains(host, '@');
}

bool IsClockTime(absl::string_view text) {
  return text.size() == 5 && text[2] == ':' && IsNumberIn(text.substr(0, 2), 0, 23) &&
         IsNumberIn(text.substr(3, 2), 0, 59);
}

bool IsLanguageCode(absl::string_view text) {
  static const auto* const kCodes = new absl::flat_hash_set<std::string>(LanguageCodes());
  return (text.size() == 2 || text.size() == 3) && kCodes->contains(text);
}

bool IsCountryCode(absl::string_view text) {
  static const auto* const kCodes =
      new absl::flat_hash_set<std::string>(CodeSet(uloc_getISOCountries()));
  return text.size() == 2 && kCodes->contains(text);
}

bool IsTimeZoneName(absl::string_view text) {
  if (text.empty() || text.size() > 64 || text.front() == '/' || text.back() == '/') return false;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (!absl::ascii_isalnum(byte) && c != '/' && c != '_' && c != '-' && c != '+') return false;
  }
  return true;
}

std::string HavenIdToUuid(absl::string_view haven_id) {
  if (haven_id.size() != kHavenIdLength || !IsHexDigits(haven_id)) return std::string(haven_id);
  return absl::StrCat(haven_id.substr(0, 8), "-", haven_id.substr(8, 4), "-",
                      haven_id.substr(12, 4), "-", haven_id.substr(16, 4), "-",
                      haven_id.substr(20));
}

std::string UuidToHavenId(absl::string_view uuid) {
  std::string id;
  id.reserve(kHavenIdLength);
  for (char c : uuid) {
    if (c != '-') id.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  return id;
}

std::string DerivedUuid(absl::string_view parent_id, absl::string_view kind, int position) {
  static const bool kSodiumReady = sodium_init() >= 0;
  (void)kSodiumReady;  // crypto_generichash works either way; sodium_init picks the fastest code
  const std::string input = absl::StrCat("haven-hsds/", parent_id, "/", kind, "/", position);
  std::array<unsigned char, 16> digest{};
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(input.data()), input.size(), nullptr,
                     0);
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x80);  // version 8
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // RFC 9562 variant
  const std::string hex = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  return HavenIdToUuid(hex);
}

}  // namespace haven::protection::hsds
