// Record ids: 128 random bits, written as 32 lower-case hex characters.
#ifndef HAVEN_STORAGE_IDS_H_
#define HAVEN_STORAGE_IDS_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace haven {

inline constexpr size_t kIdBytes = 16;

// A fresh id of kIdBytes random bytes from the system's CSPRNG.
std::string NewRawId();
std::string NewId();  // hex of NewRawId()

std::string ToHex(absl::string_view bytes);

// Parses hex of any even length; `what` names the field for the error.
absl::StatusOr<std::string> FromHex(absl::string_view hex, absl::string_view what);

// Parses a 32-character lower- or upper-case hex id. `what` names the field
// for the error message ("case_id").
absl::StatusOr<std::string> ParseId(absl::string_view hex, absl::string_view what);

}  // namespace haven

#endif  // HAVEN_STORAGE_IDS_H_
