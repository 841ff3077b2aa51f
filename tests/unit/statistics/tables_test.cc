// Tables: suppression below the threshold, complementary suppression that no
// combination of published totals undoes, and no differencing by slices.
#include "services/statistics/tables.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace haven::statistics {
namespace {

namespace v1 = haven::v1;
using D = Dimension;

// What an attacker holds: every row of some responses. Cells it saw
// published are known; suppressed cells and cells it was not shown are
// unknown. Equations: each cell is the sum of the cells one step finer.
class Attacker {
 public:
  explicit Attacker(size_t width) : width_(width) {}

  void See(const v1::GetCountsResponse& response) {
    for (const v1::CountRow& row : response.rows()) {
      CellKey key(row.keys().begin(), row.keys().end());
      if (!row.suppressed()) known_[key] = row.count();
      all_.insert(key);
    }
  }
  // Cells the attacker knows exist (the full table's cells) without values.
  void Exists(const CellKey& key) { all_.insert(key); }

  // Every equation "coarse = sum of finer" among the cells it knows exist.
  std::vector<std::pair<CellKey, std::vector<CellKey>>> Equations() const {
    std::map<std::pair<CellKey, size_t>, std::vector<CellKey>> sums;
    for (const CellKey& key : all_) {
      for (size_t i = 0; i < width_; ++i) {
        const std::string& k = key[i];
        if (k == "*") continue;
        CellKey coarse = key;
        coarse[i] = "*";
        // A month is summed into its year's total, a year's total into all.
        const bool month = k.size() == 7 && k[4] == '-';
        if (month) {
          CellKey year = key;
          year[i] = k.substr(0, 4) + "-*";
          if (all_.count(year) > 0) sums[{year, i + 100}].push_back(key);
        }
        if (all_.count(coarse) > 0) sums[{coarse, i}].push_back(key);
      }
    }
    std::vector<std::pair<CellKey, std::vector<CellKey>>> out;
    for (auto& [total, members] : sums) out.emplace_back(total.first, members);
    return out;
  }

  // Whether the published facts determine `target`'s value: its unit vector
  // lies in the row space of the equations over the unknowns.
  bool Determines(const CellKey& target) const {
    if (known_.count(target) > 0) return true;
    std::map<CellKey, size_t> column;
    std::vector<std::vector<double>> rows;
    for (const auto& [total, members] : Equations()) {
      std::map<CellKey, double> row;
      if (known_.count(total) == 0) row[total] += 1;
      for (const CellKey& m : members) {
        if (known_.count(m) == 0) row[m] -= 1;
      }
      if (row.empty()) continue;
      for (const auto& [cell, coefficient] : row) column.emplace(cell, column.size());
      rows.emplace_back();
      for (const auto& [cell, coefficient] : row) {
        rows.back().resize(column.size(), 0);
        rows.back()[column[cell]] = coefficient;
      }
    }
    if (column.count(target) == 0) return false;
    const size_t n = column.size();
    for (auto& r : rows) r.resize(n, 0);
    auto rank = [n](std::vector<std::vector<double>> m) {
      size_t r = 0;
      for (size_t c = 0; c < n && r < m.size(); ++c) {
        size_t best = r;
        for (size_t i = r; i < m.size(); ++i) {
          if (std::fabs(m[i][c]) > std::fabs(m[best][c])) best = i;
        }
        if (std::fabs(m[best][c]) < 1e-9) continue;
        std::swap(m[r], m[best]);
        for (size_t i = 0; i < m.size(); ++i) {
          if (i == r) continue;
          const double f = m[i][c] / m[r][c];
          for (size_t j = 0; j < n; ++j) m[i][j] -= f * m[r][j];
        }
        ++r;
      }
      return r;
    };
    std::vector<std::vector<double>> with = rows;
    with.emplace_back(n, 0);
    with.back()[column[target]] = 1;
    return rank(with) == rank(rows);
  }

