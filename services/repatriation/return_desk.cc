// ReturnDesk: return plans, their approval, journey, reception and follow-ups, through the CaseDoor.
#include "services/repatriation/return_desk.h"

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/field_mask.pb.h"
#include "haven/v1/identification.pb.h"
#include "services/common/handler.h"
#include "services/repatriation/return_rules.h"
#include "storage/access/redaction.h"
#include "storage/ids.h"
#include "storage/timestamps.h"

namespace haven::repatriation {
namespace {

namespace v1 = haven::v1;
using access::CaseScope;
using access::FollowUpRecordId;
using access::RecordKind;

constexpr size_t kMaxText = 4000;
constexpr size_t kMaxShortText = 200;
constexpr size_t kMaxRoute = 1000;
constexpr size_t kMaxPlansPerCase = 20;
constexpr int kDefaultCasesPerPage = 50;
constexpr int kMaxCasesPerPage = 200;
// A time said to be now may run this much ahead of the server's clock.
constexpr absl::Duration kClockSkew = absl::Minutes(5);

absl::Status PlanNotFound() { return absl::NotFoundError("return plan not found"); }

std::string Name(v1::ReturnStatus status) {
  return v1::ReturnStatus_Name(status).substr(std::string("RETURN_STATUS_").size());
}

bool OwnsCase(const CaseScope& scope) {
  return scope.record().owning_organisation_id() == scope.context().principal.organisation_id;
}

bool HasAnyRole(const access::Principal& principal, std::initializer_list<v1::Role> roles) {
  return std::any_of(roles.begin(), roles.end(),
                     [&](v1::Role role) { return principal.HasRole(role); });
}

// The case's own caseworkers and supervisors plan, hold and close a return.
absl::Status CheckPlanner(const CaseScope& scope) {
  if (OwnsCase(scope) &&
      HasAnyRole(scope.context().principal, {v1::ROLE_CASEWORKER, v1::ROLE_SUPERVISOR})) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      "the case's own caseworkers and supervisors plan, hold and close a return");
}

// ... and with the organisation organising the return, record its journey.
absl::Status CheckActor(const CaseScope& scope, const v1::ReturnPlan& plan) {
  const access::Principal& p = scope.context().principal;
  const bool party = OwnsCase(scope) || (!plan.return_organisation_id().empty() &&
                                         plan.return_organisation_id() == p.organisation_id);
  if (party &&
      HasAnyRole(p, {v1::ROLE_CASEWORKER, v1::ROLE_SUPERVISOR, v1::ROLE_RETURN_OFFICER})) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      "the case's own caseworkers and supervisors, or the return officers of the organisation "
      "organising the return, record its journey");
}

