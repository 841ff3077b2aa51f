// Tables: counting, margins, primary and complementary suppression.
#include "services/statistics/tables.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"

namespace haven::statistics {
namespace {

namespace v1 = haven::v1;

constexpr int kBits = 21;  // per position in a packed interior key

// What a table does with each dimension of the query: keeps it, sums
// months into years, or sums it out. Ordered from finest to coarsest.
enum State : uint8_t { kKept = 0, kYears = 1, kDropped = 2 };
using Shape = std::vector<uint8_t>;

struct Equation {
  int total;                 // the cell of the coarser table
  std::vector<int> members;  // the cells of the finer table that sum to it
  int parent_table;          // the finer table
};

class Protector {
 public:
  Protector(const std::vector<Dimension>& dims, const Interior& interior, int64_t threshold)
      : dims_(dims), threshold_(threshold) {
    const size_t k = dims.size();
    categories_.resize(k);
    years_.resize(k);
    for (const auto& [key, count] : interior) {
      for (size_t i = 0; i < k; ++i) {
        categories_[i].insert(key[i]);
        if (dims[i] == Dimension::kMonth) years_[i].insert(YearKey(key[i]));
      }
    }
    EnumerateShapes(Shape(), 0);
    // Coarsest first: a table is protected after every table below it.
    std::stable_sort(shapes_.begin(), shapes_.end(), [](const Shape& a, const Shape& b) {
      return std::accumulate(a.begin(), a.end(), 0) > std::accumulate(b.begin(), b.end(), 0);
    });
    for (size_t t = 0; t < shapes_.size(); ++t) shape_index_[shapes_[t]] = static_cast<int>(t);
    table_cells_.resize(shapes_.size());
    for (size_t t = 0; t < shapes_.size(); ++t) MakeCells(static_cast<int>(t));
    for (const auto& [key, count] : interior) {
      for (size_t t = 0; t < shapes_.size(); ++t) {
        cells_[cell_index_[t].at(KeyIn(shapes_[t], key))].count += count;
      }
    }
    MakeEquations();
  }

  ProtectedTable Run() {
    for (size_t t = 0; t < shapes_.size(); ++t) ProtectTable(static_cast<int>(t));
    ProtectedTable out;
    out.dims = dims_;
    for (const PublishedCell& c : cells_) {
      out.cells.push_back(c);
      if (c.suppressed) ++out.suppressed;
    }
    std::sort(out.cells.begin(), out.cells.end(),
              [](const PublishedCell& a, const PublishedCell& b) { return a.keys < b.keys; });
    return out;
  }

 private:
  static std::string YearKey(const std::string& month) {
    return absl::StrCat(YearOfMonth(month), "-", kAll);
  }

  void EnumerateShapes(Shape shape, size_t i) {
    if (i == dims_.size()) {
      shapes_.push_back(shape);
      return;
    }
    for (uint8_t s : {kKept, kYears, kDropped}) {
      if (s == kYears && dims_[i] != Dimension::kMonth) continue;
      shape.push_back(s);
      EnumerateShapes(shape, i + 1);
      shape.pop_back();
    }
  }

  CellKey KeyIn(const Shape& shape, const CellKey& key) const {
    CellKey out(key.size());
    for (size_t i = 0; i < key.size(); ++i) {
      out[i] = shape[i] == kKept ? key[i] : shape[i] == kYears ? YearKey(key[i]) : kAll;
    }
    return out;
  }

  void MakeCells(int t) {
    const Shape& shape = shapes_[t];
    std::vector<std::vector<std::string>> axes(dims_.size());
    for (size_t i = 0; i < dims_.size(); ++i) {
      if (shape[i] == kKept) axes[i].assign(categories_[i].begin(), categories_[i].end());
      if (shape[i] == kYears) axes[i].assign(years_[i].begin(), years_[i].end());
      if (shape[i] == kDropped) axes[i] = {kAll};
    }
    cell_index_.emplace_back();
    CellKey key(dims_.size());
    std::function<void(size_t)> product = [&](size_t i) {
      if (i == dims_.size()) {
        PublishedCell cell;
        cell.keys = key;
        cell.margin = std::any_of(shape.begin(), shape.end(), [](uint8_t s) { return s != kKept; });
        cell_index_[t][key] = static_cast<int>(cells_.size());
        table_cells_[t].push_back(static_cast<int>(cells_.size()));
        cells_.push_back(std::move(cell));
        table_of_.push_back(t);
        return;
      }
      for (const std::string& v : axes[i]) {
        key[i] = v;
        product(i + 1);
      }
    };
    product(0);
  }

