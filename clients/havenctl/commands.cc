// havenctl: the implementation of every command, talking to Haven over gRPC.
#include "commands.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/timestamp.pb.h"
#include "grpc/support/log.h"
#include "grpcpp/grpcpp.h"
#include "haven/v1/admin.grpc.pb.h"
#include "haven/v1/audit.grpc.pb.h"
#include "haven/v1/case.grpc.pb.h"
#include "haven/v1/hotline.grpc.pb.h"
#include "haven/v1/identification.grpc.pb.h"
#include "haven/v1/protection.grpc.pb.h"
#include "haven/v1/referral.grpc.pb.h"
#include "haven/v1/repatriation.grpc.pb.h"
#include "haven/v1/statistics.grpc.pb.h"

namespace havenctl {
namespace {

namespace v1 = haven::v1;
using AdminStub = v1::AdminService::Stub;
using CaseStub = v1::CaseService::Stub;
using AuditStub = v1::AuditService::Stub;
using IdentStub = v1::IdentificationService::Stub;
using ReferralStub = v1::ReferralService::Stub;
using HotlineStub = v1::HotlineService::Stub;
using ProtectionStub = v1::ProtectionService::Stub;

// ---------------------------------------------------------------------------
// Names of enum values on the command line and in tables.

template <typename E>
struct Named {
  absl::string_view name;
  E value;
};

constexpr Named<v1::OrganisationType> kOrganisationTypes[] = {
    {"ngo", v1::ORGANISATION_TYPE_NGO},
    {"law-enforcement", v1::ORGANISATION_TYPE_LAW_ENFORCEMENT},
    {"competent-authority", v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY},
    {"service-provider", v1::ORGANISATION_TYPE_SERVICE_PROVIDER},
    {"hotline", v1::ORGANISATION_TYPE_HOTLINE},
    {"international-organisation",
     v1::ORGANISATION_TYPE_INTERNATIONAL_ORGANISATION},
    {"consulate", v1::ORGANISATION_TYPE_CONSULATE},
};

constexpr Named<v1::Role> kRoles[] = {
    {"hotline-operator", v1::ROLE_HOTLINE_OPERATOR},
    {"caseworker", v1::ROLE_CASEWORKER},
    {"supervisor", v1::ROLE_SUPERVISOR},
    {"decision-maker", v1::ROLE_DECISION_MAKER},
    {"service-provider-staff", v1::ROLE_SERVICE_PROVIDER_STAFF},
    {"return-officer", v1::ROLE_RETURN_OFFICER},
    {"law-enforcement-liaison", v1::ROLE_LAW_ENFORCEMENT_LIAISON},
    {"analyst", v1::ROLE_ANALYST},
    {"auditor", v1::ROLE_AUDITOR},
    {"administrator", v1::ROLE_ADMINISTRATOR},
};

constexpr Named<v1::Sex> kSexes[] = {
    {"female", v1::SEX_FEMALE},
    {"male", v1::SEX_MALE},
    {"other", v1::SEX_OTHER},
    {"unknown", v1::SEX_UNKNOWN},
};

constexpr Named<v1::ConfidentialityClass> kClasses[] = {
    {"administrative", v1::CONFIDENTIALITY_ADMINISTRATIVE},
    {"pseudonymous", v1::CONFIDENTIALITY_PSEUDONYMOUS},
    {"identifying", v1::CONFIDENTIALITY_IDENTIFYING},
    {"location", v1::CONFIDENTIALITY_LOCATION},
    {"health", v1::CONFIDENTIALITY_HEALTH},
    {"narrative", v1::CONFIDENTIALITY_NARRATIVE},
};

constexpr Named<v1::CaseAction> kActions[] = {
    {"create", v1::CASE_ACTION_CREATE}, {"read", v1::CASE_ACTION_READ},
    {"update", v1::CASE_ACTION_UPDATE}, {"erase", v1::CASE_ACTION_ERASE},
    {"share", v1::CASE_ACTION_SHARE},
};

constexpr Named<v1::AuditOutcome> kOutcomes[] = {
    {"allowed", v1::AUDIT_OUTCOME_ALLOWED},
    {"denied", v1::AUDIT_OUTCOME_DENIED},
};

constexpr Named<v1::CaseStatus> kCaseStatuses[] = {
    {"open", v1::CASE_STATUS_OPEN},
    {"closed", v1::CASE_STATUS_CLOSED},
    {"erased", v1::CASE_STATUS_ERASED},
};

constexpr Named<v1::IdentificationStatus> kIdentStatuses[] = {
    {"potential-victim", v1::IDENTIFICATION_STATUS_POTENTIAL_VICTIM},
    {"presumed-victim", v1::IDENTIFICATION_STATUS_PRESUMED_VICTIM},
    {"reasonable-grounds", v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS},
    {"reasonable-grounds-negative",
     v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS_NEGATIVE},
    {"confirmed-victim", v1::IDENTIFICATION_STATUS_CONFIRMED_VICTIM},
    {"conclusive-grounds-negative",
     v1::IDENTIFICATION_STATUS_CONCLUSIVE_GROUNDS_NEGATIVE},
    {"reconsideration-requested",
     v1::IDENTIFICATION_STATUS_RECONSIDERATION_REQUESTED},
};

constexpr Named<v1::ClosureReason> kClosureReasons[] = {
    {"services-completed", v1::CLOSURE_REASON_SERVICES_COMPLETED},
    {"returned-home", v1::CLOSURE_REASON_RETURNED_HOME},
    {"lost-contact", v1::CLOSURE_REASON_LOST_CONTACT},
    {"declined-assistance", v1::CLOSURE_REASON_DECLINED_ASSISTANCE},
    {"not-a-victim", v1::CLOSURE_REASON_NOT_A_VICTIM},
    {"transferred", v1::CLOSURE_REASON_TRANSFERRED},
    {"duplicate", v1::CLOSURE_REASON_DUPLICATE},
    {"deceased", v1::CLOSURE_REASON_DECEASED},
};

constexpr Named<v1::ConsentPurpose> kConsentPurposes[] = {
    {"share-with-service-providers",
     v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS},
    {"share-with-law-enforcement", v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT},
    {"share-with-another-country", v1::CONSENT_PURPOSE_SHARE_WITH_ANOTHER_COUNTRY},
    {"return", v1::CONSENT_PURPOSE_RETURN},
    {"statistics", v1::CONSENT_PURPOSE_STATISTICS},
};

constexpr Named<v1::TimelineEventKind> kTimelineKinds[] = {
    {"opened", v1::TIMELINE_EVENT_OPENED},
    {"updated", v1::TIMELINE_EVENT_UPDATED},
    {"assigned", v1::TIMELINE_EVENT_ASSIGNED},
    {"consent-recorded", v1::TIMELINE_EVENT_CONSENT_RECORDED},
    {"consent-withdrawn", v1::TIMELINE_EVENT_CONSENT_WITHDRAWN},
    {"person-linked", v1::TIMELINE_EVENT_PERSON_LINKED},
    {"screened", v1::TIMELINE_EVENT_SCREENED},
    {"status-changed", v1::TIMELINE_EVENT_STATUS_CHANGED},
    {"proceeding-recorded", v1::TIMELINE_EVENT_PROCEEDING_RECORDED},
    {"guardian-recorded", v1::TIMELINE_EVENT_GUARDIAN_RECORDED},
    {"best-interests-assessed", v1::TIMELINE_EVENT_BEST_INTERESTS_ASSESSED},
    {"closed", v1::TIMELINE_EVENT_CLOSED},
    {"reopened", v1::TIMELINE_EVENT_REOPENED},
    {"erasure-requested", v1::TIMELINE_EVENT_ERASURE_REQUESTED},
    {"referred", v1::TIMELINE_EVENT_REFERRED},
    {"service-delivered", v1::TIMELINE_EVENT_SERVICE_DELIVERED},
    {"access-granted", v1::TIMELINE_EVENT_ACCESS_GRANTED},
    {"access-revoked", v1::TIMELINE_EVENT_ACCESS_REVOKED},
    {"plan-changed", v1::TIMELINE_EVENT_PLAN_CHANGED},
    {"plan-approved", v1::TIMELINE_EVENT_PLAN_APPROVED},
    {"permit-recorded", v1::TIMELINE_EVENT_PERMIT_RECORDED},
    {"protection-recorded", v1::TIMELINE_EVENT_PROTECTION_RECORDED},
    {"reflection-extended", v1::TIMELINE_EVENT_REFLECTION_EXTENDED},
    {"return-planned", v1::TIMELINE_EVENT_RETURN_PLANNED},
    {"return-assessed", v1::TIMELINE_EVENT_RETURN_ASSESSED},
    {"return-approved", v1::TIMELINE_EVENT_RETURN_APPROVED},
    {"return-moved", v1::TIMELINE_EVENT_RETURN_MOVED},
    {"return-follow-up", v1::TIMELINE_EVENT_RETURN_FOLLOW_UP},
};

constexpr Named<v1::AlertKind> kAlertKinds[] = {
    {"possible-duplicate", v1::ALERT_KIND_POSSIBLE_DUPLICATE},
    {"non-punishment", v1::ALERT_KIND_NON_PUNISHMENT},
    {"consent-withdrawn-abroad", v1::ALERT_KIND_CONSENT_WITHDRAWN_ABROAD},
    {"erased-abroad", v1::ALERT_KIND_ERASED_ABROAD},
    {"access-approval-needed", v1::ALERT_KIND_ACCESS_APPROVAL_NEEDED},
    {"permit-expiring", v1::ALERT_KIND_PERMIT_EXPIRING},
    {"plan-item-overdue", v1::ALERT_KIND_PLAN_ITEM_OVERDUE},
    {"reflection-ending", v1::ALERT_KIND_REFLECTION_ENDING},
    {"shelter-full", v1::ALERT_KIND_SHELTER_FULL},
    {"return-suspended", v1::ALERT_KIND_RETURN_SUSPENDED},
    {"return-follow-up-overdue", v1::ALERT_KIND_RETURN_FOLLOW_UP_OVERDUE},
    {"return-person-not-reached", v1::ALERT_KIND_RETURN_PERSON_NOT_REACHED},
    {"liaison-referral", v1::ALERT_KIND_LIAISON_REFERRAL},
    {"disclosure-approval-needed", v1::ALERT_KIND_DISCLOSURE_APPROVAL_NEEDED},
};

constexpr Named<v1::AlertResolution> kAlertResolutions[] = {
    {"acted-on", v1::ALERT_RESOLUTION_ACTED_ON},
    {"not-the-same-person", v1::ALERT_RESOLUTION_NOT_THE_SAME_PERSON},
    {"already-handled", v1::ALERT_RESOLUTION_ALREADY_HANDLED},
    {"not-needed", v1::ALERT_RESOLUTION_NOT_NEEDED},
};

constexpr Named<v1::DecisionKind> kDecisionKinds[] = {
    {"rg", v1::DECISION_KIND_REASONABLE_GROUNDS},
    {"cg", v1::DECISION_KIND_CONCLUSIVE_GROUNDS},
};

constexpr Named<v1::ReferralPurpose> kReferralPurposes[] = {
    {"assessment", v1::REFERRAL_PURPOSE_ASSESSMENT},
    {"shelter", v1::REFERRAL_PURPOSE_SHELTER},
    {"medical", v1::REFERRAL_PURPOSE_MEDICAL},
    {"psychological", v1::REFERRAL_PURPOSE_PSYCHOLOGICAL},
    {"legal-aid", v1::REFERRAL_PURPOSE_LEGAL_AID},
    {"interpretation", v1::REFERRAL_PURPOSE_INTERPRETATION},
    {"investigation", v1::REFERRAL_PURPOSE_INVESTIGATION},
    {"return", v1::REFERRAL_PURPOSE_RETURN},
    {"reintegration", v1::REFERRAL_PURPOSE_REINTEGRATION},
};

constexpr Named<v1::ReferralStatus> kReferralStatuses[] = {
    {"draft", v1::REFERRAL_STATUS_DRAFT},
    {"sent", v1::REFERRAL_STATUS_SENT},
    {"acknowledged", v1::REFERRAL_STATUS_ACKNOWLEDGED},
    {"accepted", v1::REFERRAL_STATUS_ACCEPTED},
    {"declined", v1::REFERRAL_STATUS_DECLINED},
    {"completed", v1::REFERRAL_STATUS_COMPLETED},
    {"cancelled", v1::REFERRAL_STATUS_CANCELLED},
    {"expired", v1::REFERRAL_STATUS_EXPIRED},
};

constexpr Named<v1::Urgency> kUrgencies[] = {
    {"routine", v1::URGENCY_ROUTINE},
    {"urgent", v1::URGENCY_URGENT},
    {"emergency", v1::URGENCY_EMERGENCY},
};

constexpr Named<v1::LawfulBasis> kLawfulBases[] = {
    {"consent", v1::LAWFUL_BASIS_CONSENT},
    {"child-protection-emergency", v1::LAWFUL_BASIS_CHILD_PROTECTION_EMERGENCY},
    {"vital-interests", v1::LAWFUL_BASIS_VITAL_INTERESTS},
    {"judicial-order", v1::LAWFUL_BASIS_JUDICIAL_ORDER},
    {"legal-obligation", v1::LAWFUL_BASIS_LEGAL_OBLIGATION},
};


constexpr Named<v1::ContactChannel> kChannels[] = {
    {"phone", v1::CONTACT_CHANNEL_PHONE},     {"sms", v1::CONTACT_CHANNEL_SMS},
    {"chat", v1::CONTACT_CHANNEL_CHAT},       {"email", v1::CONTACT_CHANNEL_EMAIL},
    {"web-form", v1::CONTACT_CHANNEL_WEB_FORM}, {"walk-in", v1::CONTACT_CHANNEL_WALK_IN},
};

constexpr Named<v1::CallerType> kCallerTypes[] = {
    {"potential-victim", v1::CALLER_TYPE_POTENTIAL_VICTIM},
    {"third-party", v1::CALLER_TYPE_THIRD_PARTY},
    {"professional", v1::CALLER_TYPE_PROFESSIONAL},
    {"anonymous", v1::CALLER_TYPE_ANONYMOUS},
};

constexpr Named<v1::ContactCategory> kContactCategories[] = {
    {"information", v1::CONTACT_CATEGORY_INFORMATION},
    {"suspected-trafficking", v1::CONTACT_CATEGORY_SUSPECTED_TRAFFICKING},
    {"other-exploitation", v1::CONTACT_CATEGORY_OTHER_EXPLOITATION},
    {"request-for-help", v1::CONTACT_CATEGORY_REQUEST_FOR_HELP},
    {"other", v1::CONTACT_CATEGORY_OTHER},
    {"silent", v1::CONTACT_CATEGORY_SILENT},
    {"hang-up", v1::CONTACT_CATEGORY_HANG_UP},
    {"test", v1::CONTACT_CATEGORY_TEST},
    {"abusive", v1::CONTACT_CATEGORY_ABUSIVE},
};

constexpr Named<v1::ContactUrgency> kContactUrgencies[] = {
    {"low", v1::CONTACT_URGENCY_LOW},
    {"medium", v1::CONTACT_URGENCY_MEDIUM},
    {"high", v1::CONTACT_URGENCY_HIGH},
};

constexpr Named<v1::EmergencyAction> kEmergencyActions[] = {
    {"police-called", v1::EMERGENCY_ACTION_POLICE_CALLED},
    {"ambulance-called", v1::EMERGENCY_ACTION_AMBULANCE_CALLED},
    {"emergency-shelter", v1::EMERGENCY_ACTION_EMERGENCY_SHELTER},
    {"caller-advised-to-call-emergency",
     v1::EMERGENCY_ACTION_CALLER_ADVISED_TO_CALL_EMERGENCY},
    {"other", v1::EMERGENCY_ACTION_OTHER},
};

constexpr Named<v1::CallbackStatus> kCallbackStatuses[] = {
    {"open", v1::CALLBACK_STATUS_OPEN},
    {"done", v1::CALLBACK_STATUS_DONE},
    {"cancelled", v1::CALLBACK_STATUS_CANCELLED},
};

constexpr Named<v1::ServiceKind> kServiceKinds[] = {
    {"shelter", v1::SERVICE_KIND_SHELTER},
    {"medical", v1::SERVICE_KIND_MEDICAL},
    {"psychological", v1::SERVICE_KIND_PSYCHOLOGICAL},
    {"legal-aid", v1::SERVICE_KIND_LEGAL_AID},
    {"interpretation", v1::SERVICE_KIND_INTERPRETATION},
    {"education", v1::SERVICE_KIND_EDUCATION},
    {"vocational-training", v1::SERVICE_KIND_VOCATIONAL_TRAINING},
    {"housing", v1::SERVICE_KIND_HOUSING},
    {"financial-assistance", v1::SERVICE_KIND_FINANCIAL_ASSISTANCE},
    {"family-tracing", v1::SERVICE_KIND_FAMILY_TRACING},
    {"other", v1::SERVICE_KIND_OTHER},
};

constexpr Named<v1::ServiceStatus> kServiceStatuses[] = {
    {"active", v1::SERVICE_STATUS_ACTIVE},
    {"inactive", v1::SERVICE_STATUS_INACTIVE},
    {"temporarily-closed", v1::SERVICE_STATUS_TEMPORARILY_CLOSED},
    {"defunct", v1::SERVICE_STATUS_DEFUNCT},
};

constexpr Named<v1::PlanItemStatus> kPlanItemStatuses[] = {
    {"planned", v1::PLAN_ITEM_STATUS_PLANNED},       {"referred", v1::PLAN_ITEM_STATUS_REFERRED},
    {"in-progress", v1::PLAN_ITEM_STATUS_IN_PROGRESS}, {"delivered", v1::PLAN_ITEM_STATUS_DELIVERED},
    {"declined", v1::PLAN_ITEM_STATUS_DECLINED},     {"cancelled", v1::PLAN_ITEM_STATUS_CANCELLED},
};

constexpr Named<v1::PermitType> kPermitTypes[] = {
    {"reflection", v1::PERMIT_TYPE_REFLECTION},
    {"temporary-victim", v1::PERMIT_TYPE_TEMPORARY_VICTIM},
    {"humanitarian", v1::PERMIT_TYPE_HUMANITARIAN},
    {"permanent", v1::PERMIT_TYPE_PERMANENT},
};

constexpr Named<v1::PermitStatus> kPermitStatuses[] = {
    {"applied", v1::PERMIT_STATUS_APPLIED},
    {"granted", v1::PERMIT_STATUS_GRANTED},
    {"refused", v1::PERMIT_STATUS_REFUSED},
    {"withdrawn", v1::PERMIT_STATUS_WITHDRAWN},
};

constexpr Named<v1::ShelterGroup> kShelterGroups[] = {
    {"women", v1::SHELTER_GROUP_WOMEN},
    {"men", v1::SHELTER_GROUP_MEN},
    {"children", v1::SHELTER_GROUP_CHILDREN},
    {"families", v1::SHELTER_GROUP_FAMILIES},
};

constexpr Named<v1::AccessibilityFeature> kAccessibilityFeatures[] = {
    {"wheelchair", v1::ACCESSIBILITY_FEATURE_WHEELCHAIR},
    {"step-free", v1::ACCESSIBILITY_FEATURE_STEP_FREE},
    {"accessible-toilet", v1::ACCESSIBILITY_FEATURE_ACCESSIBLE_TOILET},
    {"hearing-loop", v1::ACCESSIBILITY_FEATURE_HEARING_LOOP},
    {"sign-language", v1::ACCESSIBILITY_FEATURE_SIGN_LANGUAGE},
    {"braille", v1::ACCESSIBILITY_FEATURE_BRAILLE},
};

constexpr Named<v1::Weekday> kWeekdays[] = {
    {"mon", v1::WEEKDAY_MONDAY},    {"tue", v1::WEEKDAY_TUESDAY},
    {"wed", v1::WEEKDAY_WEDNESDAY}, {"thu", v1::WEEKDAY_THURSDAY},
    {"fri", v1::WEEKDAY_FRIDAY},    {"sat", v1::WEEKDAY_SATURDAY},
    {"sun", v1::WEEKDAY_SUNDAY},
};

// Looks `text` up in `table` ("Law_Enforcement" matches "law-enforcement").
template <typename E, size_t N>
E ParseName(const Named<E> (&table)[N], absl::string_view what,
            absl::string_view text) {
  std::string key = absl::AsciiStrToLower(text);
  std::replace(key.begin(), key.end(), '_', '-');
  for (const Named<E>& entry : table) {
    if (entry.name == key) return entry.value;
  }
  std::vector<absl::string_view> names;
  for (const Named<E>& entry : table) names.push_back(entry.name);
  throw UsageError(absl::StrCat("unknown ", what, " \"", text,
                                "\"; one of: ", absl::StrJoin(names, ", ")));
}

template <typename E, size_t N>
std::string NameOf(const Named<E> (&table)[N], int value) {
  for (const Named<E>& entry : table) {
    if (static_cast<int>(entry.value) == value) return std::string(entry.name);
  }
  return absl::StrCat("?", value);
}

template <typename E, size_t N>
std::string NamesOf(const Named<E> (&table)[N],
                    const google::protobuf::RepeatedField<int>& values) {
  std::vector<std::string> names;
  for (int value : values) names.push_back(NameOf(table, value));
  return absl::StrJoin(names, ",");
}

template <typename E, size_t N>
std::string AllNames(const Named<E> (&table)[N]) {
  std::vector<absl::string_view> names;
  for (const Named<E>& entry : table) names.push_back(entry.name);
  return absl::StrJoin(names, ", ");
}

// ---------------------------------------------------------------------------
// Small helpers.

std::string ErrnoText() { return std::strerror(errno); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Failure(absl::StrCat("cannot read ", path, ": ", ErrnoText()));
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// Replaces control characters so that server-supplied text cannot drive the
// terminal.
std::string Clean(absl::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  const absl::Time t =
      absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// RFC 3339 ("2024-05-01T12:00:00Z"), or a bare date taken as midnight UTC.
google::protobuf::Timestamp ParseTimeFlag(absl::string_view flag,
                                          const std::string& text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err) &&
      !absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &err)) {
    throw UsageError(absl::StrCat("--", flag, ": \"", text,
                                  "\" is not an RFC 3339 time such as "
                                  "2024-05-01T12:00:00Z"));
  }
  google::protobuf::Timestamp ts;
  const int64_t seconds = absl::ToUnixSeconds(t);
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
  return ts;
}

uint64_t ParseUnsigned(absl::string_view flag, const std::string& text,
                       uint64_t max) {
  uint64_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value > max || text.empty() ||
      text[0] == '-' || text[0] == '+') {
    throw UsageError(absl::StrCat("--", flag, ": \"", text,
                                  "\" is not a number from 0 to ", max));
  }
  return value;
}

