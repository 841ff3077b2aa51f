// HSDS: the service-provider directory as Open Referral Human Services Data Specification 3.0 JSON.
#ifndef HAVEN_SERVICES_PROTECTION_HSDS_H_
#define HAVEN_SERVICES_PROTECTION_HSDS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "haven/v1/protection.pb.h"

namespace haven::protection {

// Reads an HSDS 3.0 JSON document into the directory it describes. Checks
// the whole document first: INVALID_ARGUMENT naming the first invalid
// record and field by its JSON path (e.g. "contents[2].services[0].status: ...") and
// nothing returned. Never echoes more of the input than a field's name.
absl::StatusOr<haven::v1::DirectorySnapshot> ParseHsds(absl::string_view json);

// Writes the directory as an HSDS 3.0 JSON document; the same snapshot
// always gives the same bytes, and ParseHsds(WriteHsds(s)) gives s back.
std::string WriteHsds(const haven::v1::DirectorySnapshot& snapshot);

}  // namespace haven::protection

#endif  // HAVEN_SERVICES_PROTECTION_HSDS_H_