absl::Status CheckText(const std::string& text, absl::string_view field, size_t max) {
  if (text.size() > max) {
    return absl::InvalidArgumentError(absl::StrCat(field, " has at most ", max, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status CheckReason(const std::string& reason) {
  if (reason.empty()) return absl::InvalidArgumentError("reason is required");
  return CheckText(reason, "reason", kMaxText);
}

// What a follow-up must be, whoever records it.
absl::Status CheckFollowUp(const v1::FollowUp& in) {
  const std::vector<int>& months = FollowUpMonths();
  if (std::find(months.begin(), months.end(), in.months()) == months.end()) {
    return absl::InvalidArgumentError("follow_up.months must be 1, 3, 6 or 12");
  }
  if (absl::Status s = CheckText(in.situation(), "follow_up.situation", kMaxText); !s.ok()) return s;
  return CheckText(in.health(), "follow_up.health", kMaxText);
}

// A time given as now or earlier; unset means now.
absl::Status CheckPastTime(const google::protobuf::Timestamp& time, absl::string_view field,
                           absl::Time now) {
  if (time.seconds() < 0 || time.nanos() < 0 || FromTimestamp(time) > now + kClockSkew) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be a real time, not later than now"));
  }
  return absl::OkStatus();
}

bool IsRealDate(const v1::Date& date) {
  const absl::CivilDay day(date.year(), date.month(), date.day());
  return date.year() >= 1900 && date.year() <= 2200 && day.year() == date.year() &&
         day.month() == date.month() && day.day() == date.day();
}

absl::CivilDay DayOf(const v1::Date& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

v1::Date DateOf(absl::CivilDay day) {
  v1::Date date;
  date.set_year(static_cast<int>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

// The plan `plan_id` of the case, if the caller may know of it: any plan
// for the owning organisation; only those referred to it for another.
absl::StatusOr<v1::ReturnPlan> LoadPlan(CaseScope& scope, absl::string_view plan_id,
                                        std::string* raw_id) {
  absl::StatusOr<std::string> raw = ParseId(plan_id, "plan_id");
  if (!raw.ok()) return raw.status();
  v1::ReturnPlan plan;
  absl::StatusOr<bool> found = scope.Load(RecordKind::kReturnPlan, *raw, &plan);
  if (!found.ok()) return found.status();
  if (!*found) return PlanNotFound();
  if (!OwnsCase(scope) &&
      plan.return_organisation_id() != scope.context().principal.organisation_id) {
    return PlanNotFound();
  }
  *raw_id = *std::move(raw);
  return plan;
}

std::optional<v1::Referral> ReferralNow(CaseScope& scope, const std::string& referral_id) {
  if (referral_id.empty()) return std::nullopt;
  absl::StatusOr<v1::Referral> found = scope.FindReferral(referral_id);
  if (!found.ok()) return std::nullopt;
  return referral::AsOf(*std::move(found), scope.now());
}

// Where a plan stands now, from its record, the case's consent to return
// and the reception referral.
struct Standing {
  v1::ReturnStatus status = v1::RETURN_STATUS_UNSPECIFIED;
  v1::ReturnConsentState consent = v1::RETURN_CONSENT_STATE_NOT_RECORDED;
  std::string consent_language;
  std::optional<v1::Referral> reception;

  bool HeldByConsent() const {
    return status == v1::RETURN_STATUS_SUSPENDED &&
           (consent == v1::RETURN_CONSENT_STATE_REFUSED ||
            consent == v1::RETURN_CONSENT_STATE_WITHDRAWN);
  }
};

absl::StatusOr<Standing> StandingOf(CaseScope& scope, const v1::ReturnPlan& plan) {
  Standing standing;
  // Read through the door each time: the plan keeps no copy of the consent.
  // What was decided moves the plan whoever asks; the language is shown
  // only to those who may see it.
  absl::StatusOr<CaseScope::ConsentState> decided = scope.ConsentFor(v1::CONSENT_PURPOSE_RETURN);
  if (!decided.ok()) return decided.status();
  switch (*decided) {
    case CaseScope::ConsentState::kNotRecorded:
      break;
    case CaseScope::ConsentState::kGiven:
      standing.consent = v1::RETURN_CONSENT_STATE_GIVEN;
      break;
    case CaseScope::ConsentState::kRefused:
      standing.consent = v1::RETURN_CONSENT_STATE_REFUSED;
      break;
    case CaseScope::ConsentState::kWithdrawn:
      standing.consent = v1::RETURN_CONSENT_STATE_WITHDRAWN;
      break;
  }
  v1::Consent consent;
  absl::StatusOr<bool> found = scope.Load(
      RecordKind::kConsent, access::ConsentRecordId(v1::CONSENT_PURPOSE_RETURN), &consent);
  if (!found.ok()) return found.status();
  standing.consent_language = consent.language();
  standing.reception = ReferralNow(scope, plan.reception().referral_id());
  standing.status = StatusAsItStands(plan.status(), standing.consent, standing.reception);
  return standing;
}

// The move to `to` from where the plan stands; a suspended plan only
// resumes (ResumeReturn) or is cancelled.
absl::Status CheckMove(const Standing& now, v1::ReturnStatus to) {
  if (now.status == v1::RETURN_STATUS_SUSPENDED && to != v1::RETURN_STATUS_CANCELLED &&
      to != v1::RETURN_STATUS_SUSPENDED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a return plan cannot move from SUSPENDED to ", Name(to),
        now.HeldByConsent()
            ? ": the subject's consent to return is refused or withdrawn; the plan resumes when "
              "it is given again"
            : ": resume it first (ResumeReturn)"));
  }
  return CheckReturnMove(now.status, to);
}

// When the receiving organisation took the person over: as recorded, or
// when the partner abroad completed the reception referral.
std::optional<absl::Time> ArrivalOf(const v1::ReturnPlan& plan, const Standing& standing) {
  if (plan.reception().has_arrive_time()) return FromTimestamp(plan.reception().arrive_time());
  if (standing.reception.has_value() &&
      standing.reception->status() == v1::REFERRAL_STATUS_COMPLETED) {
    return FromTimestamp(standing.reception->close_time());
  }
  return std::nullopt;
}

// Writes the fields of `patch` named by `paths` over the stored plan,
// keeping every other field (including those the caller may not see).
absl::Status PatchPlan(CaseScope& scope, const std::string& raw_plan_id, v1::ReturnPlan patch,
                       std::vector<std::string> paths) {
  *patch.mutable_update_time() = ToTimestamp(scope.now());
  paths.push_back("update_time");
  google::protobuf::FieldMask mask;
  for (std::string& path : paths) mask.add_paths(std::move(path));
  v1::ReturnPlan ignored;
  return scope.Patch(RecordKind::kReturnPlan, raw_plan_id, patch, mask, &ignored);
}

absl::Status Moved(CaseScope& scope, const v1::ReturnPlan& plan, v1::ReturnStatus from,
                   v1::ReturnStatus to, absl::string_view detail = "") {
  return scope.AppendTimeline(
      v1::TIMELINE_EVENT_RETURN_MOVED,
      absl::StrCat("return plan ", plan.id(), ": ", Name(from), " -> ", Name(to)), detail);
}

// Moves the plan from where it stands to `to`, with the other fields of
// `patch` named by `paths`, on the timeline.
absl::Status MovePlan(CaseScope& scope, const std::string& raw_plan_id, const v1::ReturnPlan& plan,
                      const Standing& standing, v1::ReturnStatus to, v1::ReturnPlan patch,
                      std::vector<std::string> paths, absl::string_view detail = "") {
  if (absl::Status m = CheckMove(standing, to); !m.ok()) return m;
  patch.set_status(to);
  paths.push_back("status");
  if (absl::Status w = PatchPlan(scope, raw_plan_id, std::move(patch), std::move(paths)); !w.ok()) {
    return w;
  }
  return Moved(scope, plan, standing.status, to, detail);
}

}  // namespace

absl::CivilDay ReturnDesk::Today() const {
  return absl::ToCivilDay(clock_->Now(), options_.time_zone);
}

void ReturnDesk::WatchConsents(cases::CaseFile* file) {
  file->OnConsentEnded([this](CaseScope& scope, v1::ConsentPurpose purpose) {
    return SuspendForConsent(scope, purpose);
  });
}

absl::Status ReturnDesk::SuspendForConsent(CaseScope& scope, v1::ConsentPurpose purpose) {
  if (purpose != v1::CONSENT_PURPOSE_RETURN) return absl::OkStatus();
  absl::StatusOr<std::vector<v1::ReturnPlan>> plans =
      scope.LoadAll<v1::ReturnPlan>(RecordKind::kReturnPlan);
  if (!plans.ok()) return plans.status();
  for (const v1::ReturnPlan& plan : *plans) {
    if (!IsOpen(plan.status())) continue;
    if (absl::Status t = scope.AppendTimeline(
            v1::TIMELINE_EVENT_RETURN_MOVED,
            absl::StrCat("return plan ", plan.id(),
                         " suspended: the subject's consent to return is refused or withdrawn"));
        !t.ok()) {
      return t;
    }
    CaseScope::Addressee officer;
    if (!plan.return_officer_id().empty()) {
      officer.user_id = plan.return_officer_id();
    } else if (!plan.return_organisation_id().empty()) {
      officer.organisation_id = plan.return_organisation_id();
    } else {
      continue;  // nobody outside the case's own organisation works on it yet
    }
    if (absl::Status a = scope.RaiseAlert(v1::ALERT_KIND_RETURN_SUSPENDED, {scope.case_id()}, officer);
        !a.ok()) {
      return a;
    }
  }
  return absl::OkStatus();
}

void ReturnDesk::WatchReceptions(referral::PartnerDesk* partners) {
  partners->OnMoved([this](access::CaseWriter& scope, const v1::Referral& referral) {
    if (referral.purpose() != v1::REFERRAL_PURPOSE_RETURN ||
        referral.status() != v1::REFERRAL_STATUS_COMPLETED) {
      return absl::OkStatus();
    }
    const absl::CivilDay arrival =
        absl::ToCivilDay(FromTimestamp(referral.close_time()), options_.time_zone);
    scope.WatchNoLaterThan(v1::WATCH_KIND_RETURN_FOLLOW_UP_DUE,
                           OverdueFrom(FollowUpDue(arrival, FollowUpMonths().front())));
    return absl::OkStatus();
  });  partners->OnFollowUpReported(
      [this](CaseScope& scope, const v1::Referral& referral, const v1::FollowUp& follow_up) {
        return RecordReportedFollowUp(scope, referral, follow_up);
      });
}

absl::Time ReturnDesk::OverdueFrom(absl::CivilDay day) const {
  return absl::FromCivil(day + 1, options_.time_zone);
}

absl::Status ReturnDesk::RefreshFollowUpWatch(CaseScope& scope) {
  absl::StatusOr<std::vector<std::string>> ids = scope.RecordIds(RecordKind::kReturnPlan);
  if (!ids.ok()) return ids.status();
  std::optional<absl::Time> first;
  std::string officer;
  for (const std::string& raw : *ids) {
    // Every plan, whoever asks: the watch is the case's, and discloses nothing.
    v1::ReturnPlan plan;
    absl::StatusOr<bool> found = scope.Load(RecordKind::kReturnPlan, raw, &plan);
    if (!found.ok()) return found.status();
    if (!*found) continue;
    absl::StatusOr<v1::ReturnPlan> shown = Compose(scope, std::move(plan), raw);
    if (!shown.ok()) return shown.status();
    if (!IsOpen(shown->status())) continue;
    for (const v1::FollowUp& follow_up : shown->follow_ups()) {
      if (follow_up.has_done_time()) continue;
      const absl::Time overdue = OverdueFrom(DayOf(follow_up.due_date()));
      if (!first.has_value() || overdue < *first) {
        first = overdue;
        officer = shown->return_officer_id();
      }
    }
  }
  scope.SetWatch(v1::WATCH_KIND_RETURN_FOLLOW_UP_DUE, first, officer);
  return absl::OkStatus();
}

absl::StatusOr<v1::ReturnPlan> ReturnDesk::Compose(CaseScope& scope, v1::ReturnPlan plan,
                                                   const std::string& raw_plan_id) {
  absl::StatusOr<Standing> standing = StandingOf(scope, plan);
  if (!standing.ok()) return standing.status();
  if (standing->status == v1::RETURN_STATUS_SUSPENDED &&
      plan.status() != v1::RETURN_STATUS_SUSPENDED) {
    plan.set_resume_status(plan.status());
  }
  plan.set_status(standing->status);
  plan.set_consent(standing->consent);
  plan.set_consent_language(standing->consent_language);
  if (standing->reception.has_value()) {
    plan.mutable_reception()->set_referral_status(standing->reception->status());
  }
  const std::optional<absl::Time> arrival = ArrivalOf(plan, *standing);
  if (arrival.has_value()) {
    *plan.mutable_reception()->mutable_arrive_time() = ToTimestamp(*arrival);
    absl::StatusOr<std::vector<v1::FollowUp>> follow_ups = FollowUpsAfter(
        scope, RecordKind::kReturnFollowUp, raw_plan_id, *arrival, IsOpen(standing->status));
    if (!follow_ups.ok()) return follow_ups.status();
    for (v1::FollowUp& follow_up : *follow_ups) *plan.add_follow_ups() = std::move(follow_up);
  }
  return plan;
}

absl::StatusOr<v1::ReturnPlan> ReturnDesk::Present(CaseScope& scope, v1::ReturnPlan plan,
                                                   const std::string& raw_plan_id) {
  absl::StatusOr<v1::ReturnPlan> shown = Compose(scope, std::move(plan), raw_plan_id);
  if (shown.ok()) scope.Disclose(&*shown);
  return shown;
}

v1::FollowUp ReturnDesk::Recorded(const CaseScope& scope, const v1::FollowUp& in,
                                  absl::Time arrival) const {
  v1::FollowUp follow_up;
  follow_up.set_months(in.months());
  *follow_up.mutable_due_date() =
      DateOf(FollowUpDue(absl::ToCivilDay(arrival, options_.time_zone), in.months()));
  *follow_up.mutable_done_time() = ToTimestamp(scope.now());
  follow_up.set_reached(in.reached());
  follow_up.set_situation(in.situation());
  follow_up.set_health(in.health());
  follow_up.set_recorded_by(scope.context().principal.id);
  return follow_up;
}

absl::StatusOr<std::vector<v1::FollowUp>> ReturnDesk::FollowUpsAfter(
    CaseScope& scope, RecordKind kind, const std::string& raw_followed_id, absl::Time arrival,
    bool open) {
  const absl::CivilDay arrival_day = absl::ToCivilDay(arrival, options_.time_zone);
  const absl::CivilDay today = Today();
  std::vector<v1::FollowUp> follow_ups;
  for (int months : FollowUpMonths()) {
    v1::FollowUp follow_up;
    absl::StatusOr<bool> found =
        scope.Load(kind, FollowUpRecordId(raw_followed_id, months), &follow_up);
    if (!found.ok()) return found.status();
    const absl::CivilDay due = FollowUpDue(arrival_day, months);
    follow_up.set_months(months);
    *follow_up.mutable_due_date() = DateOf(due);
    follow_up.set_overdue(open && !follow_up.has_done_time() && due < today);
    follow_ups.push_back(std::move(follow_up));
  }
  return follow_ups;
}

absl::StatusOr<v1::ReturnPlan> ReturnDesk::OnPlan(const access::RequestContext& ctx,
                                                  absl::string_view case_id,
                                                  absl::string_view plan_id,
                                                  absl::string_view audit_action,
                                                  const Change& change) {
  v1::ReturnPlan result;
  absl::Status s = door_->WithCase(
      ctx, case_id, change ? v1::CASE_ACTION_UPDATE : v1::CASE_ACTION_READ, audit_action,
      [&](CaseScope& scope) -> absl::Status {
        std::string raw;
        absl::StatusOr<v1::ReturnPlan> plan = LoadPlan(scope, plan_id, &raw);
        if (!plan.ok()) return plan.status();
        if (change) {
          if (absl::Status c = change(scope, *plan, raw); !c.ok()) return c;
          if (absl::Status w = RefreshFollowUpWatch(scope); !w.ok()) return w;
          plan = LoadPlan(scope, plan_id, &raw);
          if (!plan.ok()) return plan.status();
        }
        return services::Into(Present(scope, *std::move(plan), raw), &result);
      });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<v1::ReturnPlan> ReturnDesk::Create(const access::RequestContext& ctx,
                                                  const v1::CreateReturnPlanRequest& request) {
  const v1::ReturnPlan& in = request.plan();
  if (absl::Status s = CheckCountryCode(in.destination_country(), "plan.destination_country");
      !s.ok()) {
    return s;
  }
  if (in.destination_region().empty()) {
    return absl::InvalidArgumentError(
        "plan.destination_region is required: the region or town of return");
  }
  if (absl::Status s = CheckText(in.destination_region(), "plan.destination_region", kMaxShortText);
      !s.ok()) {
    return s;
  }
  v1::ReturnPlan result;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_UPDATE, "repatriation.create_plan",
      [&](CaseScope& scope) -> absl::Status {
        if (absl::Status p = CheckPlanner(scope); !p.ok()) return p;
        absl::StatusOr<std::vector<v1::ReturnPlan>> plans =
            scope.LoadAll<v1::ReturnPlan>(RecordKind::kReturnPlan);
        if (!plans.ok()) return plans.status();
        if (plans->size() >= kMaxPlansPerCase) {
          return absl::ResourceExhaustedError(
              absl::StrCat("a case has at most ", kMaxPlansPerCase, " return plans"));
        }
        for (const v1::ReturnPlan& existing : *plans) {
          if (IsOpen(existing.status())) {
            return absl::FailedPreconditionError(absl::StrCat(
                "the case has an open return plan (", existing.id(),
                "); cancel or close it before planning another"));
          }
        }
        const std::string raw = NewRawId();
        v1::ReturnPlan plan;
        plan.set_id(ToHex(raw));
        plan.set_case_id(scope.case_id());
        plan.set_status(v1::RETURN_STATUS_PROPOSED);
        plan.set_destination_country(in.destination_country());
        plan.set_destination_region(in.destination_region());
        plan.set_created_by(ctx.principal.id);
        *plan.mutable_create_time() = ToTimestamp(scope.now());
        *plan.mutable_update_time() = plan.create_time();
        if (absl::Status w = scope.Save(RecordKind::kReturnPlan, raw, plan); !w.ok()) return w;
        if (absl::Status t = scope.AppendTimeline(v1::TIMELINE_EVENT_RETURN_PLANNED,
                                                  absl::StrCat("return plan ", plan.id(), " proposed"));
            !t.ok()) {
          return t;
        }
        return services::Into(Present(scope, std::move(plan), raw), &result);
      });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<v1::ReturnPlan> ReturnDesk::Get(const access::RequestContext& ctx,
                                               const v1::GetReturnPlanRequest& request) {
  return OnPlan(ctx, request.case_id(), request.plan_id(), "repatriation.get_plan", nullptr);
}

absl::StatusOr<v1::ListReturnPlansResponse> ReturnDesk::List(
    const access::RequestContext& ctx, const v1::ListReturnPlansRequest& request) {
  v1::ListReturnPlansResponse response;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_READ, "repatriation.list_plans",
      [&](CaseScope& scope) -> absl::Status {
        absl::StatusOr<std::vector<std::string>> ids = scope.RecordIds(RecordKind::kReturnPlan);
        if (!ids.ok()) return ids.status();
        for (const std::string& raw : *ids) {
          std::string ignored;
          absl::StatusOr<v1::ReturnPlan> plan = LoadPlan(scope, ToHex(raw), &ignored);
          if (absl::IsNotFound(plan.status())) continue;  // another organisation's return
          if (!plan.ok()) return plan.status();
          absl::StatusOr<v1::ReturnPlan> shown = Present(scope, *std::move(plan), raw);
          if (!shown.ok()) return shown.status();
          *response.add_plans() = *std::move(shown);
        }
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<v1::ReturnPlan> ReturnDesk::Assess(const access::RequestContext& ctx,
                                                  const v1::AssessReturnRisksRequest& request) {
  if (absl::Status s = CheckRiskAssessment(request.risks()); !s.ok()) return s;
  return OnPlan(ctx, request.case_id(), request.plan_id(), "repatriation.assess_risks",
                [&](CaseScope& scope, v1::ReturnPlan& plan, const std::string& raw) -> absl::Status {
    if (absl::Status p = CheckPlanner(scope); !p.ok()) return p;
    absl::StatusOr<Standing> standing = StandingOf(scope, plan);
    if (!standing.ok()) return standing.status();
    v1::ReturnPlan patch;
    *patch.mutable_risks() = request.risks();
    patch.mutable_risks()->set_assessed_by(ctx.principal.id);
    *patch.mutable_risks()->mutable_assess_time() = ToTimestamp(scope.now());
    if (absl::Status t = scope.AppendTimeline(
            v1::TIMELINE_EVENT_RETURN_ASSESSED,
            absl::StrCat("return plan ", plan.id(), ": risks assessed"));
        !t.ok()) {
      return t;
    }
    // Assessed again before approval: the new assessment replaces the old.
    if (standing->status == v1::RETURN_STATUS_ASSESSED) {
      return PatchPlan(scope, raw, std::move(patch), {"risks"});
    }
    return MovePlan(scope, raw, plan, *standing, v1::RETURN_STATUS_ASSESSED, std::move(patch),
                    {"risks"});
  });
}

absl::StatusOr<v1::ReturnPlan> ReturnDesk::Approve(const access::RequestContext& ctx,
                                                   const v1::ApproveReturnRequest& request) {
  const std::string& reasons = request.risk_override_reasons();
  if (absl::Status s = CheckText(reasons, "risk_override_reasons", kMaxText); !s.ok()) return s;
  return OnPlan(
      ctx, request.case_id(), request.plan_id(),
      reasons.empty() ? "repatriation.approve" : "repatriation.approve_risk_override",
      [&](CaseScope& scope, v1::ReturnPlan& plan, const std::string& raw) -> absl::Status {
        if (!OwnsCase(scope) || !ctx.principal.HasRole(v1::ROLE_SUPERVISOR)) {
          return absl::PermissionDeniedError(
              "a supervisor of the case's own organisation approves a return");
        }
        absl::StatusOr<Standing> standing = StandingOf(scope, plan);
        if (!standing.ok()) return standing.status();
        if (absl::Status m = CheckMove(*standing, v1::RETURN_STATUS_APPROVED); !m.ok()) return m;
        ApprovalFacts facts;
        facts.consent_given = standing->consent == v1::RETURN_CONSENT_STATE_GIVEN;
        absl::StatusOr<bool> child = scope.SubjectIsChild();
        if (!child.ok()) return child.status();
        facts.child = *child;
        v1::BestInterestsAssessment best_interests;
        absl::StatusOr<bool> assessed = scope.Load(RecordKind::kBestInterests, "", &best_interests);
        if (!assessed.ok()) return assessed.status();
        facts.best_interests_assessed = *assessed;
        facts.return_in_best_interests = best_interests.return_in_best_interests();
        v1::Guardian guardian;
        absl::StatusOr<bool> appointed = scope.Load(RecordKind::kGuardian, "", &guardian);
        if (!appointed.ok()) return appointed.status();
        facts.guardian_recorded = *appointed;
        if (absl::Status g = CheckApproval(plan.risks(), facts, !reasons.empty()); !g.ok()) return g;
        if (!reasons.empty() && !HasHighRisk(plan.risks())) {
          return absl::FailedPreconditionError(
              "no risk is assessed HIGH: approve without risk_override_reasons");
        }
        v1::ReturnPlan patch;
        std::vector<std::string> paths = {"approved_by", "approve_time"};
        patch.set_approved_by(ctx.principal.id);
        *patch.mutable_approve_time() = ToTimestamp(scope.now());
        if (!reasons.empty()) {
          patch.set_risk_override_reasons(reasons);
          paths.push_back("risk_override_reasons");
        }
        if (absl::Status t = scope.AppendTimeline(
                v1::TIMELINE_EVENT_RETURN_APPROVED,
                absl::StrCat("return plan ", plan.id(), " approved",
                             reasons.empty() ? "" : " by a supervisor's override of a HIGH risk"),
                reasons);
            !t.ok()) {
          return t;
        }
        return MovePlan(scope, raw, plan, *standing, v1::RETURN_STATUS_APPROVED, std::move(patch),
                        std::move(paths));
      });
}

absl::StatusOr<v1::ReferReturnPlanResponse> ReturnDesk::Refer(
    const access::RequestContext& ctx, const v1::ReferReturnPlanRequest& request) {
  const v1::Referral& terms = request.referral();
  const absl::Status not_organiser = absl::InvalidArgumentError(
      "referral.receiver_organisation_id must name the international organisation or consulate "
      "that organises the return");
  if (terms.receiver_organisation_id().empty()) return not_organiser;
  absl::StatusOr<v1::Organisation> organiser =
      accounts_->FindOrganisation(terms.receiver_organisation_id());
  if (!organiser.ok()) {
    if (absl::IsNotFound(organiser.status()) || absl::IsInvalidArgument(organiser.status())) {
      return not_organiser;
    }
    return organiser.status();
  }
  if (organiser->type() != v1::ORGANISATION_TYPE_INTERNATIONAL_ORGANISATION &&
      organiser->type() != v1::ORGANISATION_TYPE_CONSULATE) {
    return not_organiser;
  }
  v1::CreateReferralRequest create;
  *create.mutable_referral() = terms;
  create.mutable_referral()->set_case_id(request.case_id());
  create.mutable_referral()->set_purpose(v1::REFERRAL_PURPOSE_RETURN);
  create.mutable_referral()->clear_partner_id();
  create.set_reason(request.reason());
  v1::ReferReturnPlanResponse response;
  absl::StatusOr<v1::Referral> sent = referrals_->CreateAndSend(
      ctx, create, nullptr, [&](CaseScope& scope, const v1::Referral& referral) -> absl::Status {
        if (absl::Status p = CheckPlanner(scope); !p.ok()) return p;
        std::string raw;
        absl::StatusOr<v1::ReturnPlan> plan = LoadPlan(scope, request.plan_id(), &raw);
        if (!plan.ok()) return plan.status();
        absl::StatusOr<Standing> standing = StandingOf(scope, *plan);
        if (!standing.ok()) return standing.status();
        if (!IsOpen(standing->status) || standing->status == v1::RETURN_STATUS_SUSPENDED) {
          return absl::FailedPreconditionError(absl::StrCat(
              "only an open return plan that is not suspended is referred (the plan is ",
              Name(standing->status), ")"));
        }
        const std::optional<v1::Referral> previous = ReferralNow(scope, plan->return_referral_id());
        if (previous.has_value() && (referral::IsOpen(previous->status()) ||
                                     previous->status() == v1::REFERRAL_STATUS_ACCEPTED)) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the plan's return referral ", previous->id(),
              " is still open or accepted; cancel it before referring the plan elsewhere"));
        }
        v1::ReturnPlan patch;
        patch.set_return_organisation_id(referral.receiver_organisation_id());
        patch.set_return_referral_id(referral.id());
        if (absl::Status w = PatchPlan(scope, raw, std::move(patch),
                                       {"return_organisation_id", "return_referral_id",
                                        "return_officer_id"});
            !w.ok()) {
          return w;
        }
        if (absl::Status t = scope.AppendTimeline(
                v1::TIMELINE_EVENT_RETURN_PLANNED,
                absl::StrCat("return plan ", plan->id(), " referred to ",
                             referral.receiver_organisation_id(), " to organise the return"));
            !t.ok()) {
          return t;
        }
        plan = LoadPlan(scope, request.plan_id(), &raw);
        if (!plan.ok()) return plan.status();
        return services::Into(Present(scope, *std::move(plan), raw), response.mutable_plan());
      });
  if (!sent.ok()) return sent.status();
  *response.mutable_referral() = *std::move(sent);
  return response;
}

absl::StatusOr<v1::ReturnPlan> ReturnDesk::TakeOn(const access::RequestContext& ctx,
                                                  const v1::TakeOnReturnPlanRequest& request) {
  return OnPlan(ctx, request.case_id(), request.plan_id(), "repatriation.take_on",
                [&](CaseScope& scope, v1::ReturnPlan& plan, const std::string& raw) -> absl::Status {
    if (!ctx.principal.HasRole(v1::ROLE_RETURN_OFFICER) ||
        plan.return_organisation_id() != ctx.principal.organisation_id) {
      return absl::PermissionDeniedError(
          "a return officer of the organisation the plan was referred to takes it on");
    }
    if (!IsOpen(plan.status())) {
      return absl::FailedPreconditionError("a closed or cancelled return is not taken on");
    }
    v1::ReturnPlan patch;
    patch.set_return_officer_id(ctx.principal.id);
    if (absl::Status w = PatchPlan(scope, raw, std::move(patch), {"return_officer_id"}); !w.ok()) {
      return w;
    }
    return scope.AppendTimeline(
        v1::TIMELINE_EVENT_RETURN_PLANNED,
        absl::StrCat("return plan ", plan.id(), " taken on by return officer ", ctx.principal.id));
  });
}

absl::StatusOr<v1::ReturnPlan> ReturnDesk::RecordDocuments(
    const access::RequestContext& ctx, const v1::RecordTravelDocumentsRequest& request) {
  if (absl::Status s = CheckDocuments(request.documents()); !s.ok()) return s;
  for (int i = 0; i < request.documents_size(); ++i) {
    const v1::TravelDocument& d = request.documents(i);
    for (const auto& [given, when, field] :
         {std::tuple{d.has_request_time(), &d.request_time(), "request_time"},
          std::tuple{d.has_issue_time(), &d.issue_time(), "issue_time"}}) {
      if (!given) continue;
      if (absl::Status s = CheckPastTime(*when, absl::StrCat("documents[", i, "].", field),
                                         clock_->Now());
          !s.ok()) {
        return s;
      }
    }
  }
  return OnPlan(ctx, request.case_id(), request.plan_id(), "repatriation.record_documents",
                [&](CaseScope& scope, v1::ReturnPlan& plan, const std::string& raw) -> absl::Status {
    if (absl::Status p = CheckActor(scope, plan); !p.ok()) return p;
    absl::StatusOr<Standing> standing = StandingOf(scope, plan);
    if (!standing.ok()) return standing.status();
    const v1::ReturnStatus now = standing->status;
    if (now == v1::RETURN_STATUS_SUSPENDED) {
      return absl::FailedPreconditionError(
          "the return is suspended: its documents are recorded once it resumes");
    }
    if (!IsOpen(now) || now == v1::RETURN_STATUS_TRAVELLED || now == v1::RETURN_STATUS_RECEIVED ||
        now == v1::RETURN_STATUS_REINTEGRATING) {
      return absl::FailedPreconditionError(absl::StrCat(
          "travel documents are recorded until the person travels (the return is ", Name(now), ")"));
    }
    const bool ready = DocumentsReady(request.documents());
    if (!ready && (now == v1::RETURN_STATUS_DOCUMENTS_READY || now == v1::RETURN_STATUS_SCHEDULED)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the return is ", Name(now),
          ": its documents stay issued; suspend or cancel the return instead"));
    }
    v1::ReturnPlan patch;
    *patch.mutable_documents() = request.documents();
    if (now == v1::RETURN_STATUS_APPROVED && ready) {
      return MovePlan(scope, raw, plan, *standing, v1::RETURN_STATUS_DOCUMENTS_READY,
                      std::move(patch), {"documents"});
    }
    if (absl::Status w = PatchPlan(scope, raw, std::move(patch), {"documents"}); !w.ok()) return w;
    return scope.AppendTimeline(
        v1::TIMELINE_EVENT_RETURN_PLANNED,
        absl::StrCat("return plan ", plan.id(), ": travel documents recorded"));
  });
}

absl::StatusOr<v1::ScheduleReturnResponse> ReturnDesk::Schedule(
    const access::RequestContext& ctx, const v1::ScheduleReturnRequest& request) {
  const v1::Travel& travel = request.travel();
  const v1::Reception& reception = request.reception();
  if (!IsRealDate(travel.date()) || DayOf(travel.date()) < Today()) {
    return absl::InvalidArgumentError("travel.date must be a real date, today or later");
  }
  for (const auto& [text, field, max] :
       {std::tuple{&travel.route(), "travel.route", kMaxRoute},
        std::tuple{&travel.escort(), "travel.escort", kMaxShortText},
        std::tuple{&travel.medical_needs(), "travel.medical_needs", kMaxText},
        std::tuple{&reception.receiving_organisation(), "reception.receiving_organisation",
                   kMaxShortText},
        std::tuple{&reception.handover_place(), "reception.handover_place", kMaxShortText},
        std::tuple{&request.reason(), "reason", kMaxText}}) {
    if (absl::Status s = CheckText(*text, field, max); !s.ok()) return s;
  }
  if (travel.escorted() == travel.escort().empty()) {
    return absl::InvalidArgumentError("travel.escort names who escorts, when and only when travel.escorted");
  }
  const bool abroad = !reception.partner_id().empty();
  if (abroad == !reception.receiving_organisation().empty()) {
    return absl::InvalidArgumentError(
        "reception names either receiving_organisation or partner_id (a partner mechanism that "
        "runs Haven)");
  }
  v1::ReturnPlan patch;
  std::vector<std::string> paths = {"travel.date", "travel.escorted", "travel.escort",
                                    "reception.receiving_organisation", "reception.partner_id"};
  *patch.mutable_travel()->mutable_date() = travel.date();
  patch.mutable_travel()->set_escorted(travel.escorted());
  patch.mutable_travel()->set_escort(travel.escort());
  patch.mutable_reception()->set_receiving_organisation(reception.receiving_organisation());
  patch.mutable_reception()->set_partner_id(reception.partner_id());
  // Fields of classes the caller may not write are named only when given.
  if (!travel.route().empty()) {
    patch.mutable_travel()->set_route(travel.route());
    paths.push_back("travel.route");
  }
  if (!travel.medical_needs().empty()) {
    patch.mutable_travel()->set_medical_needs(travel.medical_needs());
    paths.push_back("travel.medical_needs");
  }
  if (!reception.handover_place().empty()) {
    patch.mutable_reception()->set_handover_place(reception.handover_place());
    paths.push_back("reception.handover_place");
  }
  v1::ScheduleReturnResponse response;
  auto schedule = [&](CaseScope& scope, const v1::Referral* referral) -> absl::Status {
    std::string raw;
    absl::StatusOr<v1::ReturnPlan> plan = LoadPlan(scope, request.plan_id(), &raw);
    if (!plan.ok()) return plan.status();
    if (absl::Status p = referral == nullptr ? CheckActor(scope, *plan) : CheckPlanner(scope);
        !p.ok()) {
      return p;
    }
    absl::StatusOr<Standing> standing = StandingOf(scope, *plan);
    if (!standing.ok()) return standing.status();
    v1::ReturnPlan move = patch;
    std::vector<std::string> move_paths = paths;
    move.mutable_reception()->set_referral_id(referral == nullptr ? "" : referral->id());
    move_paths.push_back("reception.referral_id");
    if (absl::Status m = MovePlan(scope, raw, *plan, *standing, v1::RETURN_STATUS_SCHEDULED,
                                  std::move(move), std::move(move_paths), request.reason());
        !m.ok()) {
      return m;
    }
    plan = LoadPlan(scope, request.plan_id(), &raw);
    if (!plan.ok()) return plan.status();
    return services::Into(Present(scope, *std::move(plan), raw), response.mutable_plan());
  };
  if (!abroad) {
    absl::Status s = door_->WithCase(ctx, request.case_id(), v1::CASE_ACTION_UPDATE,
                                     "repatriation.schedule",
                                     [&](CaseScope& scope) { return schedule(scope, nullptr); });
    if (!s.ok()) return s;
    return response;
  }
  // A hand-over abroad is a referral: the case's own caseworkers and
  // supervisors make it (checked again in its passage).
  if (!HasAnyRole(ctx.principal, {v1::ROLE_CASEWORKER, v1::ROLE_SUPERVISOR})) {
    return absl::PermissionDeniedError(
        "the case's own caseworkers and supervisors refer a reception to a partner abroad");
  }
  v1::CreateReferralRequest create;
  *create.mutable_referral() = request.referral();
  create.mutable_referral()->set_case_id(request.case_id());
  create.mutable_referral()->set_partner_id(reception.partner_id());
  create.mutable_referral()->clear_receiver_organisation_id();
  create.mutable_referral()->set_purpose(v1::REFERRAL_PURPOSE_RETURN);
  create.set_reason(request.reason());
  absl::StatusOr<v1::Referral> sent = referrals_->CreateAndSend(
      ctx, create, nullptr,
      [&](CaseScope& scope, const v1::Referral& referral) { return schedule(scope, &referral); });
  if (!sent.ok()) return sent.status();
  *response.mutable_referral() = *std::move(sent);
  return response;
}

absl::StatusOr<v1::ReturnPlan> ReturnDesk::RecordDeparture(
    const access::RequestContext& ctx, const v1::RecordDepartureRequest& request) {
  const absl::Time now = clock_->Now();
  if (request.has_depart_time()) {
    if (absl::Status s = CheckPastTime(request.depart_time(), "depart_time", now); !s.ok()) return s;
  }
  return OnPlan(ctx, request.case_id(), request.plan_id(), "repatriation.record_departure",
                [&](CaseScope& scope, v1::ReturnPlan& plan, const std::string& raw) -> absl::Status {
    if (absl::Status p = CheckActor(scope, plan); !p.ok()) return p;
    absl::StatusOr<Standing> standing = StandingOf(scope, plan);
    if (!standing.ok()) return standing.status();
    if (standing->reception.has_value() &&
        standing->reception->status() != v1::REFERRAL_STATUS_ACCEPTED &&
        standing->reception->status() != v1::REFERRAL_STATUS_COMPLETED) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the partner abroad has not accepted the hand-over (its referral is ",
          v1::ReferralStatus_Name(standing->reception->status()),
          "): nobody travels without a confirmed reception"));
    }
    v1::ReturnPlan patch;
    *patch.mutable_travel()->mutable_depart_time() =
        request.has_depart_time() ? request.depart_time() : ToTimestamp(scope.now());
    return MovePlan(scope, raw, plan, *standing, v1::RETURN_STATUS_TRAVELLED, std::move(patch),
                    {"travel.depart_time"});
  });
}

