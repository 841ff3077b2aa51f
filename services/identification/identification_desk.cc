// IdentificationDesk: the identification rules applied to a case.
#include "services/identification/identification_desk.h"

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "services/identification/indicators.h"
#include "services/identification/status_machine.h"
#include "storage/ids.h"
#include "storage/keys.h"
#include "storage/timestamps.h"

namespace haven::identification {
namespace {

namespace v1 = haven::v1;
using access::CaseScope;
using access::RecordKind;

constexpr size_t kMaxText = 4000;
constexpr size_t kMaxName = 200;
constexpr int kMaxObservations = 200;
// 9999-12-31T23:59:59Z: the last second a Timestamp holds.
constexpr int64_t kLastSecond = 253'402'300'799;
constexpr absl::Duration kCompetentAuthorityAccess = absl::Hours(24 * 365);

std::string SequenceId(uint64_t n) {
  std::string id;
  keys::AppendU64(&id, n);
  return id;
}

absl::Status RequireText(const std::string& text, absl::string_view field) {
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  if (text.size() > kMaxText) {
    return absl::InvalidArgumentError(absl::StrCat(field, " has at most ", kMaxText, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status LimitText(const std::string& text, absl::string_view field) {
  return text.empty() ? absl::OkStatus() : RequireText(text, field);
}

// Who decides on victim status, and so on the reflection period it opens.
absl::Status CheckDecisionMaker(const access::Principal& p) {
  if (p.HasRole(v1::ROLE_DECISION_MAKER) &&
      p.organisation_type == v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      "only a decision maker of the competent authority decides on victim status");
}

// A time as the timeline's summaries give it: RFC 3339, UTC.
std::string TimeText(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

// Whether the subject is to be treated as a child: under 18 by date of birth
// or estimated age, or of disputed age. What the caller cannot see of the
// subject leaves the earlier finding standing.
absl::StatusOr<bool> PresumedChild(CaseScope& scope, const v1::Identification& stored) {
  v1::Subject subject;
  absl::StatusOr<bool> found = scope.Load(RecordKind::kSubject, "", &subject);
  if (!found.ok()) return found.status();
  if (subject.age_disputed()) return true;
  if (subject.has_date_of_birth() && subject.date_of_birth().year() > 0) {
    const v1::Date& d = subject.date_of_birth();
    absl::CivilDay born(d.year(), std::max(d.month(), 1), std::max(d.day(), 1));
    absl::CivilDay today = absl::ToCivilDay(scope.now(), absl::UTCTimeZone());
    absl::CivilDay eighteenth(born.year() + 18, born.month(), born.day());
    return today < eighteenth;
  }
  if (subject.estimated_age() > 0) return subject.estimated_age() < 18;
  return stored.presumed_child();
}

IdentificationFacts FactsOf(const v1::Identification& ident) {
  IdentificationFacts facts;
  facts.status = ident.status();
  facts.presumed_child = ident.presumed_child();
  facts.guardian_recorded = ident.guardian_recorded();
  facts.best_interests_assessed = ident.best_interests_assessed();
  if (ident.has_reflection_period_end()) {
    facts.reflection_period_end = FromTimestamp(ident.reflection_period_end());
  }
  facts.reconsidering = ident.reconsidering();
  return facts;
}

bool ProtectedAsVictim(v1::IdentificationStatus status) {
  return status == v1::IDENTIFICATION_STATUS_PRESUMED_VICTIM ||
         status == v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS ||
         status == v1::IDENTIFICATION_STATUS_CONFIRMED_VICTIM ||
         status == v1::IDENTIFICATION_STATUS_RECONSIDERATION_REQUESTED;
}

// Non-punishment (Plan para. 30): pending proceedings against a presumed or
// confirmed victim are brought to the supervisor and the competent authority.
absl::Status AlertIfPunished(CaseScope& scope, const v1::Identification& ident) {
  if (!ident.proceedings_pending() || !ProtectedAsVictim(ident.status())) return absl::OkStatus();
  std::vector<std::string> ids = {scope.case_id()};
  if (absl::Status s = scope.RaiseAlert(v1::ALERT_KIND_NON_PUNISHMENT, ids,
                                        {"", ident.competent_authority_organisation_id()});
      !s.ok()) {
    return s;
  }
  const std::string& supervisor = scope.record().supervisor_id();
  if (supervisor.empty()) return absl::OkStatus();
  return scope.RaiseAlert(v1::ALERT_KIND_NON_PUNISHMENT, ids, {supervisor, ""});
}

}  // namespace

absl::StatusOr<std::unique_ptr<IdentificationDesk>> IdentificationDesk::Create(
    access::IndicatorShelf* shelf, access::CaseDoor* door, const access::Accounts* accounts,
    WorkingCalendar calendar, const Clock* clock) {
  absl::StatusOr<std::vector<v1::IndicatorSet>> shipped = ShippedIndicatorSets();
  if (!shipped.ok()) return shipped.status();
  if (absl::Status s = shelf->StoreNewVersions(*shipped); !s.ok()) return s;
  absl::StatusOr<std::vector<v1::IndicatorSet>> stored = shelf->LoadAll();
  if (!stored.ok()) return stored.status();
  std::unique_ptr<IdentificationDesk> desk(
      new IdentificationDesk(door, accounts, std::move(calendar), clock));
  for (v1::IndicatorSet& set : *stored) {
    desk->sets_[{set.id(), set.version()}] = std::move(set);
  }
  return desk;
}

absl::StatusOr<v1::IndicatorSet> IdentificationDesk::FindSet(absl::string_view id,
                                                             uint32_t version) const {
  const v1::IndicatorSet* found = nullptr;
  for (const auto& [key, set] : sets_) {
    if (key.first == id && (version == 0 || key.second == version)) found = &set;
  }
  if (found == nullptr) return absl::NotFoundError("no indicator set with that id and version");
  return *found;
}

absl::StatusOr<v1::ListIndicatorSetsResponse> IdentificationDesk::ListIndicatorSets(
    const access::RequestContext&) const {
  v1::ListIndicatorSetsResponse response;
  for (auto it = sets_.begin(); it != sets_.end(); ++it) {
    auto next = std::next(it);
    if (next != sets_.end() && next->first.first == it->first.first) continue;  // not the newest
    v1::IndicatorSet* summary = response.add_sets();
    *summary = it->second;
    summary->clear_indicators();
  }
  return response;
}

absl::StatusOr<v1::IndicatorSet> IdentificationDesk::GetIndicatorSet(
    const access::RequestContext&, const v1::GetIndicatorSetRequest& request) const {
  return FindSet(request.id(), request.version());
}

absl::StatusOr<v1::Identification> IdentificationDesk::Change(const access::RequestContext& ctx,
                                                              absl::string_view case_id,
                                                              absl::string_view audit_action,
                                                              const Step& step) {
  v1::Identification result;
  absl::Status s = door_->WithCase(
      ctx, case_id, v1::CASE_ACTION_UPDATE, audit_action, [&](CaseScope& scope) -> absl::Status {
        v1::Identification ident;
        absl::StatusOr<bool> found = scope.Load(RecordKind::kIdentification, "", &ident);
        if (!found.ok()) return found.status();
        ident.set_case_id(scope.case_id());
        if (ident.status() == v1::IDENTIFICATION_STATUS_UNSPECIFIED) {
          ident.set_status(scope.record().identification_status());
        }
        absl::StatusOr<bool> child = PresumedChild(scope, ident);
        if (!child.ok()) return child.status();
        ident.set_presumed_child(*child);
        if (absl::Status st = step(scope, ident); !st.ok()) return st;
        if (absl::Status st = scope.Save(RecordKind::kIdentification, "", ident); !st.ok()) {
          return st;
        }
        v1::CaseRecord* record = scope.mutable_record();
        record->set_identification_status(ident.status());
        result = ident;
        scope.Disclose(&result);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<v1::Identification> IdentificationDesk::Get(const access::RequestContext& ctx,
                                                           const v1::GetIdentificationRequest& request) {
  v1::Identification result;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_READ, "identification.read",
      [&](CaseScope& scope) -> absl::Status {
        absl::StatusOr<bool> found = scope.Load(RecordKind::kIdentification, "", &result);
        if (!found.ok()) return found.status();
        result.set_case_id(scope.case_id());
        if (!*found) result.set_status(scope.record().identification_status());
        auto decisions = scope.LoadAll<v1::Decision>(RecordKind::kDecision);
        if (!decisions.ok()) return decisions.status();
        for (auto& d : *decisions) *result.add_decisions() = std::move(d);
        scope.Disclose(&result);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<v1::Identification> IdentificationDesk::ReferPresumedVictim(
    const access::RequestContext& ctx, const v1::ReferPresumedVictimRequest& request) {
  absl::StatusOr<v1::Organisation> authority =
      accounts_->FindOrganisation(request.competent_authority_organisation_id());
  if (!authority.ok() || authority->type() != v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY) {
    if (authority.ok() || absl::IsNotFound(authority.status())) {
      return absl::InvalidArgumentError(
          "competent_authority_organisation_id must name an organisation of type competent authority");
    }
    return authority.status();
  }
  if (absl::Status s = LimitText(request.note(), "note"); !s.ok()) return s;
  return Change(ctx, request.case_id(), "identification.refer",
                [&](CaseScope& scope, v1::Identification& ident) -> absl::Status {
    absl::StatusOr<MoveResult> next =
        NextStatus(FactsOf(ident), {Move::kReferPresumedVictim}, scope.now());
    if (!next.ok()) return next.status();
    const v1::IdentificationStatus before = ident.status();
    absl::Time due = calendar_.ReasonableGroundsDue(scope.now());
    ident.set_status(next->status);
    ident.set_reconsidering(next->reconsidering);
    ident.set_competent_authority_organisation_id(authority->id());
    *ident.mutable_referral_time() = ToTimestamp(scope.now());
    *ident.mutable_reasonable_grounds_due() = ToTimestamp(due);
    scope.mutable_record()->set_next_deadline_micros(absl::ToUnixMicros(due));
    // The competent authority sees what the referrer could, to decide.
    v1::GrantRecord grant;
    grant.set_grantee_organisation_id(authority->id());
    grant.set_purpose("identification");
    for (auto c : scope.visible().ToVector()) grant.add_classes(c);
    grant.add_actions(v1::CASE_ACTION_READ);
    grant.add_actions(v1::CASE_ACTION_UPDATE);
    grant.set_expire_time_micros(absl::ToUnixMicros(scope.now() + kCompetentAuthorityAccess));
    if (absl::StatusOr<v1::Grant> g = scope.GrantByRule(grant, "the mechanism's identification procedure");
        !g.ok()) {
      return g.status();
    }
    if (absl::Status t = scope.AppendTimeline(
            v1::TIMELINE_EVENT_STATUS_CHANGED,
            absl::StrCat(v1::IdentificationStatus_Name(before), " -> ",
                         v1::IdentificationStatus_Name(next->status), "; referred to ",
                         authority->id(), "; reasonable-grounds decision due ", TimeText(due)),
            request.note());
        !t.ok()) {
      return t;
    }
    return AlertIfPunished(scope, ident);
  });
}

absl::StatusOr<v1::Identification> IdentificationDesk::Decide(const access::RequestContext& ctx,
                                                              const v1::DecideRequest& request,
                                                              v1::DecisionKind kind) {
  if (absl::Status s = RequireText(request.reasons(), "reasons"); !s.ok()) return s;
  const bool conclusive = kind == v1::DECISION_KIND_CONCLUSIVE_GROUNDS;
  if (request.waive_reflection_period()) {
    if (!conclusive) {
      return absl::InvalidArgumentError(
          "waive_reflection_period applies to conclusive-grounds decisions only");
    }
    if (absl::Status s = RequireText(request.waiver_reasons(), "waiver_reasons"); !s.ok()) return s;
  }
  const char* audit = conclusive ? "identification.decide_conclusive_grounds"
                                 : "identification.decide_reasonable_grounds";
  return Change(ctx, request.case_id(), audit,
                [&](CaseScope& scope, v1::Identification& ident) -> absl::Status {
    if (absl::Status p = CheckDecisionMaker(ctx.principal); !p.ok()) return p;
    MoveRequest move{conclusive ? Move::kDecideConclusiveGrounds : Move::kDecideReasonableGrounds,
                     request.positive(), request.waive_reflection_period()};
    const bool reconsidering = ident.reconsidering() == kind;
    absl::StatusOr<MoveResult> next = NextStatus(FactsOf(ident), move, scope.now());
    if (!next.ok()) return next.status();
    const v1::IdentificationStatus before = ident.status();
    ident.set_status(next->status);
    ident.set_reconsidering(next->reconsidering);
    int64_t deadline = 0;
    std::optional<absl::Time> reflection_end;
    if (next->status == v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS) {
      reflection_end = calendar_.ReflectionPeriodEnd(scope.now());
      *ident.mutable_reflection_period_end() = ToTimestamp(*reflection_end);
      deadline = absl::ToUnixMicros(*reflection_end);  // a conclusive decision is due from then
    }
    scope.mutable_record()->set_next_deadline_micros(deadline);
    // The caseworkers hear before the period ends (HavenServer::RaiseDueAlerts).
    scope.SetWatch(v1::WATCH_KIND_REFLECTION_ENDING, reflection_end);

    v1::Decision decision;
    decision.set_id(NewId());
    decision.set_kind(kind);
    decision.set_positive(request.positive());
    decision.set_reasons(request.reasons());
    decision.set_decided_by(ctx.principal.id);
    *decision.mutable_decide_time() = ToTimestamp(scope.now());
    decision.set_reflection_period_waived(request.waive_reflection_period());
    decision.set_waiver_reasons(request.waiver_reasons());
    decision.set_reconsideration(reconsidering);
    absl::StatusOr<std::vector<std::string>> existing = scope.RecordIds(RecordKind::kDecision);
    if (!existing.ok()) return existing.status();
    if (absl::Status s = scope.Save(RecordKind::kDecision, SequenceId(existing->size() + 1), decision);
        !s.ok()) {
      return s;
    }
    if (absl::Status t = scope.AppendTimeline(
            v1::TIMELINE_EVENT_STATUS_CHANGED,
            absl::StrCat(v1::IdentificationStatus_Name(before), " -> ",
                         v1::IdentificationStatus_Name(next->status), "; ",
                         v1::DecisionKind_Name(kind), request.positive() ? " positive" : " negative",
                         request.waive_reflection_period() ? "; reflection period waived" : ""),
            request.reasons());
        !t.ok()) {
      return t;
    }
    return AlertIfPunished(scope, ident);
  });
}

absl::StatusOr<v1::Identification> IdentificationDesk::DecideReasonableGrounds(
    const access::RequestContext& ctx, const v1::DecideRequest& request) {
  return Decide(ctx, request, v1::DECISION_KIND_REASONABLE_GROUNDS);
}

absl::StatusOr<v1::Identification> IdentificationDesk::DecideConclusiveGrounds(
    const access::RequestContext& ctx, const v1::DecideRequest& request) {
  return Decide(ctx, request, v1::DECISION_KIND_CONCLUSIVE_GROUNDS);
}

absl::StatusOr<v1::Identification> IdentificationDesk::ExtendReflectionPeriod(
    const access::RequestContext& ctx, const v1::ExtendReflectionPeriodRequest& request) {
  const google::protobuf::Timestamp& end = request.new_end();
  if (!request.has_new_end() || end.seconds() <= 0 || end.seconds() > kLastSecond ||
      end.nanos() < 0 || end.nanos() >= 1'000'000'000) {
    return absl::InvalidArgumentError("new_end is required: a time before the year 10000");
  }
  if (absl::Status s = RequireText(request.reasons(), "reasons"); !s.ok()) return s;
  const absl::Time new_end = FromTimestamp(end);
  return Change(ctx, request.case_id(), "identification.extend_reflection_period",
                [&](CaseScope& scope, v1::Identification& ident) -> absl::Status {
    if (absl::Status p = CheckDecisionMaker(ctx.principal); !p.ok()) return p;
    const IdentificationFacts facts = FactsOf(ident);
    if (absl::Status c = CheckReflectionExtension(facts, new_end, scope.now()); !c.ok()) return c;
    v1::ReflectionExtension* extension = ident.add_reflection_extensions();
    *extension->mutable_previous_end() = ident.reflection_period_end();
    *extension->mutable_new_end() = ToTimestamp(new_end);
    extension->set_reasons(request.reasons());
    extension->set_granted_by(ctx.principal.id);
    *extension->mutable_grant_time() = ToTimestamp(scope.now());
    *ident.mutable_reflection_period_end() = ToTimestamp(new_end);
    // The conclusive decision is due, and the caseworkers hear, from the new end.
    scope.mutable_record()->set_next_deadline_micros(absl::ToUnixMicros(new_end));
    scope.SetWatch(v1::WATCH_KIND_REFLECTION_ENDING, new_end);
    return scope.AppendTimeline(
        v1::TIMELINE_EVENT_REFLECTION_EXTENDED,
        absl::StrCat("reflection and recovery period extended from ",
                     TimeText(facts.reflection_period_end), " to ", TimeText(new_end)),
        request.reasons());
  });
}

absl::StatusOr<v1::Identification> IdentificationDesk::RequestReconsideration(
    const access::RequestContext& ctx, const v1::RequestReconsiderationRequest& request) {
  if (absl::Status s = RequireText(request.reasons(), "reasons"); !s.ok()) return s;
  return Change(ctx, request.case_id(), "identification.request_reconsideration",
                [&](CaseScope& scope, v1::Identification& ident) -> absl::Status {
    absl::StatusOr<MoveResult> next =
        NextStatus(FactsOf(ident), {Move::kRequestReconsideration}, scope.now());
    if (!next.ok()) return next.status();
    const v1::IdentificationStatus before = ident.status();
    ident.set_status(next->status);
    ident.set_reconsidering(next->reconsidering);
    absl::Time due = calendar_.ReasonableGroundsDue(scope.now());
    scope.mutable_record()->set_next_deadline_micros(absl::ToUnixMicros(due));
    return scope.AppendTimeline(
        v1::TIMELINE_EVENT_STATUS_CHANGED,
        absl::StrCat(v1::IdentificationStatus_Name(before), " -> ",
                     v1::IdentificationStatus_Name(next->status), "; reconsideration of the ",
                     v1::DecisionKind_Name(next->reconsidering), " decision requested"),
        request.reasons());
  });
}

absl::StatusOr<v1::Identification> IdentificationDesk::RecordGuardian(
    const access::RequestContext& ctx, const v1::RecordGuardianRequest& request) {
  v1::Guardian guardian = request.guardian();
  if (guardian.name().empty() || guardian.name().size() > kMaxName ||
      guardian.contact().size() > kMaxName || guardian.organisation().size() > kMaxName) {
    return absl::InvalidArgumentError(
        absl::StrCat("guardian.name is required; name, contact and organisation have at most ",
                     kMaxName, " bytes"));
  }
  return Change(ctx, request.case_id(), "identification.record_guardian",
                [&](CaseScope& scope, v1::Identification& ident) -> absl::Status {
    if (!guardian.has_appoint_time()) *guardian.mutable_appoint_time() = ToTimestamp(scope.now());
    if (absl::Status s = scope.Save(RecordKind::kGuardian, "", guardian); !s.ok()) return s;
    ident.set_guardian_recorded(true);
    return scope.AppendTimeline(v1::TIMELINE_EVENT_GUARDIAN_RECORDED, "guardian recorded");
  });
}

absl::StatusOr<v1::Identification> IdentificationDesk::RecordBestInterestsAssessment(
    const access::RequestContext& ctx, const v1::RecordBestInterestsAssessmentRequest& request) {
  v1::BestInterestsAssessment assessment = request.assessment();
  if (absl::Status s = RequireText(assessment.summary(), "assessment.summary"); !s.ok()) return s;
  return Change(ctx, request.case_id(), "identification.record_best_interests",
                [&](CaseScope& scope, v1::Identification& ident) -> absl::Status {
    assessment.set_assessed_by(ctx.principal.id);
    *assessment.mutable_assess_time() = ToTimestamp(scope.now());
    if (absl::Status s = scope.Save(RecordKind::kBestInterests, "", assessment); !s.ok()) return s;
    ident.set_best_interests_assessed(true);
    return scope.AppendTimeline(
        v1::TIMELINE_EVENT_BEST_INTERESTS_ASSESSED,
        absl::StrCat("best-interests assessment recorded; return in best interests: ",
                     assessment.return_in_best_interests() ? "yes" : "no"));
  });
}

absl::StatusOr<v1::ListProceedingsResponse> IdentificationDesk::ListProceedings(
    const access::RequestContext& ctx, const v1::ListProceedingsRequest& request) {
  v1::ListProceedingsResponse out;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_READ, "identification.list_proceedings",
      [&](CaseScope& scope) -> absl::Status {
        absl::StatusOr<std::vector<v1::Proceeding>> all =
            scope.LoadAll<v1::Proceeding>(RecordKind::kProceeding);
        if (!all.ok()) return all.status();
        std::stable_sort(all->begin(), all->end(), [](const auto& a, const auto& b) {
          return a.record_time().seconds() < b.record_time().seconds();
        });
        for (v1::Proceeding& p : *all) *out.add_proceedings() = std::move(p);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::Identification> IdentificationDesk::RecordProceeding(
    const access::RequestContext& ctx, const v1::RecordProceedingRequest& request) {
  v1::Proceeding proceeding = request.proceeding();
  if (!v1::ProceedingKind_IsValid(proceeding.kind()) ||
      proceeding.kind() == v1::PROCEEDING_KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError("proceeding.kind must be a known kind of proceeding");
  }
  if (proceeding.authority().size() > kMaxName || proceeding.reference().size() > kMaxName) {
    return absl::InvalidArgumentError(
        absl::StrCat("proceeding.authority and reference have at most ", kMaxName, " bytes"));
  }
  if (absl::Status s = LimitText(proceeding.notes(), "proceeding.notes"); !s.ok()) return s;
  return Change(ctx, request.case_id(), "identification.record_proceeding",
                [&](CaseScope& scope, v1::Identification& ident) -> absl::Status {
    std::string raw_id = NewRawId();
    proceeding.set_id(ToHex(raw_id));
    *proceeding.mutable_record_time() = ToTimestamp(scope.now());
    if (absl::Status s = scope.Save(RecordKind::kProceeding, raw_id, proceeding); !s.ok()) return s;
    // Only proceedings against the subject are a matter of non-punishment.
    if (proceeding.pending() && proceeding.kind() != v1::PROCEEDING_KIND_AGAINST_TRAFFICKERS) {
      ident.set_proceedings_pending(true);
    }
    if (absl::Status t = scope.AppendTimeline(
            v1::TIMELINE_EVENT_PROCEEDING_RECORDED,
            absl::StrCat(v1::ProceedingKind_Name(proceeding.kind()), " proceeding recorded",
                         proceeding.pending() ? " (pending)" : ""));
        !t.ok()) {
      return t;
    }
    return AlertIfPunished(scope, ident);
  });
}

absl::StatusOr<v1::Screening> IdentificationDesk::CreateScreening(
    const access::RequestContext& ctx, const v1::CreateScreeningRequest& request) {
  v1::Screening screening = request.screening();
  absl::StatusOr<v1::IndicatorSet> set =
      FindSet(screening.indicator_set_id(), screening.indicator_set_version());
  if (!set.ok()) {
    return absl::InvalidArgumentError(
        "screening.indicator_set_id and indicator_set_version must name a shipped indicator set");
  }
  if (!v1::ScreeningSetting_IsValid(screening.setting()) ||
      screening.setting() == v1::SCREENING_SETTING_UNSPECIFIED) {
    return absl::InvalidArgumentError("screening.setting must be a known setting");
  }
  for (int f : screening.forms_suspected()) {
    if (!v1::ExploitationForm_IsValid(f) || f == v1::EXPLOITATION_FORM_UNSPECIFIED) {
      return absl::InvalidArgumentError("screening.forms_suspected holds an unknown value");
    }
  }
  for (int m : screening.means_suspected()) {
    if (!v1::TraffickingMeans_IsValid(m) || m == v1::TRAFFICKING_MEANS_UNSPECIFIED) {
      return absl::InvalidArgumentError("screening.means_suspected holds an unknown value");
    }
  }
  if (screening.observations_size() > kMaxObservations) {
    return absl::InvalidArgumentError(
        absl::StrCat("a screening has at most ", kMaxObservations, " observations"));
  }
  for (const v1::Observation& o : screening.observations()) {
    if (absl::Status s = LimitText(o.note(), "observation note"); !s.ok()) return s;
  }
  if (absl::Status s = LimitText(screening.notes(), "screening.notes"); !s.ok()) return s;
  if (screening.language().size() > 35) {
    return absl::InvalidArgumentError("screening.language is a BCP 47 tag such as \"ro\"");
  }
  v1::Screening result;
  absl::StatusOr<v1::Identification> ident = Change(
      ctx, screening.case_id(), "identification.screen",
      [&](CaseScope& scope, v1::Identification& current) -> absl::Status {
        absl::StatusOr<v1::StrengthOfIndication> strength =
            AssessStrength(*set, screening.observations(), current.presumed_child());
        if (!strength.ok()) return strength.status();
        std::string raw_id = NewRawId();
        screening.set_id(ToHex(raw_id));
        screening.set_case_id(scope.case_id());
        screening.set_indicator_set_version(set->version());
        screening.set_screened_by(ctx.principal.id);
        screening.set_screener_organisation_id(ctx.principal.organisation_id);
        *screening.mutable_strength() = *strength;
        *screening.mutable_screen_time() = ToTimestamp(scope.now());
        if (absl::Status s = scope.Save(RecordKind::kScreening, raw_id, screening); !s.ok()) return s;
        result = screening;
        scope.Disclose(&result);
        return scope.AppendTimeline(
            v1::TIMELINE_EVENT_SCREENED,
            absl::StrCat("screened with ", set->id(), " v", set->version(), ": ",
                         v1::IndicationLevel_Name(strength->level())));
      });
  if (!ident.ok()) return ident.status();
  return result;
}

absl::StatusOr<v1::ListScreeningsResponse> IdentificationDesk::ListScreenings(
    const access::RequestContext& ctx, const v1::ListScreeningsRequest& request) {
  v1::ListScreeningsResponse response;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_READ, "identification.list_screenings",
      [&](CaseScope& scope) -> absl::Status {
        auto all = scope.LoadAll<v1::Screening>(RecordKind::kScreening);
        if (!all.ok()) return all.status();
        std::sort(all->begin(), all->end(), [](const v1::Screening& a, const v1::Screening& b) {
          return a.screen_time().seconds() < b.screen_time().seconds();
        });
        for (auto& sc : *all) *response.add_screenings() = std::move(sc);
        scope.Disclose(&response);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<v1::ListDueDecisionsResponse> IdentificationDesk::ListDueDecisions(
    const access::RequestContext& ctx, const v1::ListDueDecisionsRequest& request) {
  if (request.page_size() < 0) return absl::InvalidArgumentError("page_size must not be negative");
  access::CaseQuery query;
  query.deadline_before = request.has_due_before() ? FromTimestamp(request.due_before())
                                                   : clock_->Now() + absl::Hours(24 * 7);
  query.status = v1::CASE_STATUS_OPEN;
  query.limit = request.page_size() == 0 ? 100 : std::min(request.page_size(), 500);
  query.page_token = request.page_token();
  v1::ListDueDecisionsResponse response;
  absl::StatusOr<std::string> next = door_->ForEachReadableCase(
      ctx, query, "identification.list_due", [&](CaseScope& scope) -> absl::Status {
        v1::DueDecision* due = response.add_decisions();
        due->set_case_id(scope.case_id());
        const v1::IdentificationStatus status = scope.record().identification_status();
        bool conclusive = status == v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS;
        if (status == v1::IDENTIFICATION_STATUS_RECONSIDERATION_REQUESTED) {
          v1::Identification ident;
          absl::StatusOr<bool> found = scope.Load(RecordKind::kIdentification, "", &ident);
          if (!found.ok()) return found.status();
          conclusive = ident.reconsidering() == v1::DECISION_KIND_CONCLUSIVE_GROUNDS;
        }
        due->set_kind(conclusive ? v1::DECISION_KIND_CONCLUSIVE_GROUNDS
                                 : v1::DECISION_KIND_REASONABLE_GROUNDS);
        absl::Time when = absl::FromUnixMicros(scope.record().next_deadline_micros());
        *due->mutable_due_time() = ToTimestamp(when);
        due->set_overdue(when < scope.now());
        return absl::OkStatus();
      });
  if (!next.ok()) return next.status();
  response.set_next_page_token(*next);
  return response;
}

}  // namespace haven::identification