bool ParseBool(absl::string_view flag, const std::string& text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "true" || lower == "yes") return true;
  if (lower == "false" || lower == "no") return false;
  throw UsageError(absl::StrCat("--", flag, ": expected true or false"));
}

// ISO 3166-1 alpha-2, returned upper case.
std::string ParseCountry(absl::string_view flag, const std::string& text) {
  if (text.size() != 2 || !absl::ascii_isalpha(static_cast<unsigned char>(text[0])) ||
      !absl::ascii_isalpha(static_cast<unsigned char>(text[1]))) {
    throw UsageError(absl::StrCat("--", flag, ": \"", text,
                                  "\" is not a two-letter country code"));
  }
  return absl::AsciiStrToUpper(text);
}

// YYYY-MM-DD, or YYYY-MM or YYYY when the rest is unknown.
v1::Date ParseDate(absl::string_view flag, const std::string& text) {
  const std::vector<std::string> parts = absl::StrSplit(text, '-');
  const uint64_t limits[] = {9999, 12, 31};
  uint64_t numbers[] = {0, 0, 0};
  bool ok = !parts.empty() && parts.size() <= 3 && parts[0].size() == 4;
  for (size_t i = 0; ok && i < parts.size(); ++i) {
    ok = !parts[i].empty() &&
         std::all_of(parts[i].begin(), parts[i].end(),
                     [](char c) { return c >= '0' && c <= '9'; }) &&
         absl::SimpleAtoi(parts[i], &numbers[i]) && numbers[i] >= 1 &&
         numbers[i] <= limits[i];
  }
  if (!ok) {
    throw UsageError(absl::StrCat("--", flag, ": \"", text,
                                  "\" is not a date YYYY-MM-DD (or YYYY-MM, YYYY)"));
  }
  v1::Date date;
  date.set_year(static_cast<int32_t>(numbers[0]));
  date.set_month(static_cast<int32_t>(numbers[1]));
  date.set_day(static_cast<int32_t>(numbers[2]));
  return date;
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()),
                 static_cast<int>(raw.size())) != 1) {
    throw Failure("cannot get random bytes");
  }
  return absl::BytesToHexString(raw);
}

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: break;
  }
  return absl::StrCat("CODE_", static_cast<int>(code));
}

void Check(const grpc::Status& status) {
  if (!status.ok()) {
    throw Failure(absl::StrCat(CodeName(status.error_code()), ": ",
                               Clean(status.error_message())));
  }
}

// ---------------------------------------------------------------------------
// The stored session token.

std::string TokenPath() {
  const char* file = std::getenv("HAVEN_TOKEN_FILE");
  if (file != nullptr && *file != '\0') return file;
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    const passwd* pw = getpwuid(getuid());
    if (pw == nullptr) throw Failure("cannot find the home directory");
    home = pw->pw_dir;
  }
  return absl::StrCat(home, "/.config/haven/token");
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// mkdir -p, creating missing directories with mode 0700.
void MakeDirectories(const std::string& dir) {
  for (size_t pos = dir.find('/', 1);; pos = dir.find('/', pos + 1)) {
    const std::string prefix = dir.substr(0, pos);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      throw Failure(absl::StrCat("cannot create ", prefix, ": ", ErrnoText()));
    }
    if (pos == std::string::npos) break;
  }
}

// Writes the token to a fresh 0600 file and renames it into place.
void StoreToken(const std::string& token) {
  const std::string path = TokenPath();
  const std::string dir = DirectoryOf(path);
  MakeDirectories(dir);
  std::string tmp = path + ".XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) throw Failure(absl::StrCat("cannot write ", path, ": ", ErrnoText()));
  const std::string contents = token + "\n";
  const bool ok = fchmod(fd, 0600) == 0 &&
                  write(fd, contents.data(), contents.size()) ==
                      static_cast<ssize_t>(contents.size()) &&
                  fsync(fd) == 0;
  const std::string error = ErrnoText();
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string rename_error = ok ? ErrnoText() : error;
    unlink(tmp.c_str());
    throw Failure(absl::StrCat("cannot write ", path, ": ", rename_error));
  }
}

// Returns the token from $HAVEN_TOKEN or the token file, or "" when neither.
std::string LoadToken() {
  const char* env = std::getenv("HAVEN_TOKEN");
  if (env != nullptr && *env != '\0') {
    return std::string(absl::StripAsciiWhitespace(env));
  }
  const std::string path = TokenPath();
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return "";
    throw Failure(absl::StrCat("cannot read ", path, ": ", ErrnoText()));
  }
  struct stat st {};
  if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
    std::cerr << "warning: " << path
              << " can be read by other users; run: chmod 600 " << path << "\n";
  }
  std::string contents;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) {
    contents.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return std::string(absl::StripAsciiWhitespace(contents));
}

// ---------------------------------------------------------------------------
// Passwords: prompted without echo on a terminal, else one line of stdin.

termios g_saved_termios;

extern "C" void RestoreTerminal(int signal_number) {
  tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
  raise(signal_number);  // the handler was reset (SA_RESETHAND): this kills.
}

std::string ReadSecret(const char* prompt) {
  std::string line;
  bool got_line = false;
  if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &g_saved_termios) == 0) {
    std::cerr << prompt << std::flush;
    struct sigaction restore {};
    restore.sa_handler = RestoreTerminal;
    restore.sa_flags = SA_RESETHAND;
    sigemptyset(&restore.sa_mask);
    struct sigaction old_int {}, old_term {}, old_hup {};
    sigaction(SIGINT, &restore, &old_int);
    sigaction(SIGTERM, &restore, &old_term);
    sigaction(SIGHUP, &restore, &old_hup);
    termios quiet = g_saved_termios;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    got_line = static_cast<bool>(std::getline(std::cin, line));
    tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    sigaction(SIGHUP, &old_hup, nullptr);
    std::cerr << "\n";
  } else {
    got_line = static_cast<bool>(std::getline(std::cin, line));
  }
  if (!got_line) throw Failure("no password given on standard input");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) throw Failure("empty password");
  return line;
}

// ---------------------------------------------------------------------------
// Output.

// Prints google.protobuf.Timestamp as seconds plus a readable comment.
class TimestampPrinter : public google::protobuf::TextFormat::MessagePrinter {
 public:
  void Print(const google::protobuf::Message& message, bool single_line_mode,
             google::protobuf::TextFormat::BaseTextGenerator* generator)
      const override {
    google::protobuf::Timestamp ts;
    ts.CopyFrom(message);
    std::string text = absl::StrCat("seconds: ", ts.seconds());
    if (ts.nanos() != 0) absl::StrAppend(&text, " nanos: ", ts.nanos());
    if (single_line_mode) {
      absl::StrAppend(&text, " ");
    } else {
      absl::StrAppend(&text, "  # ", FormatTime(ts), "\n");
    }
    generator->PrintString(text);
  }
};

void PrintMessage(const google::protobuf::Message& message) {
  google::protobuf::TextFormat::Printer printer;
  printer.SetUseUtf8StringEscaping(true);
  printer.RegisterMessagePrinter(google::protobuf::Timestamp::descriptor(),
                                 new TimestampPrinter());
  std::string text;
  printer.PrintToString(message, &text);
  std::cout << text << std::flush;
}

// Columns padded to the widest cell, two spaces apart.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) {
    for (std::string& cell : row) cell = Clean(cell.empty() ? "-" : cell);
    rows_.push_back(std::move(row));
  }
  void Print() const {
    std::vector<size_t> widths;
    for (const auto& row : rows_) {
      widths.resize(std::max(widths.size(), row.size()), 0);
      for (size_t i = 0; i < row.size(); ++i) {
        widths[i] = std::max(widths[i], Width(row[i]));
      }
    }
    for (const auto& row : rows_) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) line.append(widths[i] - Width(row[i]) + 2, ' ');
      }
      std::cout << line << "\n";
    }
    std::cout << std::flush;
  }

 private:
  // Characters, not bytes, of UTF-8 text.
  static size_t Width(const std::string& text) {
    return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
      return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
  }
  std::vector<std::vector<std::string>> rows_;
};

// ---------------------------------------------------------------------------
// The connection: channel, credentials and per-call metadata.

enum class Auth { kToken, kNone };

// gRPC's own log lines duplicate the status we print; kept when the user
// asks for them with GRPC_VERBOSITY.
void DiscardGrpcLog(gpr_log_func_args*) {}

class Session {
 public:
  explicit Session(const GlobalOptions& options) : options_(options) {
    if (std::getenv("GRPC_VERBOSITY") == nullptr) gpr_set_log_function(DiscardGrpcLog);
    std::shared_ptr<grpc::ChannelCredentials> credentials;
    if (options.ca_file.empty()) {
      credentials = grpc::InsecureChannelCredentials();
    } else {
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = ReadFile(options.ca_file);
      if (!options.cert_file.empty()) {
        ssl.pem_cert_chain = ReadFile(options.cert_file);
        ssl.pem_private_key = ReadFile(options.key_file);
      }
      credentials = grpc::SslCredentials(ssl);
    }
    channel_ = grpc::CreateChannel(options.server, credentials);
    admin_ = v1::AdminService::NewStub(channel_);
    cases_ = v1::CaseService::NewStub(channel_);
    audit_ = v1::AuditService::NewStub(channel_);
    ident_ = v1::IdentificationService::NewStub(channel_);
    referrals_ = v1::ReferralService::NewStub(channel_);
    hotline_ = v1::HotlineService::NewStub(channel_);
    protection_ = v1::ProtectionService::NewStub(channel_);
  }

  AdminStub* admin() { return admin_.get(); }
  CaseStub* cases() { return cases_.get(); }
  AuditStub* audit() { return audit_.get(); }
  IdentStub* ident() { return ident_.get(); }
  ReferralStub* referrals() { return referrals_.get(); }
  HotlineStub* hotline() { return hotline_.get(); }
  ProtectionStub* protection() { return protection_.get(); }

  // Sets the deadline, purpose, request id and credentials of one call
  // (streaming calls make their own context with it).
  void Prepare(grpc::ClientContext* context, Auth auth = Auth::kToken) {
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::milliseconds(options_.timeout_ms));
    if (!options_.purpose.empty()) context->AddMetadata("x-haven-purpose", options_.purpose);
    context->AddMetadata("x-request-id", RandomHex(16));
    if (auth == Auth::kToken && options_.cert_file.empty()) {
      context->AddMetadata("authorization", "Bearer " + Token());
    }
  }
  // For the stubs of services added later.
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // Makes one call with a deadline, purpose, request id and credentials.
  template <typename Stub, typename Request, typename Response>
  grpc::Status Invoke(Stub* stub,
                      grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                   const Request&, Response*),
                      const Request& request, Response* response,
                      Auth auth = Auth::kToken) {
    grpc::ClientContext context;
    Prepare(&context, auth);
    return (stub->*method)(&context, request, response);
  }

  // Invoke, throwing Failure on any error status.
  template <typename Stub, typename Request, typename Response>
  void Call(Stub* stub,
            grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                         Response*),
            const Request& request, Response* response,
            Auth auth = Auth::kToken) {
    Check(Invoke(stub, method, request, response, auth));
  }

 private:
  const std::string& Token() {
    if (token_.empty()) {
      token_ = LoadToken();
      if (token_.empty()) {
        throw Failure("not logged in: run `havenctl login USERNAME` or set HAVEN_TOKEN");
      }
      const bool printable = std::all_of(token_.begin(), token_.end(), [](char c) {
        return c > 0x20 && c < 0x7f;
      });
      if (!printable) throw Failure("the stored token is malformed: log in again");
    }
    return token_;
  }

  GlobalOptions options_;
  std::string token_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<AdminStub> admin_;
  std::unique_ptr<CaseStub> cases_;
  std::unique_ptr<AuditStub> audit_;
  std::unique_ptr<IdentStub> ident_;
  std::unique_ptr<ReferralStub> referrals_;
  std::unique_ptr<HotlineStub> hotline_;
  std::unique_ptr<ProtectionStub> protection_;
};

// ---------------------------------------------------------------------------
// Flags shared by several commands.

template <typename E, size_t N, typename Add>
void AddNames(const Named<E> (&table)[N], absl::string_view what,
              const std::vector<std::string>& texts, Add add) {
  for (const std::string& text : texts) add(ParseName(table, what, text));
}

std::vector<v1::Role> RequiredRoles(const Flags& flags) {
  if (!flags.Has("role")) throw UsageError("at least one --role is required");
  std::vector<v1::Role> roles;
  AddNames(kRoles, "role", flags.All("role"),
           [&](v1::Role role) { roles.push_back(role); });
  return roles;
}

// Subject fields settable from the command line, with their update paths.
struct SubjectField {
  std::string_view flag;
  absl::string_view path;
};

constexpr SubjectField kSubjectFields[] = {
    {"given-name", "subject.given_name"},
    {"family-name", "subject.family_name"},
    {"other-name", "subject.other_names"},
    {"sex", "subject.sex"},
    {"dob", "subject.date_of_birth"},
    {"estimated-age", "subject.estimated_age"},
    {"age-disputed", "subject.age_disputed"},
    {"citizenship", "subject.citizenships"},
    {"language", "subject.languages"},
};

