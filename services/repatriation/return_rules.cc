// Return rules: the moves of a return plan as a table, the approval gate, the follow-up calendar.
#include "services/repatriation/return_rules.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace haven::repatriation {
namespace {

namespace v1 = haven::v1;

constexpr size_t kMaxText = 4000;
constexpr size_t kMaxShortText = 200;

std::string Name(v1::ReturnStatus status) {
  return v1::ReturnStatus_Name(status).substr(std::string("RETURN_STATUS_").size());
}

// The way forward, one step at a time.
constexpr v1::ReturnStatus kForward[] = {
    v1::RETURN_STATUS_PROPOSED,      v1::RETURN_STATUS_ASSESSED,  v1::RETURN_STATUS_APPROVED,
    v1::RETURN_STATUS_DOCUMENTS_READY, v1::RETURN_STATUS_SCHEDULED, v1::RETURN_STATUS_TRAVELLED,
    v1::RETURN_STATUS_RECEIVED,      v1::RETURN_STATUS_REINTEGRATING, v1::RETURN_STATUS_CLOSED,
};

bool IsForwardStep(v1::ReturnStatus from, v1::ReturnStatus to) {
  for (size_t i = 0; i + 1 < std::size(kForward); ++i) {
    if (kForward[i] == from && kForward[i + 1] == to) return true;
  }
  return false;
}

bool IsKnown(v1::ReturnStatus status) {
  return v1::ReturnStatus_IsValid(status) && status != v1::RETURN_STATUS_UNSPECIFIED;
}

absl::Status CheckLevel(int level, absl::string_view field) {
  if (!v1::RiskLevel_IsValid(level) || level == v1::RISK_LEVEL_UNSPECIFIED) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be LOW, MEDIUM or HIGH"));
  }
  return absl::OkStatus();
}

