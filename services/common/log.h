// Log: structured log lines (one JSON object per line on stderr). Callers
// pass only ids, codes and counts: never personal data.
#ifndef HAVEN_SERVICES_COMMON_LOG_H_
#define HAVEN_SERVICES_COMMON_LOG_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace haven::services {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

void SetMinLogLevel(LogLevel level);
void Log(LogLevel level, absl::string_view message,
         std::initializer_list<std::pair<absl::string_view, std::string>> fields = {});

}  // namespace haven::services

#endif  // HAVEN_SERVICES_COMMON_LOG_H_
