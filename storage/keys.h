// Key codecs: big-endian integers and length-prefixed strings, so that byte
// order is the order Haven scans in. DO NOT CHANGE these layouts: they are on
// disk.
#ifndef HAVEN_STORAGE_KEYS_H_
#define HAVEN_STORAGE_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

namespace haven::keys {

void AppendU64(std::string* out, uint64_t v);
void AppendU32(std::string* out, uint32_t v);
// One byte of length (strings are at most 255 bytes), then the bytes.
void AppendShortString(std::string* out, absl::string_view s);

// Reads from the front of *in and advances it; nullopt when too short.
std::optional<uint64_t> ConsumeU64(absl::string_view* in);
std::optional<absl::string_view> ConsumeShortString(absl::string_view* in);

// The smallest key greater than every key starting with `prefix`, or empty
// when there is none (prefix of all 0xff).
std::string PrefixEnd(absl::string_view prefix);

}  // namespace haven::keys

#endif  // HAVEN_STORAGE_KEYS_H_