  // Literally every combination of the published totals: each equation
  // taken -1, 0 or +1 times; a combination that leaves exactly one
  // unknown gives it away. For small tables only.
  std::set<CellKey> DerivedByCombinations() const {
    auto eqs = Equations();
    std::vector<std::map<CellKey, int>> unknown_parts;
    for (const auto& [total, members] : eqs) {
      std::map<CellKey, int> row;
      if (known_.count(total) == 0) row[total] += 1;
      for (const CellKey& m : members) {
        if (known_.count(m) == 0) row[m] -= 1;
      }
      if (!row.empty()) unknown_parts.push_back(row);
    }
    EXPECT_LE(unknown_parts.size(), 13u) << "too many equations to enumerate";
    std::set<CellKey> derived;
    std::vector<int> coefficient(unknown_parts.size(), -1);
    for (;;) {
      std::map<CellKey, int> sum;
      for (size_t e = 0; e < unknown_parts.size(); ++e) {
        for (const auto& [cell, c] : unknown_parts[e]) sum[cell] += coefficient[e] * c;
      }
      std::vector<CellKey> left;
      for (const auto& [cell, c] : sum) {
        if (c != 0) left.push_back(cell);
      }
      if (left.size() == 1) derived.insert(left[0]);
      size_t e = 0;
      while (e < coefficient.size() && coefficient[e] == 1) coefficient[e++] = -1;
      if (e == coefficient.size()) break;
      ++coefficient[e];
    }
    return derived;
  }

 private:
  size_t width_;
  std::map<CellKey, int64_t> known_;
  std::set<CellKey> all_;
};

std::vector<CellKey> Primary(const v1::GetCountsResponse& response) {
  std::vector<CellKey> out;
  for (const v1::CountRow& row : response.rows()) {
    if (row.reason() == v1::SUPPRESSION_REASON_BELOW_THRESHOLD) {
      out.emplace_back(row.keys().begin(), row.keys().end());
    }
  }
  return out;
}

const v1::CountRow* Row(const v1::GetCountsResponse& response, const CellKey& key) {
  for (const v1::CountRow& row : response.rows()) {
    if (CellKey(row.keys().begin(), row.keys().end()) == key) return &row;
  }
  return nullptr;
}

Interior SexByForm() {
  return {
      {{"female", "sexual"}, 40}, {{"female", "labour"}, 25}, {{"female", "domestic"}, 3},
      {{"male", "sexual"}, 12},   {{"male", "labour"}, 50},   {{"male", "domestic"}, 15},
  };
}

TEST(TablesTest, ACellOfThreeIsSuppressedWithComplementsInItsRowAndColumn) {
  const std::vector<Dimension> dims = {D::kSex, D::kForm};
  v1::GetCountsResponse r = ToResponse(Protect(dims, SexByForm(), 10), 10, {});
  const v1::CountRow* three = Row(r, {"female", "domestic"});
  ASSERT_NE(three, nullptr);
  EXPECT_TRUE(three->suppressed());
  EXPECT_EQ(three->reason(), v1::SUPPRESSION_REASON_BELOW_THRESHOLD);
  EXPECT_EQ(three->count(), 0) << "a suppressed count is never sent";
  int in_row = 0, in_column = 0;
  for (const v1::CountRow& row : r.rows()) {
    if (row.reason() != v1::SUPPRESSION_REASON_COMPLEMENTARY) continue;
    if (row.keys(0) == "female" && row.keys(1) != "*") ++in_row;
    if (row.keys(1) == "domestic" && row.keys(0) != "*") ++in_column;
  }
  EXPECT_GE(in_row, 1);
  EXPECT_GE(in_column, 1);
  // Margins: 3 rows x 4 columns in all (two sexes and the total; three forms and the total).
  EXPECT_EQ(r.rows_size(), 12);
  EXPECT_EQ(Row(r, {"*", "*"})->count(), 145);
  EXPECT_FALSE(Row(r, {"female", "*"})->suppressed());
  EXPECT_EQ(r.threshold(), 10);
  EXPECT_EQ(r.suppressed_cells(), 4);
}

TEST(TablesTest, NoCombinationOfPublishedTotalsGivesASuppressedCellAway) {
  const std::vector<Dimension> dims = {D::kSex, D::kForm};
  v1::GetCountsResponse r = ToResponse(Protect(dims, SexByForm(), 10), 10, {});
  Attacker attacker(2);
  attacker.See(r);
  EXPECT_THAT(attacker.DerivedByCombinations(), ::testing::IsEmpty());
  for (const CellKey& cell : Primary(r)) EXPECT_FALSE(attacker.Determines(cell));
  // Without complementary suppression the row total gives the 3 away.
  Attacker naive(2);
  v1::GetCountsResponse only_primary = r;
  for (v1::CountRow& row : *only_primary.mutable_rows()) {
    if (row.reason() == v1::SUPPRESSION_REASON_COMPLEMENTARY) row.set_suppressed(false);
  }
  naive.See(only_primary);
  EXPECT_TRUE(naive.Determines({"female", "domestic"})) << "the checker must be able to see it";
}

// Random three-dimension tables with many small cells: nothing primary is
// ever determined by the published cells and margins.
TEST(TablesTest, RandomThreeDimensionTablesNeverGiveAPrimaryCellAway) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 30; ++trial) {
    Interior interior;
    const int a = 2 + trial % 3, b = 2 + (trial / 3) % 3, c = 2 + trial % 2;
    std::uniform_int_distribution<int> small(0, 4), large(8, 60);
    std::bernoulli_distribution rare(0.2);
    for (int i = 0; i < a; ++i) {
      for (int j = 0; j < b; ++j) {
        for (int k = 0; k < c; ++k) {
          int v = rare(rng) ? small(rng) : large(rng);
          if (v > 0) {
            interior[{"a" + std::to_string(i), "b" + std::to_string(j), "c" + std::to_string(k)}] = v;
          }
        }
      }
    }
    const std::vector<Dimension> dims = {D::kSex, D::kForm, D::kRegion};
    v1::GetCountsResponse r = ToResponse(Protect(dims, interior, 10), 10, {});
    Attacker attacker(3);
    attacker.See(r);
    for (const CellKey& cell : Primary(r)) {
      EXPECT_FALSE(attacker.Determines(cell)) << "trial " << trial << ": " << cell[0] << ","
                                              << cell[1] << "," << cell[2];
    }
  }
}

