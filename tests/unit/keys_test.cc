// Key codecs: byte order is numeric order, and decoding is exact.
#include "storage/keys.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace haven::keys {
namespace {

std::string U64(uint64_t v) {
  std::string s;
  AppendU64(&s, v);
  return s;
}

std::string U32(uint32_t v) {
  std::string s;
  AppendU32(&s, v);
  return s;
}

TEST(KeysTest, U64IsEightBytesBigEndian) {
  EXPECT_EQ(U64(0x0102030405060708ULL), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(U64(0), std::string(8, '\0'));
}

TEST(KeysTest, U32IsFourBytesBigEndian) {
  EXPECT_EQ(U32(0x0a0b0c0dU), std::string("\x0a\x0b\x0c\x0d", 4));
}

TEST(KeysTest, U64EncodingsSortInNumericOrder) {
  std::vector<uint64_t> values = {0,
                                  1,
                                  127,
                                  128,
                                  255,
                                  256,
                                  65535,
                                  65536,
                                  (1ULL << 32) - 1,
                                  1ULL << 32,
                                  (1ULL << 63) - 1,
                                  1ULL << 63,
                                  std::numeric_limits<uint64_t>::max()};
  std::mt19937_64 rng(42);
  for (int i = 0; i < 500; ++i) values.push_back(rng() >> (rng() % 64));
  for (uint64_t a : values) {
    for (uint64_t b : values) {
      ASSERT_EQ(a < b, U64(a) < U64(b)) << a << " vs " << b;
    }
  }
}

TEST(KeysTest, U32EncodingsSortInNumericOrder) {
  std::vector<uint32_t> values = {0, 1, 255, 256, 65535, 65536, 0x7fffffffU, 0x80000000U,
                                  0xffffffffU};
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) values.push_back(rng() >> (rng() % 32));
  for (uint32_t a : values) {
    for (uint32_t b : values) {
      ASSERT_EQ(a < b, U32(a) < U32(b)) << a << " vs " << b;
    }
  }
}

TEST(KeysTest, ConsumeU64RoundTripsAndAdvances) {
  std::string buf;
  AppendU64(&buf, 0xdeadbeefcafef00dULL);
  AppendU64(&buf, 3);
  buf += "rest";
  absl::string_view in = buf;
  EXPECT_EQ(ConsumeU64(&in), 0xdeadbeefcafef00dULL);
  EXPECT_EQ(ConsumeU64(&in), 3u);
  EXPECT_EQ(in, "rest");
}

TEST(KeysTest, ConsumeU64RejectsShortInputAndLeavesItAlone) {
  std::string buf = U64(99).substr(0, 7);
  absl::string_view in = buf;
  EXPECT_EQ(ConsumeU64(&in), std::nullopt);
  EXPECT_EQ(in.size(), 7u);
  absl::string_view empty;
  EXPECT_EQ(ConsumeU64(&empty), std::nullopt);
}

TEST(KeysTest, ShortStringRoundTripsIncludingEmptyAndMaximalLength) {
  const std::string longest(255, 'x');
  const std::string binary("a\0b\xff", 4);
  std::string buf;
  AppendShortString(&buf, "");
  AppendShortString(&buf, binary);
  AppendShortString(&buf, longest);
  EXPECT_EQ(buf.size(), 1u + 1u + 4u + 1u + 255u);
  absl::string_view in = buf;
  EXPECT_EQ(ConsumeShortString(&in), absl::string_view(""));
  EXPECT_EQ(ConsumeShortString(&in), absl::string_view(binary));
  EXPECT_EQ(ConsumeShortString(&in), absl::string_view(longest));
  EXPECT_TRUE(in.empty());
}

TEST(KeysTest, ConsumeShortStringRejectsShortInputAndLeavesItAlone) {
  std::string buf;
  AppendShortString(&buf, "hello");
  buf.resize(buf.size() - 1);  // one byte missing
  absl::string_view in = buf;
  EXPECT_EQ(ConsumeShortString(&in), std::nullopt);
  EXPECT_EQ(in, absl::string_view(buf));
  absl::string_view empty;
  EXPECT_EQ(ConsumeShortString(&empty), std::nullopt);
}

TEST(KeysTest, ShortStringPrefixesDoNotCollide) {
  // A principal "ab" must not share a key prefix with a principal "a".
  std::string a, ab;
  AppendShortString(&a, "a");
  AppendShortString(&ab, "ab");
  EXPECT_NE(ab.substr(0, a.size()), a);
}

TEST(KeysTest, PrefixEndIncrementsTheLastByte) {
  EXPECT_EQ(PrefixEnd("abc"), "abd");
  EXPECT_EQ(PrefixEnd(std::string("a\x00", 2)), std::string("a\x01", 2));
}

TEST(KeysTest, PrefixEndDropsTrailingFF) {
  EXPECT_EQ(PrefixEnd("ab\xff"), "ac");
  EXPECT_EQ(PrefixEnd("a\xff\xff"), "b");
}

TEST(KeysTest, PrefixEndIsEmptyWhenNoKeyIsGreater) {
  EXPECT_EQ(PrefixEnd(""), "");
  EXPECT_EQ(PrefixEnd("\xff\xff"), "");
}

TEST(KeysTest, PrefixEndBoundsEveryKeyWithThePrefix) {
  const std::string prefix = U64(0x00ff00ffffffffffULL);
  const std::string end = PrefixEnd(prefix);
  for (const std::string& suffix : {std::string(), std::string("\x00", 1),
                                    std::string(300, '\xff')}) {
    EXPECT_LT(prefix + suffix, end);
  }
  EXPECT_GE(U64(0x00ff010000000000ULL), end);
}

}  // namespace
}  // namespace haven::keys
