// MeasuresDesk: the reflection period, compensation claims, protective measures and
// interpretation of a case.
#include "services/protection/measures_desk.h"

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"
#include "services/common/handler.h"
#include "storage/codes.h"
#include "storage/ids.h"
#include "storage/timestamps.h"

namespace haven::protection {
namespace {

namespace v1 = haven::v1;
using access::CaseScope;
using access::RecordKind;
using google::protobuf::FieldMask;

constexpr size_t kMaxShort = 200;
constexpr size_t kMaxText = 4000;
constexpr int kMaxRecords = 50;
constexpr int kMaxSessions = 500;
constexpr int kMaxLanguages = 10;

constexpr char kReflectionRights[] =
    "During the reflection and recovery period the person may not be removed from the country "
    "and is not required to co-operate with the authorities; they are entitled to safe "
    "accommodation, emergency medical care, psychological help, interpretation, counselling "
    "and information on their rights.";

absl::Status CheckText(const std::string& text, absl::string_view field, size_t max,
                       bool required = false) {
  if (required && text.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  if (text.size() > max) {
    return absl::InvalidArgumentError(absl::StrCat(field, " has at most ", max, " bytes"));
  }
  return absl::OkStatus();
}

// INVALID_ARGUMENT naming `fields` when one of `times` is in the future.
absl::Status CheckNotFuture(std::initializer_list<const google::protobuf::Timestamp*> times,
                            absl::string_view fields, absl::Time now) {
  for (const google::protobuf::Timestamp* t : times) {
    if (FromTimestamp(*t) > now) {
      return absl::InvalidArgumentError(absl::StrCat(fields, " must not be in the future"));
    }
  }
  return absl::OkStatus();
}

// Now, or a time given that is not in the future.
absl::StatusOr<google::protobuf::Timestamp> PastOrNow(const google::protobuf::Timestamp& given,
                                                      bool has, absl::string_view field,
                                                      absl::Time now) {
  if (!has) return ToTimestamp(now);
  if (absl::Status t = CheckNotFuture({&given}, field, now); !t.ok()) return t;
  return given;
}

// Only the case's own caseworkers and supervisors record these.
absl::Status CheckRecorder(const CaseScope& scope, absl::string_view what) {
  const access::Principal& p = scope.context().principal;
  if (scope.record().owning_organisation_id() == p.organisation_id &&
      (p.HasRole(v1::ROLE_CASEWORKER) || p.HasRole(v1::ROLE_SUPERVISOR))) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("the case's own caseworkers and supervisors record its ", what));
}

absl::Status CheckMask(const FieldMask& mask, const std::set<std::string>& allowed) {
  if (mask.paths().empty()) {
    return absl::InvalidArgumentError("update_mask must name the fields to change");
  }
  for (int i = 0; i < mask.paths_size(); ++i) {
    if (allowed.count(mask.paths(i)) == 0) {
      std::string names;
      for (const std::string& a : allowed) absl::StrAppend(&names, names.empty() ? "" : ", ", a);
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask.paths[", i, "] is not one of ", names));
    }
  }
  return absl::OkStatus();
}

// The proceeding `id` names must be one identification recorded on the case.
absl::Status CheckProceeding(CaseScope& scope, const std::string& id, bool required) {
  if (id.empty()) {
    return required ? absl::InvalidArgumentError(
                          "proceeding_id is required: the proceeding (RecordProceeding) it is for")
                    : absl::OkStatus();
  }
  absl::StatusOr<std::string> raw = ParseId(id, "proceeding_id");
  if (!raw.ok()) return raw.status();
  v1::Proceeding proceeding;
  absl::StatusOr<bool> found = scope.Load(RecordKind::kProceeding, *raw, &proceeding);
  if (!found.ok()) return found.status();
  if (!*found) {
    return absl::FailedPreconditionError("proceeding_id must name a proceeding of this case");
  }
  return absl::OkStatus();
}

// A new record of `kind` (a fresh id; `check` decides on it) or, when `in`
// has an id, the fields `mask` names written over the stored one and `check`
// deciding on the result, `was` being the record before. Either way on the
// timeline, in the caller's passage; returns the record as the caller may
// see it.
template <typename Record>
absl::StatusOr<Record> Upsert(
    CaseScope& scope, RecordKind kind, Record in, const FieldMask& mask,
    const std::set<std::string>& paths,
    const std::function<absl::Status(const Record* was, Record& now)>& check,
    const std::function<std::string(const Record&)>& summary) {
  *in.mutable_update_time() = ToTimestamp(scope.now());
  Record result;
  if (in.id().empty()) {
    absl::StatusOr<std::vector<std::string>> ids = scope.RecordIds(kind);
    if (!ids.ok()) return ids.status();
    if (static_cast<int>(ids->size()) >= kMaxRecords) {
      return absl::ResourceExhaustedError(
          absl::StrCat("a case holds at most ", kMaxRecords, " of these"));
    }
    const std::string raw = NewRawId();
    in.set_id(ToHex(raw));
    if (absl::Status c = check(nullptr, in); !c.ok()) return c;
    if (absl::Status w = scope.Save(kind, raw, in); !w.ok()) return w;
    result = std::move(in);
    scope.Disclose(&result);
  } else {
    if (absl::Status m = CheckMask(mask, paths); !m.ok()) return m;
    absl::StatusOr<std::string> raw = ParseId(in.id(), "id");
    if (!raw.ok()) return raw.status();
    Record was;
    absl::StatusOr<bool> found = scope.Load(kind, *raw, &was);
    if (!found.ok()) return found.status();
    if (!*found) return absl::NotFoundError("no such record on this case");
    // The change as it would stand, checked before anything is written; then
    // one write of every field it may touch (check fills in the times a
    // status implies).
    Record now = was;
    google::protobuf::util::FieldMaskUtil::MergeOptions replace;
    replace.set_replace_message_fields(true);
    replace.set_replace_repeated_fields(true);
    google::protobuf::util::FieldMaskUtil::MergeMessageTo(in, mask, replace, &now);
    *now.mutable_update_time() = in.update_time();
    if (absl::Status c = check(&was, now); !c.ok()) return c;
    FieldMask all;
    for (const std::string& path : paths) all.add_paths(path);
    all.add_paths("update_time");
    if (absl::Status w = scope.Patch(kind, *raw, now, all, &result); !w.ok()) return w;
  }
  if (absl::Status t = scope.AppendTimeline(v1::TIMELINE_EVENT_PROTECTION_RECORDED, summary(result));
      !t.ok()) {
    return t;
  }
  return result;
}

template <typename Enum>
bool IsSet(Enum value, bool (*is_valid)(int)) {
  return is_valid(static_cast<int>(value)) && static_cast<int>(value) != 0;
}

std::string Short(const std::string& enum_name, absl::string_view prefix) {
  return enum_name.substr(prefix.size());
}

// Claims: PREPARING -> FILED -> AWARDED | REJECTED; AWARDED -> PAID (again,
// as more is paid); PREPARING | FILED -> WITHDRAWN.
bool ClaimMoveAllowed(v1::CompensationStatus from, v1::CompensationStatus to) {
  if (from == to) return true;
  switch (from) {
    case v1::COMPENSATION_STATUS_PREPARING:
      return to == v1::COMPENSATION_STATUS_FILED || to == v1::COMPENSATION_STATUS_WITHDRAWN;
    case v1::COMPENSATION_STATUS_FILED:
      return to == v1::COMPENSATION_STATUS_AWARDED || to == v1::COMPENSATION_STATUS_REJECTED ||
             to == v1::COMPENSATION_STATUS_WITHDRAWN;
    case v1::COMPENSATION_STATUS_AWARDED:
      return to == v1::COMPENSATION_STATUS_PAID;
    default:
      return false;
  }
}

absl::Status CheckClaim(CaseScope& scope, const v1::CompensationClaim* was,
                        v1::CompensationClaim& claim) {
  if (!IsSet(claim.route(), v1::CompensationRoute_IsValid)) {
    return absl::InvalidArgumentError(
        "route must be criminal court, civil court, state fund or labour claim");
  }
  if (!IsSet(claim.status(), v1::CompensationStatus_IsValid)) {
    return absl::InvalidArgumentError("status must be a known compensation status");
  }
  if (was == nullptr && claim.status() != v1::COMPENSATION_STATUS_PREPARING &&
      claim.status() != v1::COMPENSATION_STATUS_FILED) {
    return absl::InvalidArgumentError("a new claim is PREPARING or FILED");
  }
  if (was != nullptr && !ClaimMoveAllowed(was->status(), claim.status())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a claim does not move from ", v1::CompensationStatus_Name(was->status()), " to ",
        v1::CompensationStatus_Name(claim.status())));
  }
  if (claim.claimed_minor() < 0 || claim.awarded_minor() < 0 || claim.paid_minor() < 0) {
    return absl::InvalidArgumentError("amounts must not be negative");
  }
  const std::string& currency = claim.currency();
  const bool any_amount = claim.claimed_minor() + claim.awarded_minor() + claim.paid_minor() > 0;
  if (!currency.empty() && (currency.size() != 3 || !absl::ascii_isupper(currency[0]) ||
                            !absl::ascii_isupper(currency[1]) || !absl::ascii_isupper(currency[2]))) {
    return absl::InvalidArgumentError("currency must be an ISO 4217 code such as \"EUR\"");
  }
  if (any_amount && currency.empty()) {
    return absl::InvalidArgumentError("currency is required with an amount");
  }
  if (claim.status() == v1::COMPENSATION_STATUS_AWARDED && claim.awarded_minor() <= 0) {
    return absl::InvalidArgumentError("an awarded claim needs awarded_minor");
  }
  if (claim.status() == v1::COMPENSATION_STATUS_PAID &&
      (claim.paid_minor() <= 0 || claim.paid_minor() > claim.awarded_minor())) {
    return absl::InvalidArgumentError("paid_minor must be more than 0 and at most awarded_minor");
  }
  if (absl::Status s = CheckText(claim.reference(), "reference", kMaxShort); !s.ok()) return s;
  if (absl::Status s = CheckText(claim.notes(), "notes", kMaxText); !s.ok()) return s;
  if (absl::Status s = CheckProceeding(scope, claim.proceeding_id(), false); !s.ok()) return s;
  // The times the status implies, when not given.
  if (absl::Status t = CheckNotFuture({&claim.file_time(), &claim.decide_time(), &claim.pay_time()},
                                      "file_time, decide_time and pay_time", scope.now());
      !t.ok()) {
    return t;
  }
  const google::protobuf::Timestamp now = ToTimestamp(scope.now());
  if (claim.status() != v1::COMPENSATION_STATUS_PREPARING &&
      claim.status() != v1::COMPENSATION_STATUS_WITHDRAWN && !claim.has_file_time()) {
    *claim.mutable_file_time() = now;
  }
  if ((claim.status() == v1::COMPENSATION_STATUS_AWARDED ||
       claim.status() == v1::COMPENSATION_STATUS_REJECTED ||
       claim.status() == v1::COMPENSATION_STATUS_PAID) &&
      !claim.has_decide_time()) {
    *claim.mutable_decide_time() = now;
  }
  if (claim.status() == v1::COMPENSATION_STATUS_PAID &&
      (!claim.has_pay_time() || (was != nullptr && was->paid_minor() != claim.paid_minor()))) {
    *claim.mutable_pay_time() = now;
  }
  return absl::OkStatus();
}

