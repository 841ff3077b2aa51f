// Tables: counts of statistics records over up to three dimensions, with
// every margin, and their disclosure control (primary and complementary
// suppression); pure functions, no storage.
#ifndef HAVEN_SERVICES_STATISTICS_TABLES_H_
#define HAVEN_SERVICES_STATISTICS_TABLES_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "haven/v1/records.pb.h"
#include "haven/v1/statistics.pb.h"
#include "services/statistics/dimensions.h"

namespace haven::statistics {

// The key of a cell: one category per dimension; kAll for the total over a
// dimension; for kMonth, "YYYY-*" for the total of a year's months.
inline constexpr char kAll[] = "*";
using CellKey = std::vector<std::string>;
using Interior = std::map<CellKey, int64_t>;

// Counts records into the interior cells of a table over `dims`. One per
// thread; merge them at the end.
class Counter {
 public:
  explicit Counter(std::vector<Dimension> dims);
  void Add(const haven::v1::CaseStatistics& record);
  void Merge(const Counter& other);
  Interior Cells() const;
  int64_t records() const { return records_; }

 private:
  // The record's category on position i as a small number: an enum's own
  // value (0 none, 1 multiple), a year and month, or an interned code; its
  // name is recorded the first time it is seen. No allocation per record.
  uint32_t Code(size_t i, const haven::v1::CaseStatistics& record);
  uint32_t Intern(size_t i, absl::string_view category);
  // A multi-valued string attribute as one interned code ("none", "multiple"
  // or its one value).
  uint32_t InternOne(size_t i, const google::protobuf::RepeatedPtrField<std::string>& values);
  void Name(size_t i, uint32_t code, const haven::v1::CaseStatistics& record);
  std::vector<Dimension> dims_;
  std::vector<absl::flat_hash_map<std::string, uint32_t>> interned_;  // string dimensions
  std::vector<std::vector<std::string>> names_;                      // by code
  absl::flat_hash_map<uint64_t, int64_t> counts_;
  int64_t records_ = 0;
};

struct PublishedCell {
  CellKey keys;
  int64_t count = 0;  // the true count; a response shows 0 when suppressed
  bool margin = false;
  bool suppressed = false;
  haven::v1::SuppressionReason reason = haven::v1::SUPPRESSION_REASON_UNSPECIFIED;
};

struct ProtectedTable {
  std::vector<Dimension> dims;
  // Every interior cell (each combination of the categories seen, zeros
  // too) and every margin, in key order.
  std::vector<PublishedCell> cells;
  int suppressed = 0;
};

// The table over `dims` (one to three) of `interior`, with all its margins,
// protected: every cell, interior or margin, holding fewer than `threshold`
// cases but more than none is suppressed (primary), and further cells are
// suppressed (complementary) until no suppressed cell is determined by the
// published cells through the table's sums. Each margin table is protected
// first, on its own, exactly as a query over its dimensions alone would be,
// and its pattern is kept: a cell suppressed in one query is never
// published by another. Deterministic.
ProtectedTable Protect(const std::vector<Dimension>& dims, const Interior& interior,
                       int64_t threshold);

// How many cells (interior and margins) the protected table over `dims`
// would publish: protection's cost grows with it.
int64_t PublishedCells(const std::vector<Dimension>& dims, const Interior& interior);

// The response of a protected table: suppressed cells' counts are zeroed;
// `slices` (dimension position -> values) choose the rows returned, after
// protection; margins of a sliced dimension are kept.
haven::v1::GetCountsResponse ToResponse(const ProtectedTable& table, int64_t threshold,
                                        const std::map<size_t, std::vector<std::string>>& slices);

}  // namespace haven::statistics

#endif  // HAVEN_SERVICES_STATISTICS_TABLES_H_