absl::StatusOr<v1::ReturnPlan> ReturnDesk::RecordArrival(const access::RequestContext& ctx,
                                                         const v1::RecordArrivalRequest& request) {
  const absl::Time now = clock_->Now();
  if (request.has_arrive_time()) {
    if (absl::Status s = CheckPastTime(request.arrive_time(), "arrive_time", now); !s.ok()) return s;
  }
  return OnPlan(ctx, request.case_id(), request.plan_id(), "repatriation.record_arrival",
                [&](CaseScope& scope, v1::ReturnPlan& plan, const std::string& raw) -> absl::Status {
    if (absl::Status p = CheckActor(scope, plan); !p.ok()) return p;
    absl::StatusOr<Standing> standing = StandingOf(scope, plan);
    if (!standing.ok()) return standing.status();
    if (absl::Status m = CheckMove(*standing, v1::RETURN_STATUS_RECEIVED); !m.ok()) return m;
    const absl::Time when = request.has_arrive_time() ? FromTimestamp(request.arrive_time()) : scope.now();
    if (plan.travel().has_depart_time() && when < FromTimestamp(plan.travel().depart_time())) {
      return absl::InvalidArgumentError("arrive_time must not be before the departure");
    }
    v1::ReturnPlan patch;
    *patch.mutable_reception()->mutable_arrive_time() = ToTimestamp(when);
    patch.mutable_reception()->set_arrival_recorded_by(ctx.principal.id);
    return MovePlan(scope, raw, plan, *standing, v1::RETURN_STATUS_RECEIVED, std::move(patch),
                    {"reception.arrive_time", "reception.arrival_recorded_by"});
  });
}