// Measures: REQUESTED -> GRANTED | REFUSED; GRANTED -> ENDED.
absl::Status CheckMeasure(CaseScope& scope, const v1::ProtectiveMeasure* was,
                          v1::ProtectiveMeasure& measure) {
  if (!IsSet(measure.kind(), v1::ProtectiveMeasureKind_IsValid)) {
    return absl::InvalidArgumentError(
        "kind must be anonymity, video testimony, screen, escort, relocation, police "
        "protection or other");
  }
  if (!IsSet(measure.status(), v1::ProtectiveMeasureStatus_IsValid)) {
    return absl::InvalidArgumentError("status must be a known protective measure status");
  }
  const v1::ProtectiveMeasureStatus from =
      was == nullptr ? v1::PROTECTIVE_MEASURE_STATUS_UNSPECIFIED : was->status();
  const v1::ProtectiveMeasureStatus to = measure.status();
  const bool allowed =
      from == to ||
      (from == v1::PROTECTIVE_MEASURE_STATUS_UNSPECIFIED &&
       (to == v1::PROTECTIVE_MEASURE_STATUS_REQUESTED || to == v1::PROTECTIVE_MEASURE_STATUS_GRANTED)) ||
      (from == v1::PROTECTIVE_MEASURE_STATUS_REQUESTED &&
       (to == v1::PROTECTIVE_MEASURE_STATUS_GRANTED || to == v1::PROTECTIVE_MEASURE_STATUS_REFUSED)) ||
      (from == v1::PROTECTIVE_MEASURE_STATUS_GRANTED && to == v1::PROTECTIVE_MEASURE_STATUS_ENDED);
  if (!allowed) {
    return was == nullptr ? absl::InvalidArgumentError("a new measure is REQUESTED or GRANTED")
                          : absl::FailedPreconditionError(absl::StrCat(
                                "a protective measure does not move from ",
                                v1::ProtectiveMeasureStatus_Name(from), " to ",
                                v1::ProtectiveMeasureStatus_Name(to)));
  }
  if (!measure.relocation_place().empty() &&
      measure.kind() != v1::PROTECTIVE_MEASURE_KIND_RELOCATION) {
    return absl::InvalidArgumentError("relocation_place is for a relocation only");
  }
  if (absl::Status s = CheckText(measure.decided_by(), "decided_by", kMaxShort); !s.ok()) return s;
  if (absl::Status s = CheckText(measure.relocation_place(), "relocation_place", kMaxShort); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckText(measure.notes(), "notes", kMaxText); !s.ok()) return s;
  if (absl::Status s = CheckProceeding(scope, measure.proceeding_id(), true); !s.ok()) return s;
  if (absl::Status t =
          CheckNotFuture({&measure.request_time(), &measure.decide_time(), &measure.end_time()},
                         "request_time, decide_time and end_time", scope.now());
      !t.ok()) {
    return t;
  }
  const google::protobuf::Timestamp now = ToTimestamp(scope.now());
  if (!measure.has_request_time()) *measure.mutable_request_time() = now;
  if (to != v1::PROTECTIVE_MEASURE_STATUS_REQUESTED && !measure.has_decide_time()) {
    *measure.mutable_decide_time() = now;
  }
  if (to == v1::PROTECTIVE_MEASURE_STATUS_ENDED && !measure.has_end_time()) {
    *measure.mutable_end_time() = now;
  }
  return absl::OkStatus();
}