// Sets the subject fields whose flags are present.
void FillSubject(const Flags& flags, v1::Subject* subject) {
  if (flags.Has("given-name")) subject->set_given_name(flags.Get("given-name"));
  if (flags.Has("family-name")) subject->set_family_name(flags.Get("family-name"));
  for (const std::string& name : flags.All("other-name")) subject->add_other_names(name);
  if (flags.Has("sex")) subject->set_sex(ParseName(kSexes, "sex", flags.Get("sex")));
  if (flags.Has("dob")) *subject->mutable_date_of_birth() = ParseDate("dob", flags.Get("dob"));
  if (flags.Has("estimated-age")) {
    subject->set_estimated_age(static_cast<uint32_t>(
        ParseUnsigned("estimated-age", flags.Get("estimated-age"), 150)));
  }
  if (flags.Has("age-disputed")) {
    subject->set_age_disputed(ParseBool("age-disputed", flags.Get("age-disputed")));
  }
  for (const std::string& cc : flags.All("citizenship")) {
    subject->add_citizenships(ParseCountry("citizenship", cc));
  }
  for (const std::string& tag : flags.All("language")) subject->add_languages(tag);
}

// Asks for confirmation on a terminal unless --yes was given.
bool Confirmed(const Flags& flags, const std::string& question,
               const std::string& expected) {
  if (flags.Has("yes") || !isatty(STDIN_FILENO)) return true;
  std::cerr << question << std::flush;
  std::string answer;
  return std::getline(std::cin, answer) &&
         absl::StripAsciiWhitespace(answer) == expected;
}

std::string GranteeOf(const v1::Grant& grant) {
  if (!grant.grantee_user_id().empty()) return "user:" + grant.grantee_user_id();
  return "org:" + grant.grantee_organisation_id();
}

}  // namespace

// ---------------------------------------------------------------------------
// Flags.

bool Flags::Has(std::string_view name) const { return values.find(name) != values.end(); }

std::string Flags::Get(std::string_view name, std::string_view fallback) const {
  const auto it = values.find(name);
  if (it == values.end() || it->second.empty()) return std::string(fallback);
  return it->second.back();
}

std::string Flags::Required(std::string_view name) const {
  if (!Has(name)) throw UsageError("--" + std::string(name) + " is required");
  return Get(name);
}

const std::vector<std::string>& Flags::All(std::string_view name) const {
  static const std::vector<std::string> kNone;
  const auto it = values.find(name);
  return it == values.end() ? kNone : it->second;
}

Flags ParseFlags(const std::vector<std::string>& argv, size_t begin,
                 const std::vector<FlagSpec>& specs, bool stop_at_positional,
                 size_t* next) {
  Flags flags;
  size_t i = begin;
  bool options_ended = false;
  for (; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (options_ended || arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
      if (stop_at_positional) break;
      flags.args.push_back(arg);
      continue;
    }
    if (arg == "--") {
      if (stop_at_positional) {
        ++i;
        break;
      }
      options_ended = true;
      continue;
    }
    const size_t equals = arg.find('=');
    const std::string name =
        arg.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
    const auto spec = std::find_if(specs.begin(), specs.end(),
                                   [&](const FlagSpec& s) { return s.name == name; });
    if (spec == specs.end()) throw UsageError(absl::StrCat("unknown option --", name));
    std::string value;
    if (!spec->takes_value) {
      if (equals != std::string::npos) {
        throw UsageError(absl::StrCat("--", name, " takes no value"));
      }
    } else if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
    } else if (i + 1 < argv.size() && argv[i + 1].compare(0, 2, "--") != 0) {
      value = argv[++i];
    } else {
      throw UsageError(absl::StrCat("--", name, " needs a value"));
    }
    std::vector<std::string>& slot = flags.values[name];
    if (!slot.empty() && !spec->repeated) {
      throw UsageError(absl::StrCat("--", name, " given more than once"));
    }
    slot.push_back(std::move(value));
  }
  if (next != nullptr) *next = i;
  return flags;
}

// ---------------------------------------------------------------------------
// Global options.

const std::vector<FlagSpec>& GlobalFlagSpecs() {
  static const std::vector<FlagSpec> kSpecs = {
      {"server", true, false},  {"ca", true, false},
      {"cert", true, false},    {"key", true, false},
      {"purpose", true, false}, {"timeout-ms", true, false},
  };
  return kSpecs;
}

void ApplyGlobalFlags(const Flags& flags, const std::vector<FlagSpec>& shadowed,
                      GlobalOptions* options) {
  const auto take = [&](std::string_view name, std::string* out) {
    const bool is_shadowed =
        std::any_of(shadowed.begin(), shadowed.end(),
                    [&](const FlagSpec& s) { return s.name == name; });
    if (!is_shadowed && flags.Has(name)) *out = flags.Get(name);
  };
  take("server", &options->server);
  take("ca", &options->ca_file);
  take("cert", &options->cert_file);
  take("key", &options->key_file);
  take("purpose", &options->purpose);
  std::string timeout;
  take("timeout-ms", &timeout);
  if (!timeout.empty()) {
    options->timeout_ms =
        static_cast<int64_t>(ParseUnsigned("timeout-ms", timeout, 3600000));
    if (options->timeout_ms == 0) throw UsageError("--timeout-ms must be positive");
  }
}

void CheckGlobalOptions(const GlobalOptions& options) {
  if (options.server.empty()) throw UsageError("--server must not be empty");
  if (options.cert_file.empty() != options.key_file.empty()) {
    throw UsageError("--cert and --key go together");
  }
  if (!options.cert_file.empty() && options.ca_file.empty()) {
    throw UsageError("mutual TLS (--cert, --key) needs --ca too");
  }
  const bool purpose_ok =
      std::all_of(options.purpose.begin(), options.purpose.end(),
                  [](char c) { return c > 0x20 && c < 0x7f; });
  if (!purpose_ok) throw UsageError("--purpose must be a printable token without spaces");
}

namespace {
// "  LABEL   a, b, c" wrapped at 79 columns.
template <typename E, size_t N>
std::string ValueLine(absl::string_view label, const Named<E> (&table)[N]) {
  // The label, then at least one space, values from column 10.
  std::string out = absl::StrCat("  ", label, " ");
  if (out.size() < 10) out.append(10 - out.size(), ' ');
  size_t column = out.size();
  for (size_t i = 0; i < N; ++i) {
    const std::string item = absl::StrCat(table[i].name, i + 1 < N ? "," : "");
    if (i > 0 && column + 1 + item.size() > 79) {
      out += "\n          ";
      column = 10;
    } else if (i > 0) {
      out += ' ';
      ++column;
    }
    out += item;
    column += item.size();
  }
  return out + "\n";
}
}  // namespace

std::string ValueHelp() {
  return absl::StrCat(ValueLine("TYPE", kOrganisationTypes), ValueLine("ROLE", kRoles),
                      ValueLine("SEX", kSexes), ValueLine("CLASS", kClasses),
                      ValueLine("ACTION", kActions), ValueLine("STATUS", kCaseStatuses),
                      ValueLine("CONSENT", kConsentPurposes),
                      ValueLine("CLOSURE", kClosureReasons),
                      ValueLine("REFERRAL", kReferralPurposes),
                      ValueLine("URGENCY", kUrgencies), ValueLine("BASIS", kLawfulBases),
                      ValueLine("CHANNEL", kChannels),
                      ValueLine("CATEGORY", kContactCategories),
                      ValueLine("CALLER", kCallerTypes),
                      ValueLine("EMERGENCY", kEmergencyActions),
                      ValueLine("KIND", kServiceKinds), ValueLine("GROUP", kShelterGroups),
                      ValueLine("FEATURE", kAccessibilityFeatures),
                      ValueLine("SSTATUS", kServiceStatuses),
                      ValueLine("PERMIT", kPermitTypes));
}

// ---------------------------------------------------------------------------
// Sessions and passwords.

int Login(const GlobalOptions& options, const Flags& flags) {
  v1::LoginRequest request;
  request.set_username(flags.args[0]);
  request.set_password(ReadSecret("Password: "));
  Session session(options);
  v1::LoginResponse response;
  session.Call(session.admin(), &AdminStub::Login, request, &response, Auth::kNone);
  StoreToken(response.token());
  if (flags.Has("print-token")) std::cout << response.token() << "\n";
  std::cerr << "logged in as " << Clean(response.user().username()) << " ("
            << Clean(response.user().id()) << "); session expires "
            << FormatTime(response.expire_time()) << "\n";
  const char* env = std::getenv("HAVEN_TOKEN");
  if (env != nullptr && *env != '\0') {
    std::cerr << "note: HAVEN_TOKEN is set and is used instead of the stored token\n";
  }
  if (response.password_change_required()) {
    std::cerr << "Your password is a one-time password and must be changed "
                 "before anything else: run `havenctl passwd`.\n";
  }
  return 0;
}

int Passwd(const GlobalOptions& options, const Flags&) {
  v1::ChangePasswordRequest request;
  request.set_current_password(ReadSecret("Current password: "));
  request.set_new_password(ReadSecret("New password: "));
  if (isatty(STDIN_FILENO) &&
      ReadSecret("Repeat new password: ") != request.new_password()) {
    throw Failure("the new passwords do not match");
  }
  Session session(options);
  v1::ChangePasswordResponse response;
  session.Call(session.admin(), &AdminStub::ChangePassword, request, &response);
  std::cerr << "password changed\n";
  return 0;
}

int Logout(const GlobalOptions& options, const Flags&) {
  Session session(options);
  v1::LogoutResponse response;
  const grpc::Status status = session.Invoke(session.admin(), &AdminStub::Logout,
                                             v1::LogoutRequest(), &response);
  // Forget the local token once the server has ended the session or no
  // longer knows it; on any other error keep it so logout can be retried.
  if (status.ok() || status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    const std::string path = TokenPath();
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      throw Failure(absl::StrCat("cannot remove ", path, ": ", ErrnoText()));
    }
  }
  Check(status);
  std::cerr << "logged out\n";
  return 0;
}

int WhoAmI(const GlobalOptions& options, const Flags&) {
  Session session(options);
  v1::WhoAmIResponse response;
  session.Call(session.admin(), &AdminStub::WhoAmI, v1::WhoAmIRequest(), &response);
  Table table({"PRINCIPAL", "ORGANISATION", "ROLES"});
  table.Add({response.principal_id(), response.organisation_id(),
             NamesOf(kRoles, response.roles())});
  table.Print();
  return 0;
}

// ---------------------------------------------------------------------------
// Organisations.

int OrgCreate(const GlobalOptions& options, const Flags& flags) {
  v1::CreateOrganisationRequest request;
  v1::Organisation* org = request.mutable_organisation();
  org->set_display_name(flags.Required("name"));
  org->set_type(ParseName(kOrganisationTypes, "organisation type", flags.Required("type")));
  org->set_country(ParseCountry("country", flags.Required("country")));
  Session session(options);
  v1::Organisation response;
  session.Call(session.admin(), &AdminStub::CreateOrganisation, request, &response);
  PrintMessage(response);
  return 0;
}