absl::StatusOr<v1::ReturnPlan> ReturnDesk::RecordFollowUp(
    const access::RequestContext& ctx, const v1::RecordFollowUpRequest& request) {
  if (absl::Status s = CheckFollowUp(request.follow_up()); !s.ok()) return s;
  return OnPlan(ctx, request.case_id(), request.plan_id(), "repatriation.record_follow_up",
                [&](CaseScope& scope, v1::ReturnPlan& plan, const std::string& raw) -> absl::Status {
    if (absl::Status p = CheckActor(scope, plan); !p.ok()) return p;
    return SaveFollowUp(scope, plan, raw, request.follow_up(), /*over_partner_link=*/false);
  });
}

absl::Status ReturnDesk::SaveFollowUp(CaseScope& scope, const v1::ReturnPlan& plan,
                                      const std::string& raw_plan_id, const v1::FollowUp& in,
                                      bool over_partner_link) {
  absl::StatusOr<Standing> standing = StandingOf(scope, plan);
  if (!standing.ok()) return standing.status();
  const std::optional<absl::Time> arrival = ArrivalOf(plan, *standing);
  if ((standing->status != v1::RETURN_STATUS_RECEIVED &&
       standing->status != v1::RETURN_STATUS_REINTEGRATING) ||
      !arrival.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "follow-ups are recorded once the person is received (the return is ",
        Name(standing->status), ")"));
  }
  const std::string id = FollowUpRecordId(raw_plan_id, in.months());
  v1::FollowUp follow_up;
  absl::StatusOr<bool> found = scope.Load(RecordKind::kReturnFollowUp, id, &follow_up);
  if (!found.ok()) return found.status();
  if (*found && follow_up.has_done_time()) {
    if (over_partner_link) return absl::OkStatus();  // a report delivered again
    return absl::FailedPreconditionError(
        absl::StrCat("the ", in.months(), "-month follow-up is recorded already"));
  }
  follow_up = Recorded(scope, in, *arrival);
  follow_up.set_reported_by_partner(over_partner_link || in.reported_by_partner());
  if (absl::Status w = scope.Save(RecordKind::kReturnFollowUp, id, follow_up); !w.ok()) return w;
  if (absl::Status t = scope.AppendTimeline(
          v1::TIMELINE_EVENT_RETURN_FOLLOW_UP,
          absl::StrCat("return plan ", plan.id(), ": ", in.months(), "-month follow-up ",
                       over_partner_link ? "reported by the partner abroad" : "recorded", " (",
                       in.reached() ? "reached" : "not reached", ")"));
      !t.ok()) {
    return t;
  }
  if (!in.reached()) {
    // Someone who cannot be found after a return may have been re-trafficked.
    CaseScope::Addressee to;
    if (!plan.return_officer_id().empty()) {
      to.user_id = plan.return_officer_id();
    } else if (scope.record().assignee_ids_size() > 0) {
      to.user_id = scope.record().assignee_ids(0);
    } else {
      to.organisation_id = scope.record().owning_organisation_id();
    }
    if (absl::Status a =
            scope.RaiseAlert(v1::ALERT_KIND_RETURN_PERSON_NOT_REACHED, {scope.case_id()}, to);
        !a.ok()) {
      return a;
    }
  }
  if (standing->status == v1::RETURN_STATUS_REINTEGRATING) return absl::OkStatus();
  v1::ReturnPlan patch;
  *patch.mutable_reception()->mutable_arrive_time() = ToTimestamp(*arrival);
  return MovePlan(scope, raw_plan_id, plan, *standing, v1::RETURN_STATUS_REINTEGRATING,
                  std::move(patch), {"reception.arrive_time"});
}

