// StatisticsServiceImpl: each handler authenticates and hands the request to the desk.
#include "services/statistics/statistics_service.h"

namespace haven::statistics {

HAVEN_RPC_HANDLER(StatisticsServiceImpl, GetCounts, GetCountsRequest, GetCountsResponse,
                  desk_->GetCounts(ctx, *request))
HAVEN_RPC_HANDLER(StatisticsServiceImpl, GetTimeSeries, GetTimeSeriesRequest, GetCountsResponse,
                  desk_->GetTimeSeries(ctx, *request))
HAVEN_RPC_HANDLER(StatisticsServiceImpl, GetReport, GetReportRequest, GetReportResponse,
                  desk_->GetReport(ctx, *request))
HAVEN_RPC_HANDLER(StatisticsServiceImpl, ExportDataset, ExportDatasetRequest,
                  ExportDatasetResponse, desk_->ExportDataset(ctx, *request))

}  // namespace haven::statistics
