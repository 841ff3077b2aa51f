// Layering: code under services/ reaches storage only through the access
// layer: no store or RocksDB header, no store type, no raw transaction, and
// no audit entry written but by a door.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace haven::testing {
namespace {

// What only storage/ may name.
constexpr const char* kForbiddenTokens[] = {
    "storage::Store", "storage::Txn",     "storage::Passage", "storage::Cf",
    "Cf::",           ".transaction()", "->transaction()",  "->Audit(",
};
// What only storage/ may include.
constexpr const char* kForbiddenIncludes[] = {"storage/store.h", "rocksdb/",
                                              "storage/access/case_door_parts.h"};

// The file an #include line names, with its opening < or "; empty when the
// line is no #include.
absl::string_view IncludedFile(absl::string_view line) {
  line = absl::StripLeadingAsciiWhitespace(line);
  if (!absl::ConsumePrefix(&line, "#")) return "";
  line = absl::StripLeadingAsciiWhitespace(line);
  if (!absl::ConsumePrefix(&line, "include")) return "";
  return absl::StripLeadingAsciiWhitespace(line);
}

// The forbidden uses on one line of code.
std::vector<std::string> ForbiddenUses(absl::string_view line) {
  std::vector<std::string> uses;
  absl::string_view included = IncludedFile(line);
  if (absl::ConsumePrefix(&included, "<") || absl::ConsumePrefix(&included, "\"")) {
    for (const char* header : kForbiddenIncludes) {
      if (absl::StartsWith(included, header)) uses.push_back(absl::StrCat("#include ", header));
    }
  }
  for (const char* token : kForbiddenTokens) {
    if (absl::StrContains(line, token)) uses.push_back(token);
  }
  return uses;
}

// Fails, naming file, line and use, on every forbidden use under services/.
void ExpectNoForbiddenUseInServices() {
  const std::filesystem::path root(HAVEN_SOURCE_DIR);
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root / "services")) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  ASSERT_FALSE(files.empty()) << "nothing to read under " << HAVEN_SOURCE_DIR << "/services";
  std::sort(files.begin(), files.end());
  std::vector<std::string> violations;
  for (const std::filesystem::path& file : files) {
    const std::string relative = file.lexically_relative(root).generic_string();
    std::ifstream in(file);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      for (const std::string& use : ForbiddenUses(line)) {
        violations.push_back(absl::StrCat(relative, ":", number, ": ", use));
      }
    }
  }
  EXPECT_TRUE(violations.empty()) << "storage used beneath the access layer:\n"
                                  << absl::StrJoin(violations, "\n");
}

TEST(LayeringTest, EveryForbiddenUseIsFound) {
  EXPECT_THAT(ForbiddenUses("#include \"storage/store.h\""),
              ::testing::ElementsAre("#include storage/store.h"));
  EXPECT_THAT(ForbiddenUses("  #  include <rocksdb/db.h>"),
              ::testing::ElementsAre("#include rocksdb/"));
  EXPECT_THAT(ForbiddenUses("std::unique_ptr<storage::Txn> txn = store_->Begin();"),
              ::testing::ElementsAre("storage::Txn"));
  EXPECT_THAT(ForbiddenUses("storage::Store* s; storage::Passage p(s, nullptr);"),
              ::testing::ElementsAre("storage::Store", "storage::Passage"));
  EXPECT_THAT(ForbiddenUses("store.Scan(storage::Cf::kCases, \"\", \"\", visit);"),
              ::testing::ElementsAre("storage::Cf", "Cf::"));
  EXPECT_THAT(ForbiddenUses("Use(scope.transaction()); Use(scope->transaction());"),
              ::testing::ElementsAre(".transaction()", "->transaction()"));
  EXPECT_THAT(ForbiddenUses("txn->Audit(entry);"), ::testing::ElementsAre("->Audit("));
  EXPECT_THAT(ForbiddenUses("#include \"storage/access/case_door.h\""), ::testing::IsEmpty());
  EXPECT_THAT(ForbiddenUses("door_->WithCase(ctx, id, action, \"case.read\", work);"),
              ::testing::IsEmpty());
}

TEST(LayeringTest, ServicesReachStorageOnlyThroughTheAccessLayer) {
  ExpectNoForbiddenUseInServices();
}

}  // namespace
}  // namespace haven::testing