absl::Status ReturnDesk::RecordReportedFollowUp(CaseScope& scope, const v1::Referral& referral,
                                                v1::FollowUp in) {
  if (absl::Status c = CheckFollowUp(in); !c.ok()) return c;
  // Only what the referral shares crosses the border, either way.
  access::Redact(&in, scope.visible());
  absl::StatusOr<std::vector<std::string>> ids = scope.RecordIds(RecordKind::kReturnPlan);
  if (!ids.ok()) return ids.status();
  for (const std::string& raw : *ids) {
    v1::ReturnPlan plan;
    absl::StatusOr<bool> found = scope.Load(RecordKind::kReturnPlan, raw, &plan);
    if (!found.ok()) return found.status();
    if (!*found || plan.reception().referral_id() != referral.id()) continue;
    if (absl::Status w = SaveFollowUp(scope, plan, raw, in, /*over_partner_link=*/true); !w.ok()) {
      return w;
    }
    return RefreshFollowUpWatch(scope);
  }
  return absl::FailedPreconditionError("no return plan here was handed over through this referral");
}

absl::StatusOr<v1::ReceivedReturn> ReturnDesk::GetReceived(
    const access::RequestContext& ctx, const v1::GetReceivedReturnRequest& request) {
  return OnReceived(ctx, request.case_id(), request.referral_id(),
                    "repatriation.get_received_return", nullptr);
}