TEST(TablesTest, MonthsAreProtectedAgainstTheirYearsTotals) {
  Interior interior = {
      {{"2024-01", "female"}, 30}, {{"2024-02", "female"}, 2},  {{"2024-03", "female"}, 25},
      {{"2024-01", "male"}, 20},   {{"2024-02", "male"}, 18},   {{"2024-03", "male"}, 22},
      {{"2025-01", "female"}, 40}, {{"2025-01", "male"}, 35},
  };
  const std::vector<Dimension> dims = {D::kMonth, D::kSex};
  v1::GetCountsResponse r = ToResponse(Protect(dims, interior, 10), 10, {});
  const v1::CountRow* year = Row(r, {"2024-*", "female"});
  ASSERT_NE(year, nullptr);
  EXPECT_TRUE(year->margin());
  Attacker attacker(2);
  attacker.See(r);
  // The year's table, published by another query, is known too.
  v1::GetCountsResponse years = ToResponse(Protect({D::kYear, D::kSex},
                                                  {{{"2024", "female"}, 57},
                                                   {{"2024", "male"}, 60},
                                                   {{"2025", "female"}, 40},
                                                   {{"2025", "male"}, 35}},
                                                  10),
                                          10, {});
  for (v1::CountRow& row : *years.mutable_rows()) {
    if (row.keys(0) != "*") row.set_keys(0, row.keys(0) + "-*");  // the same cells
  }
  attacker.See(years);
  EXPECT_FALSE(attacker.Determines({"2024-02", "female"}));
  for (const CellKey& cell : Primary(r)) EXPECT_FALSE(attacker.Determines(cell));
}