  // Each table's cells sum, along each dimension it keeps (or months it
  // keeps), into the cells of the table one step coarser.
  void MakeEquations() {
    for (size_t t = 0; t < shapes_.size(); ++t) {
      for (size_t i = 0; i < dims_.size(); ++i) {
        std::vector<uint8_t> coarser;
        if (shapes_[t][i] == kKept) {
          coarser.push_back(kDropped);
          if (dims_[i] == Dimension::kMonth) coarser.push_back(kYears);
        } else if (shapes_[t][i] == kYears) {
          coarser.push_back(kDropped);
        }
        for (uint8_t to : coarser) {
          Shape child = shapes_[t];
          child[i] = to;
          const int c = shape_index_.at(child);
          std::map<int, std::vector<int>> sums;
          for (int cell : table_cells_[t]) {
            const CellKey& key = cells_[cell].keys;
            CellKey coarse = key;
            coarse[i] = to == kDropped ? std::string(kAll) : YearKey(key[i]);
            sums[cell_index_[c].at(coarse)].push_back(cell);
          }
          for (auto& [total, members] : sums) {
            equations_.push_back(Equation{total, std::move(members), static_cast<int>(t)});
          }
        }
      }
    }
  }

  // Whether table `a` is `b` or coarser than it (in b's sub-lattice).
  bool Within(int a, int b) const {
    for (size_t i = 0; i < dims_.size(); ++i) {
      if (shapes_[a][i] < shapes_[b][i]) return false;
    }
    return true;
  }

  void Suppress(int cell, v1::SuppressionReason reason) {
    cells_[cell].suppressed = true;
    cells_[cell].reason = reason;
  }

  int Unknowns(const Equation& eq) const {
    int unknown = cells_[eq.total].suppressed ? 1 : 0;
    for (int m : eq.members) unknown += cells_[m].suppressed ? 1 : 0;
    return unknown;
  }

  // The member of `eq` to withhold beside what is already withheld: the one
  // that leaves the fewest other sums with a single withheld term (a cell
  // that also protects another sum first), then the smallest count that is
  // not zero; never one that its own sum alone would give away.
  int Complement(const Equation& eq) const {
    int best = -1;
    std::tuple<int, int64_t, CellKey> best_rank;
    for (int m : eq.members) {
      if (cells_[m].suppressed || pinned_.count(m) > 0) continue;
      int exposes = 0;
      auto it = own_of_.find(m);
      if (it != own_of_.end()) {
        for (const Equation* other : it->second) {
          if (other == &eq) continue;
          const int u = Unknowns(*other);
          if (u == 0) ++exposes;
          if (u == 1) --exposes;
        }
      }
      const int64_t v = cells_[m].count;
      auto rank = std::make_tuple(exposes, v == 0 ? std::numeric_limits<int64_t>::max() : v,
                                  cells_[m].keys);
      if (best < 0 || rank < best_rank) {
        best = m;
        best_rank = rank;
      }
    }
    return best;
  }