absl::StatusOr<v1::ReceivedReturn> ReturnDesk::RecordReceivedFollowUp(
    const access::RequestContext& ctx, const v1::RecordReceivedFollowUpRequest& request) {
  const v1::FollowUp& in = request.follow_up();
  if (absl::Status s = CheckFollowUp(in); !s.ok()) return s;
  absl::StatusOr<v1::ReceivedReturn> received = OnReceived(
      ctx, request.case_id(), request.referral_id(), "repatriation.record_received_follow_up",
      [&](CaseScope& scope, const v1::Referral& referral, const std::string& raw_referral_id,
          absl::Time arrival) -> absl::Status {
        const std::string id = FollowUpRecordId(raw_referral_id, in.months());
        v1::FollowUp follow_up;
        absl::StatusOr<bool> found = scope.Load(RecordKind::kReceivedFollowUp, id, &follow_up);
        if (!found.ok()) return found.status();
        if (*found && follow_up.has_done_time()) {
          return absl::FailedPreconditionError(
              absl::StrCat("the ", in.months(), "-month follow-up is recorded already"));
        }
        follow_up = Recorded(scope, in, arrival);
        if (absl::Status w = scope.Save(RecordKind::kReceivedFollowUp, id, follow_up); !w.ok()) {
          return w;
        }
        if (absl::Status t = scope.AppendTimeline(
                v1::TIMELINE_EVENT_RETURN_FOLLOW_UP,
                absl::StrCat("return referral ", referral.id(), " from partner ",
                             referral.partner_id(), ": ", in.months(), "-month follow-up recorded (",
                             in.reached() ? "reached" : "not reached", "), sent to the partner"));
            !t.ok()) {
          return t;
        }
        v1::PartnerOutboxRecord message;
        message.set_partner_id(referral.partner_id());
        message.set_referral_id(referral.id());
        message.set_follow_up_months(in.months());
        message.set_change_time_micros(absl::ToUnixMicros(scope.now()));
        return scope.QueueForPartner(std::move(message));
      });
  if (received.ok()) referrals_->WakePartnerLink();
  return received;
}

