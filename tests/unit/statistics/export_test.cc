// Exports: the CTDC dataset of a generated population is k-anonymous, says
// what it generalised, and holds the CTDC columns.
#include "services/statistics/export.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"

namespace haven::statistics {
namespace {

namespace v1 = haven::v1;

// A population with common and rare attribute values.
std::vector<v1::CaseStatistics> Generate(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::discrete_distribution<int> country({50, 20, 10, 5, 2, 1, 1, 1});
  const char* countries[] = {"NG", "RO", "VN", "UA", "ER", "BO", "KH", "LA"};
  std::uniform_int_distribution<int> age(3, 70), year(2019, 2024), means(1, 16), labour(1, 12);
  std::bernoulli_distribution female(0.6), sexual(0.5), profiled(0.7);
  std::vector<v1::CaseStatistics> out;
  for (int i = 0; i < n; ++i) {
    v1::CaseStatistics s;
    s.set_sex(female(rng) ? v1::SEX_FEMALE : v1::SEX_MALE);
    const int a = age(rng);
    int band = -1;
    for (int b : {48, 39, 30, 27, 24, 21, 18, 9, 0}) {
      if (a >= b) {
        band = b;
        break;
      }
    }
    s.set_age_band_ctdc(band);
    s.set_child(a < 18);
    s.add_citizenships(countries[country(rng)]);
    s.set_opened_year(year(rng));
    if (profiled(rng)) {
      s.add_forms_suspected(sexual(rng) ? v1::EXPLOITATION_FORM_SEXUAL_EXPLOITATION
                                        : v1::EXPLOITATION_FORM_FORCED_LABOUR);
      s.add_means_of_control(static_cast<v1::MeansOfControl>(means(rng)));
      s.add_labour_types(static_cast<v1::LabourType>(labour(rng)));
      s.add_countries_of_exploitation(countries[country(rng)]);
    }
    out.push_back(s);
  }
  return out;
}

// The test's own k-anonymity check: every distinct row of the CSV occurs
// at least k times.
void ExpectKAnonymous(const std::string& csv, int k, int64_t rows) {
  std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_FALSE(lines.empty());
  std::map<std::string, int> groups;
  for (size_t i = 1; i < lines.size(); ++i) ++groups[lines[i]];
  EXPECT_EQ(static_cast<int64_t>(lines.size() - 1), rows);
  for (const auto& [row, n] : groups) EXPECT_GE(n, k) << row;
}

TEST(ExportTest, TheCtdcExportOfAGeneratedPopulationIsKAnonymous) {
  const std::vector<v1::CaseStatistics> records = Generate(3000, 11);
  absl::StatusOr<Dataset> dataset = BuildDataset("ctdc", records);
  ASSERT_TRUE(dataset.ok());
  EXPECT_THAT(dataset->columns,
              ::testing::IsSupersetOf({"yearOfRegistration", "Datasource", "gender", "ageBroad",
                                       "majorityStatus", "citizenship",
                                       "meansOfControlDebtBondage", "isForcedLabour",
                                       "isSexualExploit", "typeOfLabourAgriculture",
                                       "typeOfSexProstitution", "RecruiterRelationFriend",
                                       "CountryOfExploitation"}));
  for (int k : {5, 10}) {
    v1::ExportDatasetResponse out = Anonymise("ctdc", *dataset, k);
    EXPECT_EQ(out.k(), k);
    EXPECT_EQ(out.rows() + out.rows_suppressed(), 3000);
    EXPECT_LE(out.rows_suppressed(), 150) << "at most 5% of the rows are left out";
    EXPECT_FALSE(out.generalisations().empty()) << "it says what it generalised";
    ExpectKAnonymous(out.csv(), k, out.rows());
    EXPECT_NE(out.csv().find("yearOfRegistration,Datasource,gender,ageBroad"), std::string::npos);
  }
}

TEST(ExportTest, RareCountriesAreGeneralisedFirst) {
  const char* rare[] = {"BO", "KH", "LA", "ER", "AF", "SY", "PK", "BR", "GH", "MD"};
  std::vector<v1::CaseStatistics> records;
  for (int i = 0; i < 50; ++i) {
    v1::CaseStatistics s;
    s.set_sex(v1::SEX_FEMALE);
    s.set_age_band_ctdc(21);
    s.set_opened_year(2024);
    s.add_citizenships(i < 10 ? rare[i] : "NG");
    records.push_back(s);
  }
  v1::ExportDatasetResponse out = Anonymise("ctdc", *BuildDataset("ctdc", records), 10);
  ASSERT_EQ(out.generalisations_size(), 1);
  EXPECT_THAT(out.generalisations(0), ::testing::HasSubstr("ZZ"));
  for (const char* code : rare) EXPECT_EQ(out.csv().find(code), std::string::npos) << code;
  EXPECT_EQ(out.rows(), 50) << "ten rare countries together make a group of ten";
  EXPECT_EQ(out.rows_suppressed(), 0);
  ExpectKAnonymous(out.csv(), 10, out.rows());
}

TEST(ExportTest, TheHtcdsExportIsKAnonymousToo) {
  absl::StatusOr<Dataset> dataset = BuildDataset("htcds", Generate(2000, 5));
  ASSERT_TRUE(dataset.ok());
  v1::ExportDatasetResponse out = Anonymise("htcds", *dataset, 10);
  ExpectKAnonymous(out.csv(), 10, out.rows());
  EXPECT_FALSE(BuildDataset("other", {}).ok());
}

}  // namespace
}  // namespace haven::statistics
