// HSDS: the directory as Open Referral HSDS 3.0 JSON (being written: see hsds.h).
#include "services/protection/hsds.h"

namespace haven::protection {

absl::StatusOr<haven::v1::DirectorySnapshot> ParseHsds(absl::string_view) {
  return absl::UnimplementedError("HSDS import is not built yet");
}

std::string WriteHsds(const haven::v1::DirectorySnapshot&) { return "{}"; }

}  // namespace haven::protection
