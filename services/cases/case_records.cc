// CaseFile: consent, linked persons, the timeline and search.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/cases/case_file.h"
#include "storage/access/names.h"
#include "storage/codes.h"
#include "storage/ids.h"
#include "storage/keys.h"
#include "storage/timestamps.h"

namespace haven::cases {
namespace {

namespace v1 = haven::v1;
using access::ConsentRecordId;
using access::RecordKind;

constexpr size_t kMaxText = 4000;
constexpr size_t kMaxNameBytes = 200;

absl::Status CheckPurpose(int purpose) {
  if (!v1::ConsentPurpose_IsValid(purpose) || purpose == v1::CONSENT_PURPOSE_UNSPECIFIED) {
    return absl::InvalidArgumentError("purpose must be a known consent purpose");
  }
  return absl::OkStatus();
}

absl::Status CheckText(const std::string& text, absl::string_view field) {
  if (text.size() > kMaxText) {
    return absl::InvalidArgumentError(absl::StrCat(field, " has at most ", kMaxText, " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Consent> CaseFile::RecordConsent(const access::RequestContext& ctx,
                                                    const v1::RecordConsentRequest& request,
                                                    const access::Joint* within) {
  const v1::Consent& in = request.consent();
  if (absl::Status s = CheckPurpose(in.purpose()); !s.ok()) return s;
  if (!IsLanguageTag(in.language())) {
    return absl::InvalidArgumentError(
        "consent.language is required: the BCP 47 tag of the language it was explained in");
  }
  if (absl::Status s = CheckText(in.notes(), "consent.notes"); !s.ok()) return s;
  v1::Consent result;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_UPDATE, "case.record_consent",
      [&](access::CaseScope& scope) -> absl::Status {
        v1::Consent consent;
        consent.set_purpose(in.purpose());
        consent.set_given(in.given());
        consent.set_language(in.language());
        consent.set_interpreter_used(in.interpreter_used());
        consent.set_recorded_by(ctx.principal.id);
        *consent.mutable_record_time() = ToTimestamp(scope.now());
        consent.set_notes(in.notes());
        if (absl::Status w = scope.Save(RecordKind::kConsent, ConsentRecordId(in.purpose()), consent);
            !w.ok()) {
          return w;
        }
        if (absl::Status t = scope.AppendTimeline(
                v1::TIMELINE_EVENT_CONSENT_RECORDED,
                absl::StrCat("consent ", in.given() ? "given" : "refused", " for ",
                             v1::ConsentPurpose_Name(in.purpose()),
                             in.interpreter_used() ? " (interpreter used)" : ""));
            !t.ok()) {
          return t;
        }
        if (!in.given()) {
          if (absl::Status h = ConsentHasEnded(scope, in.purpose()); !h.ok()) return h;
        }
        result = consent;
        scope.Disclose(&result);
        return absl::OkStatus();
      },
      within);
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<v1::Consent> CaseFile::WithdrawConsent(const access::RequestContext& ctx,
                                                      const v1::WithdrawConsentRequest& request) {
  if (absl::Status s = CheckPurpose(request.purpose()); !s.ok()) return s;
  if (absl::Status s = CheckText(request.notes(), "notes"); !s.ok()) return s;
  v1::Consent result;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_UPDATE, "case.withdraw_consent",
      [&](access::CaseScope& scope) -> absl::Status {
        v1::Consent consent;
        absl::StatusOr<bool> found =
            scope.Load(RecordKind::kConsent, ConsentRecordId(request.purpose()), &consent);
        if (!found.ok()) return found.status();
        if (!*found || !consent.given() || consent.withdrawn()) {
          return absl::FailedPreconditionError("there is no given consent for that purpose to withdraw");
        }
        consent.set_withdrawn(true);
        *consent.mutable_withdraw_time() = ToTimestamp(scope.now());
        if (!request.notes().empty()) consent.set_notes(request.notes());
        if (absl::Status w = scope.Save(RecordKind::kConsent, ConsentRecordId(request.purpose()), consent);
            !w.ok()) {
          return w;
        }
        if (absl::Status t = scope.AppendTimeline(
                v1::TIMELINE_EVENT_CONSENT_WITHDRAWN,
                absl::StrCat("consent withdrawn for ", v1::ConsentPurpose_Name(request.purpose())));
            !t.ok()) {
          return t;
        }
        // Partners abroad that received the subject's data hear of it.
        if (request.purpose() == v1::CONSENT_PURPOSE_SHARE_WITH_ANOTHER_COUNTRY) {
          if (absl::Status n = scope.NotifyPartners(v1::PARTNER_NOTICE_CONSENT_WITHDRAWN);
              !n.ok()) {
            return n;
          }
        }
        if (absl::Status h = ConsentHasEnded(scope, request.purpose()); !h.ok()) return h;
        result = consent;
        scope.Disclose(&result);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return result;
}

absl::Status CaseFile::ConsentHasEnded(access::CaseScope& scope, v1::ConsentPurpose purpose) {
  for (const ConsentEnded& hook : consent_ended_) {
    if (absl::Status s = hook(scope, purpose); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ListConsentsResponse> CaseFile::ListConsents(
    const access::RequestContext& ctx, const v1::ListConsentsRequest& request) {
  v1::ListConsentsResponse response;
  absl::Status s = door_->WithCase(ctx, request.case_id(), v1::CASE_ACTION_READ, "case.list_consents",
                                   [&](access::CaseScope& scope) -> absl::Status {
                                     auto all = scope.LoadAll<v1::Consent>(RecordKind::kConsent);
                                     if (!all.ok()) return all.status();
                                     for (auto& c : *all) *response.add_consents() = std::move(c);
                                     scope.Disclose(&response);
                                     return absl::OkStatus();
                                   });
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<v1::LinkedPerson> CaseFile::LinkPerson(const access::RequestContext& ctx,
                                                      const v1::LinkPersonRequest& request) {
  v1::LinkedPerson person = request.person();
  if (!v1::PersonRelation_IsValid(person.relation()) ||
      person.relation() == v1::PERSON_RELATION_UNSPECIFIED) {
    return absl::InvalidArgumentError("person.relation must be a known relation");
  }
  for (const std::string* f : {&person.given_name(), &person.family_name(), &person.contact(),
                               &person.whereabouts()}) {
    if (f->size() > kMaxNameBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("person names, contact and whereabouts have at most ", kMaxNameBytes, " bytes"));
    }
  }
  if (absl::Status s = CheckText(person.notes(), "person.notes"); !s.ok()) return s;
  if (!person.linked_case_id().empty()) {
    absl::StatusOr<std::string> raw = ParseId(person.linked_case_id(), "person.linked_case_id");
    if (!raw.ok()) return raw.status();
    person.set_linked_case_id(ToHex(*raw));
  }
  v1::LinkedPerson result;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_UPDATE, "case.link_person",
      [&](access::CaseScope& scope) -> absl::Status {
        std::string raw_id = NewRawId();
        person.set_id(ToHex(raw_id));
        if (absl::Status w = scope.Save(RecordKind::kLinkedPerson, raw_id, person); !w.ok()) return w;
        if (absl::Status t = scope.AppendTimeline(
                v1::TIMELINE_EVENT_PERSON_LINKED,
                absl::StrCat("linked ", v1::PersonRelation_Name(person.relation()), " ", person.id(),
                             person.protection_needed() ? "; protection needed" : ""));
            !t.ok()) {
          return t;
        }
        result = person;
        scope.Disclose(&result);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<v1::ListLinkedPersonsResponse> CaseFile::ListLinkedPersons(
    const access::RequestContext& ctx, const v1::ListLinkedPersonsRequest& request) {
  v1::ListLinkedPersonsResponse response;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_READ, "case.list_linked_persons",
      [&](access::CaseScope& scope) -> absl::Status {
        auto all = scope.LoadAll<v1::LinkedPerson>(RecordKind::kLinkedPerson);
        if (!all.ok()) return all.status();
        for (auto& p : *all) *response.add_persons() = std::move(p);
        scope.Disclose(&response);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<v1::ListTimelineResponse> CaseFile::ListTimeline(
    const access::RequestContext& ctx, const v1::ListTimelineRequest& request) {
  uint64_t after = 0;
  if (!request.page_token().empty() && !absl::SimpleAtoi(request.page_token(), &after)) {
    return absl::InvalidArgumentError("page_token is not one this server issued");
  }
  if (request.page_size() < 0) return absl::InvalidArgumentError("page_size must not be negative");
  const int limit = request.page_size() == 0 ? 100 : std::min(request.page_size(), 1000);
  v1::ListTimelineResponse response;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_READ, "case.list_timeline",
      [&](access::CaseScope& scope) -> absl::Status {
        const uint64_t length = scope.record().timeline_length();
        for (uint64_t seq = after + 1; seq <= length; ++seq) {
          if (response.events_size() == limit) {
            response.set_next_page_token(absl::StrCat(seq - 1));
            break;
          }
          std::string id;
          keys::AppendU64(&id, seq);
          v1::TimelineEvent event;
          absl::StatusOr<bool> found = scope.Load(RecordKind::kTimeline, id, &event);
          if (!found.ok()) return found.status();
          if (*found) *response.add_events() = std::move(event);
        }
        scope.Disclose(&response);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<v1::SearchCasesResponse> CaseFile::Search(const access::RequestContext& ctx,
                                                         const v1::SearchCasesRequest& request) {
  access::CaseQuery query;
  if (!v1::CaseStatus_IsValid(request.status()) ||
      !v1::IdentificationStatus_IsValid(request.identification_status())) {
    return absl::InvalidArgumentError("status and identification_status must be known values");
  }
  query.status = request.status();
  query.identification_status = request.identification_status();
  if (!request.assignee_id().empty()) {
    absl::StatusOr<std::string> raw = ParseId(request.assignee_id(), "assignee_id");
    if (!raw.ok()) return raw.status();
    query.assignee_id = ToHex(*raw);
  }
  if (request.has_deadline_before()) {
    query.deadline_before = absl::FromUnixSeconds(request.deadline_before().seconds());
  }
  if (request.name().size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat("name has at most ", kMaxNameBytes, " bytes"));
  }
  if (!request.name().empty()) {
    query.name_keys = access::NameMatchKeys(request.name());
    if (query.name_keys.empty()) {
      return absl::InvalidArgumentError("name has no letters or digits to search for");
    }
  }
  if (request.page_size() < 0) return absl::InvalidArgumentError("page_size must not be negative");
  query.limit = request.page_size() == 0 ? 50 : std::min(request.page_size(), 200);
  query.page_token = request.page_token();

  v1::SearchCasesResponse response;
  absl::StatusOr<std::string> next = door_->ForEachReadableCase(
      ctx, query, "case.search", [&](access::CaseScope& scope) -> absl::Status {
        v1::Case* c = response.add_cases();
        *c = CaseFromRecord(scope.record(), scope.case_id());
        absl::StatusOr<bool> found = scope.Load(RecordKind::kSubject, "", c->mutable_subject());
        if (!found.ok()) return found.status();
        scope.Disclose(c);
        return absl::OkStatus();
      });
  if (!next.ok()) return next.status();
  response.set_next_page_token(*next);
  return response;
}

}  // namespace haven::cases
