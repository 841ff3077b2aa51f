// LiaisonDesk: the rules of law-enforcement liaison.
#include "services/liaison/liaison_desk.h"

#include "absl/strings/str_cat.h"
#include "services/cases/case_file.h"
#include "storage/access/names.h"
#include "storage/timestamps.h"

namespace haven::liaison {
namespace {

namespace v1 = haven::v1;
using access::CaseScope;

constexpr size_t kMaxText = 4000;
constexpr int kMaxIndicators = 200;
constexpr size_t kMaxCode = 64;

absl::Status CheckReport(const v1::LiaisonReport& report, absl::Time now) {
  if (!v1::ScreeningSetting_IsValid(report.setting())) {
    return absl::InvalidArgumentError("report.setting is not a known setting");
  }
  if (report.setting_detail().size() > kMaxText || report.observations().size() > kMaxText) {
    return absl::InvalidArgumentError(
        absl::StrCat("report.setting_detail and report.observations have at most ", kMaxText,
                     " bytes each"));
  }
  if (report.indicators_observed_size() > kMaxIndicators) {
    return absl::InvalidArgumentError(
        absl::StrCat("report.indicators_observed holds at most ", kMaxIndicators, " codes"));
  }
  for (const std::string& code : report.indicators_observed()) {
    if (code.empty() || code.size() > kMaxCode) {
      return absl::InvalidArgumentError("report.indicators_observed holds codes of 1 to 64 bytes");
    }
  }
  for (int form : report.forms_suspected()) {
    if (!v1::ExploitationForm_IsValid(form) || form == v1::EXPLOITATION_FORM_UNSPECIFIED) {
      return absl::InvalidArgumentError("report.forms_suspected holds an unknown form");
    }
  }
  if (report.has_met_time() && FromTimestamp(report.met_time()) > now) {
    return absl::InvalidArgumentError("report.met_time is in the future");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::ReferResponse> LiaisonDesk::Refer(const access::RequestContext& ctx,
                                                     const v1::ReferRequest& request) {
  const absl::Time now = clock_->Now();
  if (absl::Status s = cases::ValidateSubject(request.subject(), now); !s.ok()) return s;
  if (absl::Status s = CheckReport(request.report(), now); !s.ok()) return s;
  if (options_.receiving_organisation_id.empty()) {
    return absl::FailedPreconditionError(
        "this mechanism has no receiving organisation for law-enforcement referrals "
        "(liaison_receiving_organisation_id)");
  }
  absl::StatusOr<access::LiaisonDoor::Referred> referred = door_->Refer(
      ctx, options_.receiving_organisation_id, [&](CaseScope& scope) -> absl::Status {
        if (request.has_subject()) {
          if (absl::Status s = scope.Save(access::RecordKind::kSubject, "", request.subject());
              !s.ok()) {
            return s;
          }
        }
        v1::LiaisonReport report = request.report();
        report.set_agency_organisation_id(ctx.principal.organisation_id);
        report.set_referred_by(ctx.principal.id);
        return scope.Save(access::RecordKind::kLiaisonReferral, "", report);
      });
  if (!referred.ok()) return referred.status();
  v1::ReferResponse response;
  response.set_pseudonym(referred->pseudonym);
  *response.mutable_refer_time() = ToTimestamp(referred->time);
  return response;
}

absl::StatusOr<v1::LiaisonCase> LiaisonDesk::GetCase(const access::RequestContext& ctx,
                                                     const v1::GetLiaisonCaseRequest& request) {
  v1::LiaisonCase out;
  absl::Status s = door_->WithFollowedCase(
      ctx, request.pseudonym(), v1::CASE_ACTION_READ, "liaison.get_case", [&](CaseScope& scope) -> absl::Status {
        out.set_pseudonym(request.pseudonym());
        out.set_status(scope.record().status());
        out.set_identification_status(scope.record().identification_status());
        absl::StatusOr<bool> found = scope.Load(access::RecordKind::kSubject, "", out.mutable_subject());
        if (!found.ok()) return found.status();
        v1::LiaisonReport report;
        found = scope.Load(access::RecordKind::kLiaisonReferral, "", &report);
        if (!found.ok()) return found.status();
        // Only the referring agency sees its report: another agency must
        // not learn who referred, or link its record to theirs.
        if (*found && report.agency_organisation_id() == ctx.principal.organisation_id) {
          *out.mutable_report() = std::move(report);
        }
        for (v1::Disclosure& d : door_->Disclosures(scope, request.pseudonym())) {
          *out.add_disclosures() = std::move(d);
        }
        scope.Disclose(&out);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::Disclosure> LiaisonDesk::RequestDisclosure(
    const access::RequestContext& ctx, const v1::RequestDisclosureRequest& request) {
  return door_->RequestDisclosure(ctx, request, options_.disclosure_max);
}

absl::StatusOr<v1::AskNonPunishmentResponse> LiaisonDesk::AskNonPunishment(
    const access::RequestContext& ctx, const v1::AskNonPunishmentRequest& request) {
  std::vector<std::string> name_keys;
  std::string pseudonym;
  switch (request.person_case()) {
    case v1::AskNonPunishmentRequest::kPseudonym:
      pseudonym = request.pseudonym();
      if (pseudonym.empty()) return absl::InvalidArgumentError("pseudonym is empty");
      break;
    case v1::AskNonPunishmentRequest::kName: {
      const v1::NamedPerson& name = request.name();
      if (name.given_name().size() > access::kMaxNameInputBytes ||
          name.family_name().size() > access::kMaxNameInputBytes) {
        return absl::InvalidArgumentError("name: each part has at most 1024 bytes");
      }
      name_keys = access::NameMatchKeys(absl::StrCat(name.given_name(), " ", name.family_name()));
      if (name_keys.empty()) {
        return absl::InvalidArgumentError("name: give a given or a family name with letters");
      }
      break;
    }
    default:
      return absl::InvalidArgumentError("name the person: pseudonym or name");
  }
  absl::StatusOr<bool> answer = door_->AskNonPunishment(ctx, pseudonym, name_keys);
  if (!answer.ok()) return answer.status();
  v1::AskNonPunishmentResponse response;
  response.set_presumed_or_confirmed_victim(*answer);
  return response;
}

absl::StatusOr<v1::IntroduceCaseResponse> LiaisonDesk::IntroduceCase(
    const access::RequestContext& ctx, const v1::IntroduceCaseRequest& request) {
  absl::StatusOr<std::string> pseudonym =
      door_->Introduce(ctx, request.case_id(), request.agency_organisation_id(),
                       request.lawful_basis(), request.basis_detail());
  if (!pseudonym.ok()) return pseudonym.status();
  v1::IntroduceCaseResponse response;
  response.set_pseudonym(*pseudonym);
  return response;
}

absl::StatusOr<std::vector<v1::LiaisonEvent>> LiaisonDesk::Events(const access::RequestContext& ctx,
                                                                  uint64_t after, int limit) {
  return door_->ReadEvents(ctx, after, limit);
}

uint64_t LiaisonDesk::EventGeneration() const { return door_->events_bell().generation(); }

uint64_t LiaisonDesk::WaitForEvents(uint64_t generation, absl::Duration timeout) {
  if (stopping()) return generation;
  return door_->events_bell().WaitPast(generation, timeout);
}

void LiaisonDesk::Stop() {
  stopping_ = true;
  door_->events_bell().Ring();  // wakes the waiting streams, which then end
}

}  // namespace haven::liaison