int OrgList(const GlobalOptions& options, const Flags&) {
  Session session(options);
  Table table({"ID", "TYPE", "COUNTRY", "NAME", "CREATED"});
  v1::ListOrganisationsRequest request;
  do {
    v1::ListOrganisationsResponse response;
    session.Call(session.admin(), &AdminStub::ListOrganisations, request, &response);
    for (const v1::Organisation& org : response.organisations()) {
      table.Add({org.id(), NameOf(kOrganisationTypes, org.type()), org.country(),
                 org.display_name(), FormatTime(org.create_time())});
    }
    if (response.next_page_token() == request.page_token()) break;
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  table.Print();
  return 0;
}

// ---------------------------------------------------------------------------
// Users.

int UserCreate(const GlobalOptions& options, const Flags& flags) {
  v1::CreateUserRequest request;
  v1::User* user = request.mutable_user();
  user->set_organisation_id(flags.Required("org"));
  user->set_username(flags.Required("username"));
  user->set_display_name(flags.Required("display-name"));
  for (v1::Role role : RequiredRoles(flags)) user->add_roles(role);
  Session session(options);
  v1::CreateUserResponse response;
  session.Call(session.admin(), &AdminStub::CreateUser, request, &response);
  PrintMessage(response);
  std::cerr << "The initial password is shown only once; it must be changed "
               "at first login (havenctl passwd).\n";
  return 0;
}

int UserList(const GlobalOptions& options, const Flags& flags) {
  Session session(options);
  Table table({"ID", "USERNAME", "DISPLAY NAME", "ROLES", "STATUS", "CREATED"});
  v1::ListUsersRequest request;
  request.set_organisation_id(flags.Get("org"));
  do {
    v1::ListUsersResponse response;
    session.Call(session.admin(), &AdminStub::ListUsers, request, &response);
    for (const v1::User& user : response.users()) {
      table.Add({user.id(), user.username(), user.display_name(),
                 NamesOf(kRoles, user.roles()), user.disabled() ? "disabled" : "active",
                 FormatTime(user.create_time())});
    }
    if (response.next_page_token() == request.page_token()) break;
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  table.Print();
  return 0;
}

namespace {
int SetDisabled(const GlobalOptions& options, const Flags& flags, bool disabled) {
  v1::SetUserDisabledRequest request;
  request.set_user_id(flags.args[0]);
  request.set_disabled(disabled);
  Session session(options);
  v1::User response;
  session.Call(session.admin(), &AdminStub::SetUserDisabled, request, &response);
  PrintMessage(response);
  return 0;
}
}  // namespace

int UserDisable(const GlobalOptions& options, const Flags& flags) {
  return SetDisabled(options, flags, true);
}

int UserEnable(const GlobalOptions& options, const Flags& flags) {
  return SetDisabled(options, flags, false);
}

int UserRoles(const GlobalOptions& options, const Flags& flags) {
  v1::SetUserRolesRequest request;
  request.set_user_id(flags.args[0]);
  for (v1::Role role : RequiredRoles(flags)) request.add_roles(role);
  Session session(options);
  v1::User response;
  session.Call(session.admin(), &AdminStub::SetUserRoles, request, &response);
  PrintMessage(response);
  return 0;
}

int UserResetPassword(const GlobalOptions& options, const Flags& flags) {
  v1::ResetPasswordRequest request;
  request.set_user_id(flags.args[0]);
  Session session(options);
  v1::ResetPasswordResponse response;
  session.Call(session.admin(), &AdminStub::ResetPassword, request, &response);
  PrintMessage(response);
  std::cerr << "The initial password is shown only once; it must be changed "
               "at next login (havenctl passwd).\n";
  return 0;
}

int UserRevokeSessions(const GlobalOptions& options, const Flags& flags) {
  v1::RevokeSessionsRequest request;
  request.set_user_id(flags.args[0]);
  Session session(options);
  v1::RevokeSessionsResponse response;
  session.Call(session.admin(), &AdminStub::RevokeSessions, request, &response);
  PrintMessage(response);
  return 0;
}

// ---------------------------------------------------------------------------
// Service accounts.

namespace {
// Lower-case hex SHA-256 of the DER bytes of the first certificate in a PEM
// file.
std::string CertificateSha256(const std::string& path) {
  static constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  const std::string pem = ReadFile(path);
  const size_t begin = pem.find(kBegin);
  const size_t end =
      begin == std::string::npos ? std::string::npos : pem.find(kEnd, begin);
  if (end == std::string::npos) {
    throw Failure(absl::StrCat(path, ": no PEM certificate found"));
  }
  if (pem.find(kBegin, end) != std::string::npos) {
    std::cerr << "note: " << path << " holds several certificates; using the first\n";
  }
  std::string base64 = pem.substr(begin + kBegin.size(), end - begin - kBegin.size());
  base64.erase(std::remove_if(base64.begin(), base64.end(),
                              [](char c) {
                                return absl::ascii_isspace(static_cast<unsigned char>(c));
                              }),
               base64.end());
  std::string der;
  if (!absl::Base64Unescape(base64, &der) || der.empty()) {
    throw Failure(absl::StrCat(path, ": the certificate is not valid base64"));
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(der.data()), der.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}
}  // namespace

int SaCreate(const GlobalOptions& options, const Flags& flags) {
  v1::CreateServiceAccountRequest request;
  v1::ServiceAccount* account = request.mutable_service_account();
  account->set_organisation_id(flags.Required("org"));
  account->set_display_name(flags.Required("name"));
  for (v1::Role role : RequiredRoles(flags)) account->add_roles(role);
  account->set_certificate_sha256(CertificateSha256(flags.Required("cert")));
  Session session(options);
  v1::ServiceAccount response;
  session.Call(session.admin(), &AdminStub::CreateServiceAccount, request, &response);
  PrintMessage(response);
  return 0;
}

int SaList(const GlobalOptions& options, const Flags& flags) {
  v1::ListServiceAccountsRequest request;
  request.set_organisation_id(flags.Get("org"));
  Session session(options);
  v1::ListServiceAccountsResponse response;
  session.Call(session.admin(), &AdminStub::ListServiceAccounts, request, &response);
  Table table({"ID", "ORGANISATION", "NAME", "ROLES", "STATUS", "CERTIFICATE SHA-256"});
  for (const v1::ServiceAccount& account : response.service_accounts()) {
    table.Add({account.id(), account.organisation_id(), account.display_name(),
               NamesOf(kRoles, account.roles()),
               account.disabled() ? "disabled" : "active", account.certificate_sha256()});
  }
  table.Print();
  return 0;
}

namespace {
int SaSetDisabled(const GlobalOptions& options, const Flags& flags, bool disabled) {
  v1::SetServiceAccountDisabledRequest request;
  request.set_service_account_id(flags.args[0]);
  request.set_disabled(disabled);
  Session session(options);
  v1::ServiceAccount response;
  session.Call(session.admin(), &AdminStub::SetServiceAccountDisabled, request, &response);
  PrintMessage(response);
  return 0;
}
}  // namespace

int SaDisable(const GlobalOptions& options, const Flags& flags) {
  return SaSetDisabled(options, flags, true);
}

int SaEnable(const GlobalOptions& options, const Flags& flags) {
  return SaSetDisabled(options, flags, false);
}

int SaRotate(const GlobalOptions& options, const Flags& flags) {
  v1::RotateServiceAccountCertificateRequest request;
  request.set_service_account_id(flags.args[0]);
  request.set_certificate_sha256(CertificateSha256(flags.Required("cert")));
  Session session(options);
  v1::ServiceAccount response;
  session.Call(session.admin(), &AdminStub::RotateServiceAccountCertificate, request, &response);
  PrintMessage(response);
  return 0;
}

// ---------------------------------------------------------------------------
// Cases.

int CaseCreate(const GlobalOptions& options, const Flags& flags) {
  flags.Required("given-name");
  flags.Required("family-name");
  v1::CreateCaseRequest request;
  FillSubject(flags, request.mutable_subject());
  Session session(options);
  v1::Case response;
  session.Call(session.cases(), &CaseStub::CreateCase, request, &response);
  PrintMessage(response);
  return 0;
}

int CaseGet(const GlobalOptions& options, const Flags& flags) {
  v1::GetCaseRequest request;
  request.set_case_id(flags.args[0]);
  Session session(options);
  v1::Case response;
  session.Call(session.cases(), &CaseStub::GetCase, request, &response);
  PrintMessage(response);
  return 0;
}

int CaseUpdate(const GlobalOptions& options, const Flags& flags) {
  v1::UpdateCaseRequest request;
  request.mutable_case_()->set_id(flags.args[0]);
  FillSubject(flags, request.mutable_case_()->mutable_subject());
  for (const SubjectField& field : kSubjectFields) {
    if (flags.Has(field.flag)) request.mutable_update_mask()->add_paths(std::string(field.path));
  }
  // --clear FIELD writes the field's empty value.
  for (const std::string& name : flags.All("clear")) {
    const auto field = std::find_if(std::begin(kSubjectFields), std::end(kSubjectFields),
                                    [&](const SubjectField& f) { return f.flag == name; });
    if (field == std::end(kSubjectFields)) {
      throw UsageError(absl::StrCat("--clear: unknown field \"", name, "\""));
    }
    if (flags.Has(name)) {
      throw UsageError(absl::StrCat("--", name, " and --clear ", name, " conflict"));
    }
    request.mutable_update_mask()->add_paths(std::string(field->path));
  }
  if (request.update_mask().paths().empty()) throw UsageError("nothing to update");
  if (flags.Has("expected-version")) {
    request.set_expected_version(ParseUnsigned(
        "expected-version", flags.Get("expected-version"), UINT64_MAX));
  }
  Session session(options);
  v1::Case response;
  session.Call(session.cases(), &CaseStub::UpdateCase, request, &response);
  PrintMessage(response);
  return 0;
}

int CaseErase(const GlobalOptions& options, const Flags& flags) {
  const std::string& id = flags.args[0];
  if (!Confirmed(flags,
                 "Erasing destroys the personal data of case " + id +
                     " for good. Type the case id to confirm: ",
                 id)) {
    throw Failure("not confirmed; nothing erased");
  }
  v1::EraseCaseRequest request;
  request.set_case_id(id);
  Session session(options);
  v1::EraseCaseResponse response;
  session.Call(session.cases(), &CaseStub::EraseCase, request, &response);
  std::cerr << "case " << Clean(id) << " erased\n";
  return 0;
}

// --basis and the facts behind it (--order-ref, --court, --basis-reason).
v1::LawfulBasis ParseBasis(const Flags& flags, v1::BasisDetail* detail) {
  detail->set_reference(flags.Get("order-ref"));
  detail->set_court(flags.Get("court"));
  detail->set_reason(flags.Get("basis-reason"));
  return ParseName(kLawfulBases, "lawful basis", flags.Required("basis"));
}

int CaseGrant(const GlobalOptions& options, const Flags& flags) {
  if (flags.Has("org") == flags.Has("user")) {
    throw UsageError("give exactly one of --org and --user");
  }
  v1::CreateGrantRequest request;
  v1::Grant* grant = request.mutable_grant();
  grant->set_case_id(flags.args[0]);
  grant->set_grantee_organisation_id(flags.Get("org"));
  grant->set_grantee_user_id(flags.Get("user"));
  grant->set_purpose(flags.Required("purpose"));
  if (!flags.Has("class")) throw UsageError("at least one --class is required");
  if (!flags.Has("action")) throw UsageError("at least one --action is required");
  AddNames(kClasses, "class", flags.All("class"),
           [&](v1::ConfidentialityClass c) { grant->add_classes(c); });
  AddNames(kActions, "action", flags.All("action"),
           [&](v1::CaseAction a) { grant->add_actions(a); });
  *grant->mutable_expire_time() = ParseTimeFlag("expires", flags.Required("expires"));
  grant->set_lawful_basis(ParseBasis(flags, grant->mutable_basis_detail()));
  Session session(options);
  v1::Grant response;
  session.Call(session.cases(), &CaseStub::CreateGrant, request, &response);
  PrintMessage(response);
  return 0;
}

int CaseGrants(const GlobalOptions& options, const Flags& flags) {
  v1::ListGrantsRequest request;
  request.set_case_id(flags.args[0]);
  Session session(options);
  v1::ListGrantsResponse response;
  session.Call(session.cases(), &CaseStub::ListGrants, request, &response);
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  Table table({"ID", "GRANTEE", "PURPOSE", "CLASSES", "ACTIONS", "EXPIRES", "STATE",
               "CREATED BY"});
  for (const v1::Grant& grant : response.grants()) {
    const char* state = grant.revoked()                            ? "revoked"
                        : grant.expire_time().seconds() <= now ? "expired"
                                                               : "active";
    table.Add({grant.id(), GranteeOf(grant), grant.purpose(),
               NamesOf(kClasses, grant.classes()), NamesOf(kActions, grant.actions()),
               FormatTime(grant.expire_time()), state, grant.created_by()});
  }
  table.Print();
  return 0;
}

int CaseApproveGrant(const GlobalOptions& options, const Flags& flags) {
  v1::ApproveGrantRequest request;
  request.set_case_id(flags.args[0]);
  request.set_grant_id(flags.args[1]);
  Session session(options);
  v1::Grant response;
  session.Call(session.cases(), &CaseStub::ApproveGrant, request, &response);
  PrintMessage(response);
  return 0;
}

int CaseRevokeGrant(const GlobalOptions& options, const Flags& flags) {
  v1::RevokeGrantRequest request;
  request.set_case_id(flags.args[0]);
  request.set_grant_id(flags.args[1]);
  Session session(options);
  v1::Grant response;
  session.Call(session.cases(), &CaseStub::RevokeGrant, request, &response);
  PrintMessage(response);
  return 0;
}

// ---------------------------------------------------------------------------
// Audit.

int AuditQuery(const GlobalOptions& options, const Flags& flags) {
  if (flags.Has("case") && flags.Has("principal")) {
    throw UsageError("give at most one of --case and --principal");
  }
  v1::QueryAuditEntriesRequest request;
  request.set_case_id(flags.Get("case"));
  request.set_principal_id(flags.Get("principal"));
  if (flags.Has("since")) {
    *request.mutable_start_time() = ParseTimeFlag("since", flags.Get("since"));
  }
  if (flags.Has("until")) {
    *request.mutable_end_time() = ParseTimeFlag("until", flags.Get("until"));
  }
  uint64_t remaining = 100;
  if (flags.Has("limit")) remaining = ParseUnsigned("limit", flags.Get("limit"), 1000000);
  if (remaining == 0) throw UsageError("--limit must be positive");

  Session session(options);
  Table table({"SEQ", "TIME", "PRINCIPAL", "ORGANISATION", "ACTION", "RECORD", "PURPOSE",
               "OUTCOME", "CLASSES", "REQUEST ID"});
  while (remaining > 0) {
    request.set_page_size(static_cast<int32_t>(std::min<uint64_t>(remaining, 1000)));
    v1::QueryAuditEntriesResponse response;
    session.Call(session.audit(), &AuditStub::QueryAuditEntries, request, &response);
    for (const v1::AuditEntry& entry : response.entries()) {
      if (remaining == 0) break;
      --remaining;
      table.Add({absl::StrCat(entry.sequence()), FormatTime(entry.time()),
                 entry.principal_id(), entry.organisation_id(), entry.action(),
                 entry.record(), entry.purpose(), NameOf(kOutcomes, entry.outcome()),
                 NamesOf(kClasses, entry.classes()), entry.request_id()});
    }
    if (response.next_page_token().empty() ||
        response.next_page_token() == request.page_token()) {
      break;
    }
    request.set_page_token(response.next_page_token());
  }
  table.Print();
  return 0;
}

int AuditVerify(const GlobalOptions& options, const Flags&) {
  Session session(options);
  v1::VerifyAuditChainResponse response;
  session.Call(session.audit(), &AuditStub::VerifyAuditChain,
               v1::VerifyAuditChainRequest(), &response);
  PrintMessage(response);
  return response.ok() ? 0 : 1;
}

// ---------------------------------------------------------------------------
// Case work: timeline, search, assignment, consent, closure, erasure, alerts.

namespace {

// --limit N (default 100), positive.
uint64_t LimitFlag(const Flags& flags) {
  uint64_t limit = 100;
  if (flags.Has("limit")) limit = ParseUnsigned("limit", flags.Get("limit"), 1000000);
  if (limit == 0) throw UsageError("--limit must be positive");
  return limit;
}

// Exactly one of two switches; returns true for `yes`.
bool OneOf(const Flags& flags, absl::string_view yes, absl::string_view no) {
  if (flags.Has(std::string(yes)) == flags.Has(std::string(no))) {
    throw UsageError(absl::StrCat("give exactly one of --", yes, " and --", no));
  }
  return flags.Has(std::string(yes));
}

// Calls a paged List method until `remaining` rows were taken or the pages
// end. `each` receives every response; it returns how many rows it used.
template <typename Stub, typename Request, typename Response, typename Each>
void ForEachPage(Session& session, Stub* stub,
                 grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                              Response*),
                 Request request, uint64_t remaining, Each each) {
  while (remaining > 0) {
    request.set_page_size(static_cast<int32_t>(std::min<uint64_t>(remaining, 1000)));
    Response response;
    session.Call(stub, method, request, &response);
    remaining -= std::min<uint64_t>(remaining, each(response, remaining));
    if (response.next_page_token().empty() ||
        response.next_page_token() == request.page_token()) {
      break;
    }
    request.set_page_token(response.next_page_token());
  }
}

std::string SubjectName(const v1::Case& c) {
  return std::string(absl::StripAsciiWhitespace(
      absl::StrCat(c.subject().given_name(), " ", c.subject().family_name())));
}

}  // namespace

int CaseTimeline(const GlobalOptions& options, const Flags& flags) {
  v1::ListTimelineRequest request;
  request.set_case_id(flags.args[0]);
  Session session(options);
  Table table({"SEQ", "TIME", "KIND", "ACTOR", "ORGANISATION", "SUMMARY", "DETAIL"});
  ForEachPage(session, session.cases(), &CaseStub::ListTimeline, request, UINT64_MAX,
              [&](const v1::ListTimelineResponse& response, uint64_t) {
                for (const v1::TimelineEvent& event : response.events()) {
                  table.Add({absl::StrCat(event.sequence()), FormatTime(event.time()),
                             NameOf(kTimelineKinds, event.kind()), event.actor_id(),
                             event.actor_organisation_id(), event.summary(),
                             event.detail()});
                }
                return static_cast<uint64_t>(response.events_size());
              });
  table.Print();
  return 0;
}

int CaseSearch(const GlobalOptions& options, const Flags& flags) {
  v1::SearchCasesRequest request;
  request.set_name(flags.Get("name"));
  if (flags.Has("status")) {
    request.set_status(ParseName(kCaseStatuses, "status", flags.Get("status")));
  }
  request.set_assignee_id(flags.Get("assignee"));
  const uint64_t limit = LimitFlag(flags);
  Session session(options);
  Table table({"ID", "STATUS", "IDENTIFICATION", "ASSIGNEES", "SUPERVISOR",
               "NEXT DEADLINE", "UPDATED", "NAME"});
  ForEachPage(session, session.cases(), &CaseStub::SearchCases, request, limit,
              [&](const v1::SearchCasesResponse& response, uint64_t remaining) {
                uint64_t used = 0;
                for (const v1::Case& c : response.cases()) {
                  if (used == remaining) break;
                  ++used;
                  table.Add({c.id(), NameOf(kCaseStatuses, c.status()),
                             c.identification_status() == 0
                                 ? ""
                                 : NameOf(kIdentStatuses, c.identification_status()),
                             absl::StrJoin(c.assignee_ids(), ","), c.supervisor_id(),
                             FormatTime(c.next_deadline()), FormatTime(c.update_time()),
                             SubjectName(c)});
                }
                return used;
              });
  table.Print();
  return 0;
}

int CaseAssign(const GlobalOptions& options, const Flags& flags) {
  if (!flags.Has("assignee")) throw UsageError("at least one --assignee is required");
  v1::AssignCaseRequest request;
  request.set_case_id(flags.args[0]);
  for (const std::string& id : flags.All("assignee")) request.add_assignee_ids(id);
  request.set_supervisor_id(flags.Get("supervisor"));
  Session session(options);
  v1::Case response;
  session.Call(session.cases(), &CaseStub::AssignCase, request, &response);
  PrintMessage(response);
  return 0;
}

int CaseConsent(const GlobalOptions& options, const Flags& flags) {
  v1::RecordConsentRequest request;
  request.set_case_id(flags.args[0]);
  v1::Consent* consent = request.mutable_consent();
  consent->set_purpose(
      ParseName(kConsentPurposes, "consent purpose", flags.Required("purpose")));
  consent->set_given(OneOf(flags, "given", "refused"));
  consent->set_language(flags.Required("language"));
  if (consent->language().empty()) throw UsageError("--language must not be empty");
  consent->set_interpreter_used(flags.Has("interpreter"));
  consent->set_notes(flags.Get("note"));
  Session session(options);
  v1::Consent response;
  session.Call(session.cases(), &CaseStub::RecordConsent, request, &response);
  PrintMessage(response);
  return 0;
}

int CaseClose(const GlobalOptions& options, const Flags& flags) {
  v1::CloseCaseRequest request;
  request.set_case_id(flags.args[0]);
  request.set_reason(
      ParseName(kClosureReasons, "closure reason", flags.Required("reason")));
  request.set_note(flags.Get("note"));
  Session session(options);
  v1::Case response;
  session.Call(session.cases(), &CaseStub::CloseCase, request, &response);
  PrintMessage(response);
  return 0;
}

int CaseRequestErasure(const GlobalOptions& options, const Flags& flags) {
  v1::RequestErasureRequest request;
  request.set_case_id(flags.args[0]);
  request.set_reason(flags.Required("reason"));
  if (request.reason().empty()) throw UsageError("--reason must not be empty");
  Session session(options);
  v1::Case response;
  session.Call(session.cases(), &CaseStub::RequestErasure, request, &response);
  PrintMessage(response);
  std::cerr << "erasure requested; a supervisor other than you approves it with "
               "`havenctl case erase "
            << Clean(request.case_id()) << "`\n";
  return 0;
}

int Alerts(const GlobalOptions& options, const Flags& flags) {
  Session session(options);
  v1::ListAlertsRequest request;
  request.set_resolved(flags.Has("resolved"));
  Table table(request.resolved()
                  ? std::vector<std::string>{"ID", "KIND", "CASES", "CREATED", "ADDRESSEE",
                                             "RESOLUTION", "BY", "RESOLVED"}
                  : std::vector<std::string>{"ID", "KIND", "CASES", "CREATED", "ADDRESSEE"});
  ForEachPage(session, session.cases(), &CaseStub::ListAlerts, request, UINT64_MAX,
              [&](const v1::ListAlertsResponse& response, uint64_t) {
                for (const v1::Alert& alert : response.alerts()) {
                  std::string addressee =
                      !alert.addressee_user_id().empty()
                          ? "user:" + alert.addressee_user_id()
                      : !alert.addressee_organisation_id().empty()
                          ? "org:" + alert.addressee_organisation_id()
                          : "competent authorities";
                  std::vector<std::string> row = {alert.id(), NameOf(kAlertKinds, alert.kind()),
                                                  absl::StrJoin(alert.case_ids(), ","),
                                                  FormatTime(alert.create_time()), addressee};
                  if (request.resolved()) {
                    row.push_back(NameOf(kAlertResolutions, alert.resolution()));
                    row.push_back(alert.resolved_by());
                    row.push_back(FormatTime(alert.resolve_time()));
                  }
                  table.Add(row);
                }
                return static_cast<uint64_t>(response.alerts_size());
              });
  table.Print();
  return 0;
}

int AlertResolve(const GlobalOptions& options, const Flags& flags) {
  v1::ResolveAlertRequest request;
  request.set_alert_id(flags.args[0]);
  request.set_resolution(ParseName(kAlertResolutions, "resolution", flags.Required("how")));
  Session session(options);
  v1::Alert response;
  session.Call(session.cases(), &CaseStub::ResolveAlert, request, &response);
  PrintMessage(response);
  return 0;
}

// ---------------------------------------------------------------------------
// Identification.

int IdentSets(const GlobalOptions& options, const Flags&) {
  Session session(options);
  v1::ListIndicatorSetsResponse response;
  session.Call(session.ident(), &IdentStub::ListIndicatorSets,
               v1::ListIndicatorSetsRequest(), &response);
  Table table({"ID", "VERSION", "CHILDREN", "TITLE"});
  for (const v1::IndicatorSet& set : response.sets()) {
    table.Add({set.id(), absl::StrCat(set.version()), set.for_children() ? "yes" : "no",
               set.title()});
  }
  table.Print();
  return 0;
}

int IdentGet(const GlobalOptions& options, const Flags& flags) {
  v1::GetIdentificationRequest request;
  request.set_case_id(flags.args[0]);
  Session session(options);
  v1::Identification response;
  session.Call(session.ident(), &IdentStub::GetIdentification, request, &response);
  PrintMessage(response);
  return 0;
}

int IdentRefer(const GlobalOptions& options, const Flags& flags) {
  v1::ReferPresumedVictimRequest request;
  request.set_case_id(flags.args[0]);
  request.set_competent_authority_organisation_id(flags.Required("authority"));
  request.set_note(flags.Get("note"));
  Session session(options);
  v1::Identification response;
  session.Call(session.ident(), &IdentStub::ReferPresumedVictim, request, &response);
  PrintMessage(response);
  return 0;
}

int IdentDecide(const GlobalOptions& options, const Flags& flags) {
  const v1::DecisionKind kind = ParseName(kDecisionKinds, "decision", flags.args[0]);
  v1::DecideRequest request;
  request.set_case_id(flags.args[1]);
  request.set_positive(OneOf(flags, "positive", "negative"));
  request.set_reasons(flags.Required("reasons"));
  if (request.reasons().empty()) throw UsageError("--reasons must not be empty");
  if (flags.Has("waive-reflection")) {
    if (kind != v1::DECISION_KIND_CONCLUSIVE_GROUNDS) {
      throw UsageError("--waive-reflection applies to conclusive-grounds (cg) decisions only");
    }
    request.set_waive_reflection_period(true);
    request.set_waiver_reasons(flags.Required("waiver-reasons"));
    if (request.waiver_reasons().empty()) {
      throw UsageError("--waiver-reasons must not be empty");
    }
  } else if (flags.Has("waiver-reasons")) {
    throw UsageError("--waiver-reasons needs --waive-reflection");
  }
  Session session(options);
  v1::Identification response;
  session.Call(session.ident(),
               kind == v1::DECISION_KIND_REASONABLE_GROUNDS
                   ? &IdentStub::DecideReasonableGrounds
                   : &IdentStub::DecideConclusiveGrounds,
               request, &response);
  PrintMessage(response);
  return 0;
}

int IdentExtendReflection(const GlobalOptions& options, const Flags& flags) {
  v1::ExtendReflectionPeriodRequest request;
  request.set_case_id(flags.args[0]);
  *request.mutable_new_end() = ParseTimeFlag("until", flags.Required("until"));
  request.set_reasons(flags.Required("reasons"));
  if (request.reasons().empty()) throw UsageError("--reasons must not be empty");
  Session session(options);
  v1::Identification response;
  session.Call(session.ident(), &IdentStub::ExtendReflectionPeriod, request, &response);
  PrintMessage(response);
  return 0;
}

int IdentDue(const GlobalOptions& options, const Flags& flags) {
  v1::ListDueDecisionsRequest request;
  if (flags.Has("before")) {
    *request.mutable_due_before() = ParseTimeFlag("before", flags.Get("before"));
  }
  Session session(options);
  Table table({"CASE", "DECISION", "DUE", "OVERDUE"});
  ForEachPage(session, session.ident(), &IdentStub::ListDueDecisions, request, UINT64_MAX,
              [&](const v1::ListDueDecisionsResponse& response, uint64_t) {
                for (const v1::DueDecision& due : response.decisions()) {
                  table.Add({due.case_id(), NameOf(kDecisionKinds, due.kind()),
                             FormatTime(due.due_time()), due.overdue() ? "OVERDUE" : "no"});
                }
                return static_cast<uint64_t>(response.decisions_size());
              });
  table.Print();
  return 0;
}

// ---------------------------------------------------------------------------
// Referrals.

int ReferralCreate(const GlobalOptions& options, const Flags& flags) {
  v1::CreateReferralRequest request;
  v1::Referral* referral = request.mutable_referral();
  referral->set_case_id(flags.args[0]);
  if (flags.Has("to") == flags.Has("partner")) {
    throw UsageError("name the receiver: --to ORG_ID, or --partner ID for a mechanism abroad");
  }
  referral->set_receiver_organisation_id(flags.Get("to"));
  referral->set_partner_id(flags.Get("partner"));
  referral->set_purpose(
      ParseName(kReferralPurposes, "referral purpose", flags.Required("purpose")));
  referral->set_urgency(ParseName(kUrgencies, "urgency", flags.Required("urgency")));
  *referral->mutable_response_deadline() =
      ParseTimeFlag("deadline", flags.Required("deadline"));
  if (!flags.Has("scope")) throw UsageError("at least one --scope is required");
  AddNames(kClasses, "class", flags.All("scope"),
           [&](v1::ConfidentialityClass c) { referral->add_data_scope(c); });
  referral->set_lawful_basis(ParseBasis(flags, referral->mutable_basis_detail()));
  if (flags.Has("access-until")) {
    *referral->mutable_access_until() =
        ParseTimeFlag("access-until", flags.Get("access-until"));
  }
  request.set_reason(flags.Get("reason"));
  Session session(options);
  v1::Referral response;
  session.Call(session.referrals(), &ReferralStub::CreateReferral, request, &response);
  PrintMessage(response);
  std::cerr << "drafted; send it with `havenctl referral send " << Clean(response.id())
            << "`\n";
  return 0;
}

namespace {
int Transition(const GlobalOptions& options, const Flags& flags,
               grpc::Status (ReferralStub::*method)(grpc::ClientContext*,
                                                    const v1::ReferralTransitionRequest&,
                                                    v1::Referral*)) {
  v1::ReferralTransitionRequest request;
  request.set_referral_id(flags.args[0]);
  request.set_reason(flags.Get("reason"));
  Session session(options);
  v1::Referral response;
  session.Call(session.referrals(), method, request, &response);
  PrintMessage(response);
  return 0;
}

int ListReferrals(const GlobalOptions& options, const Flags& flags,
                  grpc::Status (ReferralStub::*method)(grpc::ClientContext*,
                                                       const v1::ListReferralsRequest&,
                                                       v1::ListReferralsResponse*)) {
  v1::ListReferralsRequest request;
  request.set_overdue_only(flags.Has("overdue"));
  if (flags.Has("status")) {
    request.set_status(ParseName(kReferralStatuses, "referral status", flags.Get("status")));
  }
  Session session(options);
  Table table({"ID", "CASE", "FROM", "TO", "PURPOSE", "URGENCY", "STATUS", "DEADLINE",
               "BASIS", "SCOPE"});
  ForEachPage(session, session.referrals(), method, request, UINT64_MAX,
              [&](const v1::ListReferralsResponse& response, uint64_t) {
                for (const v1::Referral& r : response.referrals()) {
                  const std::string abroad = r.partner_id().empty() ? "" : "partner " + r.partner_id();
                  table.Add({r.id(), r.case_id(),
                             r.sender_organisation_id().empty() ? abroad : r.sender_organisation_id(),
                             r.receiver_organisation_id().empty() ? abroad
                                                                  : r.receiver_organisation_id(),
                             NameOf(kReferralPurposes, r.purpose()),
                             NameOf(kUrgencies, r.urgency()),
                             NameOf(kReferralStatuses, r.status()),
                             FormatTime(r.response_deadline()),
                             NameOf(kLawfulBases, r.lawful_basis()),
                             NamesOf(kClasses, r.data_scope())});
                }
                return static_cast<uint64_t>(response.referrals_size());
              });
  table.Print();
  return 0;
}
}  // namespace

int ReferralSend(const GlobalOptions& o, const Flags& f) {
  return Transition(o, f, &ReferralStub::SendReferral);
}
int ReferralAck(const GlobalOptions& o, const Flags& f) {
  return Transition(o, f, &ReferralStub::AcknowledgeReferral);
}
int ReferralAccept(const GlobalOptions& o, const Flags& f) {
  return Transition(o, f, &ReferralStub::AcceptReferral);
}
int ReferralDecline(const GlobalOptions& o, const Flags& f) {
  if (f.Get("reason").empty()) throw UsageError("--reason is required to decline");
  return Transition(o, f, &ReferralStub::DeclineReferral);
}
int ReferralComplete(const GlobalOptions& o, const Flags& f) {
  return Transition(o, f, &ReferralStub::CompleteReferral);
}
int ReferralCancel(const GlobalOptions& o, const Flags& f) {
  return Transition(o, f, &ReferralStub::CancelReferral);
}
int ReferralInbox(const GlobalOptions& o, const Flags& f) {
  return ListReferrals(o, f, &ReferralStub::ListInbox);
}
int ReferralOutbox(const GlobalOptions& o, const Flags& f) {
  return ListReferrals(o, f, &ReferralStub::ListOutbox);
}

int ReferralFigures(const GlobalOptions& options, const Flags&) {
  Session session(options);
  v1::GetReferralFiguresResponse response;
  session.Call(session.referrals(), &ReferralStub::GetReferralFigures,
               v1::GetReferralFiguresRequest(), &response);
  Table table({"RECEIVER", "SENT", "ACKNOWLEDGED", "ACCEPTED", "DECLINED", "EXPIRED",
               "ACCEPTANCE", "HOURS TO ACK", "HOURS TO ACCEPT"});
  const auto fixed = [](double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f", value);
    return std::string(buffer);
  };
  for (const v1::ReferralFigures& f : response.figures()) {
    table.Add({f.receiver_partner_id().empty() ? f.receiver_organisation_id()
                                               : "partner " + f.receiver_partner_id(),
               absl::StrCat(f.sent()),
               absl::StrCat(f.acknowledged()), absl::StrCat(f.accepted()),
               absl::StrCat(f.declined()), absl::StrCat(f.expired()),
               fixed(f.acceptance_rate() * 100) + "%", fixed(f.mean_hours_to_acknowledge()),
               fixed(f.mean_hours_to_accept())});
  }
  table.Print();
  return 0;
}

// ---------------------------------------------------------------------------
// Hotline.

int HotlineLog(const GlobalOptions& options, const Flags& flags) {
  v1::LogContactRequest request;
  v1::Contact* contact = request.mutable_contact();
  contact->set_channel(ParseName(kChannels, "channel", flags.Required("channel")));
  contact->set_category(
      ParseName(kContactCategories, "category", flags.Required("category")));
  if (flags.Has("start")) {
    *contact->mutable_start_time() = ParseTimeFlag("start", flags.Get("start"));
  } else {
    const absl::Time now = absl::Now();
    contact->mutable_start_time()->set_seconds(absl::ToUnixSeconds(now));
  }
  if (flags.Has("end")) *contact->mutable_end_time() = ParseTimeFlag("end", flags.Get("end"));
  contact->set_language(flags.Get("language"));
  contact->set_interpreter_used(flags.Has("interpreter"));
  if (flags.Has("caller-type")) {
    contact->set_caller_type(
        ParseName(kCallerTypes, "caller type", flags.Get("caller-type")));
  }
  if (flags.Has("urgency")) {
    contact->set_urgency(
        ParseName(kContactUrgencies, "contact urgency", flags.Get("urgency")));
  }
  if (flags.Has("emergency-action")) {
    contact->set_immediate_danger(true);
    contact->set_emergency_action(
        ParseName(kEmergencyActions, "emergency action", flags.Get("emergency-action")));
  }
  Session session(options);
  v1::Contact response;
  session.Call(session.hotline(), &HotlineStub::LogContact, request, &response);
  PrintMessage(response);
  return 0;
}

int HotlineCallbacks(const GlobalOptions& options, const Flags& flags) {
  v1::ListCallbacksRequest request;
  request.set_overdue_only(flags.Has("overdue"));
  Session session(options);
  v1::ListCallbacksResponse response;
  session.Call(session.hotline(), &HotlineStub::ListCallbacks, request, &response);
  Table table({"ID", "CONTACT", "DUE", "STATUS", "OVERDUE"});
  for (const v1::Callback& callback : response.callbacks()) {
    table.Add({callback.id(), callback.contact_id(), FormatTime(callback.due_time()),
               NameOf(kCallbackStatuses, callback.status()),
               callback.overdue() ? "OVERDUE" : "no"});
  }
  table.Print();
  return 0;
}

int HotlineDashboard(const GlobalOptions& options, const Flags& flags) {
  v1::GetHotlineDashboardRequest request;
  if (flags.Has("day")) *request.mutable_day() = ParseDate("day", flags.Get("day"));
  Session session(options);
  v1::HotlineDashboard response;
  session.Call(session.hotline(), &HotlineStub::GetHotlineDashboard, request, &response);
  const auto two = [](int32_t n) { return absl::StrCat(n < 10 ? "0" : "", n); };
  std::cout << "day " << response.day().year() << "-" << two(response.day().month())
            << "-" << two(response.day().day()) << ": " << response.total_contacts()
            << " contacts; callbacks open " << response.open_callbacks() << ", overdue "
            << response.overdue_callbacks() << "\n";
  Table table({"BY", "KEY", "COUNT"});
  const auto add = [&](const char* by,
                       const google::protobuf::RepeatedPtrField<v1::Tally>& tallies) {
    for (const v1::Tally& tally : tallies) {
      table.Add({by, tally.key(), absl::StrCat(tally.count())});
    }
  };
  add("channel", response.by_channel());
  add("category", response.by_category());
  add("language", response.by_language());
  table.Print();
  return 0;
}

int ReferralPartners(const GlobalOptions& options, const Flags&) {
  Session session(options);
  v1::ListPartnersResponse response;
  session.Call(session.referrals(), &ReferralStub::ListPartners, v1::ListPartnersRequest(),
               &response);
  Table table({"ID", "COUNTRY", "NAME"});
  for (const v1::PartnerMechanism& p : response.partners()) {
    table.Add({p.id(), p.country(), p.display_name()});
  }
  table.Print();
  return 0;
}

// ---------------------------------------------------------------------------
// The service-provider directory.

namespace {

// HSDS documents travel in pieces of at most 512 KiB (DirectoryChunk).
constexpr size_t kDirectoryChunkBytes = 512 << 10;

// Text-format parse errors, kept to report the first with its position.
class TextErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first_.empty()) first_ = absl::StrCat(line + 1, ":", column + 1, ": ", message);
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

// Reads a directory entry written in protobuf text format from `path`.
template <typename Entry>
Entry ReadTextEntry(const std::string& path) {
  Entry entry;
  TextErrors errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(ReadFile(path), &entry)) {
    throw Failure(absl::StrCat(path, ":", errors.first(), " (expected a ",
                               Entry::descriptor()->full_name(), " in text format)"));
  }
  return entry;
}

// "mon-fri", "sat,sun": runs of consecutive days joined.
std::string DaysText(const google::protobuf::RepeatedField<int>& days) {
  std::vector<std::string> parts;
  for (int i = 0; i < days.size(); ++i) {
    int last = i;
    while (last + 1 < days.size() && days[last + 1] == days[last] + 1) ++last;
    parts.push_back(last - i >= 2 ? absl::StrCat(NameOf(kWeekdays, days[i]), "-",
                                                 NameOf(kWeekdays, days[last]))
                                  : NameOf(kWeekdays, days[i]));
    if (last - i == 1) parts.push_back(NameOf(kWeekdays, days[last]));
    i = last;
  }
  return absl::StrJoin(parts, ",");
}

// "24/7", "by appointment" or "mon-fri 09:00-17:00; sat 10:00-14:00".
std::string HoursText(const v1::ProviderService& service) {
  if (service.open_all_hours()) return "24/7";
  if (service.hours().empty()) return "by appointment";
  std::vector<std::string> parts;
  for (const v1::OpeningHours& hours : service.hours()) {
    parts.push_back(absl::StrCat(DaysText(hours.days()), " ", hours.opens_at(), "-",
                                 hours.closes_at()));
  }
  return absl::StrJoin(parts, "; ");
}

// "3/10" free of capacity, for shelters only.
std::string PlacesText(const v1::ProviderService& service) {
  if (!service.has_shelter()) return "";
  return absl::StrCat(service.shelter().free_places(), "/", service.shelter().capacity());
}

// The service's phone, else the first of its locations'.
std::string PhoneOf(const v1::ServiceMatch& match) {
  if (!match.service().phone().empty()) return match.service().phone();
  for (const v1::ProviderLocation& location : match.locations()) {
    if (!location.phone().empty()) return location.phone();
  }
  return "";
}

// "18-65", "18+", "up to 17", or "" for no limit.
std::string AgesText(const v1::ShelterPlaces& shelter) {
  if (shelter.has_min_age() && shelter.has_max_age()) {
    return absl::StrCat(shelter.min_age(), "-", shelter.max_age());
  }
  if (shelter.has_min_age()) return absl::StrCat(shelter.min_age(), "+");
  if (shelter.has_max_age()) return absl::StrCat("up to ", shelter.max_age());
  return "";
}

std::string AddressText(const v1::ProviderAddress& address) {
  std::vector<std::string> parts;
  for (const std::string* part : {&address.address_1(), &address.postal_code(), &address.city(),
                                  &address.region(), &address.country()}) {
    if (!part->empty()) parts.push_back(*part);
  }
  return parts.empty() ? "confidential" : absl::StrJoin(parts, ", ");
}

// --open-now or --open-at TIME, at most one.
void SetOpenAt(const Flags& flags, v1::SearchServicesRequest* request) {
  if (flags.Has("open-now") && flags.Has("open-at")) {
    throw UsageError("give at most one of --open-now and --open-at");
  }
  if (flags.Has("open-now")) {
    request->mutable_open_at()->set_seconds(absl::ToUnixSeconds(absl::Now()));
  } else if (flags.Has("open-at")) {
    *request->mutable_open_at() = ParseTimeFlag("open-at", flags.Get("open-at"));
  }
}

// The search as the flags describe it (the seeker: sex, age and children).
v1::SearchServicesRequest SearchRequest(const Flags& flags) {
  v1::SearchServicesRequest request;
  if (flags.Has("kind")) request.set_kind(ParseName(kServiceKinds, "kind", flags.Get("kind")));
  request.set_region(flags.Get("region"));
  request.set_language(flags.Get("language"));
  v1::ServiceSeeker* seeker = request.mutable_seeker();
  if (flags.Has("sex")) seeker->set_sex(ParseName(kSexes, "sex", flags.Get("sex")));
  if (flags.Has("age")) {
    seeker->set_age(static_cast<int32_t>(ParseUnsigned("age", flags.Get("age"), 150)));
  }
  if (flags.Has("children")) {
    seeker->set_children(
        static_cast<int32_t>(ParseUnsigned("children", flags.Get("children"), 20)));
  }
  request.set_with_free_places(flags.Has("free"));
  SetOpenAt(flags, &request);
  AddNames(kAccessibilityFeatures, "accessibility feature", flags.All("access"),
           [&](v1::AccessibilityFeature f) { request.add_accessibility(f); });
  return request;
}

void PrintService(const v1::ServiceMatch& match) {
  const v1::ProviderService& service = match.service();
  Table table({"FIELD", "VALUE"});
  table.Add({"id", service.id()});
  table.Add({"provider",
             absl::StrCat(match.provider_name(), " (", service.organisation_id(), ")")});
  table.Add({"name", service.name()});
  table.Add({"kind", NameOf(kServiceKinds, service.kind())});
  table.Add({"status", NameOf(kServiceStatuses, service.status())});
  table.Add({"regions", absl::StrJoin(service.regions(), ",")});
  table.Add({"languages", absl::StrJoin(service.languages(), ",")});
  table.Add({"hours", HoursText(service)});
  table.Add({"time zone", service.time_zone()});
  if (service.has_shelter()) {
    const v1::ShelterPlaces& shelter = service.shelter();
    table.Add({"takes", NamesOf(kShelterGroups, shelter.takes())});
    table.Add({"ages", AgesText(shelter)});
    table.Add({"free/capacity", PlacesText(service)});
    table.Add({"free places said", absl::StrCat(FormatTime(shelter.free_places_time()), " by ",
                                                shelter.free_places_by().empty()
                                                    ? "-"
                                                    : shelter.free_places_by())});
  }
  table.Add({"phone", service.phone()});
  table.Add({"email", service.email()});
  table.Add({"url", service.url()});
  table.Add({"description", service.description()});
  table.Add({"updated", FormatTime(service.update_time())});
  table.Print();
}

void PrintLocations(const v1::ServiceMatch& match) {
  Table table({"LOCATION", "NAME", "ADDRESS", "ACCESS", "PHONE", "UPDATED"});
  for (const v1::ProviderLocation& location : match.locations()) {
    table.Add({location.id(), location.name(), AddressText(location.address()),
               NamesOf(kAccessibilityFeatures, location.accessibility()), location.phone(),
               FormatTime(location.update_time())});
  }
  table.Print();
}

}  // namespace

