// Exports: statistics records as the CTDC global dataset's columns or IOM
// HTCDS fields, k-anonymised by global generalisation and, last, row
// suppression; pure functions.
#ifndef HAVEN_SERVICES_STATISTICS_EXPORT_H_
#define HAVEN_SERVICES_STATISTICS_EXPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "haven/v1/records.pb.h"
#include "haven/v1/statistics.pb.h"

namespace haven::statistics {

struct Dataset {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

// The rows of `format` ("ctdc" or "htcds") for the records, before any
// anonymisation. INVALID_ARGUMENT for another format.
absl::StatusOr<Dataset> BuildDataset(absl::string_view format,
                                     const std::vector<haven::v1::CaseStatistics>& records);

// Makes `dataset` k-anonymous over all its columns: applies the format's
// generalisations in order until at most `max_suppressed_share` of the rows
// sit in a group of fewer than k identical rows, then leaves those rows
// out. Fills everything in the response but the format.
haven::v1::ExportDatasetResponse Anonymise(absl::string_view format, Dataset dataset, int k,
                                           double max_suppressed_share = 0.05);

// Comma-separated values with a header line (values never hold commas or quotes).
std::string ToCsv(const Dataset& dataset);

}  // namespace haven::statistics

#endif  // HAVEN_SERVICES_STATISTICS_EXPORT_H_
