// Dimensions: the category of a statistics record on each published dimension.
#include "services/statistics/dimensions.h"

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace haven::statistics {
namespace {

namespace v1 = haven::v1;

constexpr const char* kNames[] = {
    "sex",       "age",   "majority", "citizenship", "form",   "means",
    "labour",    "sexual", "recruiter", "exploitation_country", "year", "month",
    "region",    "referrer", "decision", "service", "return", "recruitment_country"};

// The short codes of an enum's values: their names without the enum's
// prefix, in lower case ("SEX_FEMALE" -> "female"), indexed by number.
std::vector<std::string> Codes(const google::protobuf::EnumDescriptor* descriptor,
                               size_t prefix_length) {
  std::vector<std::string> codes;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* v = descriptor->value(i);
    if (v->number() < 0 || v->number() > 255) continue;
    if (static_cast<size_t>(v->number()) >= codes.size()) codes.resize(v->number() + 1);
    std::string name(v->name());
    codes[v->number()] = absl::AsciiStrToLower(
        name.size() > prefix_length ? name.substr(prefix_length) : name);
  }
  return codes;
}

// One enum value's code, from a table made once.
#define HAVEN_CODE(Enum, prefix_length, value)                                        \
  ([](int code_value) -> std::string {                                               \
    static const std::vector<std::string>* codes =                                   \
        new std::vector<std::string>(Codes(v1::Enum##_descriptor(), prefix_length)); \
    if (code_value >= 0 && static_cast<size_t>(code_value) < codes->size() &&       \
        !(*codes)[code_value].empty()) {                                             \
      return (*codes)[code_value];                                                   \
    }                                                                                \
    return absl::StrCat("code", code_value);                                         \
  }(static_cast<int>(value)))

// A multi-valued attribute as one category.
template <typename Repeated, typename Name>
std::string OneOf(const Repeated& values, Name name) {
  if (values.empty()) return "none";
  for (const auto& v : values) {
    if (!(v == *values.begin())) return "multiple";
  }
  return name(*values.begin());
}

}  // namespace

std::optional<Dimension> ParseDimension(absl::string_view name) {
  for (size_t i = 0; i < sizeof(kNames) / sizeof(kNames[0]); ++i) {
    if (name == kNames[i]) return static_cast<Dimension>(i);
  }
  return std::nullopt;
}

const char* DimensionName(Dimension d) { return kNames[static_cast<int>(d)]; }

std::vector<std::string> DimensionNames() {
  return std::vector<std::string>(std::begin(kNames), std::end(kNames));
}

int CtdcAgeBand(int age) {
  if (age < 0) return -1;
  for (int band : {48, 39, 30, 27, 24, 21, 18, 9}) {
    if (age >= band) return band;
  }
  return 0;
}

std::string CtdcAgeLabel(int band) {
  switch (band) {
    case 0: return "0--8";
    case 9: return "9--17";
    case 18: return "18--20";
    case 21: return "21--23";
    case 24: return "24--26";
    case 27: return "27--29";
    case 30: return "30--38";
    case 39: return "39--47";
    case 48: return "48+";
    default: return "";
  }
}

std::string YearOfMonth(absl::string_view month) { return std::string(month.substr(0, 4)); }

std::string Category(Dimension d, const v1::CaseStatistics& s) {
  switch (d) {
    case Dimension::kSex:
      return s.sex() == v1::SEX_UNSPECIFIED ? "unknown"
                                            : HAVEN_CODE(Sex, 4, s.sex());
    case Dimension::kAge: {
      std::string label = CtdcAgeLabel(s.age_band_ctdc());
      return label.empty() ? "unknown" : label;
    }
    case Dimension::kMajority:
      if (s.child()) return "minor";
      return s.age_band_ctdc() >= 18 ? "adult" : "unknown";
    case Dimension::kCitizenship:
      return s.citizenships().empty() ? "none" : s.citizenships(0);
    case Dimension::kForm:
      return OneOf(s.forms_suspected(), [](int v) {
        return HAVEN_CODE(ExploitationForm, 18, v);
      });
    case Dimension::kMeans:
      return OneOf(s.means_of_control(), [](int v) {
        return HAVEN_CODE(MeansOfControl, 17, v);
      });
    case Dimension::kLabour:
      return OneOf(s.labour_types(),
                   [](int v) { return HAVEN_CODE(LabourType, 12, v); });
    case Dimension::kSexual:
      return OneOf(s.sexual_exploitation_types(), [](int v) {
        return HAVEN_CODE(SexualExploitationType, 25, v);
      });
    case Dimension::kRecruiter:
      return OneOf(s.recruiter_relations(), [](int v) {
        return HAVEN_CODE(RecruiterRelation, 19, v);
      });
    case Dimension::kExploitationCountry:
      return OneOf(s.countries_of_exploitation(), [](const std::string& v) { return v; });
    case Dimension::kRecruitmentCountry:
      return OneOf(s.countries_of_recruitment(), [](const std::string& v) { return v; });
    case Dimension::kYear:
      return s.opened_year() > 0 ? std::to_string(s.opened_year()) : "none";
    case Dimension::kMonth: {
      if (s.opened_year() <= 0) return "none";
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%04d-%02d", s.opened_year(),
                    s.opened_month() > 0 ? s.opened_month() : 1);
      return buf;
    }
    case Dimension::kRegion:
      return s.region().empty() ? "none" : s.region();
    case Dimension::kReferrer:
      return s.referrer_type() == v1::ORGANISATION_TYPE_UNSPECIFIED
                 ? "none"
                 : HAVEN_CODE(OrganisationType, 18, s.referrer_type());
    case Dimension::kDecision:
      return HAVEN_CODE(IdentificationStatus, 22, s.identification_status());
    case Dimension::kService:
      return OneOf(s.services_delivered(),
                   [](int v) { return HAVEN_CODE(ServiceKind, 13, v); });
    case Dimension::kReturn:
      return s.return_status() == v1::RETURN_STATUS_UNSPECIFIED
                 ? "none"
                 : HAVEN_CODE(ReturnStatus, 14, s.return_status());
  }
  return "none";
}

}  // namespace haven::statistics
