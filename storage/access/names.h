// Names: normalization of personal names for blind-index matching.
// (Interface only; implementation in progress.)
#ifndef HAVEN_STORAGE_ACCESS_NAMES_H_
#define HAVEN_STORAGE_ACCESS_NAMES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace haven::access {

// The matching keys of one name (any script, UTF-8): one per token, in the
// order the tokens appear, duplicates removed. Two spellings of the same
// name that differ in case, diacritics, script or common transliteration
// give the same keys. Never logs or keeps its input.
std::vector<std::string> NameMatchKeys(absl::string_view utf8_name);

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_NAMES_H_
