// Indicator sets: parsing the embedded data, validation, and AssessStrength.
#include "services/identification/indicators.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace haven::identification {
namespace {

namespace v1 = haven::v1;

// Codes cited by clients are echoed in errors: printable and short.
std::string QuoteCode(absl::string_view code) {
  constexpr size_t kMax = 32;
  std::string quoted = absl::CHexEscape(code.substr(0, kMax));
  return absl::StrCat("\"", quoted, code.size() > kMax ? "...\"" : "\"");
}

class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first_.empty()) first_ = absl::StrCat("line ", line + 1, ":", column + 1, ": ", message);
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

// Lower enum value is stronger: STRONG = 1, MEDIUM = 2, WEAK = 3.
bool Stronger(const v1::Indicator& a, const v1::Indicator& b) {
  if (a.strength() != b.strength()) return a.strength() < b.strength();
  return a.code() < b.code();
}

absl::string_view StrengthWord(v1::IndicatorStrength strength) {
  switch (strength) {
    case v1::INDICATOR_STRENGTH_STRONG: return "strong";
    case v1::INDICATOR_STRENGTH_MEDIUM: return "medium";
    case v1::INDICATOR_STRENGTH_WEAK: return "weak";
    default: return "unset";
  }
}

absl::string_view LevelWord(v1::IndicationLevel level) {
  switch (level) {
    case v1::INDICATION_LEVEL_NONE: return "NONE";
    case v1::INDICATION_LEVEL_WEAK: return "WEAK";
    case v1::INDICATION_LEVEL_MODERATE: return "MODERATE";
    case v1::INDICATION_LEVEL_STRONG: return "STRONG";
    default: return "UNSPECIFIED";
  }
}

struct Element {
  v1::IndicatorCategory category;
  absl::string_view name;
};
constexpr std::array<Element, 4> kElements = {{
    {v1::INDICATOR_CATEGORY_ACT, "ACT"},
    {v1::INDICATOR_CATEGORY_MEANS, "MEANS"},
    {v1::INDICATOR_CATEGORY_PURPOSE, "PURPOSE"},
    {v1::INDICATOR_CATEGORY_GENERAL, "GENERAL"},
}};

}  // namespace