  void ProtectTable(int t) {
    for (int cell : table_cells_[t]) {
      const int64_t v = cells_[cell].count;
      if (v > 0 && v < threshold_) Suppress(cell, v1::SUPPRESSION_REASON_BELOW_THRESHOLD);
    }
    std::vector<const Equation*> own;
    std::vector<const Equation*> below;
    for (const Equation& eq : equations_) {
      if (eq.parent_table == t) own.push_back(&eq);
      if (Within(eq.parent_table, t)) below.push_back(&eq);
    }
    pinned_.clear();
    own_of_.clear();
    for (const Equation* eq : own) {
      for (int m : eq->members) own_of_[m].push_back(eq);
    }
    for (const Equation* eq : own) {
      if (eq->members.size() == 1 && !cells_[eq->total].suppressed) pinned_.insert(eq->members[0]);
    }
    for (;;) {
      bool changed = false;
      // A sum with one withheld term gives it away: withhold another.
      for (const Equation* eq : own) {
        if (Unknowns(*eq) != 1) continue;
        const int c = Complement(*eq);
        if (c < 0) continue;
        Suppress(c, v1::SUPPRESSION_REASON_COMPLEMENTARY);
        changed = true;
      }
      if (changed) continue;
      // Sums of several equations can still give one away.
      std::vector<int> derivable;
      for (int d : Determined(below)) {
        if (cells_[d].reason == v1::SUPPRESSION_REASON_BELOW_THRESHOLD) derivable.push_back(d);
      }
      if (derivable.empty()) return;
      for (int d : derivable) {
        int c = -1;
        for (const Equation* eq : own) {
          const bool touches = eq->total == d || std::find(eq->members.begin(), eq->members.end(),
                                                           d) != eq->members.end();
          if (touches && (c = Complement(*eq)) >= 0) break;
        }
        if (c < 0) {
          for (const Equation* eq : own) {
            if ((c = Complement(*eq)) >= 0) break;
          }
        }
        if (c >= 0) {
          Suppress(c, v1::SUPPRESSION_REASON_COMPLEMENTARY);
          changed = true;
        }
      }
      if (!changed) return;  // everything that could be withheld is
    }
  }

  // The withheld cells that the published ones determine through `eqs`:
  // per connected group of withheld cells, a withheld cell is determined
  // when its unit vector lies in the row space of the equations' withheld
  // parts (reduced row echelon form).
  std::vector<int> Determined(const std::vector<const Equation*>& eqs) const {
    std::map<int, int> parent;
    std::function<int(int)> find = [&](int x) {
      auto it = parent.find(x);
      if (it == parent.end()) return parent[x] = x;
      if (it->second == x) return x;
      return it->second = find(it->second);
    };
    std::vector<std::pair<const Equation*, std::vector<int>>> rows;
    for (const Equation* eq : eqs) {
      std::vector<int> unknowns;
      if (cells_[eq->total].suppressed) unknowns.push_back(eq->total);
      for (int m : eq->members) {
        if (cells_[m].suppressed) unknowns.push_back(m);
      }
      if (unknowns.empty()) continue;
      for (int u : unknowns) parent[find(u)] = find(unknowns[0]);
      rows.emplace_back(eq, std::move(unknowns));
    }
    std::map<int, std::vector<size_t>> groups;
    for (size_t r = 0; r < rows.size(); ++r) groups[find(rows[r].second[0])].push_back(r);
    std::vector<int> determined;
    for (const auto& [root, members] : groups) {
      std::map<int, size_t> column;
      for (size_t r : members) {
        for (int u : rows[r].second) column.emplace(u, column.size());
      }
      std::vector<int> cell_of(column.size());
      for (const auto& [cell, col] : column) cell_of[col] = cell;
      std::vector<std::vector<double>> m(members.size(), std::vector<double>(column.size(), 0));
      for (size_t i = 0; i < members.size(); ++i) {
        const Equation* eq = rows[members[i]].first;
        for (int u : rows[members[i]].second) {
          m[i][column.at(u)] += (u == eq->total) ? 1.0 : -1.0;
        }
      }
      for (size_t col : Rref(&m)) determined.push_back(cell_of[col]);
    }
    return determined;
  }

  // Reduces `m` to reduced row echelon form; returns the columns whose
  // pivot row has no other entry (the determined unknowns).
  static std::vector<size_t> Rref(std::vector<std::vector<double>>* rows) {
    auto& m = *rows;
    const size_t n = m.empty() ? 0 : m[0].size();
    size_t r = 0;
    std::vector<std::pair<size_t, size_t>> pivots;
    for (size_t c = 0; c < n && r < m.size(); ++c) {
      size_t best = r;
      for (size_t i = r; i < m.size(); ++i) {
        if (std::fabs(m[i][c]) > std::fabs(m[best][c])) best = i;
      }
      if (std::fabs(m[best][c]) < 1e-9) continue;
      std::swap(m[r], m[best]);
      const double p = m[r][c];
      for (double& x : m[r]) x /= p;
      for (size_t i = 0; i < m.size(); ++i) {
        if (i == r || std::fabs(m[i][c]) < 1e-12) continue;
        const double f = m[i][c];
        for (size_t j = 0; j < n; ++j) m[i][j] -= f * m[r][j];
      }
      pivots.emplace_back(r, c);
      ++r;
    }
    std::vector<size_t> out;
    for (const auto& [row, col] : pivots) {
      bool alone = true;
      for (size_t j = 0; j < n && alone; ++j) {
        if (j != col && std::fabs(m[row][j]) > 1e-9) alone = false;
      }
      if (alone) out.push_back(col);
    }
    return out;
  }

