// Key codecs: big-endian integers and length-prefixed strings.
#include "storage/keys.h"

#include <cassert>

namespace haven::keys {

void AppendU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

void AppendU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

void AppendShortString(std::string* out, absl::string_view s) {
  assert(s.size() <= 255);
  out->push_back(static_cast<char>(s.size()));
  out->append(s.data(), s.size());
}

std::optional<uint64_t> ConsumeU64(absl::string_view* in) {
  if (in->size() < 8) return std::nullopt;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v = (v << 8) | static_cast<unsigned char>((*in)[i]);
  }
  in->remove_prefix(8);
  return v;
}

std::optional<absl::string_view> ConsumeShortString(absl::string_view* in) {
  if (in->empty()) return std::nullopt;
  size_t n = static_cast<unsigned char>((*in)[0]);
  if (in->size() < 1 + n) return std::nullopt;
  absl::string_view s = in->substr(1, n);
  in->remove_prefix(1 + n);
  return s;
}

std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix.data(), prefix.size());
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

}  // namespace haven::keys
