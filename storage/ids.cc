// Record ids: 128 random bits, written as 32 lower-case hex characters.
#include "storage/ids.h"

#include <sodium.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace haven {

std::string NewRawId() {
  std::string id(kIdBytes, '\0');
  randombytes_buf(id.data(), id.size());
  return id;
}

std::string NewId() { return ToHex(NewRawId()); }

std::string ToHex(absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

absl::StatusOr<std::string> FromHex(absl::string_view hex, absl::string_view what) {
  if (hex.size() % 2 != 0 || hex.size() > 512) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not one this server issued"));
  }
  std::string raw(hex.size() / 2, '\0');
  for (size_t i = 0; i < raw.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(absl::StrCat(what, " is not one this server issued"));
    }
    raw[i] = static_cast<char>((hi << 4) | lo);
  }
  return raw;
}

absl::StatusOr<std::string> ParseId(absl::string_view hex, absl::string_view what) {
  if (hex.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is required"));
  }
  if (hex.size() != kIdBytes * 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be 32 hexadecimal characters"));
  }
  std::string raw(kIdBytes, '\0');
  for (size_t i = 0; i < kIdBytes; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " must be 32 hexadecimal characters"));
    }
    raw[i] = static_cast<char>((hi << 4) | lo);
  }
  return raw;
}

}  // namespace haven
