// Codes: checks for the standard codes Haven stores (ISO 3166 country codes,
// BCP 47 language tags, SHA-256 fingerprints).
#ifndef HAVEN_STORAGE_CODES_H_
#define HAVEN_STORAGE_CODES_H_

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace haven {

// A SHA-256 fingerprint as configured and stored: 64 lower-case hex digits.
inline bool IsSha256Hex(absl::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// An ISO 3166-1 alpha-2 code, upper case: "NG".
inline bool IsCountryCode(absl::string_view s) {
  return s.size() == 2 && absl::ascii_isupper(s[0]) && absl::ascii_isupper(s[1]);
}

// The shape of a BCP 47 language tag: "ro", "pt-BR".
inline bool IsLanguageTag(absl::string_view s) {
  return s.size() >= 2 && s.size() <= 35 && absl::ascii_isalpha(s[0]) &&
         std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isalnum(c) || c == '-'; });
}

}  // namespace haven

#endif  // HAVEN_STORAGE_CODES_H_