// Two queries that differ by one small group: the whole population by sex,
// and by sex and region without the small region. The second's table is
// protected over every region before the slice, so subtracting gives
// nothing away.
TEST(TablesTest, QueriesDifferingByASmallGroupRevealNothing) {
  Interior by_region = {
      {{"female", "NL-NH"}, 40}, {{"male", "NL-NH"}, 33}, {{"female", "NL-ZH"}, 28},
      {{"male", "NL-ZH"}, 41},   {{"female", "NL-GR"}, 2}, {{"male", "NL-GR"}, 1},
      {{"female", "NL-UT"}, 19}, {{"male", "NL-UT"}, 12},
  };
  Interior by_sex = {{{"female"}, 89}, {{"male"}, 87}};
  v1::GetCountsResponse whole = ToResponse(Protect({D::kSex}, by_sex, 10), 10, {});
  v1::GetCountsResponse without_small = ToResponse(
      Protect({D::kSex, D::kRegion}, by_region, 10), 10, {{1, {"NL-NH", "NL-ZH", "NL-UT"}}});
  for (const v1::CountRow& row : without_small.rows()) EXPECT_NE(row.keys(1), "NL-GR");
  Attacker attacker(2);
  for (const v1::CountRow& row : whole.rows()) {
    v1::GetCountsResponse widened;
    v1::CountRow* r = widened.add_rows();
    *r = row;
    r->add_keys("*");
    attacker.See(widened);
  }
  attacker.See(without_small);
  for (const auto& [key, count] : by_region) attacker.Exists(key);
  for (const char* sex : {"female", "male"}) {
    EXPECT_FALSE(attacker.Determines({std::string(sex), "NL-GR"})) << sex;
  }
  // The margins of the sliced query are the whole population's.
  EXPECT_EQ(Row(without_small, {"female", "*"})->count(), 89);
}

TEST(TablesTest, AMarginBelowTheThresholdIsSuppressedToo) {
  Interior interior = {{{"female", "begging"}, 4}, {{"male", "begging"}, 3},
                       {{"female", "labour"}, 30}, {{"male", "labour"}, 40}};
  v1::GetCountsResponse r = ToResponse(Protect({D::kSex, D::kForm}, interior, 10), 10, {});
  const v1::CountRow* begging = Row(r, {"*", "begging"});
  ASSERT_NE(begging, nullptr);
  EXPECT_TRUE(begging->suppressed());
  Attacker attacker(2);
  attacker.See(r);
  for (const CellKey& cell : Primary(r)) EXPECT_FALSE(attacker.Determines(cell));
}

TEST(TablesTest, CountersMergeAcrossThreads) {
  Counter a({D::kSex}), b({D::kSex});
  v1::CaseStatistics female, male;
  female.set_sex(v1::SEX_FEMALE);
  male.set_sex(v1::SEX_MALE);
  a.Add(female);
  b.Add(male);
  b.Add(female);
  a.Merge(b);
  Interior cells = a.Cells();
  EXPECT_EQ(cells[CellKey{"female"}], 2);
  EXPECT_EQ(cells[CellKey{"male"}], 1);
  EXPECT_EQ(a.records(), 3);
}

TEST(TablesTest, CountriesOfRecruitmentAreCountedByTheirInternedCodes) {
  Counter a({D::kRecruitmentCountry, D::kExploitationCountry}), b({D::kRecruitmentCountry, D::kExploitationCountry});
  v1::CaseStatistics ro, both, none;
  ro.add_countries_of_recruitment("RO");
  ro.add_countries_of_exploitation("NL");
  both.add_countries_of_recruitment("BG");
  both.add_countries_of_recruitment("RO");
  both.add_countries_of_exploitation("NL");
  a.Add(ro);
  a.Add(both);
  b.Add(none);
  b.Add(ro);
  a.Merge(b);
  Interior cells = a.Cells();
  EXPECT_EQ((cells[CellKey{"RO", "NL"}]), 2);
  EXPECT_EQ((cells[CellKey{"multiple", "NL"}]), 1);
  EXPECT_EQ((cells[CellKey{"none", "none"}]), 1);
}