int DirectorySearch(const GlobalOptions& options, const Flags& flags) {
  const v1::SearchServicesRequest request = SearchRequest(flags);
  const uint64_t limit = LimitFlag(flags);
  Session session(options);
  Table table({"ID", "PROVIDER", "SERVICE", "KIND", "REGIONS", "LANGUAGES", "TAKES",
               "FREE/CAPACITY", "HOURS", "PHONE"});
  ForEachPage(session, session.protection(), &ProtectionStub::SearchServices, request, limit,
              [&](const v1::SearchServicesResponse& response, uint64_t remaining) {
                uint64_t used = 0;
                for (const v1::ServiceMatch& match : response.matches()) {
                  if (used == remaining) break;
                  ++used;
                  const v1::ProviderService& service = match.service();
                  table.Add({service.id(), match.provider_name(), service.name(),
                             NameOf(kServiceKinds, service.kind()),
                             absl::StrJoin(service.regions(), ","),
                             absl::StrJoin(service.languages(), ","),
                             NamesOf(kShelterGroups, service.shelter().takes()),
                             PlacesText(service), HoursText(service), PhoneOf(match)});
                }
                return used;
              });
  table.Print();
  return 0;
}

int DirectoryGet(const GlobalOptions& options, const Flags& flags) {
  v1::GetProviderServiceRequest request;
  request.set_service_id(flags.args[0]);
  Session session(options);
  v1::ServiceMatch response;
  session.Call(session.protection(), &ProtectionStub::GetProviderService, request, &response);
  PrintService(response);
  std::cout << "\n";
  PrintLocations(response);
  return 0;
}

