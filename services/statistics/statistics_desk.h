// StatisticsDesk: StatisticsService's rules: counts, time series, report
// tables and exports over the statistics shelf, with disclosure control.
#ifndef HAVEN_SERVICES_STATISTICS_STATISTICS_DESK_H_
#define HAVEN_SERVICES_STATISTICS_STATISTICS_DESK_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "haven/v1/statistics.pb.h"
#include "services/statistics/tables.h"
#include "storage/access/principal.h"
#include "storage/access/statistics_shelf.h"

namespace haven::statistics {

class StatisticsDesk {
 public:
  struct Options {
    // A cell of fewer cases (and more than none) is suppressed.
    int64_t threshold = 10;
    // The k of exports.
    int export_k = 10;
    // Threads that read the shelf at once.
    int shards = 2;
  };

  StatisticsDesk(access::StatisticsShelf* shelf, Options options)
      : shelf_(shelf), options_(options) {}

  absl::StatusOr<haven::v1::GetCountsResponse> GetCounts(const access::RequestContext& ctx,
                                                         const haven::v1::GetCountsRequest& request);
  absl::StatusOr<haven::v1::GetCountsResponse> GetTimeSeries(
      const access::RequestContext& ctx, const haven::v1::GetTimeSeriesRequest& request);
  absl::StatusOr<haven::v1::GetReportResponse> GetReport(const access::RequestContext& ctx,
                                                         const haven::v1::GetReportRequest& request);
  absl::StatusOr<haven::v1::ExportDatasetResponse> ExportDataset(
      const access::RequestContext& ctx, const haven::v1::ExportDatasetRequest& request);

  // The interior cells of each table of `tables`, counted in one read of
  // the shelf (audited as `audit_action` with `what`).
  absl::StatusOr<std::vector<Interior>> Count(const access::RequestContext& ctx,
                                              absl::string_view audit_action,
                                              absl::string_view what,
                                              const std::vector<std::vector<Dimension>>& tables);

 private:
  access::StatisticsShelf* shelf_;
  Options options_;
};

}  // namespace haven::statistics

#endif  // HAVEN_SERVICES_STATISTICS_STATISTICS_DESK_H_