TEST(TablesTest, CategoriesCountEachCaseOnce) {
  v1::CaseStatistics s;
  s.add_forms_suspected(v1::EXPLOITATION_FORM_FORCED_LABOUR);
  EXPECT_EQ(Category(D::kForm, s), "forced_labour");
  s.add_forms_suspected(v1::EXPLOITATION_FORM_SEXUAL_EXPLOITATION);
  EXPECT_EQ(Category(D::kForm, s), "multiple");
  EXPECT_EQ(Category(D::kMeans, s), "none");
  s.set_age_band_ctdc(21);
  EXPECT_EQ(Category(D::kAge, s), "21--23");
  EXPECT_EQ(Category(D::kMajority, s), "adult");
  s.set_opened_year(2024);
  s.set_opened_month(3);
  EXPECT_EQ(Category(D::kMonth, s), "2024-03");
  EXPECT_EQ(Category(D::kRecruitmentCountry, s), "none");
  s.add_countries_of_recruitment("RO");
  s.add_countries_of_recruitment("RO");
  EXPECT_EQ(Category(D::kRecruitmentCountry, s), "RO");
  s.add_countries_of_recruitment("BG");
  EXPECT_EQ(Category(D::kRecruitmentCountry, s), "multiple");
  EXPECT_EQ(ParseDimension("recruitment_country"), D::kRecruitmentCountry);
  EXPECT_EQ(CtdcAgeBand(17), 9);
  EXPECT_EQ(CtdcAgeBand(48), 48);
  EXPECT_EQ(CtdcAgeBand(8), 0);
}

}  // namespace
}  // namespace haven::statistics

namespace haven::statistics {
namespace {

// The worst case for protection: a wide table where most cells are small.
// It must still finish promptly (the desk refuses tables over 20,000 cells).
TEST(TablesTest, ASparseTableOfThousandsOfCellsIsProtectedPromptly) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> small(0, 6);
  Interior interior;
  for (int c = 0; c < 60; ++c) {
    for (int r = 0; r < 12; ++r) {
      for (const char* sex : {"female", "male", "other"}) {
        const int v = small(rng);
        if (v > 0) interior[{"C" + std::to_string(c), "R" + std::to_string(r), sex}] = v;
      }
    }
  }
  const std::vector<Dimension> dims = {D::kCitizenship, D::kRegion, D::kSex};
  EXPECT_EQ(PublishedCells(dims, interior), 61 * 13 * 4);
  const auto begin = std::chrono::steady_clock::now();
  ProtectedTable table = Protect(dims, interior, 10);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  std::cout << "protected " << table.cells.size() << " cells, " << table.suppressed
            << " suppressed, in " << seconds << " s\n";
  EXPECT_LT(seconds, 30);
  // Spot check with the attacker on a slice of the rows it sees: no single
  // sum has one suppressed term left.
  v1::GetCountsResponse r = ToResponse(table, 10, {});
  std::map<CellKey, bool> suppressed;
  for (const v1::CountRow& row : r.rows()) {
    suppressed[CellKey(row.keys().begin(), row.keys().end())] = row.suppressed();
  }
  for (const auto& [key, s] : suppressed) {
    for (size_t i = 0; i < 3 && s; ++i) {
      if (key[i] == "*") continue;
      CellKey total = key;
      total[i] = "*";
      int unknown = suppressed[total] ? 1 : 0;
      for (const auto& [other, os] : suppressed) {
        bool same_line = true;
        for (size_t j = 0; j < 3; ++j) {
          if (j != i && other[j] != key[j]) same_line = false;
        }
        if (same_line && other[i] != "*" && os) ++unknown;
      }
      EXPECT_GE(unknown, 2);
    }
  }
}

}  // namespace
}  // namespace haven::statistics
