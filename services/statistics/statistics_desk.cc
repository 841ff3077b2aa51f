// StatisticsDesk: checks each query's shape, counts over the shelf, protects and answers.
#include "services/statistics/statistics_desk.h"

#include <map>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/statistics/export.h"

namespace haven::statistics {
namespace {

namespace v1 = haven::v1;

absl::StatusOr<std::vector<Dimension>> ParseDimensions(
    const google::protobuf::RepeatedPtrField<std::string>& names, absl::string_view field) {
  if (names.empty() || names.size() > 3) {
    return absl::InvalidArgumentError(absl::StrCat(field, " names one to three dimensions"));
  }
  std::vector<Dimension> dims;
  std::set<Dimension> seen;
  for (const std::string& name : names) {
    std::optional<Dimension> d = ParseDimension(name);
    if (!d.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, " must name dimensions among: ", absl::StrJoin(DimensionNames(), ", ")));
    }
    if (!seen.insert(*d).second) {
      return absl::InvalidArgumentError(absl::StrCat(field, " names a dimension twice"));
    }
    dims.push_back(*d);
  }
  return dims;
}

absl::StatusOr<std::map<size_t, std::vector<std::string>>> ParseSlices(
    const google::protobuf::RepeatedPtrField<v1::CountsSlice>& slices,
    const std::vector<Dimension>& dims) {
  std::map<size_t, std::vector<std::string>> out;
  for (const v1::CountsSlice& slice : slices) {
    std::optional<Dimension> d = ParseDimension(slice.dimension());
    size_t position = dims.size();
    for (size_t i = 0; d.has_value() && i < dims.size(); ++i) {
      if (dims[i] == *d) position = i;
    }
    if (position == dims.size()) {
      return absl::InvalidArgumentError(
          "slices[].dimension must be one of the grouped dimensions: a slice chooses rows of the "
          "table, never the cases it counts");
    }
    if (slice.values().empty() || slice.values().size() > 100) {
      return absl::InvalidArgumentError("slices[].values holds one to 100 values");
    }
    for (const std::string& v : slice.values()) {
      if (v.empty() || v.size() > 32) {
        return absl::InvalidArgumentError("slices[].values are 1 to 32 bytes");
      }
      out[position].push_back(v);
    }
  }
  return out;
}

// Tables larger than this are refused: protecting one (a linear system over
// its suppressed cells) costs more than a query may.
constexpr int64_t kMaxCells = 20000;

absl::StatusOr<v1::GetCountsResponse> Protected(const std::vector<Dimension>& dims,
                                                const Interior& interior, int64_t threshold,
                                                const std::map<size_t, std::vector<std::string>>& slices) {
  if (PublishedCells(dims, interior) > kMaxCells) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the table would have more than ", kMaxCells,
        " cells: group by fewer dimensions, or by coarser ones (year, not month)"));
  }
  return ToResponse(Protect(dims, interior, threshold), threshold, slices);
}

std::string Names(const std::vector<Dimension>& dims) {
  std::vector<std::string> names;
  for (Dimension d : dims) names.push_back(DimensionName(d));
  return absl::StrJoin(names, ",");
}

struct ReportTable {
  const char* title;
  std::vector<Dimension> dims;  // the year first
};

std::vector<ReportTable> ReportTables(absl::string_view report) {
  using D = Dimension;
  if (report == "unodc-glotip") {
    return {
        {"Detected victims by sex and age group", {D::kYear, D::kSex, D::kMajority}},
        {"Detected victims by form of exploitation and sex", {D::kYear, D::kForm, D::kSex}},
        {"Detected victims by form of exploitation and age group",
         {D::kYear, D::kForm, D::kMajority}},
        {"Detected victims by citizenship", {D::kYear, D::kCitizenship}},
        {"Detected victims by country of exploitation", {D::kYear, D::kExploitationCountry}},
    };
  }
  if (report == "national-annual") {
    return {
        {"Persons registered by referring organisation type", {D::kYear, D::kReferrer}},
        {"Identification outcomes by sex", {D::kYear, D::kDecision, D::kSex}},
        {"Persons by means of control", {D::kYear, D::kMeans}},
        {"Persons by region of identification", {D::kYear, D::kRegion}},
        {"Services delivered", {D::kYear, D::kService}},
        {"Return outcomes", {D::kYear, D::kReturn}},
        {"Persons by age band and sex", {D::kYear, D::kAge, D::kSex}},
    };
  }
  return {};
}

}  // namespace