int DirectoryPutService(const GlobalOptions& options, const Flags& flags) {
  v1::PutProviderServiceRequest request;
  *request.mutable_service() = ReadTextEntry<v1::ProviderService>(flags.args[0]);
  Session session(options);
  v1::ProviderService response;
  session.Call(session.protection(), &ProtectionStub::PutProviderService, request, &response);
  PrintMessage(response);
  return 0;
}

int DirectoryPutLocation(const GlobalOptions& options, const Flags& flags) {
  v1::PutProviderLocationRequest request;
  *request.mutable_location() = ReadTextEntry<v1::ProviderLocation>(flags.args[0]);
  Session session(options);
  v1::ProviderLocation response;
  session.Call(session.protection(), &ProtectionStub::PutProviderLocation, request, &response);
  PrintMessage(response);
  return 0;
}

int DirectoryPutProfile(const GlobalOptions& options, const Flags& flags) {
  v1::PutProviderProfileRequest request;
  *request.mutable_profile() = ReadTextEntry<v1::ProviderProfile>(flags.args[0]);
  Session session(options);
  v1::ProviderProfile response;
  session.Call(session.protection(), &ProtectionStub::PutProviderProfile, request, &response);
  PrintMessage(response);
  return 0;
}

int DirectoryFreePlaces(const GlobalOptions& options, const Flags& flags) {
  v1::UpdateFreePlacesRequest request;
  request.set_service_id(flags.args[0]);
  int32_t places = 0;
  if (!absl::SimpleAtoi(flags.args[1], &places) || places < 0) {
    throw UsageError(absl::StrCat("\"", flags.args[1], "\" is not a number of places (0 or more)"));
  }
  request.set_free_places(places);
  Session session(options);
  v1::ProviderService response;
  session.Call(session.protection(), &ProtectionStub::UpdateFreePlaces, request, &response);
  PrintMessage(response);
  return 0;
}

int DirectoryImport(const GlobalOptions& options, const Flags& flags) {
  const std::string json = ReadFile(flags.args[0]);
  Session session(options);
  grpc::ClientContext context;
  session.Prepare(&context);
  v1::ImportDirectoryResponse response;
  std::unique_ptr<grpc::ClientWriter<v1::DirectoryChunk>> writer =
      session.protection()->ImportDirectory(&context, &response);
  for (size_t at = 0; at < json.size(); at += kDirectoryChunkBytes) {
    v1::DirectoryChunk chunk;
    chunk.set_hsds_json(json.substr(at, kDirectoryChunkBytes));
    if (!writer->Write(chunk)) break;  // the server ended the call; Finish says why
  }
  writer->WritesDone();
  Check(writer->Finish());
  PrintMessage(response);
  return 0;
}

int DirectoryExport(const GlobalOptions& options, const Flags& flags) {
  Session session(options);
  grpc::ClientContext context;
  session.Prepare(&context);
  std::unique_ptr<grpc::ClientReader<v1::DirectoryChunk>> reader =
      session.protection()->ExportDirectory(&context, v1::ExportDirectoryRequest());
  std::string json;
  v1::DirectoryChunk chunk;
  while (reader->Read(&chunk)) json += chunk.hsds_json();
  Check(reader->Finish());
  if (!flags.Has("out")) {
    std::cout << json << std::flush;
    return 0;
  }
  const std::string path = flags.Get("out");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << json;
  out.close();
  if (!out) throw Failure(absl::StrCat("cannot write ", path, ": ", ErrnoText()));
  std::cerr << "wrote " << json.size() << " bytes to " << Clean(path) << "\n";
  return 0;
}

// ---------------------------------------------------------------------------
// Service plans and residence permits.

namespace {

void PrintPlan(const v1::ServicePlan& plan) {
  std::cout << "service plan of case " << Clean(plan.case_id()) << ", version " << plan.version()
            << (plan.approved() ? ", approved by " + Clean(plan.approved_by()) + " on " +
                                      FormatTime(plan.approve_time())
                                : plan.version() > 0 ? ", awaiting approval" : "")
            << "\n";
  Table table({"#", "ID", "KIND", "STATUS", "PROVIDER", "DUE", "REFERRAL", "DELIVERED", "NEED"});
  for (const v1::PlanItem& item : plan.items()) {
    table.Add({std::to_string(item.number()), item.id(), NameOf(kServiceKinds, item.kind()),
               NameOf(kPlanItemStatuses, item.status()) + (item.overdue() ? " (overdue)" : ""),
               item.provider_organisation_id(),
               item.has_due_time() ? FormatTime(item.due_time()) : "",
               item.referral_id(),
               item.has_deliver_time() ? FormatTime(item.deliver_time()) : "", item.need()});
  }
  table.Print();
}

template <typename Request>
v1::ServicePlan CallPlan(const GlobalOptions& options,
                         grpc::Status (ProtectionStub::*method)(grpc::ClientContext*,
                                                                const Request&, v1::ServicePlan*),
                         const Request& request) {
  Session session(options);
  v1::ServicePlan plan;
  session.Call(session.protection(), method, request, &plan);
  return plan;
}

void PrintPermits(const std::vector<std::pair<std::string, v1::ResidencePermit>>& permits) {
  Table table({"CASE", "ID", "TYPE", "STATUS", "VALID FROM", "EXPIRES", "DAYS LEFT", "IN FORCE",
               "RENEWS"});
  for (const auto& [case_id, p] : permits) {
    table.Add({case_id, p.id(), NameOf(kPermitTypes, p.type()), NameOf(kPermitStatuses, p.status()),
               p.has_valid_from() ? FormatTime(p.valid_from()) : "",
               p.has_expire_time() ? FormatTime(p.expire_time()) : "",
               p.in_force() && p.has_expire_time() ? std::to_string(p.days_left()) : "",
               p.in_force() ? "yes" : "no", p.renews_permit_id()});
  }
  table.Print();
}

}  // namespace

int PlanGet(const GlobalOptions& options, const Flags& flags) {
  v1::GetServicePlanRequest request;
  request.set_case_id(flags.args[0]);
  PrintPlan(CallPlan(options, &ProtectionStub::GetServicePlan, request));
  return 0;
}

int PlanAdd(const GlobalOptions& options, const Flags& flags) {
  v1::AddPlanItemRequest request;
  request.set_case_id(flags.args[0]);
  v1::PlanItem* item = request.mutable_item();
  item->set_kind(ParseName(kServiceKinds, "kind", flags.Required("kind")));
  item->set_need(flags.Get("need"));
  item->set_provider_organisation_id(flags.Get("provider"));
  item->set_provider_service_id(flags.Get("service"));
  if (flags.Has("due")) *item->mutable_due_time() = ParseTimeFlag("due", flags.Get("due"));
  PrintPlan(CallPlan(options, &ProtectionStub::AddPlanItem, request));
  std::cerr << "a supervisor approves the new version with `havenctl plan approve "
            << Clean(request.case_id()) << " --version N`\n";
  return 0;
}

int PlanApprove(const GlobalOptions& options, const Flags& flags) {
  v1::ApproveServicePlanRequest request;
  request.set_case_id(flags.args[0]);
  request.set_version(
      static_cast<int64_t>(ParseUnsigned("version", flags.Required("version"), INT32_MAX)));
  PrintPlan(CallPlan(options, &ProtectionStub::ApproveServicePlan, request));
  return 0;
}

int PlanEnd(const GlobalOptions& options, const Flags& flags) {
  v1::UpdatePlanItemRequest request;
  request.set_case_id(flags.args[0]);
  request.mutable_item()->set_id(flags.args[1]);
  request.mutable_item()->set_status(flags.Has("declined") ? v1::PLAN_ITEM_STATUS_DECLINED
                                                           : v1::PLAN_ITEM_STATUS_CANCELLED);
  request.mutable_update_mask()->add_paths("status");
  PrintPlan(CallPlan(options, &ProtectionStub::UpdatePlanItem, request));
  return 0;
}

int PlanRefer(const GlobalOptions& options, const Flags& flags) {
  v1::ReferPlanItemRequest request;
  request.set_case_id(flags.args[0]);
  request.set_item_id(flags.args[1]);
  v1::Referral* referral = request.mutable_referral();
  referral->set_urgency(ParseName(kUrgencies, "urgency", flags.Required("urgency")));
  *referral->mutable_response_deadline() = ParseTimeFlag("deadline", flags.Required("deadline"));
  if (!flags.Has("scope")) throw UsageError("at least one --scope is required");
  AddNames(kClasses, "class", flags.All("scope"),
           [&](v1::ConfidentialityClass c) { referral->add_data_scope(c); });
  referral->set_lawful_basis(ParseBasis(flags, referral->mutable_basis_detail()));
  request.set_reason(flags.Get("reason"));
  Session session(options);
  v1::ReferPlanItemResponse response;
  session.Call(session.protection(), &ProtectionStub::ReferPlanItem, request, &response);
  std::cout << "item " << Clean(response.item().id()) << " referred: referral "
            << Clean(response.referral().id()) << " sent to "
            << Clean(response.referral().receiver_organisation_id()) << "\n";
  return 0;
}

int PlanDeliver(const GlobalOptions& options, const Flags& flags) {
  v1::RecordServiceDeliveryRequest request;
  request.set_case_id(flags.args[0]);
  request.set_item_id(flags.args[1]);
  request.set_outcome(flags.Get("outcome"));
  if (flags.Has("at")) *request.mutable_deliver_time() = ParseTimeFlag("at", flags.Get("at"));
  PrintPlan(CallPlan(options, &ProtectionStub::RecordServiceDelivery, request));
  return 0;
}

int PlanOverdue(const GlobalOptions& options, const Flags&) {
  Session session(options);
  Table table({"CASE", "#", "ITEM", "KIND", "STATUS", "DUE", "PROVIDER"});
  ForEachPage(session, session.protection(), &ProtectionStub::ListOverduePlanItems,
              v1::ListOverduePlanItemsRequest(), UINT64_MAX,
              [&](const v1::ListOverduePlanItemsResponse& response, uint64_t) {
                for (const v1::OverduePlanItem& o : response.items()) {
                  table.Add({o.case_id(), std::to_string(o.item().number()), o.item().id(),
                             NameOf(kServiceKinds, o.item().kind()),
                             NameOf(kPlanItemStatuses, o.item().status()),
                             FormatTime(o.item().due_time()), o.item().provider_organisation_id()});
                }
                return static_cast<uint64_t>(response.items_size());
              });
  table.Print();
  return 0;
}

int PermitApply(const GlobalOptions& options, const Flags& flags) {
  v1::RecordResidencePermitRequest request;
  request.set_case_id(flags.args[0]);
  v1::ResidencePermit* permit = request.mutable_permit();
  permit->set_type(ParseName(kPermitTypes, "permit type", flags.Required("type")));
  permit->set_issuing_authority(flags.Get("authority"));
  permit->set_renews_permit_id(flags.Get("renews"));
  if (flags.Has("applied")) {
    *permit->mutable_apply_time() = ParseTimeFlag("applied", flags.Get("applied"));
  }
  Session session(options);
  v1::ResidencePermit response;
  session.Call(session.protection(), &ProtectionStub::RecordResidencePermit, request, &response);
  PrintPermits({{request.case_id(), response}});
  return 0;
}

int PermitDecide(const GlobalOptions& options, const Flags& flags) {
  v1::RecordResidencePermitRequest request;
  request.set_case_id(flags.args[0]);
  v1::ResidencePermit* permit = request.mutable_permit();
  permit->set_id(flags.args[1]);
  permit->set_status(ParseName(kPermitStatuses, "permit status", flags.Required("status")));
  request.mutable_update_mask()->add_paths("status");
  auto time_flag = [&](const char* flag, const char* path, google::protobuf::Timestamp* field) {
    if (!flags.Has(flag)) return;
    *field = ParseTimeFlag(flag, flags.Get(flag));
    request.mutable_update_mask()->add_paths(path);
  };
  time_flag("from", "valid_from", permit->mutable_valid_from());
  time_flag("until", "expire_time", permit->mutable_expire_time());
  time_flag("decided", "decide_time", permit->mutable_decide_time());
  if (flags.Has("document")) {
    permit->set_document_number(flags.Get("document"));
    request.mutable_update_mask()->add_paths("document_number");
  }
  Session session(options);
  v1::ResidencePermit response;
  session.Call(session.protection(), &ProtectionStub::RecordResidencePermit, request, &response);
  PrintPermits({{request.case_id(), response}});
  return 0;
}

int PermitList(const GlobalOptions& options, const Flags& flags) {
  v1::ListResidencePermitsRequest request;
  request.set_case_id(flags.args[0]);
  Session session(options);
  v1::ListResidencePermitsResponse response;
  session.Call(session.protection(), &ProtectionStub::ListResidencePermits, request, &response);
  std::vector<std::pair<std::string, v1::ResidencePermit>> rows;
  for (const v1::ResidencePermit& p : response.permits()) rows.emplace_back(request.case_id(), p);
  PrintPermits(rows);
  return 0;
}

int PermitExpiring(const GlobalOptions& options, const Flags& flags) {
  v1::ListExpiringPermitsRequest request;
  const std::string within = flags.Has("within") ? flags.Get("within") : "30";
  request.set_within_days(static_cast<int>(ParseUnsigned("within", within, 366)));
  Session session(options);
  std::vector<std::pair<std::string, v1::ResidencePermit>> rows;
  ForEachPage(session, session.protection(), &ProtectionStub::ListExpiringPermits, request,
              UINT64_MAX, [&](const v1::ListExpiringPermitsResponse& response, uint64_t) {
                for (const v1::ExpiringPermit& e : response.permits()) {
                  rows.emplace_back(e.case_id(), e.permit());
                }
                return static_cast<uint64_t>(response.permits_size());
              });
  PrintPermits(rows);
  return 0;
}

