// CaseFile: the domain rules of the case core.
#include "services/cases/case_file.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "services/common/log.h"

namespace haven::cases {
namespace {

namespace v1 = haven::v1;
using access::RecordKind;

constexpr size_t kMaxNameBytes = 200;
constexpr int kMaxOtherNames = 20;
constexpr int kMaxCodes = 10;
constexpr uint32_t kMaxAge = 130;

google::protobuf::Timestamp ToProto(int64_t micros) {
  google::protobuf::Timestamp t;
  t.set_seconds(micros / 1'000'000);
  t.set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1000);
  return t;
}

v1::Case FromRecord(const v1::CaseRecord& record, absl::string_view hex_id) {
  v1::Case c;
  c.set_id(std::string(hex_id));
  c.set_owning_organisation_id(record.owning_organisation_id());
  c.set_status(record.status());
  *c.mutable_create_time() = ToProto(record.create_time_micros());
  *c.mutable_update_time() = ToProto(record.update_time_micros());
  c.set_version(record.version());
  return c;
}

bool IsCountryCode(absl::string_view s) {
  return s.size() == 2 && absl::ascii_isupper(s[0]) && absl::ascii_isupper(s[1]);
}

bool IsLanguageTag(absl::string_view s) {
  return s.size() >= 2 && s.size() <= 35 && absl::ascii_isalpha(s[0]) &&
         std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isalnum(c) || c == '-'; });
}

absl::Status Invalid(absl::string_view field, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat("subject.", field, " ", rule));
}

// The mask paths of UpdateCase are under "subject."; the stored record is
// the Subject itself.
absl::StatusOr<google::protobuf::FieldMask> SubjectMask(const google::protobuf::FieldMask& mask) {
  if (mask.paths().empty()) {
    return absl::InvalidArgumentError("update_mask is required, e.g. \"subject.given_name\"");
  }
  google::protobuf::FieldMask out;
  for (const std::string& path : mask.paths()) {
    if (!absl::StartsWith(path, "subject.")) {
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask path \"", path, "\" is not under subject.; only the subject can be updated"));
    }
    out.add_paths(path.substr(8));
  }
  return out;
}

}  // namespace

absl::Status ValidateSubject(const v1::Subject& s, absl::Time now) {
  for (const auto* name : {&s.given_name(), &s.family_name()}) {
    if (name->size() > kMaxNameBytes) {
      return Invalid(name == &s.given_name() ? "given_name" : "family_name",
                     absl::StrCat("has at most ", kMaxNameBytes, " bytes"));
    }
  }
  if (s.other_names_size() > kMaxOtherNames) {
    return Invalid("other_names", absl::StrCat("has at most ", kMaxOtherNames, " entries"));
  }
  for (const std::string& n : s.other_names()) {
    if (n.empty() || n.size() > kMaxNameBytes) {
      return Invalid("other_names", absl::StrCat("entries have 1 to ", kMaxNameBytes, " bytes"));
    }
  }
  if (!v1::Sex_IsValid(s.sex())) return Invalid("sex", "is not a known value");
  if (s.has_date_of_birth()) {
    const v1::Date& d = s.date_of_birth();
    absl::CivilDay day(d.year(), d.month(), d.day());
    bool real = d.year() >= 1900 && day.year() == d.year() && day.month() == d.month() &&
                day.day() == d.day();
    absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
    if (!real || day > today) {
      return Invalid("date_of_birth", "must be a real date between 1900 and today");
    }
  }
  if (s.estimated_age() > kMaxAge) {
    return Invalid("estimated_age", absl::StrCat("is at most ", kMaxAge));
  }
  if (s.citizenships_size() > kMaxCodes || s.languages_size() > kMaxCodes) {
    return Invalid("citizenships", absl::StrCat("and languages have at most ", kMaxCodes, " entries"));
  }
  for (const std::string& c : s.citizenships()) {
    if (!IsCountryCode(c)) return Invalid("citizenships", "entries are ISO 3166-1 alpha-2 codes such as \"NG\"");
  }
  for (const std::string& l : s.languages()) {
    if (!IsLanguageTag(l)) return Invalid("languages", "entries are BCP 47 tags such as \"ro\" or \"pt-BR\"");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Case> CaseFile::Create(const access::RequestContext& ctx,
                                          const v1::CreateCaseRequest& request) {
  if (!request.has_subject()) return absl::InvalidArgumentError("subject is required");
  if (absl::Status s = ValidateSubject(request.subject(), clock_->Now()); !s.ok()) return s;
  v1::Case result;
  absl::StatusOr<v1::CaseRecord> record =
      door_->CreateCase(ctx, "case.create", [&](access::CaseScope& scope) {
        if (absl::Status s = scope.Save(RecordKind::kSubject, "", request.subject()); !s.ok()) {
          return s;
        }
        result = FromRecord(scope.record(), scope.case_id());
        *result.mutable_subject() = request.subject();
        scope.Disclose(&result);
        return absl::OkStatus();
      });
  if (!record.ok()) return record.status();
  return result;
}

absl::StatusOr<v1::Case> CaseFile::Get(const access::RequestContext& ctx,
                                       const v1::GetCaseRequest& request) {
  v1::Case result;
  absl::Status s = door_->WithCase(ctx, request.case_id(), v1::CASE_ACTION_READ, "case.read",
                                   [&](access::CaseScope& scope) {
                                     result = FromRecord(scope.record(), scope.case_id());
                                     absl::StatusOr<bool> found = scope.Load(
                                         RecordKind::kSubject, "", result.mutable_subject());
                                     if (!found.ok()) return found.status();
                                     scope.Disclose(&result);
                                     return absl::OkStatus();
                                   });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<v1::Case> CaseFile::Update(const access::RequestContext& ctx,
                                          const v1::UpdateCaseRequest& request) {
  absl::StatusOr<google::protobuf::FieldMask> mask = SubjectMask(request.update_mask());
  if (!mask.ok()) return mask.status();
  if (absl::Status s = ValidateSubject(request.case_().subject(), clock_->Now()); !s.ok()) return s;
  v1::Case result;
  absl::Status s = door_->WithCase(
      ctx, request.case_().id(), v1::CASE_ACTION_UPDATE, "case.update",
      [&](access::CaseScope& scope) {
        if (request.expected_version() != 0 &&
            request.expected_version() != scope.record().version()) {
          return absl::AbortedError(
              "the case changed since you read it (version mismatch); read it again and retry");
        }
        v1::Subject updated;
        if (absl::Status p = scope.Patch(RecordKind::kSubject, "", request.case_().subject(),
                                         *mask, &updated);
            !p.ok()) {
          return p;
        }
        result = FromRecord(scope.record(), scope.case_id());
        *result.mutable_subject() = std::move(updated);
        scope.Disclose(&result);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return result;
}

absl::Status CaseFile::Erase(const access::RequestContext& ctx,
                             const v1::EraseCaseRequest& request) {
  absl::Status s = door_->WithCase(ctx, request.case_id(), v1::CASE_ACTION_ERASE, "case.erase",
                                   [](access::CaseScope& scope) { return scope.Shred(); });
  if (!s.ok()) return s;
  // The erasure is committed; pushing the destroyed key out of older files
  // can be retried by the next erasure or compaction if it fails now.
  if (absl::Status purge = door_->PurgeDestroyedKeys(); !purge.ok()) {
    services::Log(services::LogLevel::kWarning, "purge after erasure failed",
                  {{"code", absl::StatusCodeToString(purge.code())}});
  }
  return absl::OkStatus();
}

}  // namespace haven::cases
