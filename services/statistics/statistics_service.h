// StatisticsServiceImpl: the gRPC face of StatisticsService; thin handlers over the StatisticsDesk.
#ifndef HAVEN_SERVICES_STATISTICS_STATISTICS_SERVICE_H_
#define HAVEN_SERVICES_STATISTICS_STATISTICS_SERVICE_H_

#include <memory>
#include <utility>

#include "haven/v1/statistics.grpc.pb.h"
#include "services/common/authenticator.h"
#include "services/common/handler.h"
#include "services/statistics/statistics_desk.h"

namespace haven::statistics {

class StatisticsServiceImpl final : public haven::v1::StatisticsService::Service {
 public:
  StatisticsServiceImpl(const services::Authenticator* auth, std::unique_ptr<StatisticsDesk> desk)
      : auth_(auth), desk_(std::move(desk)) {}

  HAVEN_RPC(GetCounts, GetCountsRequest, GetCountsResponse)
  HAVEN_RPC(GetTimeSeries, GetTimeSeriesRequest, GetCountsResponse)
  HAVEN_RPC(GetReport, GetReportRequest, GetReportResponse)
  HAVEN_RPC(ExportDataset, ExportDatasetRequest, ExportDatasetResponse)

 private:
  const services::Authenticator* auth_;
  std::unique_ptr<StatisticsDesk> desk_;
};

}  // namespace haven::statistics

#endif  // HAVEN_SERVICES_STATISTICS_STATISTICS_SERVICE_H_