  std::vector<Dimension> dims_;
  int64_t threshold_;
  std::vector<std::set<std::string>> categories_;
  std::vector<std::set<std::string>> years_;
  std::vector<Shape> shapes_;
  std::map<Shape, int> shape_index_;
  std::vector<std::map<CellKey, int>> cell_index_;
  std::vector<std::vector<int>> table_cells_;
  std::vector<PublishedCell> cells_;
  std::vector<int> table_of_;
  std::vector<Equation> equations_;
  std::set<int> pinned_;
  std::map<int, std::vector<const Equation*>> own_of_;  // a cell's sums in the table protected
};

}  // namespace

Counter::Counter(std::vector<Dimension> dims)
    : dims_(std::move(dims)), interned_(dims_.size()), names_(dims_.size()) {}

namespace {

bool IsStringDimension(Dimension d) {
  return d == Dimension::kCitizenship || d == Dimension::kExploitationCountry ||
         d == Dimension::kRecruitmentCountry || d == Dimension::kRegion;
}

// 0 none, 1 several different values, else 2 + the one value.
template <typename Repeated>
uint32_t OneCode(const Repeated& values) {
  if (values.empty()) return 0;
  const int first = *values.begin();
  for (int v : values) {
    if (v != first) return 1;
  }
  return 2 + static_cast<uint32_t>(first);
}

}  // namespace

uint32_t Counter::Intern(size_t i, absl::string_view category) {
  auto it = interned_[i].find(category);
  if (it != interned_[i].end()) return it->second;
  const uint32_t id = static_cast<uint32_t>(interned_[i].size());
  interned_[i].emplace(std::string(category), id);
  return id;
}

uint32_t Counter::Code(size_t i, const v1::CaseStatistics& r) {
  switch (dims_[i]) {
    case Dimension::kSex: return static_cast<uint32_t>(r.sex());
    case Dimension::kAge: return static_cast<uint32_t>(r.age_band_ctdc() + 1);
    case Dimension::kMajority: return r.child() ? 1 : r.age_band_ctdc() >= 18 ? 2 : 0;
    case Dimension::kForm: return OneCode(r.forms_suspected());
    case Dimension::kMeans: return OneCode(r.means_of_control());
    case Dimension::kLabour: return OneCode(r.labour_types());
    case Dimension::kSexual: return OneCode(r.sexual_exploitation_types());
    case Dimension::kRecruiter: return OneCode(r.recruiter_relations());
    case Dimension::kYear: return static_cast<uint32_t>(std::max(0, r.opened_year()));
    case Dimension::kMonth:
      return r.opened_year() <= 0
                 ? 0
                 : static_cast<uint32_t>(r.opened_year() * 13 + std::max(1, r.opened_month()));
    case Dimension::kReferrer: return static_cast<uint32_t>(r.referrer_type());
    case Dimension::kDecision: return static_cast<uint32_t>(r.identification_status());
    case Dimension::kService: return OneCode(r.services_delivered());
    case Dimension::kReturn: return static_cast<uint32_t>(r.return_status());
    case Dimension::kCitizenship:
      return Intern(i, r.citizenships().empty() ? absl::string_view("none")
                                                : absl::string_view(r.citizenships(0)));
    case Dimension::kRegion:
      return Intern(i, r.region().empty() ? absl::string_view("none") : absl::string_view(r.region()));
    case Dimension::kExploitationCountry: return InternOne(i, r.countries_of_exploitation());
    case Dimension::kRecruitmentCountry: return InternOne(i, r.countries_of_recruitment());
  }
  return 0;
}

uint32_t Counter::InternOne(size_t i, const google::protobuf::RepeatedPtrField<std::string>& values) {
  if (values.empty()) return Intern(i, "none");
  for (const std::string& v : values) {
    if (v != values[0]) return Intern(i, "multiple");
  }
  return Intern(i, values[0]);
}

void Counter::Name(size_t i, uint32_t code, const v1::CaseStatistics& record) {
  std::vector<std::string>& names = names_[i];
  if (code < names.size() && !names[code].empty()) return;
  if (code >= names.size()) names.resize(code + 1);
  names[code] = Category(dims_[i], record);
}

void Counter::Add(const v1::CaseStatistics& record) {
  uint64_t key = 0;
  for (size_t i = 0; i < dims_.size(); ++i) {
    const uint32_t code = Code(i, record);
    if (code >= names_[i].size() || names_[i][code].empty()) Name(i, code, record);
    key |= static_cast<uint64_t>(code) << (kBits * i);
  }
  ++counts_[key];
  ++records_;
}

void Counter::Merge(const Counter& other) {
  for (const auto& [packed, count] : other.counts_) {
    uint64_t key = 0;
    for (size_t i = 0; i < dims_.size(); ++i) {
      uint32_t code = static_cast<uint32_t>((packed >> (kBits * i)) & ((1u << kBits) - 1));
      const std::string& name = other.names_[i][code];
      if (IsStringDimension(dims_[i])) code = Intern(i, name);
      if (code >= names_[i].size()) names_[i].resize(code + 1);
      if (names_[i][code].empty()) names_[i][code] = name;
      key |= static_cast<uint64_t>(code) << (kBits * i);
    }
    counts_[key] += count;
  }
  records_ += other.records_;
}

Interior Counter::Cells() const {
  Interior out;
  for (const auto& [packed, count] : counts_) {
    CellKey key(dims_.size());
    for (size_t i = 0; i < dims_.size(); ++i) {
      key[i] = names_[i][(packed >> (kBits * i)) & ((1u << kBits) - 1)];
    }
    out[key] += count;
  }
  return out;
}

int64_t PublishedCells(const std::vector<Dimension>& dims, const Interior& interior) {
  std::vector<std::set<std::string>> categories(dims.size()), years(dims.size());
  for (const auto& [key, count] : interior) {
    for (size_t i = 0; i < dims.size(); ++i) {
      categories[i].insert(key[i]);
      if (dims[i] == Dimension::kMonth) years[i].insert(YearOfMonth(key[i]));
    }
  }
  int64_t cells = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    cells *= static_cast<int64_t>(categories[i].size() + years[i].size() + 1);
  }
  return cells;
}