// ---------------------------------------------------------------------------
// Return plans.

namespace {

using ReturnStub = v1::RepatriationService::Stub;

constexpr Named<v1::ReturnStatus> kReturnStatuses[] = {
    {"proposed", v1::RETURN_STATUS_PROPOSED},
    {"assessed", v1::RETURN_STATUS_ASSESSED},
    {"approved", v1::RETURN_STATUS_APPROVED},
    {"documents-ready", v1::RETURN_STATUS_DOCUMENTS_READY},
    {"scheduled", v1::RETURN_STATUS_SCHEDULED},
    {"travelled", v1::RETURN_STATUS_TRAVELLED},
    {"received", v1::RETURN_STATUS_RECEIVED},
    {"reintegrating", v1::RETURN_STATUS_REINTEGRATING},
    {"closed", v1::RETURN_STATUS_CLOSED},
    {"suspended", v1::RETURN_STATUS_SUSPENDED},
    {"cancelled", v1::RETURN_STATUS_CANCELLED},
};

constexpr Named<v1::ReturnConsentState> kReturnConsents[] = {
    {"not recorded", v1::RETURN_CONSENT_STATE_NOT_RECORDED},
    {"given", v1::RETURN_CONSENT_STATE_GIVEN},
    {"refused", v1::RETURN_CONSENT_STATE_REFUSED},
    {"withdrawn", v1::RETURN_CONSENT_STATE_WITHDRAWN},
};

constexpr Named<v1::RiskLevel> kRiskLevels[] = {
    {"low", v1::RISK_LEVEL_LOW},
    {"medium", v1::RISK_LEVEL_MEDIUM},
    {"high", v1::RISK_LEVEL_HIGH},
};

constexpr Named<v1::TravelDocumentKind> kTravelDocumentKinds[] = {
    {"passport", v1::TRAVEL_DOCUMENT_KIND_PASSPORT},
    {"emergency-travel-document", v1::TRAVEL_DOCUMENT_KIND_EMERGENCY_TRAVEL_DOCUMENT},
    {"laissez-passer", v1::TRAVEL_DOCUMENT_KIND_LAISSEZ_PASSER},
    {"visa", v1::TRAVEL_DOCUMENT_KIND_VISA},
    {"other", v1::TRAVEL_DOCUMENT_KIND_OTHER},
};

constexpr Named<v1::TravelDocumentStatus> kTravelDocumentStatuses[] = {
    {"requested", v1::TRAVEL_DOCUMENT_STATUS_REQUESTED},
    {"issued", v1::TRAVEL_DOCUMENT_STATUS_ISSUED},
    {"refused", v1::TRAVEL_DOCUMENT_STATUS_REFUSED},
};

constexpr Named<v1::ReturnOutcome> kReturnOutcomes[] = {
    {"reintegrated", v1::RETURN_OUTCOME_REINTEGRATED},
    {"partly-reintegrated", v1::RETURN_OUTCOME_PARTLY_REINTEGRATED},
    {"lost-contact", v1::RETURN_OUTCOME_LOST_CONTACT},
    {"re-trafficked", v1::RETURN_OUTCOME_RE_TRAFFICKED},
    {"migrated-again", v1::RETURN_OUTCOME_MIGRATED_AGAIN},
    {"other", v1::RETURN_OUTCOME_OTHER},
};

// "2027-02-28"; "-" when unset.
std::string FormatDate(const v1::Date& date) {
  if (date.year() == 0) return "-";
  const auto two = [](int32_t n) { return absl::StrCat(n < 10 ? "0" : "", n); };
  return absl::StrCat(date.year(), "-", two(date.month()), "-", two(date.day()));
}

// What a redacted field shows: "-" for what the caller may not see.
std::string OrDash(const std::string& text) { return text.empty() ? "-" : Clean(text); }

void PrintLine(absl::string_view label, const std::string& value) {
  std::cout << "  " << label << std::string(label.size() < 12 ? 12 - label.size() : 1, ' ')
            << value << "\n";
}

void PrintFollowUps(const google::protobuf::RepeatedPtrField<v1::FollowUp>& follow_ups) {
  if (follow_ups.empty()) return;
  std::cout << "\n";
  Table table({"FOLLOW-UP", "DUE", "DONE", "REACHED", "OVERDUE", "BY PARTNER", "SITUATION"});
  for (const v1::FollowUp& f : follow_ups) {
    const bool done = f.has_done_time();
    table.Add({absl::StrCat(f.months(), " months"), FormatDate(f.due_date()),
               FormatTime(f.done_time()), done ? (f.reached() ? "yes" : "no") : "",
               f.overdue() ? "OVERDUE" : "", f.reported_by_partner() ? "yes" : "", f.situation()});
  }
  table.Print();
}

void PrintReturnPlan(const v1::ReturnPlan& plan) {
  std::string status = NameOf(kReturnStatuses, plan.status());
  if (plan.status() == v1::RETURN_STATUS_SUSPENDED) {
    absl::StrAppend(&status, " (resumes ", NameOf(kReturnStatuses, plan.resume_status()), ")");
  }
  std::cout << "return plan " << Clean(plan.id()) << " of case " << Clean(plan.case_id())
            << ": " << status << "\n";
  PrintLine("destination", absl::StrCat(OrDash(plan.destination_country()), ", ",
                                        OrDash(plan.destination_region())));
  PrintLine("consent", absl::StrCat(NameOf(kReturnConsents, plan.consent()),
                                    plan.consent_language().empty()
                                        ? ""
                                        : absl::StrCat(" (", Clean(plan.consent_language()), ")")));
  const v1::RiskAssessment& risks = plan.risks();
  const auto level = [](int value) {
    return value == 0 ? std::string("-") : NameOf(kRiskLevels, value);
  };
  PrintLine("risks", absl::StrCat("re-trafficking ", level(risks.re_trafficking().level()),
                                  ", retaliation ", level(risks.retaliation().level()),
                                  ", family ", level(risks.family_situation().level()),
                                  ", health ", level(risks.health_needs().level())));
  if (!plan.approved_by().empty()) {
    PrintLine("approved", absl::StrCat("by ", plan.approved_by(), " at ",
                                       FormatTime(plan.approve_time()),
                                       plan.risk_override_reasons().empty()
                                           ? ""
                                           : " over a high risk: " +
                                                 Clean(plan.risk_override_reasons())));
  }
  if (!plan.return_organisation_id().empty()) {
    PrintLine("organiser", absl::StrCat(plan.return_organisation_id(), ", officer ",
                                        OrDash(plan.return_officer_id())));
  }
  for (const v1::TravelDocument& d : plan.documents()) {
    PrintLine("document", absl::StrCat(NameOf(kTravelDocumentKinds, d.kind()), " ",
                                       NameOf(kTravelDocumentStatuses, d.status()), " by ",
                                       Clean(d.consulate()), ", number ", OrDash(d.number())));
  }
  if (plan.travel().date().year() != 0) {
    const v1::Travel& t = plan.travel();
    PrintLine("travel", absl::StrCat(FormatDate(t.date()), ", route ", OrDash(t.route()),
                                     t.escorted() ? ", escorted by " + Clean(t.escort()) : "",
                                     ", departed ", FormatTime(t.depart_time())));
    PrintLine("medical", OrDash(t.medical_needs()));
  }
  const v1::Reception& r = plan.reception();
  if (!r.receiving_organisation().empty() || !r.partner_id().empty()) {
    const std::string by =
        r.partner_id().empty()
            ? Clean(r.receiving_organisation())
            : absl::StrCat("partner ", Clean(r.partner_id()), " (referral ", r.referral_id(), ", ",
                           NameOf(kReferralStatuses, r.referral_status()), ")");
    PrintLine("reception", absl::StrCat(by, " at ", OrDash(r.handover_place()), ", arrived ",
                                        FormatTime(r.arrive_time())));
  }
  if (plan.outcome() != v1::RETURN_OUTCOME_UNSPECIFIED) {
    PrintLine("outcome", NameOf(kReturnOutcomes, plan.outcome()));
  }
  PrintFollowUps(plan.follow_ups());
}

void PrintReceivedReturn(const v1::ReceivedReturn& received) {
  PrintLine("case", received.case_id());
  PrintLine("referral", absl::StrCat(received.referral_id(), " from partner ",
                                     Clean(received.partner_id())));
  PrintLine("arrived", received.has_arrive_time() ? FormatTime(received.arrive_time())
                                                  : "- (complete the referral when the person arrives)");
  PrintFollowUps(received.follow_ups());
}

}  // namespace

int ReturnCreate(const GlobalOptions& options, const Flags& flags) {
  v1::CreateReturnPlanRequest request;
  request.set_case_id(flags.args[0]);
  request.mutable_plan()->set_destination_country(
      ParseCountry("country", flags.Required("country")));
  request.mutable_plan()->set_destination_region(flags.Required("region"));
  Session session(options);
  ReturnStub stub(session.channel());
  v1::ReturnPlan plan;
  session.Call(&stub, &ReturnStub::CreateReturnPlan, request, &plan);
  PrintReturnPlan(plan);
  return 0;
}

int ReturnShow(const GlobalOptions& options, const Flags& flags) {
  v1::GetReturnPlanRequest request;
  request.set_case_id(flags.args[0]);
  request.set_plan_id(flags.args[1]);
  Session session(options);
  ReturnStub stub(session.channel());
  v1::ReturnPlan plan;
  session.Call(&stub, &ReturnStub::GetReturnPlan, request, &plan);
  PrintReturnPlan(plan);
  return 0;
}

int ReturnList(const GlobalOptions& options, const Flags& flags) {
  v1::ListReturnPlansRequest request;
  request.set_case_id(flags.args[0]);
  Session session(options);
  ReturnStub stub(session.channel());
  v1::ListReturnPlansResponse response;
  session.Call(&stub, &ReturnStub::ListReturnPlans, request, &response);
  Table table({"PLAN", "STATUS", "DESTINATION", "CONSENT", "CREATED", "UPDATED"});
  for (const v1::ReturnPlan& plan : response.plans()) {
    table.Add({plan.id(), NameOf(kReturnStatuses, plan.status()),
               absl::StrCat(OrDash(plan.destination_country()), " ",
                            OrDash(plan.destination_region())),
               NameOf(kReturnConsents, plan.consent()), FormatTime(plan.create_time()),
               FormatTime(plan.update_time())});
  }
  table.Print();
  return 0;
}

int ReturnApprove(const GlobalOptions& options, const Flags& flags) {
  v1::ApproveReturnRequest request;
  request.set_case_id(flags.args[0]);
  request.set_plan_id(flags.args[1]);
  request.set_risk_override_reasons(flags.Get("override-reasons"));
  Session session(options);
  ReturnStub stub(session.channel());
  v1::ReturnPlan plan;
  session.Call(&stub, &ReturnStub::ApproveReturn, request, &plan);
  PrintReturnPlan(plan);
  return 0;
}

int ReturnClose(const GlobalOptions& options, const Flags& flags) {
  v1::CloseReturnRequest request;
  request.set_case_id(flags.args[0]);
  request.set_plan_id(flags.args[1]);
  request.set_outcome(ParseName(kReturnOutcomes, "return outcome", flags.Required("outcome")));
  request.set_outcome_notes(flags.Get("note"));
  Session session(options);
  ReturnStub stub(session.channel());
  v1::ReturnPlan plan;
  session.Call(&stub, &ReturnStub::CloseReturn, request, &plan);
  PrintReturnPlan(plan);
  return 0;
}

namespace {

// Reads a request from FILE (the command's third argument) in text format,
// names its case and plan from the first two, calls `rpc` and prints the plan.
template <typename Request, typename Response>
Response CallOnPlan(const GlobalOptions& options, const Flags& flags, Request request,
                    grpc::Status (ReturnStub::*rpc)(grpc::ClientContext*, const Request&,
                                                    Response*)) {
  request.set_case_id(flags.args[0]);
  request.set_plan_id(flags.args[1]);
  Session session(options);
  ReturnStub stub(session.channel());
  Response response;
  session.Call(&stub, rpc, request, &response);
  return response;
}

}  // namespace

int ReturnAssess(const GlobalOptions& options, const Flags& flags) {
  v1::AssessReturnRisksRequest request;
  *request.mutable_risks() = ReadTextEntry<v1::RiskAssessment>(flags.args[2]);
  PrintReturnPlan(CallOnPlan(options, flags, request, &ReturnStub::AssessReturnRisks));
  return 0;
}

int ReturnRefer(const GlobalOptions& options, const Flags& flags) {
  v1::ReferReturnPlanRequest request;
  *request.mutable_referral() = ReadTextEntry<v1::Referral>(flags.args[2]);
  request.set_reason(flags.Get("reason"));
  const v1::ReferReturnPlanResponse response =
      CallOnPlan(options, flags, request, &ReturnStub::ReferReturnPlan);
  std::cout << "referral " << response.referral().id() << " sent\n";
  PrintReturnPlan(response.plan());
  return 0;
}

int ReturnTakeOn(const GlobalOptions& options, const Flags& flags) {
  PrintReturnPlan(
      CallOnPlan(options, flags, v1::TakeOnReturnPlanRequest(), &ReturnStub::TakeOnReturnPlan));
  return 0;
}

int ReturnDocuments(const GlobalOptions& options, const Flags& flags) {
  v1::RecordTravelDocumentsRequest request =
      ReadTextEntry<v1::RecordTravelDocumentsRequest>(flags.args[2]);
  PrintReturnPlan(CallOnPlan(options, flags, request, &ReturnStub::RecordTravelDocuments));
  return 0;
}

int ReturnSchedule(const GlobalOptions& options, const Flags& flags) {
  v1::ScheduleReturnRequest request = ReadTextEntry<v1::ScheduleReturnRequest>(flags.args[2]);
  const v1::ScheduleReturnResponse response =
      CallOnPlan(options, flags, request, &ReturnStub::ScheduleReturn);
  if (response.has_referral()) {
    std::cout << "reception referral " << response.referral().id() << " sent abroad\n";
  }
  PrintReturnPlan(response.plan());
  return 0;
}

int ReturnDepart(const GlobalOptions& options, const Flags& flags) {
  v1::RecordDepartureRequest request;
  if (flags.Has("at")) *request.mutable_depart_time() = ParseTimeFlag("at", flags.Get("at"));
  PrintReturnPlan(CallOnPlan(options, flags, request, &ReturnStub::RecordDeparture));
  return 0;
}

int ReturnArrive(const GlobalOptions& options, const Flags& flags) {
  v1::RecordArrivalRequest request;
  if (flags.Has("at")) *request.mutable_arrive_time() = ParseTimeFlag("at", flags.Get("at"));
  PrintReturnPlan(CallOnPlan(options, flags, request, &ReturnStub::RecordArrival));
  return 0;
}

int ReturnFollowUp(const GlobalOptions& options, const Flags& flags) {
  v1::RecordFollowUpRequest request;
  *request.mutable_follow_up() = ReadTextEntry<v1::FollowUp>(flags.args[2]);
  PrintReturnPlan(CallOnPlan(options, flags, request, &ReturnStub::RecordFollowUp));
  return 0;
}

int ReturnReceived(const GlobalOptions& options, const Flags& flags) {
  v1::GetReceivedReturnRequest request;
  request.set_case_id(flags.args[0]);
  request.set_referral_id(flags.args[1]);
  Session session(options);
  ReturnStub stub(session.channel());
  v1::ReceivedReturn received;
  session.Call(&stub, &ReturnStub::GetReceivedReturn, request, &received);
  PrintReceivedReturn(received);
  return 0;
}

int ReturnReceivedFollowUp(const GlobalOptions& options, const Flags& flags) {
  v1::RecordReceivedFollowUpRequest request;
  request.set_case_id(flags.args[0]);
  request.set_referral_id(flags.args[1]);
  *request.mutable_follow_up() = ReadTextEntry<v1::FollowUp>(flags.args[2]);
  Session session(options);
  ReturnStub stub(session.channel());
  v1::ReceivedReturn received;
  session.Call(&stub, &ReturnStub::RecordReceivedFollowUp, request, &received);
  std::cout << request.follow_up().months() << "-month follow-up recorded; it goes to partner "
            << Clean(received.partner_id()) << "\n";
  PrintReceivedReturn(received);
  return 0;
}

namespace {

int ChangeReturn(const GlobalOptions& options, const Flags& flags,
                 grpc::Status (ReturnStub::*rpc)(grpc::ClientContext*,
                                                 const v1::ReturnStatusChangeRequest&,
                                                 v1::ReturnPlan*)) {
  v1::ReturnStatusChangeRequest request;
  request.set_reason(flags.Get("reason"));
  PrintReturnPlan(CallOnPlan(options, flags, request, rpc));
  return 0;
}

}  // namespace

int ReturnSuspend(const GlobalOptions& options, const Flags& flags) {
  return ChangeReturn(options, flags, &ReturnStub::SuspendReturn);
}

int ReturnResume(const GlobalOptions& options, const Flags& flags) {
  return ChangeReturn(options, flags, &ReturnStub::ResumeReturn);
}

int ReturnCancel(const GlobalOptions& options, const Flags& flags) {
  return ChangeReturn(options, flags, &ReturnStub::CancelReturn);
}