absl::Status CheckLanguage(const std::string& tag, absl::string_view field) {
  if (!IsLanguageTag(tag)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be a BCP 47 language tag such as \"ti\" or \"pt-BR\""));
  }
  return absl::OkStatus();
}

// The case's language needs and interpreters, as the caller may see them.
absl::StatusOr<v1::Interpretation> InterpretationOf(CaseScope& scope) {
  v1::Interpretation out;
  absl::StatusOr<bool> found = scope.Load(RecordKind::kLanguageNeeds, "", &out);
  if (!found.ok()) return found.status();
  out.set_case_id(scope.case_id());
  absl::StatusOr<std::vector<v1::InterpreterAssignment>> interpreters =
      scope.LoadAll<v1::InterpreterAssignment>(RecordKind::kInterpreterAssignment);
  if (!interpreters.ok()) return interpreters.status();
  for (v1::InterpreterAssignment& a : *interpreters) *out.add_interpreters() = std::move(a);
  return out;
}

}  // namespace

absl::StatusOr<v1::ReflectionPeriod> MeasuresDesk::GetReflectionPeriod(
    const access::RequestContext& ctx, const v1::GetReflectionPeriodRequest& request) {
  v1::ReflectionPeriod out;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_READ, "protection.get_reflection_period",
      [&](CaseScope& scope) -> absl::Status {
        v1::Identification ident;
        absl::StatusOr<bool> found = scope.Load(RecordKind::kIdentification, "", &ident);
        if (!found.ok()) return found.status();
        out.set_case_id(scope.case_id());
        out.set_rights(kReflectionRights);
        // Decisions are records of their own, not kept inside the identification.
        absl::StatusOr<std::vector<v1::Decision>> decisions =
            scope.LoadAll<v1::Decision>(RecordKind::kDecision);
        if (!decisions.ok()) return decisions.status();
        for (const v1::Decision& d : *decisions) {
          if (d.kind() == v1::DECISION_KIND_REASONABLE_GROUNDS && d.positive()) {
            *out.mutable_start_time() = d.decide_time();
          }
          if (d.kind() == v1::DECISION_KIND_CONCLUSIVE_GROUNDS && d.reflection_period_waived()) {
            out.set_waived(true);
          }
        }
        if (!ident.has_reflection_period_end()) return absl::OkStatus();
        out.set_granted(true);
        *out.mutable_end_time() = ident.reflection_period_end();
        *out.mutable_extensions() = ident.reflection_extensions();
        const absl::CivilDay today = absl::ToCivilDay(scope.now(), options_.time_zone);
        const absl::CivilDay end =
            absl::ToCivilDay(FromTimestamp(ident.reflection_period_end()), options_.time_zone);
        out.set_days_left(static_cast<int32_t>(end - today));
        scope.Disclose(&out);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::CompensationClaim> MeasuresDesk::RecordClaim(
    const access::RequestContext& ctx, const v1::RecordCompensationClaimRequest& request) {
  v1::CompensationClaim result;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_UPDATE, "protection.record_compensation_claim",
      [&](CaseScope& scope) -> absl::Status {
        if (absl::Status r = CheckRecorder(scope, "compensation claims"); !r.ok()) return r;
        return services::Into(
            Upsert<v1::CompensationClaim>(
                scope, RecordKind::kCompensationClaim, request.claim(), request.update_mask(),
                {"status", "proceeding_id", "currency", "claimed_minor", "awarded_minor",
                 "paid_minor", "file_time", "decide_time", "pay_time", "reference", "notes"},
                [&](const v1::CompensationClaim* was, v1::CompensationClaim& claim) {
                  return CheckClaim(scope, was, claim);
                },
                [](const v1::CompensationClaim& c) {
                  return absl::StrCat(
                      "compensation claim ", c.id(), " (",
                      Short(v1::CompensationRoute_Name(c.route()), "COMPENSATION_ROUTE_"), "): ",
                      Short(v1::CompensationStatus_Name(c.status()), "COMPENSATION_STATUS_"));
                }),
            &result);
      });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<v1::ListCompensationClaimsResponse> MeasuresDesk::ListClaims(
    const access::RequestContext& ctx, const v1::ListCompensationClaimsRequest& request) {
  v1::ListCompensationClaimsResponse out;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_READ, "protection.list_compensation_claims",
      [&](CaseScope& scope) -> absl::Status {
        absl::StatusOr<std::vector<v1::CompensationClaim>> all =
            scope.LoadAll<v1::CompensationClaim>(RecordKind::kCompensationClaim);
        if (!all.ok()) return all.status();
        for (v1::CompensationClaim& c : *all) *out.add_claims() = std::move(c);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::ProtectiveMeasure> MeasuresDesk::RecordMeasure(
    const access::RequestContext& ctx, const v1::RecordProtectiveMeasureRequest& request) {
  v1::ProtectiveMeasure result;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_UPDATE, "protection.record_protective_measure",
      [&](CaseScope& scope) -> absl::Status {
        if (absl::Status r = CheckRecorder(scope, "protective measures"); !r.ok()) return r;
        return services::Into(
            Upsert<v1::ProtectiveMeasure>(
                scope, RecordKind::kProtectiveMeasure, request.measure(), request.update_mask(),
                {"status", "decided_by", "request_time", "decide_time", "end_time",
                 "relocation_place", "notes"},
                [&](const v1::ProtectiveMeasure* was, v1::ProtectiveMeasure& measure) {
                  return CheckMeasure(scope, was, measure);
                },
                [](const v1::ProtectiveMeasure& m) {
                  return absl::StrCat(
                      "protective measure ", m.id(), " (",
                      Short(v1::ProtectiveMeasureKind_Name(m.kind()), "PROTECTIVE_MEASURE_KIND_"),
                      "): ",
                      Short(v1::ProtectiveMeasureStatus_Name(m.status()),
                            "PROTECTIVE_MEASURE_STATUS_"));
                }),
            &result);
      });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<v1::ListProtectiveMeasuresResponse> MeasuresDesk::ListMeasures(
    const access::RequestContext& ctx, const v1::ListProtectiveMeasuresRequest& request) {
  v1::ListProtectiveMeasuresResponse out;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_READ, "protection.list_protective_measures",
      [&](CaseScope& scope) -> absl::Status {
        absl::StatusOr<std::vector<v1::ProtectiveMeasure>> all =
            scope.LoadAll<v1::ProtectiveMeasure>(RecordKind::kProtectiveMeasure);
        if (!all.ok()) return all.status();
        for (v1::ProtectiveMeasure& m : *all) *out.add_measures() = std::move(m);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::Interpretation> MeasuresDesk::GetInterpretation(
    const access::RequestContext& ctx, const v1::GetInterpretationRequest& request) {
  v1::Interpretation out;
  absl::Status s = door_->WithCase(ctx, request.case_id(), v1::CASE_ACTION_READ,
                                   "protection.get_interpretation", [&](CaseScope& scope) {
                                     return services::Into(InterpretationOf(scope), &out);
                                   });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::Interpretation> MeasuresDesk::SetLanguageNeeds(
    const access::RequestContext& ctx, const v1::SetLanguageNeedsRequest& request) {
  if (request.languages_size() > kMaxLanguages) {
    return absl::InvalidArgumentError(absl::StrCat("languages holds at most ", kMaxLanguages));
  }
  for (const std::string& tag : request.languages()) {
    if (absl::Status l = CheckLanguage(tag, "languages"); !l.ok()) return l;
  }
  if (absl::Status t = CheckText(request.preferences(), "preferences", kMaxText); !t.ok()) return t;
  v1::Interpretation out;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_UPDATE, "protection.set_language_needs",
      [&](CaseScope& scope) -> absl::Status {
        if (absl::Status r = CheckRecorder(scope, "language needs"); !r.ok()) return r;
        v1::Interpretation needs;
        *needs.mutable_languages() = request.languages();
        needs.set_preferences(request.preferences());
        if (absl::Status w = scope.Save(RecordKind::kLanguageNeeds, "", needs); !w.ok()) return w;
        if (absl::Status t = scope.AppendTimeline(v1::TIMELINE_EVENT_PROTECTION_RECORDED,
                                                  "language needs recorded");
            !t.ok()) {
          return t;
        }
        return services::Into(InterpretationOf(scope), &out);
      });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::Interpretation> MeasuresDesk::AssignInterpreter(
    const access::RequestContext& ctx, const v1::AssignInterpreterRequest& request) {
  v1::InterpreterAssignment in = request.interpreter();
  const bool is_new = in.id().empty();
  if (is_new) {
    if (absl::Status l = CheckLanguage(in.language(), "interpreter.language"); !l.ok()) return l;
    if (absl::Status t = CheckText(in.interpreter_name(), "interpreter.interpreter_name", kMaxShort,
                                   true);
        !t.ok()) {
      return t;
    }
    if (in.sessions_size() > 0 || in.ended()) {
      return absl::InvalidArgumentError(
          "a new interpreter has no sessions and is not ended: record those afterwards");
    }
  }
  if (absl::Status t = CheckText(in.interpreter_contact(), "interpreter.interpreter_contact",
                                 kMaxShort);
      !t.ok()) {
    return t;
  }
  if (!in.provider_organisation_id().empty()) {
    absl::StatusOr<std::string> org =
        ParseId(in.provider_organisation_id(), "interpreter.provider_organisation_id");
    if (!org.ok()) return org.status();
  }
  v1::Interpretation out;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_UPDATE, "protection.assign_interpreter",
      [&](CaseScope& scope) -> absl::Status {
        if (absl::Status r = CheckRecorder(scope, "interpreters"); !r.ok()) return r;
        std::string raw;
        if (is_new) {
          absl::StatusOr<std::vector<std::string>> ids =
              scope.RecordIds(RecordKind::kInterpreterAssignment);
          if (!ids.ok()) return ids.status();
          if (static_cast<int>(ids->size()) >= kMaxRecords) {
            return absl::ResourceExhaustedError(
                absl::StrCat("a case holds at most ", kMaxRecords, " interpreters"));
          }
          raw = NewRawId();
          in.set_id(ToHex(raw));
          *in.mutable_assign_time() = ToTimestamp(scope.now());
          if (absl::Status w = scope.Save(RecordKind::kInterpreterAssignment, raw, in); !w.ok()) {
            return w;
          }
        } else {
          if (absl::Status m = CheckMask(request.update_mask(), {"interpreter_contact",
                                                                 "provider_organisation_id",
                                                                 "ended"});
              !m.ok()) {
            return m;
          }
          absl::StatusOr<std::string> parsed = ParseId(in.id(), "interpreter.id");
          if (!parsed.ok()) return parsed.status();
          raw = *parsed;
          v1::InterpreterAssignment stored;
          absl::StatusOr<bool> found = scope.Load(RecordKind::kInterpreterAssignment, raw, &stored);
          if (!found.ok()) return found.status();
          if (!*found) return absl::NotFoundError("no such interpreter on this case");
          v1::InterpreterAssignment ignored;
          if (absl::Status w = scope.Patch(RecordKind::kInterpreterAssignment, raw, in,
                                           request.update_mask(), &ignored);
              !w.ok()) {
            return w;
          }
        }
        // The summary names the record and the language; never the person.
        if (absl::Status t = scope.AppendTimeline(
                v1::TIMELINE_EVENT_PROTECTION_RECORDED,
                absl::StrCat("interpreter ", ToHex(raw), is_new ? " assigned" : " changed"));
            !t.ok()) {
          return t;
        }
        return services::Into(InterpretationOf(scope), &out);
      });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::Interpretation> MeasuresDesk::RecordSession(
    const access::RequestContext& ctx, const v1::RecordInterpretationSessionRequest& request) {
  const v1::InterpretationSession& in = request.session();
  if (in.minutes() < 1 || in.minutes() > 24 * 60) {
    return absl::InvalidArgumentError("session.minutes must be from 1 to 1440");
  }
  if (absl::Status t = CheckText(in.purpose(), "session.purpose", kMaxShort, true); !t.ok()) {
    return t;
  }
  absl::StatusOr<std::string> raw = ParseId(request.interpreter_id(), "interpreter_id");
  if (!raw.ok()) return raw.status();
  const absl::Time now = clock_->Now();
  absl::StatusOr<google::protobuf::Timestamp> when =
      PastOrNow(in.time(), in.has_time(), "session.time", now);
  if (!when.ok()) return when.status();
  v1::Interpretation out;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_UPDATE, "protection.record_interpretation_session",
      [&](CaseScope& scope) -> absl::Status {
        if (absl::Status r = CheckRecorder(scope, "interpretation sessions"); !r.ok()) return r;
        v1::InterpreterAssignment stored;
        absl::StatusOr<bool> found = scope.Load(RecordKind::kInterpreterAssignment, *raw, &stored);
        if (!found.ok()) return found.status();
        if (!*found) return absl::NotFoundError("no such interpreter on this case");
        if (stored.ended()) {
          return absl::FailedPreconditionError("the interpreter's assignment has ended");
        }
        if (stored.sessions_size() >= kMaxSessions) {
          return absl::ResourceExhaustedError(
              absl::StrCat("an interpreter holds at most ", kMaxSessions, " sessions"));
        }
        v1::InterpreterAssignment patch;
        *patch.mutable_sessions() = stored.sessions();
        v1::InterpretationSession* session = patch.add_sessions();
        *session = in;
        *session->mutable_time() = *when;
        session->set_recorded_by(ctx.principal.id);
        FieldMask mask;
        mask.add_paths("sessions");
        v1::InterpreterAssignment ignored;
        if (absl::Status w =
                scope.Patch(RecordKind::kInterpreterAssignment, *raw, patch, mask, &ignored);
            !w.ok()) {
          return w;
        }
        if (absl::Status t = scope.AppendTimeline(
                v1::TIMELINE_EVENT_PROTECTION_RECORDED,
                absl::StrCat("interpretation session recorded for interpreter ", ToHex(*raw)));
            !t.ok()) {
          return t;
        }
        return services::Into(InterpretationOf(scope), &out);
      });
  if (!s.ok()) return s;
  return out;
}

}  // namespace haven::protection