ProtectedTable Protect(const std::vector<Dimension>& dims, const Interior& interior,
                       int64_t threshold) {
  return Protector(dims, interior, threshold).Run();
}

v1::GetCountsResponse ToResponse(const ProtectedTable& table, int64_t threshold,
                                 const std::map<size_t, std::vector<std::string>>& slices) {
  v1::GetCountsResponse out;
  for (Dimension d : table.dims) out.add_dimensions(DimensionName(d));
  out.set_threshold(static_cast<int32_t>(threshold));
  for (const PublishedCell& cell : table.cells) {
    bool wanted = true;
    for (const auto& [position, values] : slices) {
      const std::string& key = cell.keys[position];
      if (key == kAll) continue;
      bool match = false;
      for (const std::string& v : values) {
        // A year's total of months goes with the year's months.
        if (key == v || (key.size() == 6 && key.substr(0, 4) == v.substr(0, 4) &&
                         key.substr(4) == "-*")) {
          match = true;
        }
      }
      if (!match) wanted = false;
    }
    if (!wanted) continue;
    v1::CountRow* row = out.add_rows();
    for (const std::string& k : cell.keys) row->add_keys(k);
    row->set_margin(cell.margin);
    row->set_suppressed(cell.suppressed);
    row->set_reason(cell.reason);
    row->set_count(cell.suppressed ? 0 : cell.count);
    if (cell.suppressed) out.set_suppressed_cells(out.suppressed_cells() + 1);
  }
  return out;
}

}  // namespace haven::statistics