namespace {

// The update mask of --fields a,b,c (empty without the flag).
google::protobuf::FieldMask FieldsFlag(const Flags& flags) {
  google::protobuf::FieldMask mask;
  if (!flags.Has("fields")) return mask;
  for (absl::string_view path : absl::StrSplit(flags.Get("fields"), ',', absl::SkipEmpty())) {
    mask.add_paths(std::string(path));
  }
  return mask;
}

std::string CodeName(std::string name, absl::string_view prefix) {
  name = name.substr(prefix.size());
  for (char& c : name) c = c == '_' ? '-' : absl::ascii_tolower(c);
  return name;
}

std::string Amount(int64_t minor, const std::string& currency) {
  if (minor == 0) return "";
  const int64_t cents = minor % 100;
  return absl::StrCat(minor / 100, cents < 10 ? ".0" : ".", cents, " ", currency);
}

void PrintClaims(const google::protobuf::RepeatedPtrField<v1::CompensationClaim>& claims) {
  Table table({"CLAIM", "ROUTE", "STATUS", "CLAIMED", "AWARDED", "PAID", "FILED", "UPDATED"});
  for (const v1::CompensationClaim& c : claims) {
    table.Add({c.id(), CodeName(v1::CompensationRoute_Name(c.route()), "COMPENSATION_ROUTE_"),
               CodeName(v1::CompensationStatus_Name(c.status()), "COMPENSATION_STATUS_"),
               Amount(c.claimed_minor(), c.currency()), Amount(c.awarded_minor(), c.currency()),
               Amount(c.paid_minor(), c.currency()), FormatTime(c.file_time()),
               FormatTime(c.update_time())});
  }
  table.Print();
}

void PrintMeasures(const google::protobuf::RepeatedPtrField<v1::ProtectiveMeasure>& measures) {
  Table table({"MEASURE", "PROCEEDING", "KIND", "STATUS", "DECIDED BY", "DECIDED", "ENDED"});
  for (const v1::ProtectiveMeasure& m : measures) {
    table.Add({m.id(), m.proceeding_id(),
               CodeName(v1::ProtectiveMeasureKind_Name(m.kind()), "PROTECTIVE_MEASURE_KIND_"),
               CodeName(v1::ProtectiveMeasureStatus_Name(m.status()), "PROTECTIVE_MEASURE_STATUS_"),
               m.decided_by(), FormatTime(m.decide_time()), FormatTime(m.end_time())});
  }
  table.Print();
}

void PrintInterpretation(const v1::Interpretation& interpretation) {
  std::cout << "languages needed: " << OrDash(absl::StrJoin(interpretation.languages(), ", "))
            << "\n";
  Table table({"INTERPRETER", "LANGUAGE", "NAME", "SESSIONS", "ASSIGNED", "ENDED"});
  for (const v1::InterpreterAssignment& a : interpretation.interpreters()) {
    table.Add({a.id(), a.language(), a.interpreter_name().empty() ? "(withheld)" : a.interpreter_name(),
               absl::StrCat(a.sessions_size()), FormatTime(a.assign_time()),
               a.ended() ? "yes" : ""});
  }
  table.Print();
}

}  // namespace

int ProtectReflection(const GlobalOptions& options, const Flags& flags) {
  v1::GetReflectionPeriodRequest request;
  request.set_case_id(flags.args[0]);
  Session session(options);
  v1::ReflectionPeriod period;
  session.Call(session.protection(), &ProtectionStub::GetReflectionPeriod, request, &period);
  if (!period.granted()) {
    std::cout << "no reflection period yet: it starts with a positive reasonable-grounds decision\n";
    return 0;
  }
  std::cout << "started " << FormatTime(period.start_time()) << ", ends "
            << FormatTime(period.end_time()) << " (" << period.days_left() << " days left)"
            << (period.waived() ? ", waived by an early conclusive decision" : "") << "\n";
  if (period.extensions_size() > 0) {
    std::cout << "extended " << period.extensions_size()
              << (period.extensions_size() == 1 ? " time:\n" : " times:\n");
    Table table({"FROM", "TO", "BY", "ON", "REASONS"});
    for (const v1::ReflectionExtension& e : period.extensions()) {
      table.Add({FormatTime(e.previous_end()), FormatTime(e.new_end()), e.granted_by(),
                 FormatTime(e.grant_time()), e.reasons().empty() ? "(withheld)" : e.reasons()});
    }
    table.Print();
  }
  std::cout << period.rights() << "\n";
  return 0;
}

int ProtectLanguageNeeds(const GlobalOptions& options, const Flags& flags) {
  Session session(options);
  v1::Interpretation interpretation;
  if (flags.Has("set")) {
    v1::SetLanguageNeedsRequest request =
        ReadTextEntry<v1::SetLanguageNeedsRequest>(flags.Get("set"));
    request.set_case_id(flags.args[0]);
    session.Call(session.protection(), &ProtectionStub::SetLanguageNeeds, request,
                 &interpretation);
  } else {
    v1::GetInterpretationRequest request;
    request.set_case_id(flags.args[0]);
    session.Call(session.protection(), &ProtectionStub::GetInterpretation, request,
                 &interpretation);
  }
  std::cout << "languages needed: " << OrDash(absl::StrJoin(interpretation.languages(), ", "))
            << "\npreferences: " << OrDash(interpretation.preferences()) << "\n";
  return 0;
}

int ProtectClaim(const GlobalOptions& options, const Flags& flags) {
  v1::RecordCompensationClaimRequest request;
  request.set_case_id(flags.args[0]);
  *request.mutable_claim() = ReadTextEntry<v1::CompensationClaim>(flags.args[1]);
  *request.mutable_update_mask() = FieldsFlag(flags);
  Session session(options);
  google::protobuf::RepeatedPtrField<v1::CompensationClaim> out;
  session.Call(session.protection(), &ProtectionStub::RecordCompensationClaim, request, out.Add());
  PrintClaims(out);
  return 0;
}

int ProtectClaims(const GlobalOptions& options, const Flags& flags) {
  v1::ListCompensationClaimsRequest request;
  request.set_case_id(flags.args[0]);
  Session session(options);
  v1::ListCompensationClaimsResponse response;
  session.Call(session.protection(), &ProtectionStub::ListCompensationClaims, request, &response);
  PrintClaims(response.claims());
  return 0;
}

int ProtectMeasure(const GlobalOptions& options, const Flags& flags) {
  v1::RecordProtectiveMeasureRequest request;
  request.set_case_id(flags.args[0]);
  *request.mutable_measure() = ReadTextEntry<v1::ProtectiveMeasure>(flags.args[1]);
  *request.mutable_update_mask() = FieldsFlag(flags);
  Session session(options);
  google::protobuf::RepeatedPtrField<v1::ProtectiveMeasure> out;
  session.Call(session.protection(), &ProtectionStub::RecordProtectiveMeasure, request, out.Add());
  PrintMeasures(out);
  return 0;
}

int ProtectMeasures(const GlobalOptions& options, const Flags& flags) {
  v1::ListProtectiveMeasuresRequest request;
  request.set_case_id(flags.args[0]);
  Session session(options);
  v1::ListProtectiveMeasuresResponse response;
  session.Call(session.protection(), &ProtectionStub::ListProtectiveMeasures, request, &response);
  PrintMeasures(response.measures());
  return 0;
}

int ProtectInterpreter(const GlobalOptions& options, const Flags& flags) {
  v1::AssignInterpreterRequest request;
  request.set_case_id(flags.args[0]);
  *request.mutable_interpreter() = ReadTextEntry<v1::InterpreterAssignment>(flags.args[1]);
  *request.mutable_update_mask() = FieldsFlag(flags);
  Session session(options);
  v1::Interpretation interpretation;
  session.Call(session.protection(), &ProtectionStub::AssignInterpreter, request, &interpretation);
  PrintInterpretation(interpretation);
  return 0;
}

int ProtectInterpretation(const GlobalOptions& options, const Flags& flags) {
  v1::GetInterpretationRequest request;
  request.set_case_id(flags.args[0]);
  Session session(options);
  v1::Interpretation interpretation;
  session.Call(session.protection(), &ProtectionStub::GetInterpretation, request, &interpretation);
  PrintInterpretation(interpretation);
  return 0;
}

int ReturnDue(const GlobalOptions& options, const Flags& flags) {
  v1::ListDueFollowUpsRequest request;
  if (flags.Has("by")) *request.mutable_due_by() = ParseDate("by", flags.Get("by"));
  Session session(options);
  ReturnStub stub(session.channel());
  Table table({"CASE", "PLAN", "FOLLOW-UP", "DUE", "OVERDUE", "OFFICER"});
  ForEachPage(session, &stub, &ReturnStub::ListDueFollowUps, request, UINT64_MAX,
              [&](const v1::ListDueFollowUpsResponse& response, uint64_t) {
                for (const v1::DueFollowUp& due : response.follow_ups()) {
                  table.Add({due.case_id(), due.plan_id(), absl::StrCat(due.months(), " months"),
                             FormatDate(due.due_date()), due.overdue() ? "OVERDUE" : "no",
                             due.return_officer_id()});
                }
                // Pages count cases, not follow-ups: keep going to the end.
                return uint64_t{0};
              });
  table.Print();
  return 0;
}

// ---------------------------------------------------------------------------
// The exploitation profile and statistics.

namespace {

using StatisticsStub = v1::StatisticsService::Stub;

// "debt-bondage" -> MEANS_OF_CONTROL_DEBT_BONDAGE, by the enum's prefix.
template <typename Enum>
Enum ParseCode(const google::protobuf::EnumDescriptor* descriptor, absl::string_view prefix,
               absl::string_view flag, const std::string& value) {
  std::string name = absl::StrCat(prefix, absl::AsciiStrToUpper(value));
  std::replace(name.begin(), name.end(), '-', '_');
  const google::protobuf::EnumValueDescriptor* v = descriptor->FindValueByName(name);
  if (v == nullptr || v->number() == 0) {
    std::vector<std::string> known;
    for (int i = 1; i < descriptor->value_count(); ++i) {
      std::string code = absl::AsciiStrToLower(descriptor->value(i)->name().substr(prefix.size()));
      std::replace(code.begin(), code.end(), '_', '-');
      known.push_back(code);
    }
    throw UsageError(absl::StrCat("--", flag, " must be one of: ", absl::StrJoin(known, ", ")));
  }
  return static_cast<Enum>(v->number());
}

std::string CodeOf(const google::protobuf::EnumDescriptor* descriptor, size_t prefix, int value) {
  const google::protobuf::EnumValueDescriptor* v = descriptor->FindValueByNumber(value);
  if (v == nullptr) return std::to_string(value);
  std::string code = absl::AsciiStrToLower(v->name().substr(prefix));
  std::replace(code.begin(), code.end(), '_', '-');
  return code;
}

template <typename Repeated>
std::string Codes(const google::protobuf::EnumDescriptor* descriptor, size_t prefix,
                  const Repeated& values) {
  std::vector<std::string> out;
  for (int v : values) out.push_back(CodeOf(descriptor, prefix, v));
  return absl::StrJoin(out, ", ");
}

void PrintProfile(const v1::ExploitationProfile& p) {
  Table table({"FIELD", "VALUE"});
  table.Add({"forms", Codes(v1::ExploitationForm_descriptor(), 18, p.forms())});
  table.Add({"means of control", Codes(v1::MeansOfControl_descriptor(), 17, p.means_of_control())});
  table.Add({"labour", Codes(v1::LabourType_descriptor(), 12, p.labour_types())});
  table.Add({"sexual exploitation",
             Codes(v1::SexualExploitationType_descriptor(), 25, p.sexual_exploitation_types())});
  table.Add({"recruiter", Codes(v1::RecruiterRelation_descriptor(), 19, p.recruiter_relations())});
  table.Add({"recruited in", absl::StrJoin(p.countries_of_recruitment(), ", ")});
  table.Add({"exploited in", absl::StrJoin(p.countries_of_exploitation(), ", ")});
  table.Add({"region", p.region_of_identification()});
  table.Print();
}

void PrintCounts(const v1::GetCountsResponse& counts) {
  std::vector<std::string> header(counts.dimensions().begin(), counts.dimensions().end());
  for (std::string& h : header) h = absl::AsciiStrToUpper(h);
  header.push_back("COUNT");
  header.push_back("NOTE");
  Table table(header);
  for (const v1::CountRow& row : counts.rows()) {
    std::vector<std::string> cells(row.keys().begin(), row.keys().end());
    cells.push_back(row.suppressed() ? "x" : std::to_string(row.count()));
    std::string note;
    if (row.reason() == v1::SUPPRESSION_REASON_BELOW_THRESHOLD) note = "below threshold";
    if (row.reason() == v1::SUPPRESSION_REASON_COMPLEMENTARY) note = "complementary";
    cells.push_back(note);
    table.Add(cells);
  }
  table.Print();
  std::cout << counts.suppressed_cells() << " cells suppressed; threshold "
            << counts.threshold() << "; * is a total\n";
}

void AddSlices(const Flags& flags, google::protobuf::RepeatedPtrField<v1::CountsSlice>* out) {
  std::map<std::string, std::vector<std::string>> slices;
  for (const std::string& s : flags.All("slice")) {
    std::vector<std::string> parts = absl::StrSplit(s, absl::MaxSplits('=', 1));
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      throw UsageError("--slice takes DIMENSION=VALUE");
    }
    slices[parts[0]].push_back(parts[1]);
  }
  for (const auto& [dim, values] : slices) {
    v1::CountsSlice* slice = out->Add();
    slice->set_dimension(dim);
    for (const std::string& v : values) slice->add_values(v);
  }
}

}  // namespace

int ProfileSet(const GlobalOptions& options, const Flags& flags) {
  v1::SetExploitationProfileRequest request;
  request.set_case_id(flags.args[0]);
  v1::ExploitationProfile* p = request.mutable_profile();
  for (const std::string& v : flags.All("form")) {
    p->add_forms(ParseCode<v1::ExploitationForm>(v1::ExploitationForm_descriptor(),
                                                 "EXPLOITATION_FORM_", "form", v));
  }
  for (const std::string& v : flags.All("means")) {
    p->add_means_of_control(ParseCode<v1::MeansOfControl>(v1::MeansOfControl_descriptor(),
                                                          "MEANS_OF_CONTROL_", "means", v));
  }
  for (const std::string& v : flags.All("labour")) {
    p->add_labour_types(
        ParseCode<v1::LabourType>(v1::LabourType_descriptor(), "LABOUR_TYPE_", "labour", v));
  }
  for (const std::string& v : flags.All("sexual")) {
    p->add_sexual_exploitation_types(ParseCode<v1::SexualExploitationType>(
        v1::SexualExploitationType_descriptor(), "SEXUAL_EXPLOITATION_TYPE_", "sexual", v));
  }
  for (const std::string& v : flags.All("recruiter")) {
    p->add_recruiter_relations(ParseCode<v1::RecruiterRelation>(
        v1::RecruiterRelation_descriptor(), "RECRUITER_RELATION_", "recruiter", v));
  }
  for (const std::string& v : flags.All("recruited-in")) {
    p->add_countries_of_recruitment(absl::AsciiStrToUpper(v));
  }
  for (const std::string& v : flags.All("exploited-in")) {
    p->add_countries_of_exploitation(absl::AsciiStrToUpper(v));
  }
  p->set_region_of_identification(absl::AsciiStrToUpper(flags.Get("region")));
  Session session(options);
  v1::ExploitationProfile stored;
  session.Call(session.ident(), &IdentStub::SetExploitationProfile, request, &stored);
  PrintProfile(stored);
  return 0;
}

int ProfileShow(const GlobalOptions& options, const Flags& flags) {
  v1::GetExploitationProfileRequest request;
  request.set_case_id(flags.args[0]);
  Session session(options);
  v1::ExploitationProfile stored;
  session.Call(session.ident(), &IdentStub::GetExploitationProfile, request, &stored);
  PrintProfile(stored);
  return 0;
}

int StatsCounts(const GlobalOptions& options, const Flags& flags) {
  v1::GetCountsRequest request;
  for (const std::string& d : flags.All("by")) request.add_group_by(d);
  if (request.group_by().empty()) throw UsageError("--by names one to three dimensions");
  AddSlices(flags, request.mutable_slices());
  Session session(options);
  StatisticsStub stub(session.channel());
  v1::GetCountsResponse counts;
  session.Call(&stub, &StatisticsStub::GetCounts, request, &counts);
  PrintCounts(counts);
  return 0;
}

int StatsSeries(const GlobalOptions& options, const Flags& flags) {
  v1::GetTimeSeriesRequest request;
  request.set_by(flags.Get("by"));
  AddSlices(flags, request.mutable_slices());
  Session session(options);
  StatisticsStub stub(session.channel());
  v1::GetCountsResponse counts;
  session.Call(&stub, &StatisticsStub::GetTimeSeries, request, &counts);
  PrintCounts(counts);
  return 0;
}

int StatsReport(const GlobalOptions& options, const Flags& flags) {
  v1::GetReportRequest request;
  request.set_report(flags.args[0]);
  request.set_year(static_cast<int>(ParseUnsigned("year", flags.Required("year"), 9999)));
  Session session(options);
  StatisticsStub stub(session.channel());
  v1::GetReportResponse report;
  session.Call(&stub, &StatisticsStub::GetReport, request, &report);
  for (const v1::StatisticsTable& table : report.tables()) {
    std::cout << "\n" << table.title() << "\n";
    PrintCounts(table.counts());
  }
  return 0;
}

int StatsExport(const GlobalOptions& options, const Flags& flags) {
  v1::ExportDatasetRequest request;
  request.set_format(flags.args[0]);
  Session session(options);
  StatisticsStub stub(session.channel());
  v1::ExportDatasetResponse out;
  session.Call(&stub, &StatisticsStub::ExportDataset, request, &out);
  if (flags.Has("out")) {
    std::ofstream file(flags.Get("out"), std::ios::trunc);
    file << out.csv();
    if (!file) throw Failure(absl::StrCat("cannot write ", flags.Get("out")));
  } else {
    std::cout << out.csv();
  }
  std::cerr << out.format() << ": " << out.rows() << " rows, k = " << out.k() << ", "
            << out.rows_suppressed() << " rows left out\n";
  for (const std::string& g : out.generalisations()) std::cerr << "  generalised: " << g << "\n";
  return 0;
}

}  // namespace havenctl
