// Exports: the CTDC and HTCDS rows of statistics records, and their k-anonymisation.
#include "services/statistics/export.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/statistics/dimensions.h"

namespace haven::statistics {
namespace {

namespace v1 = haven::v1;

// How a generalisation changes a column.
enum class Change { kRareToOther, kBlank };

struct Generalisation {
  std::string description;
  std::vector<std::string> columns;  // exact names, or a prefix ending in '*'
  Change change;
};

template <typename Repeated, typename Value>
bool Holds(const Repeated& values, Value v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

// "1"/"0" when the attribute was recorded at all, else "".
template <typename Repeated, typename Value>
std::string Flag(const Repeated& values, Value v) {
  if (values.empty()) return "";
  return Holds(values, v) ? "1" : "0";
}

std::string Gender(v1::Sex sex) {
  switch (sex) {
    case v1::SEX_FEMALE: return "Female";
    case v1::SEX_MALE: return "Male";
    case v1::SEX_OTHER: return "Other";
    default: return "";
  }
}

std::string Majority(const v1::CaseStatistics& s) {
  if (s.child()) return "Minor";
  return s.age_band_ctdc() >= 18 ? "Adult" : "";
}

std::string FirstOr(const google::protobuf::RepeatedPtrField<std::string>& values) {
  return values.empty() ? "" : values[0];
}

const std::vector<std::pair<const char*, v1::MeansOfControl>>& MeansColumns() {
  static const auto* columns = new std::vector<std::pair<const char*, v1::MeansOfControl>>{
      {"meansOfControlDebtBondage", v1::MEANS_OF_CONTROL_DEBT_BONDAGE},
      {"meansOfControlTakesEarnings", v1::MEANS_OF_CONTROL_TAKES_EARNINGS},
      {"meansOfControlRestrictsFinancialAccess", v1::MEANS_OF_CONTROL_RESTRICTS_FINANCIAL_ACCESS},
      {"meansOfControlThreats", v1::MEANS_OF_CONTROL_THREATS},
      {"meansOfControlPhysicalAbuse", v1::MEANS_OF_CONTROL_PHYSICAL_ABUSE},
      {"meansOfControlSexualAbuse", v1::MEANS_OF_CONTROL_SEXUAL_ABUSE},
      {"meansOfControlFalsePromises", v1::MEANS_OF_CONTROL_FALSE_PROMISES},
      {"meansOfControlPsychoactiveSubstances", v1::MEANS_OF_CONTROL_PSYCHOACTIVE_SUBSTANCES},
      {"meansOfControlRestrictsMovement", v1::MEANS_OF_CONTROL_RESTRICTS_MOVEMENT},
      {"meansOfControlRestrictsMedicalCare", v1::MEANS_OF_CONTROL_RESTRICTS_MEDICAL_CARE},
      {"meansOfControlExcessiveWorkingHours", v1::MEANS_OF_CONTROL_EXCESSIVE_WORKING_HOURS},
      {"meansOfControlUsesChildren", v1::MEANS_OF_CONTROL_USES_CHILDREN},
      {"meansOfControlThreatOfLawEnforcement", v1::MEANS_OF_CONTROL_THREAT_OF_LAW_ENFORCEMENT},
      {"meansOfControlWithholdsNecessities", v1::MEANS_OF_CONTROL_WITHHOLDS_NECESSITIES},
      {"meansOfControlWithholdsDocuments", v1::MEANS_OF_CONTROL_WITHHOLDS_DOCUMENTS},
      {"meansOfControlOther", v1::MEANS_OF_CONTROL_OTHER},
  };
  return *columns;
}

const std::vector<std::pair<const char*, v1::LabourType>>& LabourColumns() {
  static const auto* columns = new std::vector<std::pair<const char*, v1::LabourType>>{
      {"typeOfLabourAgriculture", v1::LABOUR_TYPE_AGRICULTURE},
      {"typeOfLabourAquafarming", v1::LABOUR_TYPE_AQUAFARMING},
      {"typeOfLabourBegging", v1::LABOUR_TYPE_BEGGING},
      {"typeOfLabourConstruction", v1::LABOUR_TYPE_CONSTRUCTION},
      {"typeOfLabourDomesticWork", v1::LABOUR_TYPE_DOMESTIC_WORK},
      {"typeOfLabourHospitality", v1::LABOUR_TYPE_HOSPITALITY},
      {"typeOfLabourIllicitActivities", v1::LABOUR_TYPE_ILLICIT_ACTIVITIES},
      {"typeOfLabourManufacturing", v1::LABOUR_TYPE_MANUFACTURING},
      {"typeOfLabourMiningOrDrilling", v1::LABOUR_TYPE_MINING_OR_DRILLING},
      {"typeOfLabourPeddling", v1::LABOUR_TYPE_PEDDLING},
      {"typeOfLabourTransportation", v1::LABOUR_TYPE_TRANSPORTATION},
      {"typeOfLabourOther", v1::LABOUR_TYPE_OTHER},
  };
  return *columns;
}

const std::vector<std::pair<const char*, v1::SexualExploitationType>>& SexColumns() {
  static const auto* columns = new std::vector<std::pair<const char*, v1::SexualExploitationType>>{
      {"typeOfSexProstitution", v1::SEXUAL_EXPLOITATION_TYPE_PROSTITUTION},
      {"typeOfSexPornography", v1::SEXUAL_EXPLOITATION_TYPE_PORNOGRAPHY},
      {"typeOfSexRemoteInteractiveServices", v1::SEXUAL_EXPLOITATION_TYPE_REMOTE_INTERACTIVE_SERVICES},
      {"typeOfSexPrivateSexualServices", v1::SEXUAL_EXPLOITATION_TYPE_PRIVATE_SEXUAL_SERVICES},
  };
  return *columns;
}

const std::vector<std::pair<const char*, v1::RecruiterRelation>>& RecruiterColumns() {
  static const auto* columns = new std::vector<std::pair<const char*, v1::RecruiterRelation>>{
      {"RecruiterRelationIntimatePartner", v1::RECRUITER_RELATION_INTIMATE_PARTNER},
      {"RecruiterRelationFriend", v1::RECRUITER_RELATION_FRIEND},
      {"RecruiterRelationFamily", v1::RECRUITER_RELATION_FAMILY},
      {"RecruiterRelationOther", v1::RECRUITER_RELATION_OTHER},
      {"RecruiterRelationUnknown", v1::RECRUITER_RELATION_UNKNOWN},
  };
  return *columns;
}

Dataset Ctdc(const std::vector<v1::CaseStatistics>& records) {
  Dataset d;
  d.columns = {"yearOfRegistration", "Datasource", "gender", "ageBroad", "majorityStatus",
               "citizenship"};
  for (const auto& [name, v] : MeansColumns()) d.columns.push_back(name);
  d.columns.push_back("meansOfControlNotSpecified");
  d.columns.insert(d.columns.end(),
                   {"isForcedLabour", "isSexualExploit", "isOtherExploit", "isForcedMarriage",
                    "isOrganRemoval", "isSlaveryAndPractices"});
  for (const auto& [name, v] : LabourColumns()) d.columns.push_back(name);
  d.columns.push_back("typeOfLabourNotSpecified");
  for (const auto& [name, v] : SexColumns()) d.columns.push_back(name);
  for (const auto& [name, v] : RecruiterColumns()) d.columns.push_back(name);
  d.columns.push_back("CountryOfExploitation");
  for (const v1::CaseStatistics& s : records) {
    std::vector<std::string> row;
    row.push_back(s.opened_year() > 0 ? std::to_string(s.opened_year()) : "");
    row.push_back("Case Management");
    row.push_back(Gender(s.sex()));
    row.push_back(CtdcAgeLabel(s.age_band_ctdc()));
    row.push_back(Majority(s));
    row.push_back(FirstOr(s.citizenships()));
    for (const auto& [name, v] : MeansColumns()) row.push_back(Flag(s.means_of_control(), v));
    row.push_back(s.means_of_control().empty() ? "1" : "0");
    const auto& forms = s.forms_suspected();
    const bool any = !forms.empty();
    auto form = [&](std::initializer_list<v1::ExploitationForm> fs) -> std::string {
      if (!any) return "";
      for (v1::ExploitationForm f : fs) {
        if (Holds(forms, f)) return "1";
      }
      return "0";
    };
    row.push_back(form({v1::EXPLOITATION_FORM_FORCED_LABOUR, v1::EXPLOITATION_FORM_FORCED_BEGGING,
                        v1::EXPLOITATION_FORM_DOMESTIC_SERVITUDE,
                        v1::EXPLOITATION_FORM_FORCED_CRIMINALITY}));
    row.push_back(form({v1::EXPLOITATION_FORM_SEXUAL_EXPLOITATION}));
    row.push_back(form({v1::EXPLOITATION_FORM_OTHER,
                        v1::EXPLOITATION_FORM_CHILD_RECRUITMENT_ARMED_CONFLICT}));
    row.push_back(form({v1::EXPLOITATION_FORM_FORCED_MARRIAGE}));
    row.push_back(form({v1::EXPLOITATION_FORM_ORGAN_REMOVAL}));
    row.push_back(form({v1::EXPLOITATION_FORM_SLAVERY, v1::EXPLOITATION_FORM_SERVITUDE}));
    for (const auto& [name, v] : LabourColumns()) row.push_back(Flag(s.labour_types(), v));
    row.push_back(s.labour_types().empty() ? "1" : "0");
    for (const auto& [name, v] : SexColumns()) {
      row.push_back(Flag(s.sexual_exploitation_types(), v));
    }
    for (const auto& [name, v] : RecruiterColumns()) {
      row.push_back(Flag(s.recruiter_relations(), v));
    }
    row.push_back(FirstOr(s.countries_of_exploitation()));
    d.rows.push_back(std::move(row));
  }
  return d;
}

template <typename Repeated, typename Namer>
std::string Joined(const Repeated& values, Namer name) {
  std::vector<std::string> names;
  for (const auto& v : values) names.push_back(name(v));
  std::sort(names.begin(), names.end());
  return absl::StrJoin(names, ";");
}

// The HTCDS (v0.2) fields that Haven's statistics record maps to.
Dataset Htcds(const std::vector<v1::CaseStatistics>& records) {
  Dataset d;
  d.columns = {"yearOfRegistration", "status",         "reasonForCaseClosure",
               "referringOrganisationType", "gender",  "ageBroad",
               "citizenship",        "typeOfExploitation", "methodOfControl",
               "forcedLabourIndustry", "countryOfExploitation"};
  for (const v1::CaseStatistics& s : records) {
    auto code = [](const google::protobuf::EnumDescriptor* e, int v, size_t prefix) {
      const auto* value = e->FindValueByNumber(v);
      return value == nullptr ? std::string() : std::string(value->name()).substr(prefix);
    };
    std::vector<std::string> row;
    row.push_back(s.opened_year() > 0 ? std::to_string(s.opened_year()) : "");
    row.push_back(s.case_status() == v1::CASE_STATUS_OPEN ? "Open" : "Closed");
    row.push_back(s.closure_reason() == v1::CLOSURE_REASON_UNSPECIFIED
                      ? ""
                      : code(v1::ClosureReason_descriptor(), s.closure_reason(), 15));
    row.push_back(s.referrer_type() == v1::ORGANISATION_TYPE_UNSPECIFIED
                      ? ""
                      : code(v1::OrganisationType_descriptor(), s.referrer_type(), 18));
    row.push_back(Gender(s.sex()));
    row.push_back(CtdcAgeLabel(s.age_band_ctdc()));
    row.push_back(FirstOr(s.citizenships()));
    row.push_back(Joined(s.forms_suspected(), [&](int v) {
      return code(v1::ExploitationForm_descriptor(), v, 18);
    }));
    row.push_back(Joined(s.means_of_control(), [&](int v) {
      return code(v1::MeansOfControl_descriptor(), v, 17);
    }));
    row.push_back(Joined(s.labour_types(), [&](int v) {
      return code(v1::LabourType_descriptor(), v, 12);
    }));
    row.push_back(FirstOr(s.countries_of_exploitation()));
    d.rows.push_back(std::move(row));
  }
  return d;
}

std::vector<Generalisation> Ladder(absl::string_view format) {
  if (format == "ctdc") {
    return {
        {"citizenship, CountryOfExploitation: codes held by fewer than k rows -> ZZ",
         {"citizenship", "CountryOfExploitation"}, Change::kRareToOther},
        {"ageBroad: removed (majorityStatus kept)", {"ageBroad"}, Change::kBlank},
        {"typeOfLabour*, typeOfSex*: removed", {"typeOfLabour*", "typeOfSex*"}, Change::kBlank},
        {"RecruiterRelation*: removed", {"RecruiterRelation*"}, Change::kBlank},
        {"meansOfControl*: removed", {"meansOfControl*"}, Change::kBlank},
        {"citizenship, CountryOfExploitation: removed", {"citizenship", "CountryOfExploitation"},
         Change::kBlank},
        {"isForcedMarriage, isOrganRemoval, isSlaveryAndPractices, isOtherExploit: removed",
         {"isForcedMarriage", "isOrganRemoval", "isSlaveryAndPractices", "isOtherExploit"},
         Change::kBlank},
        {"yearOfRegistration: removed", {"yearOfRegistration"}, Change::kBlank},
    };
  }
  return {
      {"citizenship, countryOfExploitation: codes held by fewer than k rows -> ZZ",
       {"citizenship", "countryOfExploitation"}, Change::kRareToOther},
      {"ageBroad: removed", {"ageBroad"}, Change::kBlank},
      {"methodOfControl, forcedLabourIndustry: removed", {"methodOfControl", "forcedLabourIndustry"},
       Change::kBlank},
      {"reasonForCaseClosure, referringOrganisationType: removed",
       {"reasonForCaseClosure", "referringOrganisationType"}, Change::kBlank},
      {"citizenship, countryOfExploitation: removed", {"citizenship", "countryOfExploitation"},
       Change::kBlank},
      {"yearOfRegistration: removed", {"yearOfRegistration"}, Change::kBlank},
  };
}

bool Names(const std::string& pattern, const std::string& column) {
  if (!pattern.empty() && pattern.back() == '*') {
    return column.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  }
  return pattern == column;
}

void Apply(const Generalisation& g, int k, Dataset* d) {
  for (size_t c = 0; c < d->columns.size(); ++c) {
    bool named = false;
    for (const std::string& p : g.columns) named = named || Names(p, d->columns[c]);
    if (!named) continue;
    std::map<std::string, int64_t> held;
    if (g.change == Change::kRareToOther) {
      for (const auto& row : d->rows) ++held[row[c]];
    }
    for (auto& row : d->rows) {
      if (g.change == Change::kBlank) {
        row[c].clear();
      } else if (!row[c].empty() && held[row[c]] < k) {
        row[c] = "ZZ";
      }
    }
  }
}

// Rows in a group of fewer than k identical rows.
std::vector<bool> Exposed(const Dataset& d, int k) {
  std::map<std::vector<std::string>, int64_t> groups;
  for (const auto& row : d.rows) ++groups[row];
  std::vector<bool> out;
  for (const auto& row : d.rows) out.push_back(groups[row] < k);
  return out;
}

}  // namespace

absl::StatusOr<Dataset> BuildDataset(absl::string_view format,
                                     const std::vector<v1::CaseStatistics>& records) {
  if (format == "ctdc") return Ctdc(records);
  if (format == "htcds") return Htcds(records);
  return absl::InvalidArgumentError("format must be ctdc or htcds");
}

v1::ExportDatasetResponse Anonymise(absl::string_view format, Dataset d, int k,
                                    double max_suppressed_share) {
  v1::ExportDatasetResponse out;
  out.set_k(k);
  auto count = [&] {
    std::vector<bool> exposed = Exposed(d, k);
    return std::count(exposed.begin(), exposed.end(), true);
  };
  const double budget = max_suppressed_share * static_cast<double>(d.rows.size());
  for (const Generalisation& g : Ladder(format)) {
    if (static_cast<double>(count()) <= budget) break;
    Apply(g, k, &d);
    out.add_generalisations(g.description);
  }
  std::vector<bool> exposed = Exposed(d, k);
  Dataset kept;
  kept.columns = d.columns;
  for (size_t i = 0; i < d.rows.size(); ++i) {
    if (!exposed[i]) kept.rows.push_back(std::move(d.rows[i]));
  }
  out.set_rows_suppressed(static_cast<int64_t>(d.rows.size() - kept.rows.size()));
  if (out.rows_suppressed() > 0) {
    out.add_generalisations(absl::StrCat(out.rows_suppressed(),
                                         " rows in groups of fewer than k left out"));
  }
  // Rows in random-id order already; sort so that order says nothing either.
  std::sort(kept.rows.begin(), kept.rows.end());
  out.set_rows(static_cast<int64_t>(kept.rows.size()));
  out.set_csv(ToCsv(kept));
  return out;
}

std::string ToCsv(const Dataset& d) {
  std::string out = absl::StrJoin(d.columns, ",");
  out.push_back('\n');
  for (const auto& row : d.rows) {
    absl::StrAppend(&out, absl::StrJoin(row, ","), "\n");
  }
  return out;
}

}  // namespace haven::statistics