absl::Status CheckText(const std::string& text, absl::string_view field, size_t max) {
  if (text.size() > max) {
    return absl::InvalidArgumentError(absl::StrCat(field, " has at most ", max, " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsOpen(v1::ReturnStatus status) {
  return IsKnown(status) && status != v1::RETURN_STATUS_CLOSED &&
         status != v1::RETURN_STATUS_CANCELLED;
}

absl::Status CheckReturnMove(v1::ReturnStatus from, v1::ReturnStatus to) {
  const bool allowed =
      IsKnown(from) && IsKnown(to) &&
      (IsForwardStep(from, to) ||
       (from == v1::RETURN_STATUS_RECEIVED && to == v1::RETURN_STATUS_CLOSED) ||
       (IsOpen(from) && from != v1::RETURN_STATUS_SUSPENDED &&
        to == v1::RETURN_STATUS_SUSPENDED) ||
       (IsOpen(from) && to == v1::RETURN_STATUS_CANCELLED) ||
       (from == v1::RETURN_STATUS_SUSPENDED && IsOpen(to) && to != v1::RETURN_STATUS_SUSPENDED));
  if (allowed) return absl::OkStatus();
  const std::string move =
      absl::StrCat("a return plan cannot move from ", Name(from), " to ", Name(to));
  if (!IsKnown(from) || !IsKnown(to)) {
    return absl::FailedPreconditionError(absl::StrCat(move, ": not a status of a return plan"));
  }
  if (!IsOpen(from)) {
    return absl::FailedPreconditionError(
        absl::StrCat(move, ": a closed or cancelled return is final; plan a new one"));
  }
  if (from == to) {
    return absl::FailedPreconditionError(absl::StrCat(move, ": it is there already"));
  }
  if (from == v1::RETURN_STATUS_SUSPENDED) {
    return absl::FailedPreconditionError(
        absl::StrCat(move, ": a suspended return resumes, or is cancelled"));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      move, ": a return moves one step forward (proposed, assessed, approved, documents ready, "
            "scheduled, travelled, received, reintegrating, closed), or is suspended or "
            "cancelled"));
}

v1::ReturnStatus StatusAsItStands(v1::ReturnStatus stored, v1::ReturnConsentState consent,
                                  const std::optional<v1::Referral>& reception) {
  if (!IsOpen(stored)) return stored;
  if (consent == v1::RETURN_CONSENT_STATE_REFUSED ||
      consent == v1::RETURN_CONSENT_STATE_WITHDRAWN) {
    return v1::RETURN_STATUS_SUSPENDED;
  }
  if (stored == v1::RETURN_STATUS_TRAVELLED && reception.has_value() &&
      reception->status() == v1::REFERRAL_STATUS_COMPLETED) {
    return v1::RETURN_STATUS_RECEIVED;
  }
  return stored;
}

bool HasHighRisk(const v1::RiskAssessment& risks) {
  return risks.re_trafficking().level() == v1::RISK_LEVEL_HIGH ||
         risks.retaliation().level() == v1::RISK_LEVEL_HIGH ||
         risks.family_situation().level() == v1::RISK_LEVEL_HIGH ||
         risks.health_needs().level() == v1::RISK_LEVEL_HIGH;
}

absl::Status CheckApproval(const v1::RiskAssessment& risks, const ApprovalFacts& facts,
                           bool override_given) {
  if (!facts.consent_given) {
    return absl::FailedPreconditionError(
        "the subject has not given consent to return (CONSENT_PURPOSE_RETURN), in a language "
        "they understand: a return is voluntary");
  }
  if (!CheckRiskAssessment(risks).ok()) {
    return absl::FailedPreconditionError(
        "every risk (re-trafficking, retaliation, family situation, health needs) must be "
        "assessed before approval");
  }
  if (HasHighRisk(risks) && !override_given) {
    return absl::FailedPreconditionError(
        "a risk is assessed HIGH: only a supervisor's override with written reasons "
        "(risk_override_reasons) approves this return");
  }
  if (facts.child) {
    if (!facts.best_interests_assessed) {
      return absl::FailedPreconditionError(
          "the subject is or is presumed a child: a best-interests determination is required "
          "before return");
    }
    if (!facts.return_in_best_interests) {
      return absl::FailedPreconditionError(
          "the best-interests determination did not find return in the child's best interests");
    }
    if (risks.family_assessment().empty()) {
      return absl::FailedPreconditionError(
          "the subject is or is presumed a child: a family assessment (risks.family_assessment) "
          "is required before return");
    }
    if (!facts.guardian_recorded || !risks.guardian_agrees()) {
      return absl::FailedPreconditionError(
          "the subject is or is presumed a child: a guardian must be appointed and agree to the "
          "return (risks.guardian_agrees)");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckRiskAssessment(const v1::RiskAssessment& risks) {
  struct Scored {
    int level;
    const std::string* reasons;
    const char* field;
  };
  const Scored scores[] = {
      {risks.re_trafficking().level(), &risks.re_trafficking().reasons(), "risks.re_trafficking"},
      {risks.retaliation().level(), &risks.retaliation().reasons(), "risks.retaliation"},
      {risks.family_situation().level(), &risks.family_situation().reasons(),
       "risks.family_situation"},
      {risks.health_needs().level(), &risks.health_needs().reasons(), "risks.health_needs"},
  };
  for (const Scored& s : scores) {
    if (absl::Status c = CheckLevel(s.level, absl::StrCat(s.field, ".level")); !c.ok()) return c;
    if (absl::Status c = CheckText(*s.reasons, absl::StrCat(s.field, ".reasons"), kMaxText);
        !c.ok()) {
      return c;
    }
  }
  return CheckText(risks.family_assessment(), "risks.family_assessment", kMaxText);
}

absl::Status CheckCountryCode(absl::string_view code, absl::string_view field) {
  if (code.size() != 2 || !absl::ascii_isupper(code[0]) || !absl::ascii_isupper(code[1])) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be an ISO 3166-1 alpha-2 code in upper case"));
  }
  return absl::OkStatus();
}

absl::Status CheckDocuments(
    const google::protobuf::RepeatedPtrField<v1::TravelDocument>& documents) {
  constexpr int kMaxDocuments = 10;
  if (documents.size() > kMaxDocuments) {
    return absl::InvalidArgumentError(
        absl::StrCat("documents has at most ", kMaxDocuments, " entries"));
  }
  for (int i = 0; i < documents.size(); ++i) {
    const v1::TravelDocument& d = documents[i];
    const std::string field = absl::StrCat("documents[", i, "]");
    if (!v1::TravelDocumentKind_IsValid(d.kind()) || d.kind() == v1::TRAVEL_DOCUMENT_KIND_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".kind must be a known document kind"));
    }
    if (!v1::TravelDocumentStatus_IsValid(d.status()) ||
        d.status() == v1::TRAVEL_DOCUMENT_STATUS_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".status must be REQUESTED, ISSUED or REFUSED"));
    }
    if (d.consulate().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".consulate must name the consulate asked"));
    }
    if (absl::Status c = CheckText(d.consulate(), absl::StrCat(field, ".consulate"), kMaxShortText);
        !c.ok()) {
      return c;
    }
    if (absl::Status c = CheckText(d.number(), absl::StrCat(field, ".number"), kMaxShortText); !c.ok()) {
      return c;
    }
    if (d.status() == v1::TRAVEL_DOCUMENT_STATUS_ISSUED && !d.has_issue_time()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".issue_time is required once issued"));
    }
  }
  return absl::OkStatus();
}

bool DocumentsReady(const google::protobuf::RepeatedPtrField<v1::TravelDocument>& documents) {
  return !documents.empty() &&
         std::all_of(documents.begin(), documents.end(), [](const v1::TravelDocument& d) {
           return d.status() == v1::TRAVEL_DOCUMENT_STATUS_ISSUED;
         });
}

const std::vector<int>& FollowUpMonths() {
  static const std::vector<int> kMonths = {1, 3, 6, 12};
  return kMonths;
}

absl::CivilDay FollowUpDue(absl::CivilDay arrival, int months) {
  const absl::CivilMonth month = absl::CivilMonth(arrival) + months;
  const absl::CivilDay last_of_month = absl::CivilDay(month + 1) - 1;
  return absl::CivilDay(month.year(), month.month(), std::min(arrival.day(), last_of_month.day()));
}

}  // namespace haven::repatriation
