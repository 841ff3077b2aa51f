// Record ids: random, hex, and parsed strictly with messages naming the field.
#include "storage/ids.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tests/unit/test_util.h"

namespace haven {
namespace {

using ::haven::testing::StatusIs;
using ::testing::HasSubstr;

TEST(IdsTest, NewRawIdHasSixteenBytesAndDiffersEachTime) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string id = NewRawId();
    ASSERT_EQ(id.size(), kIdBytes);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(IdsTest, NewIdIsThirtyTwoLowerCaseHexCharacters) {
  std::string id = NewId();
  ASSERT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
}

TEST(IdsTest, ToHexWritesLowerCaseDigits) {
  EXPECT_EQ(ToHex(std::string("\x00\x0f\xa5\xff", 4)), "000fa5ff");
  EXPECT_EQ(ToHex(""), "");
}

TEST(IdsTest, ParseIdRoundTripsToHex) {
  std::string raw = NewRawId();
  absl::StatusOr<std::string> parsed = ParseId(ToHex(raw), "case_id");
  HAVEN_ASSERT_OK(parsed);
  EXPECT_EQ(*parsed, raw);
}

TEST(IdsTest, ParseIdAcceptsUpperCase) {
  absl::StatusOr<std::string> upper = ParseId("00FFAB0123456789ABCDEFABCDEF0123", "case_id");
  absl::StatusOr<std::string> lower = ParseId("00ffab0123456789abcdefabcdef0123", "case_id");
  HAVEN_ASSERT_OK(upper);
  HAVEN_ASSERT_OK(lower);
  EXPECT_EQ(*upper, *lower);
  EXPECT_EQ(ToHex(*upper), "00ffab0123456789abcdefabcdef0123");
}

TEST(IdsTest, ParseIdRejectsEmptyNamingTheField) {
  EXPECT_THAT(ParseId("", "grant_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("grant_id")));
}

TEST(IdsTest, ParseIdRejectsWrongLengthNamingTheField) {
  std::string hex = NewId();
  EXPECT_THAT(ParseId(hex.substr(0, 31), "case_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("case_id")));
  EXPECT_THAT(ParseId(hex + "0", "case_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("case_id")));
  EXPECT_THAT(ParseId(hex + hex, "case_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("case_id")));
}

TEST(IdsTest, ParseIdRejectsNonHexNamingTheField) {
  for (char bad : std::string("gG z-\xc3\0", 7)) {
    for (size_t pos : {size_t{0}, size_t{17}, size_t{31}}) {
      std::string hex(32, 'a');
      hex[pos] = bad;
      EXPECT_THAT(ParseId(hex, "user_id"),
                  StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("user_id")))
          << "byte " << static_cast<int>(static_cast<unsigned char>(bad)) << " at " << pos;
    }
  }
}

}  // namespace
}  // namespace haven
