// CaseFile: the domain rules of the case core.
#include "services/cases/case_file.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "storage/codes.h"
#include "storage/timestamps.h"

namespace haven::cases {
namespace {

namespace v1 = haven::v1;
using access::RecordKind;

constexpr size_t kMaxNameBytes = 200;
constexpr int kMaxOtherNames = 20;
constexpr int kMaxCodes = 10;
constexpr uint32_t kMaxAge = 130;

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

v1::Case CaseFromRecord(const v1::CaseRecord& record, absl::string_view hex_id) {
  v1::Case c;
  c.set_id(std::string(hex_id));
  c.set_owning_organisation_id(record.owning_organisation_id());
  c.set_status(record.status());
  *c.mutable_create_time() = MicrosToTimestamp(record.create_time_micros());
  *c.mutable_update_time() = MicrosToTimestamp(record.update_time_micros());
  c.set_version(record.version());
  c.set_identification_status(record.identification_status());
  *c.mutable_assignee_ids() = record.assignee_ids();
  c.set_supervisor_id(record.supervisor_id());
  if (record.next_deadline_micros() > 0) {
    *c.mutable_next_deadline() = MicrosToTimestamp(record.next_deadline_micros());
  }
  c.set_closure_reason(record.closure_reason());
  c.set_erasure_requested_by(record.erasure_requested_by());
  return c;
}

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
        if (absl::Status s = scope.AppendTimeline(v1::TIMELINE_EVENT_OPENED, "case opened");
            !s.ok()) {
          return s;
        }
        result = CaseFromRecord(scope.record(), scope.case_id());
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
                                     result = CaseFromRecord(scope.record(), scope.case_id());
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
        if (absl::Status t = scope.AppendTimeline(
                v1::TIMELINE_EVENT_UPDATED,
                absl::StrCat("updated ", absl::StrJoin(request.update_mask().paths(), ", ")));
            !t.ok()) {
          return t;
        }
        result = CaseFromRecord(scope.record(), scope.case_id());
        *result.mutable_subject() = std::move(updated);
        scope.Disclose(&result);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<v1::Case> CaseFile::Change(
    const access::RequestContext& ctx, absl::string_view case_id, v1::CaseAction action,
    absl::string_view audit_action, const std::function<absl::Status(access::CaseScope&)>& change) {
  v1::Case result;
  absl::Status s = door_->WithCase(ctx, case_id, action, audit_action, [&](access::CaseScope& scope) {
    if (absl::Status c = change(scope); !c.ok()) return c;
    result = CaseFromRecord(scope.record(), scope.case_id());
    scope.Disclose(&result);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<v1::Case> CaseFile::Assign(const access::RequestContext& ctx,
                                          const v1::AssignCaseRequest& request) {
  if (request.assignee_ids().empty() && request.supervisor_id().empty()) {
    return absl::InvalidArgumentError("give assignee_ids, supervisor_id or both");
  }
  if (request.assignee_ids_size() > 10) {
    return absl::InvalidArgumentError("a case has at most 10 assignees");
  }
  return Change(ctx, request.case_id(), v1::CASE_ACTION_ASSIGN, "case.assign",
                [&](access::CaseScope& scope) -> absl::Status {
    // Assignees work for the organisation that owns the case.
    auto check = [&](const std::string& id, std::initializer_list<v1::Role> roles,
                     absl::string_view field) -> absl::Status {
      absl::StatusOr<v1::User> user = accounts_->FindUser(id);
      bool ok = user.ok() && !user->disabled() &&
                user->organisation_id() == scope.record().owning_organisation_id() &&
                std::any_of(roles.begin(), roles.end(), [&](v1::Role r) {
                  return std::find(user->roles().begin(), user->roles().end(), r) !=
                         user->roles().end();
                });
      if (!ok) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, " must name enabled users of the case's organisation with a fitting role"));
      }
      return absl::OkStatus();
    };
    for (const std::string& id : request.assignee_ids()) {
      if (absl::Status c = check(id, {v1::ROLE_CASEWORKER, v1::ROLE_SUPERVISOR}, "assignee_ids");
          !c.ok()) {
        return c;
      }
    }
    if (!request.supervisor_id().empty()) {
      if (absl::Status c = check(request.supervisor_id(), {v1::ROLE_SUPERVISOR}, "supervisor_id");
          !c.ok()) {
        return c;
      }
    }
    v1::CaseRecord* record = scope.mutable_record();
    if (!request.assignee_ids().empty()) *record->mutable_assignee_ids() = request.assignee_ids();
    if (!request.supervisor_id().empty()) record->set_supervisor_id(request.supervisor_id());
    return scope.AppendTimeline(
        v1::TIMELINE_EVENT_ASSIGNED,
        absl::StrCat("assigned to ", absl::StrJoin(record->assignee_ids(), ", "),
                     record->supervisor_id().empty() ? "" : "; supervisor ",
                     record->supervisor_id()));
  });
}

absl::StatusOr<v1::Case> CaseFile::Close(const access::RequestContext& ctx,
                                         const v1::CloseCaseRequest& request) {
  if (!v1::ClosureReason_IsValid(request.reason()) ||
      request.reason() == v1::CLOSURE_REASON_UNSPECIFIED) {
    return absl::InvalidArgumentError("reason must be a known closure reason");
  }
  return Change(ctx, request.case_id(), v1::CASE_ACTION_CLOSE, "case.close",
                [&](access::CaseScope& scope) -> absl::Status {
    if (scope.record().status() != v1::CASE_STATUS_OPEN) {
      return absl::FailedPreconditionError("only an open case can be closed");
    }
    v1::CaseRecord* record = scope.mutable_record();
    record->set_status(v1::CASE_STATUS_CLOSED);
    record->set_closure_reason(request.reason());
    return scope.AppendTimeline(v1::TIMELINE_EVENT_CLOSED,
                                absl::StrCat("closed: ", v1::ClosureReason_Name(request.reason())),
                                request.note());
  });
}

absl::StatusOr<v1::Case> CaseFile::Reopen(const access::RequestContext& ctx,
                                          const v1::ReopenCaseRequest& request) {
  return Change(ctx, request.case_id(), v1::CASE_ACTION_CLOSE, "case.reopen",
                [&](access::CaseScope& scope) -> absl::Status {
    if (scope.record().status() != v1::CASE_STATUS_CLOSED) {
      return absl::FailedPreconditionError("only a closed case can be reopened");
    }
    v1::CaseRecord* record = scope.mutable_record();
    record->set_status(v1::CASE_STATUS_OPEN);
    record->set_closure_reason(v1::CLOSURE_REASON_UNSPECIFIED);
    return scope.AppendTimeline(v1::TIMELINE_EVENT_REOPENED, "reopened", request.note());
  });
}

absl::StatusOr<v1::Case> CaseFile::RequestErasure(const access::RequestContext& ctx,
                                                  const v1::RequestErasureRequest& request) {
  if (request.reason().empty()) return absl::InvalidArgumentError("reason is required");
  return Change(ctx, request.case_id(), v1::CASE_ACTION_REQUEST_ERASURE, "case.request_erasure",
                [&](access::CaseScope& scope) -> absl::Status {
    if (!scope.record().erasure_requested_by().empty()) {
      return absl::AlreadyExistsError("an erasure of this case is already waiting for approval");
    }
    scope.mutable_record()->set_erasure_requested_by(ctx.principal.id);
    return scope.AppendTimeline(v1::TIMELINE_EVENT_ERASURE_REQUESTED,
                                "erasure requested; a supervisor must approve", request.reason());
  });
}

absl::Status CaseFile::Erase(const access::RequestContext& ctx,
                             const v1::EraseCaseRequest& request) {
  // Pushing what the case held out of the files on disk follows in the
  // background (havend's erasure purge, woken by this commit).
  return door_->WithCase(ctx, request.case_id(), v1::CASE_ACTION_ERASE, "case.erase",
                                   [&](access::CaseScope& scope) -> absl::Status {
    const std::string& requester = scope.record().erasure_requested_by();
    if (requester.empty()) {
      return absl::FailedPreconditionError(
          "an erasure must be requested (RequestErasure) before a supervisor approves it");
    }
    if (requester == ctx.principal.id) {
      return absl::FailedPreconditionError(
          "a supervisor other than the one who requested the erasure must approve it");
    }
    // Partners abroad that received the subject's data hear of the erasure.
    if (absl::Status n = scope.NotifyPartners(v1::PARTNER_NOTICE_SUBJECT_ERASED); !n.ok()) {
      return n;
    }
    return scope.Shred();
  });
}

}  // namespace haven::cases