absl::StatusOr<std::vector<Interior>> StatisticsDesk::Count(
    const access::RequestContext& ctx, absl::string_view audit_action, absl::string_view what,
    const std::vector<std::vector<Dimension>>& tables) {
  const int shards = std::max(1, options_.shards);
  // counters[shard][table]
  std::vector<std::vector<Counter>> counters(shards);
  for (auto& per_shard : counters) {
    for (const auto& dims : tables) per_shard.emplace_back(dims);
  }
  absl::Status s = shelf_->ForEach(ctx, audit_action, what, shards,
                                   [&](int shard, const v1::CaseStatistics& record) {
                                     for (Counter& c : counters[shard]) c.Add(record);
                                   });
  if (!s.ok()) return s;
  std::vector<Interior> out;
  for (size_t t = 0; t < tables.size(); ++t) {
    for (int shard = 1; shard < shards; ++shard) counters[0][t].Merge(counters[shard][t]);
    out.push_back(counters[0][t].Cells());
  }
  return out;
}

absl::StatusOr<v1::GetCountsResponse> StatisticsDesk::GetCounts(
    const access::RequestContext& ctx, const v1::GetCountsRequest& request) {
  absl::StatusOr<std::vector<Dimension>> dims = ParseDimensions(request.group_by(), "group_by");
  if (!dims.ok()) return dims.status();
  absl::StatusOr<std::map<size_t, std::vector<std::string>>> slices =
      ParseSlices(request.slices(), *dims);
  if (!slices.ok()) return slices.status();
  absl::StatusOr<std::vector<Interior>> counted =
      Count(ctx, "statistics.counts", Names(*dims), {*dims});
  if (!counted.ok()) return counted.status();
  return Protected(*dims, (*counted)[0], options_.threshold, *slices);
}

absl::StatusOr<v1::GetCountsResponse> StatisticsDesk::GetTimeSeries(
    const access::RequestContext& ctx, const v1::GetTimeSeriesRequest& request) {
  google::protobuf::RepeatedPtrField<std::string> names;
  names.Add("month");
  if (!request.by().empty()) names.Add(std::string(request.by()));
  absl::StatusOr<std::vector<Dimension>> dims = ParseDimensions(names, "by");
  if (!dims.ok()) return dims.status();
  absl::StatusOr<std::map<size_t, std::vector<std::string>>> slices =
      ParseSlices(request.slices(), *dims);
  if (!slices.ok()) return slices.status();
  absl::StatusOr<std::vector<Interior>> counted =
      Count(ctx, "statistics.time_series", Names(*dims), {*dims});
  if (!counted.ok()) return counted.status();
  return Protected(*dims, (*counted)[0], options_.threshold, *slices);
}

absl::StatusOr<v1::GetReportResponse> StatisticsDesk::GetReport(
    const access::RequestContext& ctx, const v1::GetReportRequest& request) {
  std::vector<ReportTable> tables = ReportTables(request.report());
  if (tables.empty()) {
    return absl::InvalidArgumentError("report must be unodc-glotip or national-annual");
  }
  if (request.year() < 1900 || request.year() > 9999) {
    return absl::InvalidArgumentError("year must be the reporting year");
  }
  std::vector<std::vector<Dimension>> dims;
  for (const ReportTable& t : tables) dims.push_back(t.dims);
  absl::StatusOr<std::vector<Interior>> counted =
      Count(ctx, "statistics.report", request.report(), dims);
  if (!counted.ok()) return counted.status();
  v1::GetReportResponse out;
  out.set_report(request.report());
  const std::map<size_t, std::vector<std::string>> year = {{0, {std::to_string(request.year())}}};
  for (size_t i = 0; i < tables.size(); ++i) {
    v1::StatisticsTable* table = out.add_tables();
    table->set_title(tables[i].title);
    // The whole table over every year is protected; the year is a slice.
    absl::StatusOr<v1::GetCountsResponse> counts =
        Protected(tables[i].dims, (*counted)[i], options_.threshold, year);
    if (!counts.ok()) return counts.status();
    *table->mutable_counts() = *std::move(counts);
  }
  return out;
}

absl::StatusOr<v1::ExportDatasetResponse> StatisticsDesk::ExportDataset(
    const access::RequestContext& ctx, const v1::ExportDatasetRequest& request) {
  if (request.format() != "ctdc" && request.format() != "htcds") {
    return absl::InvalidArgumentError("format must be ctdc or htcds");
  }
  const int shards = std::max(1, options_.shards);
  std::vector<std::vector<v1::CaseStatistics>> parts(shards);
  absl::Status s = shelf_->ForEach(ctx, "statistics.export", request.format(), shards,
                                   [&](int shard, const v1::CaseStatistics& record) {
                                     parts[shard].push_back(record);
                                   });
  if (!s.ok()) return s;
  std::vector<v1::CaseStatistics> records;
  for (auto& part : parts) {
    for (auto& r : part) records.push_back(std::move(r));
  }
  absl::StatusOr<Dataset> dataset = BuildDataset(request.format(), records);
  if (!dataset.ok()) return dataset.status();
  v1::ExportDatasetResponse out = Anonymise(request.format(), *std::move(dataset), options_.export_k);
  out.set_format(request.format());
  return out;
}

}  // namespace haven::statistics