absl::Status ValidateIndicatorSet(const v1::IndicatorSet& set) {
  const std::string where = absl::StrCat("indicator set \"", absl::CHexEscape(set.id()), "\"");
  if (set.id().empty()) return absl::InvalidArgumentError("indicator set: id is empty");
  if (set.version() == 0) return absl::InvalidArgumentError(where + ": version is 0");
  if (set.title().empty()) return absl::InvalidArgumentError(where + ": title is empty");
  if (set.source().empty()) return absl::InvalidArgumentError(where + ": source is empty");
  if (set.indicators().empty()) return absl::InvalidArgumentError(where + ": no indicators");
  std::set<std::string> codes;
  for (int i = 0; i < set.indicators_size(); ++i) {
    const v1::Indicator& indicator = set.indicators(i);
    const std::string at = absl::StrCat(where, " indicator ", i, " (code ",
                                        QuoteCode(indicator.code()), ")");
    if (indicator.code().empty()) return absl::InvalidArgumentError(at + ": code is empty");
    if (!codes.insert(indicator.code()).second) {
      return absl::InvalidArgumentError(at + ": duplicate code");
    }
    if (indicator.category() == v1::INDICATOR_CATEGORY_UNSPECIFIED ||
        !v1::IndicatorCategory_IsValid(indicator.category())) {
      return absl::InvalidArgumentError(at + ": category is unset or unknown");
    }
    if (indicator.strength() == v1::INDICATOR_STRENGTH_UNSPECIFIED ||
        !v1::IndicatorStrength_IsValid(indicator.strength())) {
      return absl::InvalidArgumentError(at + ": strength is unset or unknown");
    }
    if (indicator.text().empty()) return absl::InvalidArgumentError(at + ": text is empty");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::IndicatorSet>> ShippedIndicatorSets() {
  std::vector<v1::IndicatorSet> sets;
  std::set<std::string> ids;
  for (const internal::EmbeddedFile& file : internal::ShippedIndicatorTexts()) {
    v1::IndicatorSet set;
    FirstError error;
    google::protobuf::TextFormat::Parser parser;
    parser.RecordErrorsTo(&error);
    if (!parser.ParseFromString(file.text, &set)) {
      return absl::InternalError(absl::StrCat("data/indicators/", file.name,
                                              ".textproto: ", error.first()));
    }
    if (absl::Status valid = ValidateIndicatorSet(set); !valid.ok()) {
      return absl::InternalError(
          absl::StrCat("data/indicators/", file.name, ".textproto: ", valid.message()));
    }
    if (set.id() != file.name) {
      return absl::InternalError(absl::StrCat("data/indicators/", file.name,
                                              ".textproto: id \"", set.id(),
                                              "\" differs from the file name"));
    }
    if (!ids.insert(set.id()).second) {
      return absl::InternalError(absl::StrCat("indicator set \"", set.id(), "\" shipped twice"));
    }
    sets.push_back(std::move(set));
  }
  return sets;
}

absl::StatusOr<v1::StrengthOfIndication> AssessStrength(
    const v1::IndicatorSet& set,
    const google::protobuf::RepeatedPtrField<v1::Observation>& observations,
    bool presumed_child) {
  if (absl::Status valid = ValidateIndicatorSet(set); !valid.ok()) return valid;
  std::map<absl::string_view, const v1::Indicator*> by_code;
  for (const v1::Indicator& indicator : set.indicators()) by_code[indicator.code()] = &indicator;

  std::set<absl::string_view> cited;
  std::vector<const v1::Indicator*> observed;
  for (const v1::Observation& observation : observations) {
    const auto it = by_code.find(observation.indicator_code());
    if (it == by_code.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("observation cites indicator code ", QuoteCode(observation.indicator_code()),
                       ", which is not in indicator set \"", set.id(), "\" version ",
                       set.version()));
    }
    if (!cited.insert(it->first).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "indicator code ", QuoteCode(observation.indicator_code()), " is cited twice"));
    }
    if (observation.observed()) observed.push_back(it->second);
  }
  std::sort(observed.begin(), observed.end(),
            [](const v1::Indicator* a, const v1::Indicator* b) { return Stronger(*a, *b); });

  // Per element: how many were observed, and the strongest (the first, once sorted).
  std::map<v1::IndicatorCategory, std::pair<int, const v1::Indicator*>> tally;
  for (const v1::Indicator* indicator : observed) {
    auto& [count, strongest] = tally[indicator->category()];
    if (count++ == 0) strongest = indicator;
  }

  std::vector<absl::string_view> missing;
  int strong_elements = 0;
  for (const Element& element : kElements) {
    if (element.category == v1::INDICATOR_CATEGORY_GENERAL) continue;
    if (presumed_child && element.category == v1::INDICATOR_CATEGORY_MEANS) continue;
    const auto it = tally.find(element.category);
    if (it == tally.end()) {
      missing.push_back(element.name);
    } else if (it->second.second->strength() == v1::INDICATOR_STRENGTH_STRONG) {
      ++strong_elements;
    }
  }
  v1::IndicationLevel level;
  if (observed.empty()) {
    level = v1::INDICATION_LEVEL_NONE;
  } else if (!missing.empty()) {
    level = v1::INDICATION_LEVEL_WEAK;
  } else if (strong_elements >= (presumed_child ? 1 : 2)) {
    level = v1::INDICATION_LEVEL_STRONG;
  } else {
    level = v1::INDICATION_LEVEL_MODERATE;
  }

  v1::StrengthOfIndication result;
  result.set_level(level);
  for (const v1::Indicator* indicator : observed) result.add_weighed_indicator_codes(indicator->code());

  // Codes, counts and fixed words only: never an observation's note.
  std::string text = absl::StrCat("Level ", LevelWord(level), " against indicator set \"",
                                  set.id(), "\" version ", set.version(), ".");
  for (const Element& element : kElements) {
    const auto it = tally.find(element.category);
    const int count = it == tally.end() ? 0 : it->second.first;
    absl::StrAppend(&text, " ", element.name, ": ", count, " observed");
    if (count > 0) {
      const v1::Indicator& strongest = *it->second.second;
      absl::StrAppend(&text, ", strongest ", strongest.code(), " (",
                      StrengthWord(strongest.strength()), ")");
    }
    if (presumed_child && element.category == v1::INDICATOR_CATEGORY_MEANS) {
      absl::StrAppend(&text, " (not required: for a presumed child the means need not be shown)");
    }
    absl::StrAppend(&text, ".");
  }
  absl::StrAppend(&text, " Missing elements: ",
                  missing.empty() ? "none" : absl::StrJoin(missing, ", "), ".");
  result.set_explanation(std::move(text));
  return result;
}

}  // namespace haven::identification
