// Dimensions: how a statistics record is classified on each published dimension; pure.
#ifndef HAVEN_SERVICES_STATISTICS_DIMENSIONS_H_
#define HAVEN_SERVICES_STATISTICS_DIMENSIONS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "haven/v1/records.pb.h"

namespace haven::statistics {

// DO NOT REORDER: the order is the published order of dimensions' names.
enum class Dimension {
  kSex,
  kAge,          // CTDC band at registration
  kMajority,     // child / adult / unknown
  kCitizenship,  // first citizenship (several are counted as the first)
  kForm,         // form of exploitation
  kMeans,        // means of control
  kLabour,       // type of labour
  kSexual,       // type of sexual exploitation
  kRecruiter,    // relation to the recruiter
  kExploitationCountry,
  kYear,   // of registration
  kMonth,  // of registration, "YYYY-MM"; its year's total is a margin
  kRegion,
  kReferrer,  // type of the organisation that registered the case
  kDecision,  // identification outcome
  kService,   // services delivered
  kReturn,    // return outcome
  kRecruitmentCountry,
};

// The published name ("sex", "age", ...); nullopt for an unknown name.
std::optional<Dimension> ParseDimension(absl::string_view name);
const char* DimensionName(Dimension d);
std::vector<std::string> DimensionNames();

// The record's category on `d`: short lower-case codes or ISO codes,
// "none" when the attribute is not recorded, "multiple" when a
// multi-valued attribute holds several values (so that each case falls in
// exactly one category and every margin is the sum of its cells).
std::string Category(Dimension d, const haven::v1::CaseStatistics& s);

// For kMonth: the year a month category belongs to ("2024-03" -> "2024").
std::string YearOfMonth(absl::string_view month);

// The CTDC age band's lower bound for an age in years; -1 for unknown.
int CtdcAgeBand(int age);
// "0--8", "9--17", ..., "48+" (CTDC's labels); "" for -1.
std::string CtdcAgeLabel(int band);

}  // namespace haven::statistics

#endif  // HAVEN_SERVICES_STATISTICS_DIMENSIONS_H_
