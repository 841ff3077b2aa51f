// HotlineDesk: the domain rules of the hotline.
#include "services/hotline/hotline_desk.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "services/cases/case_file.h"
#include "services/common/handler.h"
#include "services/common/log.h"
#include "storage/access/policy.h"
#include "storage/codes.h"
#include "storage/ids.h"
#include "storage/timestamps.h"

namespace haven::hotline {
namespace {

namespace v1 = haven::v1;
using access::ContactScope;

constexpr absl::Duration kClockSkew = absl::Minutes(5);
constexpr absl::Duration kMaxCallbackAhead = absl::Hours(24 * 366);
constexpr int kMaxIndicators = 50;
constexpr int kMaxCallbacks = 50;
constexpr int kMaxReferrals = 50;
constexpr size_t kMaxEscalationReason = 3900;
constexpr size_t kMaxShortField = 200;
constexpr size_t kMaxNotes = 10000;
constexpr size_t kMinPhoneDigits = 3;
constexpr size_t kMaxPhoneDigits = 20;

bool ValidTimestamp(const google::protobuf::Timestamp& t) {
  return t.seconds() >= 0 && t.seconds() <= 253'402'300'799 && t.nanos() >= 0 &&
         t.nanos() < 1'000'000'000;
}

absl::Status Invalid(absl::string_view field, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(field, " ", rule));
}

bool IsIndicatorCode(absl::string_view s) {
  if (s.empty() || s.size() > 64 || !absl::ascii_islower(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '.' || c == '-' || c == '_';
  });
}

bool HasCallerDetails(const v1::CallerDetails& c) { return c.ByteSizeLong() > 0; }

// Checks the caller-given personal fields; never echoes their values.
absl::Status ValidatePersonal(const v1::Contact& c) {
  const v1::CallerDetails& d = c.caller_details();
  for (const auto& [value, name] :
       {std::pair<const std::string*, const char*>{&d.phone_number(), "phone_number"},
        {&d.email(), "email"},
        {&d.name(), "name"},
        {&d.other_handle(), "other_handle"}}) {
    if (value->size() > kMaxShortField) {
      return Invalid(absl::StrCat("contact.caller_details.", name),
                     absl::StrCat("has at most ", kMaxShortField, " bytes"));
    }
  }
  if (!d.phone_number().empty()) {
    bool chars_ok = std::all_of(d.phone_number().begin(), d.phone_number().end(), [](char ch) {
      return absl::ascii_isdigit(ch) || ch == ' ' || ch == '+' || ch == '-' || ch == '(' ||
             ch == ')' || ch == '.' || ch == '/';
    });
    size_t digits = NormalizePhoneNumber(d.phone_number()).size();
    if (!chars_ok || digits < kMinPhoneDigits || digits > kMaxPhoneDigits) {
      return Invalid("contact.caller_details.phone_number",
                     absl::StrCat("is digits with optional + ( ) - . / and spaces, ",
                                  kMinPhoneDigits, " to ", kMaxPhoneDigits, " digits"));
    }
  }
  if (!d.email().empty() && d.email().find('@') == std::string::npos) {
    return Invalid("contact.caller_details.email", "must contain @");
  }
  const v1::CoarseLocation& l = c.location();
  if (!l.country().empty() && !IsCountryCode(l.country())) {
    return Invalid("contact.location.country", "is an ISO 3166-1 alpha-2 code such as \"RO\"");
  }
  if (l.region().size() > kMaxShortField || l.city().size() > kMaxShortField) {
    return Invalid("contact.location", absl::StrCat("region and city have at most ", kMaxShortField,
                                                    " bytes"));
  }
  if (c.notes().size() > kMaxNotes) {
    return Invalid("contact.notes", absl::StrCat("has at most ", kMaxNotes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status ValidateContact(const v1::Contact& c, absl::Time now) {
  if (!v1::ContactChannel_IsValid(c.channel()) ||
      c.channel() == v1::CONTACT_CHANNEL_UNSPECIFIED) {
    return Invalid("contact.channel", "is required and must be a known value");
  }
  if (!v1::ContactCategory_IsValid(c.category()) ||
      c.category() == v1::CONTACT_CATEGORY_UNSPECIFIED) {
    return Invalid("contact.category", "is required and must be a known value");
  }
  if (!v1::CallerType_IsValid(c.caller_type())) {
    return Invalid("contact.caller_type", "is not a known value");
  }
  if (!v1::ContactUrgency_IsValid(c.urgency())) {
    return Invalid("contact.urgency", "is not a known value");
  }
  if (!v1::EmergencyAction_IsValid(c.emergency_action())) {
    return Invalid("contact.emergency_action", "is not a known value");
  }
  if (!c.has_start_time() || !ValidTimestamp(c.start_time())) {
    return Invalid("contact.start_time", "is required");
  }
  const int64_t start = TimestampToMicros(c.start_time());
  if (absl::FromUnixMicros(start) > now + kClockSkew) {
    return Invalid("contact.start_time", "is in the future");
  }
  if (c.has_end_time()) {
    if (!ValidTimestamp(c.end_time()) || TimestampToMicros(c.end_time()) < start) {
      return Invalid("contact.end_time", "is not before start_time");
    }
    if (FromTimestamp(c.end_time()) > now + kClockSkew) {
      return Invalid("contact.end_time", "is in the future");
    }
  }
  if (!c.language().empty() && !IsLanguageTag(c.language())) {
    return Invalid("contact.language", "is a BCP 47 tag such as \"ro\" or \"pt-BR\"");
  }
  if (c.immediate_danger() && c.emergency_action() == v1::EMERGENCY_ACTION_UNSPECIFIED) {
    return Invalid("contact.emergency_action", "is required when immediate_danger is set");
  }
  if (!c.immediate_danger() && c.emergency_action() != v1::EMERGENCY_ACTION_UNSPECIFIED) {
    return Invalid("contact.emergency_action", "is only recorded with immediate_danger");
  }
  if (c.indicators_size() > kMaxIndicators) {
    return Invalid("contact.indicators", absl::StrCat("has at most ", kMaxIndicators, " entries"));
  }
  for (const std::string& code : c.indicators()) {
    if (!IsIndicatorCode(code)) {
      return Invalid("contact.indicators",
                     "entries are codes such as \"general.debt-bondage\" (a-z, 0-9, . - _)");
    }
  }
  if (IsNonDataCategory(c.category())) {
    if (HasCallerDetails(c.caller_details()) || c.location().ByteSizeLong() > 0 ||
        !c.notes().empty() || c.indicators_size() > 0) {
      return Invalid("contact",
                     "of a non-data category (silent, hang-up, test, abusive) holds no caller "
                     "details, location, notes or indicators");
    }
  }
  if (c.caller_type() == v1::CALLER_TYPE_ANONYMOUS && HasCallerDetails(c.caller_details())) {
    return Invalid("contact.caller_details", "cannot be kept for an anonymous caller");
  }
  return ValidatePersonal(c);
}

v1::Contact ToApi(const v1::ContactRecord& r, absl::string_view hex_id,
                  const v1::ContactDetails* details) {
  v1::Contact c;
  c.set_id(std::string(hex_id));
  c.set_organisation_id(r.organisation_id());
  c.set_channel(r.channel());
  *c.mutable_start_time() = MicrosToTimestamp(r.start_time_micros());
  if (r.end_time_micros() > 0) *c.mutable_end_time() = MicrosToTimestamp(r.end_time_micros());
  c.set_operator_id(r.operator_id());
  c.set_language(r.language());
  c.set_interpreter_used(r.interpreter_used());
  c.set_caller_type(r.caller_type());
  c.set_category(r.category());
  *c.mutable_indicators() = r.indicators();
  c.set_urgency(r.urgency());
  c.set_immediate_danger(r.immediate_danger());
  c.set_emergency_action(r.emergency_action());
  c.set_anonymous(true);
  if (details != nullptr) {
    if (HasCallerDetails(details->caller())) {
      *c.mutable_caller_details() = details->caller();
      c.set_anonymous(false);
    }
    if (details->has_location()) *c.mutable_location() = details->location();
    c.set_notes(details->notes());
  }
  if (r.details_expire_time_micros() > 0) {
    *c.mutable_details_expire_time() = MicrosToTimestamp(r.details_expire_time_micros());
  }
  if (r.details_purge_time_micros() > 0) {
    *c.mutable_details_purge_time() = MicrosToTimestamp(r.details_purge_time_micros());
  }
  c.set_case_id(r.case_id());
  c.set_repeat_contact_count(r.repeat_contact_count());
  *c.mutable_create_time() = MicrosToTimestamp(r.create_time_micros());
  c.set_version(r.version());
  *c.mutable_referral_ids() = r.referral_ids();
  return c;
}

// The contact as the caller may see it, details opened.
absl::StatusOr<v1::Contact> Present(ContactScope& scope) {
  v1::ContactDetails details;
  absl::StatusOr<bool> found = scope.LoadDetails(&details);
  if (!found.ok()) return found.status();
  v1::Contact c = ToApi(scope.record(), scope.contact_id(), *found ? &details : nullptr);
  scope.Disclose(&c);
  return c;
}

v1::Callback CallbackToApi(const v1::CallbackRecord& r, absl::string_view hex_contact_id,
                           absl::Time now) {
  v1::Callback c;
  c.set_id(ToHex(r.id()));
  c.set_contact_id(std::string(hex_contact_id));
  c.set_assignee_id(r.assignee_id());
  *c.mutable_due_time() = MicrosToTimestamp(r.due_time_micros());
  c.set_status(r.status());
  *c.mutable_create_time() = MicrosToTimestamp(r.create_time_micros());
  if (r.close_time_micros() > 0) *c.mutable_close_time() = MicrosToTimestamp(r.close_time_micros());
  c.set_overdue(r.status() == v1::CALLBACK_STATUS_OPEN &&
                absl::FromUnixMicros(r.due_time_micros()) < now);
  return c;
}

template <typename Pairs>
void AddTallies(const Pairs& pairs, google::protobuf::RepeatedPtrField<v1::Tally>* out) {
  for (const auto& [key, count] : pairs) {
    v1::Tally* t = out->Add();
    t->set_key(key);
    t->set_count(count);
  }
}

}  // namespace

std::string NormalizePhoneNumber(absl::string_view number) {
  std::string digits;
  for (char c : number) {
    if (absl::ascii_isdigit(c)) digits.push_back(c);
  }
  if (digits.size() >= 2 && digits[0] == '0' && digits[1] == '0') digits.erase(0, 2);
  return digits;
}

bool IsNonDataCategory(v1::ContactCategory category) {
  return category == v1::CONTACT_CATEGORY_SILENT || category == v1::CONTACT_CATEGORY_HANG_UP ||
         category == v1::CONTACT_CATEGORY_TEST || category == v1::CONTACT_CATEGORY_ABUSIVE;
}

absl::StatusOr<v1::Contact> HotlineDesk::LogContact(const access::RequestContext& ctx,
                                                    const v1::LogContactRequest& request) {
  if (!request.has_contact()) return absl::InvalidArgumentError("contact is required");
  const v1::Contact& in = request.contact();
  if (absl::Status s = ValidateContact(in, clock_->Now()); !s.ok()) return s;
  v1::Contact result;
  absl::StatusOr<v1::ContactRecord> created =
      contacts_->CreateContact(ctx, "contact.create", [&](ContactScope& scope) {
        v1::ContactRecord* r = scope.mutable_record();
        r->set_channel(in.channel());
        r->set_start_time_micros(TimestampToMicros(in.start_time()));
        if (in.has_end_time()) r->set_end_time_micros(TimestampToMicros(in.end_time()));
        r->set_language(in.language());
        r->set_interpreter_used(in.interpreter_used());
        r->set_caller_type(in.caller_type());
        r->set_category(in.category());
        *r->mutable_indicators() = in.indicators();
        r->set_urgency(in.urgency());
        r->set_immediate_danger(in.immediate_danger());
        r->set_emergency_action(in.emergency_action());
        v1::ContactDetails details;
        if (HasCallerDetails(in.caller_details())) *details.mutable_caller() = in.caller_details();
        if (in.location().ByteSizeLong() > 0) *details.mutable_location() = in.location();
        details.set_notes(in.notes());
        if (details.ByteSizeLong() > 0) {
          if (absl::Status s =
                  scope.SaveDetails(details, NormalizePhoneNumber(in.caller_details().phone_number()),
                                    scope.now() + options_.caller_details_retention);
              !s.ok()) {
            return s;
          }
          absl::StatusOr<uint32_t> repeats = scope.CountSamePhone();
          if (!repeats.ok()) return repeats.status();
          scope.mutable_record()->set_repeat_contact_count(*repeats);
        }
        result = ToApi(scope.record(), scope.contact_id(),
                       details.ByteSizeLong() > 0 ? &details : nullptr);
        scope.Disclose(&result);
        return absl::OkStatus();
      });
  if (!created.ok()) return created.status();
  return result;
}

absl::StatusOr<v1::Contact> HotlineDesk::GetContact(const access::RequestContext& ctx,
                                                    const v1::GetContactRequest& request) {
  v1::Contact result;
  absl::Status s = contacts_->WithContact(ctx, request.contact_id(), "contact.read",
                                          [&](ContactScope& scope) {
                                            return services::Into(Present(scope), &result);
                                          });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<v1::Contact> HotlineDesk::EscalateContact(
    const access::RequestContext& ctx, const v1::EscalateContactRequest& request) {
  const bool link_existing = !request.case_id().empty();
  if (link_existing) {
    if (absl::StatusOr<std::string> raw = ParseId(request.case_id(), "case_id"); !raw.ok()) {
      return raw.status();
    }
    if (request.has_subject()) {
      return absl::InvalidArgumentError("subject is only given when a new case is opened");
    }
  } else if (absl::Status s = cases::ValidateSubject(request.subject(), clock_->Now()); !s.ok()) {
    return s;
  }
  // The case is opened (or linked) and the contact linked to it in one
  // transaction: both or neither.
  v1::Contact result;
  absl::Status s = contacts_->WithContact(
      ctx, request.contact_id(), "contact.escalate", [&](ContactScope& scope) -> absl::Status {
        if (IsNonDataCategory(scope.record().category())) {
          return absl::FailedPreconditionError("a non-data contact cannot be escalated");
        }
        if (!scope.record().case_id().empty()) {
          return absl::FailedPreconditionError(
              absl::StrCat("the contact is already linked to case ", scope.record().case_id()));
        }
        const access::Joint joint = scope.joint();
        std::string case_id;
        if (link_existing) {
          absl::Status linked = cases_->WithCase(
              ctx, request.case_id(), v1::CASE_ACTION_UPDATE, "case.link_contact",
              [&](access::CaseScope& case_scope) {
                case_id = case_scope.case_id();
                return case_scope.AppendTimeline(
                    v1::TIMELINE_EVENT_UPDATED,
                    absl::StrCat("hotline contact ", scope.contact_id(), " linked"));
              },
              &joint);
          if (!linked.ok()) return linked;
        } else {
          absl::StatusOr<std::string> opened = OpenCaseFor(ctx, scope, request.subject());
          if (!opened.ok()) return opened.status();
          case_id = *opened;
        }
        scope.mutable_record()->set_case_id(case_id);
        return services::Into(Present(scope), &result);
      });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<v1::EscalateContactToReferralResponse> HotlineDesk::EscalateContactToReferral(
    const access::RequestContext& ctx, const v1::EscalateContactToReferralRequest& request) {
  const v1::Referral& in = request.referral();
  if (!request.has_referral()) return absl::InvalidArgumentError("referral is required");
  if (!in.case_id().empty()) {
    return absl::InvalidArgumentError(
        "referral.case_id must be empty: the referral is on the contact's case");
  }
  if (request.reason().size() > kMaxEscalationReason) {
    return Invalid("reason", absl::StrCat("has at most ", kMaxEscalationReason, " bytes"));
  }
  // Sending a referral shares the case: the caller needs that right on its
  // own organisation's cases, whatever the contact rights.
  v1::CaseRecord own;
  own.set_owning_organisation_id(ctx.principal.organisation_id);
  if (!access::DecideCaseAccess(ctx, v1::CASE_ACTION_SHARE, own, {}, clock_->Now())
           .allowed) {
    return absl::PermissionDeniedError(
        "escalating to a referral shares the case: it needs the caseworker or supervisor role");
  }
  // The case (when there is none yet), the consent, the referral and the
  // contact's link to it are written in one transaction: all or nothing.
  v1::EscalateContactToReferralResponse result;
  absl::Status s = contacts_->WithContact(
      ctx, request.contact_id(), "contact.escalate_referral",
      [&](ContactScope& scope) -> absl::Status {
        if (IsNonDataCategory(scope.record().category())) {
          return absl::FailedPreconditionError("a non-data contact cannot be escalated");
        }
        if (scope.record().referral_ids_size() >= kMaxReferrals) {
          return absl::ResourceExhaustedError(
              absl::StrCat("a contact has at most ", kMaxReferrals, " referrals"));
        }
        const access::Joint joint = scope.joint();
        std::string case_id = scope.record().case_id();
        if (!case_id.empty() && request.has_subject()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "subject is only given when a new case is opened; the contact is linked to case ",
              case_id));
        }
        if (case_id.empty()) {
          if (absl::Status v = cases::ValidateSubject(request.subject(), scope.now()); !v.ok()) {
            return v;
          }
          absl::StatusOr<std::string> opened = OpenCaseFor(ctx, scope, request.subject());
          if (!opened.ok()) return opened.status();
          case_id = *opened;
          scope.mutable_record()->set_case_id(case_id);
        }
        if (request.has_consent()) {
          v1::RecordConsentRequest consent;
          consent.set_case_id(case_id);
          *consent.mutable_consent() = request.consent();
          absl::StatusOr<v1::Consent> recorded =
              case_file_.RecordConsent(ctx, consent, &joint);
          if (!recorded.ok()) return recorded.status();
        }
        v1::CreateReferralRequest create;
        *create.mutable_referral() = in;
        create.mutable_referral()->set_case_id(case_id);
        create.set_reason(absl::StrCat("escalated from hotline contact ", scope.contact_id(),
                                       request.reason().empty() ? "" : ": ", request.reason()));
        absl::StatusOr<v1::Referral> sent =
            referrals_->CreateAndSend(ctx, create, &joint);
        if (!sent.ok()) return sent.status();
        scope.mutable_record()->add_referral_ids(sent->id());
        *result.mutable_referral() = *std::move(sent);
        return services::Into(Present(scope), result.mutable_contact());
      });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<std::string> HotlineDesk::OpenCaseFor(const access::RequestContext& ctx,
                                                     ContactScope& contact,
                                                     const v1::Subject& subject) {
  std::string case_id;
  const access::Joint joint = contact.joint();
  absl::StatusOr<v1::CaseRecord> created = cases_->CreateCase(
      ctx, "case.create",
      [&](access::CaseScope& scope) {
        case_id = scope.case_id();
        if (absl::Status saved = scope.Save(access::RecordKind::kSubject, "", subject);
            !saved.ok()) {
          return saved;
        }
        return scope.AppendTimeline(
            v1::TIMELINE_EVENT_OPENED,
            absl::StrCat("opened from hotline contact ", contact.contact_id()));
      },
      &joint);
  if (!created.ok()) return created.status();
  return case_id;
}

absl::StatusOr<v1::Callback> HotlineDesk::ScheduleCallback(
    const access::RequestContext& ctx, const v1::ScheduleCallbackRequest& request) {
  const absl::Time now = clock_->Now();
  if (!request.has_due_time() || !ValidTimestamp(request.due_time())) {
    return Invalid("due_time", "is required");
  }
  const absl::Time due = FromTimestamp(request.due_time());
  if (due <= now) return Invalid("due_time", "is in the future");
  if (due > now + kMaxCallbackAhead) return Invalid("due_time", "is within a year");
  v1::Callback result;
  absl::Status s = contacts_->WithContact(
      ctx, request.contact_id(), "contact.callback.schedule", [&](ContactScope& scope) {
        if (scope.record().callbacks_size() >= kMaxCallbacks) {
          return absl::ResourceExhaustedError(
              absl::StrCat("a contact has at most ", kMaxCallbacks, " callbacks"));
        }
        v1::CallbackRecord* cb = scope.mutable_record()->add_callbacks();
        cb->set_id(NewRawId());
        cb->set_assignee_id(ctx.principal.id);
        cb->set_due_time_micros(absl::ToUnixMicros(due));
        cb->set_status(v1::CALLBACK_STATUS_OPEN);
        cb->set_create_time_micros(absl::ToUnixMicros(scope.now()));
        result = CallbackToApi(*cb, scope.contact_id(), scope.now());
        scope.Disclose(&result);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<v1::Callback> HotlineDesk::CloseCallback(
    const access::RequestContext& ctx, const v1::CloseCallbackRequest& request) {
  if (request.status() != v1::CALLBACK_STATUS_DONE &&
      request.status() != v1::CALLBACK_STATUS_CANCELLED) {
    return Invalid("status", "is CALLBACK_STATUS_DONE or CALLBACK_STATUS_CANCELLED");
  }
  absl::StatusOr<std::string> raw_callback = ParseId(request.callback_id(), "callback_id");
  if (!raw_callback.ok()) return raw_callback.status();
  v1::Callback result;
  absl::Status s = contacts_->WithContact(
      ctx, request.contact_id(), "contact.callback.close", [&](ContactScope& scope) {
        for (const v1::CallbackRecord& stored : scope.record().callbacks()) {
          if (stored.id() != *raw_callback) continue;
          if (stored.status() != v1::CALLBACK_STATUS_OPEN) {
            return absl::FailedPreconditionError("the callback is already closed");
          }
          break;
        }
        for (v1::CallbackRecord& cb : *scope.mutable_record()->mutable_callbacks()) {
          if (cb.id() != *raw_callback) continue;
          cb.set_status(request.status());
          cb.set_close_time_micros(absl::ToUnixMicros(scope.now()));
          result = CallbackToApi(cb, scope.contact_id(), scope.now());
          scope.Disclose(&result);
          return absl::OkStatus();
        }
        return absl::NotFoundError("callback not found");
      });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<v1::ListCallbacksResponse> HotlineDesk::ListCallbacks(
    const access::RequestContext& ctx, const v1::ListCallbacksRequest& request) {
  absl::StatusOr<std::vector<access::QueuedCallback>> queue =
      contacts_->CallbackQueue(ctx, "contact.callback.list");
  if (!queue.ok()) return queue.status();
  const absl::Time now = clock_->Now();
  v1::ListCallbacksResponse out;
  for (const access::QueuedCallback& q : *queue) {
    v1::Callback cb = CallbackToApi(q.callback, q.contact_id, now);
    if (request.overdue_only() && !cb.overdue()) continue;
    *out.add_callbacks() = std::move(cb);
  }
  return out;
}

absl::StatusOr<v1::HotlineDashboard> HotlineDesk::GetDashboard(
    const access::RequestContext& ctx, const v1::GetHotlineDashboardRequest& request) {
  absl::CivilDay day;
  if (request.has_day()) {
    const v1::Date& d = request.day();
    day = absl::CivilDay(d.year(), d.month(), d.day());
    if (d.year() < 1900 || d.year() > 9999 || day.year() != d.year() ||
        day.month() != d.month() || day.day() != d.day()) {
      return Invalid("day", "must be a real date");
    }
  } else {
    day = absl::ToCivilDay(clock_->Now(), options_.time_zone);
  }
  absl::Time from = absl::FromCivil(day, options_.time_zone);
  absl::Time to = absl::FromCivil(day + 1, options_.time_zone);
  absl::StatusOr<access::ContactCounts> counts =
      contacts_->Count(ctx, from, to, "contact.dashboard");
  if (!counts.ok()) return counts.status();
  v1::HotlineDashboard out;
  out.mutable_day()->set_year(static_cast<int32_t>(day.year()));
  out.mutable_day()->set_month(day.month());
  out.mutable_day()->set_day(day.day());
  out.set_total_contacts(counts->total);
  AddTallies(counts->by_channel, out.mutable_by_channel());
  AddTallies(counts->by_category, out.mutable_by_category());
  AddTallies(counts->by_language, out.mutable_by_language());
  out.set_open_callbacks(counts->open_callbacks);
  out.set_overdue_callbacks(counts->overdue_callbacks);
  return out;
}

absl::StatusOr<int> HotlineDesk::PurgeExpiredDetails() {
  absl::StatusOr<int> purged = contacts_->PurgeExpiredDetails(clock_->Now());
  if (!purged.ok()) {
    services::Log(services::LogLevel::kError, "hotline retention purge failed",
                  {{"code", absl::StatusCodeToString(purged.status().code())}});
    return purged;
  }
  services::Log(services::LogLevel::kInfo, "hotline retention purge",
                {{"purged_contacts", std::to_string(*purged)}});
  return purged;
}

}  // namespace haven::hotline