absl::StatusOr<v1::ReceivedReturn> ReturnDesk::OnReceived(const access::RequestContext& ctx,
                                                          absl::string_view case_id,
                                                          absl::string_view referral_id,
                                                          absl::string_view audit_action,
                                                          const ReceivedChange& change) {
  absl::StatusOr<std::string> raw_referral_id = ParseId(referral_id, "referral_id");
  if (!raw_referral_id.ok()) return raw_referral_id.status();
  v1::ReceivedReturn result;
  absl::Status s = door_->WithCase(
      ctx, case_id, change ? v1::CASE_ACTION_UPDATE : v1::CASE_ACTION_READ, audit_action,
      [&](CaseScope& scope) -> absl::Status {
        absl::StatusOr<v1::Referral> found = scope.FindReferral(referral_id);
        if (!found.ok()) return found.status();
        const v1::Referral referral = referral::AsOf(*std::move(found), scope.now());
        if (referral.partner_id().empty() || !referral.sender_organisation_id().empty() ||
            referral.purpose() != v1::REFERRAL_PURPOSE_RETURN) {
          return absl::FailedPreconditionError(
              "the referral is not a return referral received from a partner mechanism");
        }
        std::optional<absl::Time> arrival;
        if (referral.status() == v1::REFERRAL_STATUS_COMPLETED) {
          arrival = FromTimestamp(referral.close_time());
        }
        if (change) {
          if (absl::Status p = CheckPlanner(scope); !p.ok()) return p;
          if (!arrival.has_value()) {
            return absl::FailedPreconditionError(
                "follow-ups are recorded once the person has arrived: complete the partner's "
                "return referral first");
          }
          if (absl::Status c = change(scope, referral, *raw_referral_id, *arrival); !c.ok()) return c;
        }
        result.set_case_id(scope.case_id());
        result.set_referral_id(referral.id());
        result.set_partner_id(referral.partner_id());
        if (arrival.has_value()) {
          *result.mutable_arrive_time() = ToTimestamp(*arrival);
          absl::StatusOr<std::vector<v1::FollowUp>> follow_ups =
              FollowUpsAfter(scope, RecordKind::kReceivedFollowUp, *raw_referral_id, *arrival,
                             scope.record().status() == v1::CASE_STATUS_OPEN);
          if (!follow_ups.ok()) return follow_ups.status();
          for (v1::FollowUp& follow_up : *follow_ups) *result.add_follow_ups() = std::move(follow_up);
        }
        scope.Disclose(&result);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<v1::ReturnPlan> ReturnDesk::Suspend(
    const access::RequestContext& ctx, const v1::ReturnStatusChangeRequest& request) {
  if (absl::Status s = CheckReason(request.reason()); !s.ok()) return s;
  return OnPlan(ctx, request.case_id(), request.plan_id(), "repatriation.suspend",
                [&](CaseScope& scope, v1::ReturnPlan& plan, const std::string& raw) -> absl::Status {
    if (absl::Status p = CheckPlanner(scope); !p.ok()) return p;
    absl::StatusOr<Standing> standing = StandingOf(scope, plan);
    if (!standing.ok()) return standing.status();
    v1::ReturnPlan patch;
    patch.set_resume_status(plan.status());
    patch.set_hold_reason(request.reason());
    return MovePlan(scope, raw, plan, *standing, v1::RETURN_STATUS_SUSPENDED, std::move(patch),
                    {"resume_status", "hold_reason"}, request.reason());
  });
}

absl::StatusOr<v1::ReturnPlan> ReturnDesk::Resume(
    const access::RequestContext& ctx, const v1::ReturnStatusChangeRequest& request) {
  if (absl::Status s = CheckText(request.reason(), "reason", kMaxText); !s.ok()) return s;
  return OnPlan(ctx, request.case_id(), request.plan_id(), "repatriation.resume",
                [&](CaseScope& scope, v1::ReturnPlan& plan, const std::string& raw) -> absl::Status {
    if (absl::Status p = CheckPlanner(scope); !p.ok()) return p;
    absl::StatusOr<Standing> standing = StandingOf(scope, plan);
    if (!standing.ok()) return standing.status();
    if (standing->HeldByConsent()) {
      return absl::FailedPreconditionError(
          "the return is suspended while the subject's consent to return is refused or "
          "withdrawn: it resumes when consent is given again");
    }
    if (plan.status() != v1::RETURN_STATUS_SUSPENDED) {
      return absl::FailedPreconditionError(absl::StrCat(
          "only a suspended return resumes (the return is ", Name(standing->status), ")"));
    }
    const v1::ReturnStatus to = plan.resume_status();
    if (absl::Status m = CheckReturnMove(v1::RETURN_STATUS_SUSPENDED, to); !m.ok()) return m;
    v1::ReturnPlan patch;
    patch.set_status(to);
    if (absl::Status w = PatchPlan(scope, raw, std::move(patch), {"status", "resume_status"});
        !w.ok()) {
      return w;
    }
    return Moved(scope, plan, v1::RETURN_STATUS_SUSPENDED, to, request.reason());
  });
}

absl::StatusOr<v1::ReturnPlan> ReturnDesk::Cancel(
    const access::RequestContext& ctx, const v1::ReturnStatusChangeRequest& request) {
  if (absl::Status s = CheckReason(request.reason()); !s.ok()) return s;
  bool abroad = false;
  absl::StatusOr<v1::ReturnPlan> cancelled = OnPlan(
      ctx, request.case_id(), request.plan_id(), "repatriation.cancel",
      [&](CaseScope& scope, v1::ReturnPlan& plan, const std::string& raw) -> absl::Status {
    if (absl::Status p = CheckPlanner(scope); !p.ok()) return p;
    absl::StatusOr<Standing> standing = StandingOf(scope, plan);
    if (!standing.ok()) return standing.status();
    v1::ReturnPlan patch;
    patch.set_hold_reason(request.reason());
    if (absl::Status m = MovePlan(scope, raw, plan, *standing, v1::RETURN_STATUS_CANCELLED,
                                  std::move(patch), {"hold_reason", "resume_status"},
                                  request.reason());
        !m.ok()) {
      return m;
    }
    // The organisation organising the return and the partner abroad stop
    // working on it, and lose what their referrals gave them, in the same
    // transaction.
    for (const std::string& referral_id :
         {plan.return_referral_id(), plan.reception().referral_id()}) {
      if (referral_id.empty()) continue;
      absl::StatusOr<bool> ended = referrals_->CancelIfUnfinished(
          scope, referral_id, "the return plan was cancelled");
      if (!ended.ok()) return ended.status();
      abroad = abroad || (*ended && referral_id == plan.reception().referral_id());
    }
    return absl::OkStatus();
  });
  if (cancelled.ok() && abroad) referrals_->WakePartnerLink();
  return cancelled;
}

absl::StatusOr<v1::ReturnPlan> ReturnDesk::Close(const access::RequestContext& ctx,
                                                 const v1::CloseReturnRequest& request) {
  if (!v1::ReturnOutcome_IsValid(request.outcome()) ||
      request.outcome() == v1::RETURN_OUTCOME_UNSPECIFIED) {
    return absl::InvalidArgumentError("outcome must say how the return ended");
  }
  if (absl::Status s = CheckText(request.outcome_notes(), "outcome_notes", kMaxText); !s.ok()) {
    return s;
  }
  return OnPlan(ctx, request.case_id(), request.plan_id(), "repatriation.close",
                [&](CaseScope& scope, v1::ReturnPlan& plan, const std::string& raw) -> absl::Status {
    if (absl::Status p = CheckPlanner(scope); !p.ok()) return p;
    absl::StatusOr<Standing> standing = StandingOf(scope, plan);
    if (!standing.ok()) return standing.status();
    v1::ReturnPlan patch;
    std::vector<std::string> paths = {"outcome", "outcome_notes"};
    patch.set_outcome(request.outcome());
    patch.set_outcome_notes(request.outcome_notes());
    if (const std::optional<absl::Time> arrival = ArrivalOf(plan, *standing); arrival.has_value()) {
      *patch.mutable_reception()->mutable_arrive_time() = ToTimestamp(*arrival);
      paths.push_back("reception.arrive_time");
    }
    return MovePlan(scope, raw, plan, *standing, v1::RETURN_STATUS_CLOSED, std::move(patch),
                    std::move(paths));
  });
}

absl::StatusOr<v1::ListDueFollowUpsResponse> ReturnDesk::ListDueFollowUps(
    const access::RequestContext& ctx, const v1::ListDueFollowUpsRequest& request) {
  if (request.page_size() < 0) return absl::InvalidArgumentError("page_size must not be negative");
  if (request.has_due_by() && !IsRealDate(request.due_by())) {
    return absl::InvalidArgumentError("due_by must be a real date");
  }
  const absl::CivilDay due_by = request.has_due_by() ? DayOf(request.due_by()) : Today();
  access::CaseQuery query;
  query.limit = request.page_size() == 0 ? kDefaultCasesPerPage
                                         : std::min(request.page_size(), kMaxCasesPerPage);
  query.page_token = request.page_token();
  // Only the cases whose first follow-up not recorded is due by then.
  query.watch = v1::WATCH_KIND_RETURN_FOLLOW_UP_DUE;
  query.watch_due_before = OverdueFrom(due_by) + absl::Microseconds(1);
  v1::ListDueFollowUpsResponse response;
  absl::StatusOr<std::string> next = door_->ForEachReadableCase(
      ctx, query, "repatriation.list_due_follow_ups", [&](CaseScope& scope) -> absl::Status {
        absl::StatusOr<std::vector<std::string>> ids = scope.RecordIds(RecordKind::kReturnPlan);
        if (!ids.ok()) return ids.status();
        for (const std::string& raw : *ids) {
          std::string ignored;
          absl::StatusOr<v1::ReturnPlan> plan = LoadPlan(scope, ToHex(raw), &ignored);
          if (absl::IsNotFound(plan.status())) continue;  // another organisation's return
          if (!plan.ok()) return plan.status();
          absl::StatusOr<v1::ReturnPlan> shown = Present(scope, *std::move(plan), raw);
          if (!shown.ok()) return shown.status();
          if (!IsOpen(shown->status())) continue;
          for (const v1::FollowUp& follow_up : shown->follow_ups()) {
            if (follow_up.has_done_time() || DayOf(follow_up.due_date()) > due_by) continue;
            v1::DueFollowUp* due = response.add_follow_ups();
            due->set_case_id(scope.case_id());
            due->set_plan_id(shown->id());
            due->set_months(follow_up.months());
            *due->mutable_due_date() = follow_up.due_date();
            due->set_overdue(follow_up.overdue());
            due->set_return_officer_id(shown->return_officer_id());
          }
        }
        return absl::OkStatus();
      });
  if (!next.ok()) return next.status();
  response.set_next_page_token(*next);
  return response;
}

}  // namespace haven::repatriation
