// ReferralDesk: the rules of referrals between organisations.
#include "services/referral/referral_desk.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "services/cases/case_file.h"
#include "storage/ids.h"
#include "storage/timestamps.h"

namespace haven::referral {
namespace {

namespace v1 = haven::v1;
using access::CaseScope;
using access::CaseWriter;

constexpr size_t kMaxText = 4000;
constexpr absl::Duration kDefaultAccess = absl::Hours(24 * 90);
constexpr absl::Duration kMaxAccess = absl::Hours(24 * 366);

absl::Status NotFound() { return absl::NotFoundError("referral not found"); }

// Roles that work on cases; others (administrators, auditors, analysts)
// have no part in referrals.
bool WorksOnCases(const access::Principal& p) {
  for (v1::Role r : p.roles) {
    if (r != v1::ROLE_ADMINISTRATOR && r != v1::ROLE_AUDITOR && r != v1::ROLE_ANALYST) return true;
  }
  return false;
}

absl::Status Refuse(const v1::Referral& r, absl::string_view rule) {
  return absl::FailedPreconditionError(
      absl::StrCat(rule, " (the referral is ", v1::ReferralStatus_Name(r.status()), ")"));
}

// Gives the receiver of an accepted referral the scoped classes of the
// case until the referral's access ends; returns the grant's id.
absl::Status CheckReason(const std::string& reason, bool required) {
  if (required && reason.empty()) return absl::InvalidArgumentError("reason is required");
  if (reason.size() > kMaxText) {
    return absl::InvalidArgumentError(absl::StrCat("reason has at most ", kMaxText, " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsOpen(v1::ReferralStatus s) {
  return s == v1::REFERRAL_STATUS_SENT || s == v1::REFERRAL_STATUS_ACKNOWLEDGED;
}

std::string Summary(const v1::Referral& r, absl::string_view what) {
  std::string party;
  if (r.partner_id().empty()) {
    party = absl::StrCat("to ", r.receiver_organisation_id());
  } else if (r.sender_organisation_id().empty()) {
    party = absl::StrCat("from partner ", r.partner_id());
  } else {
    party = absl::StrCat("to partner ", r.partner_id());
  }
  return absl::StrCat("referral ", r.id(), " ", what, " (", v1::ReferralPurpose_Name(r.purpose()),
                      ", ", party, ")");
}

std::vector<v1::ConsentPurpose> ConsentsNeededAbroad(v1::ReferralPurpose purpose) {
  std::vector<v1::ConsentPurpose> needed = {v1::CONSENT_PURPOSE_SHARE_WITH_ANOTHER_COUNTRY};
  if (purpose == v1::REFERRAL_PURPOSE_RETURN) needed.push_back(v1::CONSENT_PURPOSE_RETURN);
  return needed;
}

absl::Status CheckTerms(int purpose, int urgency, int lawful_basis) {
  if (!v1::ReferralPurpose_IsValid(purpose) || purpose == v1::REFERRAL_PURPOSE_UNSPECIFIED) {
    return absl::InvalidArgumentError("purpose must be a known referral purpose");
  }
  if (!v1::Urgency_IsValid(urgency) || urgency == v1::URGENCY_UNSPECIFIED) {
    return absl::InvalidArgumentError("urgency must be ROUTINE, URGENT or EMERGENCY");
  }
  if (!v1::LawfulBasis_IsValid(lawful_basis) || lawful_basis == v1::LAWFUL_BASIS_UNSPECIFIED) {
    return absl::InvalidArgumentError("lawful_basis is required: CONSENT or a basis that needs none");
  }
  return absl::OkStatus();
}

absl::StatusOr<access::ClassSet> ScopeOf(const google::protobuf::RepeatedField<int>& data_scope) {
  access::ClassSet scope;
  for (int c : data_scope) {
    if (!v1::ConfidentialityClass_IsValid(c) || c == v1::CONFIDENTIALITY_CLASS_UNSPECIFIED) {
      return absl::InvalidArgumentError("data_scope holds an unknown class");
    }
    scope.Add(static_cast<v1::ConfidentialityClass>(c));
  }
  if (scope.empty()) return absl::InvalidArgumentError("data_scope needs at least one class");
  return scope;
}

access::ClassSet SharedClasses(const v1::Referral& referral) {
  access::ClassSet scope = access::ClassSet::Of({v1::CONFIDENTIALITY_ADMINISTRATIVE});
  for (int c : referral.data_scope()) scope.Add(static_cast<v1::ConfidentialityClass>(c));
  return scope;
}

v1::Referral AsOf(v1::Referral referral, absl::Time now) {
  if (IsOpen(referral.status()) && FromTimestamp(referral.response_deadline()) < now) {
    referral.set_status(v1::REFERRAL_STATUS_EXPIRED);
    *referral.mutable_close_time() = referral.response_deadline();
  }
  return referral;
}

absl::StatusOr<v1::Referral> ReferralDesk::Create(const access::RequestContext& ctx,
                                                  const v1::CreateReferralRequest& request) {
  return Draft(ctx, request, false, nullptr, nullptr);
}

absl::StatusOr<v1::Referral> ReferralDesk::CreateAndSend(const access::RequestContext& ctx,
                                                         const v1::CreateReferralRequest& request,
                                                         const access::Joint* within,
                                                         const AlongWith& along_with) {
  absl::StatusOr<v1::Referral> sent = Draft(ctx, request, true, within, along_with);
  if (sent.ok() && !sent->partner_id().empty() && wake_partner_link_) wake_partner_link_();
  return sent;
}

absl::StatusOr<v1::Referral> ReferralDesk::Draft(const access::RequestContext& ctx,
                                                 const v1::CreateReferralRequest& request,
                                                 bool send, const access::Joint* within,
                                                 const AlongWith& along_with) {
  const v1::Referral& in = request.referral();
  if (in.partner_id().empty() == in.receiver_organisation_id().empty()) {
    return absl::InvalidArgumentError(
        "name the receiver: either receiver_organisation_id or partner_id");
  }
  if (!in.partner_id().empty() && (partners_ == nullptr || partners_->Find(in.partner_id()) == nullptr)) {
    return absl::InvalidArgumentError("partner_id must name a partner mechanism (see ListPartners)");
  }
  if (!in.receiver_organisation_id().empty()) {
    absl::StatusOr<v1::Organisation> receiver =
        accounts_->FindOrganisation(in.receiver_organisation_id());
    if (!receiver.ok()) {
      if (absl::IsNotFound(receiver.status()) || absl::IsInvalidArgument(receiver.status())) {
        return absl::InvalidArgumentError("receiver_organisation_id must name an organisation");
      }
      return receiver.status();
    }
    if (receiver->id() == ctx.principal.organisation_id) {
      return absl::InvalidArgumentError("a referral goes to another organisation");
    }
  }
  if (absl::Status s = CheckTerms(in.purpose(), in.urgency(), in.lawful_basis()); !s.ok()) {
    return s;
  }
  if (absl::Status s = access::CheckLawfulBasis(in.lawful_basis(), in.basis_detail()); !s.ok()) {
    return s;
  }
  absl::StatusOr<access::ClassSet> scope_classes = ScopeOf(in.data_scope());
  if (!scope_classes.ok()) return scope_classes.status();
  const absl::Time now = clock_->Now();
  const absl::Time deadline = FromTimestamp(in.response_deadline());
  if (deadline <= now || deadline > now + kMaxResponseTime) {
    return absl::InvalidArgumentError("response_deadline must be in the future and within 90 days");
  }
  const absl::Time access_until =
      in.has_access_until() ? FromTimestamp(in.access_until()) : now + kDefaultAccess;
  if (access_until <= now || access_until > now + kMaxAccess) {
    return absl::InvalidArgumentError("access_until must be in the future and within 366 days");
  }
  if (absl::Status s = CheckReason(request.reason(), false); !s.ok()) return s;

  v1::Referral result;
  absl::Status s = door_->WithCase(
      ctx, in.case_id(), v1::CASE_ACTION_SHARE, send ? "referral.create_and_send" : "referral.create",
      [&](CaseScope& scope) -> absl::Status {
        if (!scope.visible().ContainsAll(*scope_classes)) {
          return absl::PermissionDeniedError("data_scope holds classes you cannot see yourself");
        }
        v1::Referral r;
        r.set_id(NewId());
        r.set_case_id(scope.case_id());
        r.set_sender_organisation_id(ctx.principal.organisation_id);
        r.set_receiver_organisation_id(in.receiver_organisation_id());
        r.set_partner_id(in.partner_id());
        r.set_purpose(in.purpose());
        r.set_urgency(in.urgency());
        r.set_status(v1::REFERRAL_STATUS_DRAFT);
        *r.mutable_response_deadline() = ToTimestamp(deadline);
        for (auto c : scope_classes->ToVector()) r.add_data_scope(c);
        r.set_lawful_basis(in.lawful_basis());
        *r.mutable_access_until() = ToTimestamp(access_until);
        r.set_created_by(ctx.principal.id);
        *r.mutable_create_time() = ToTimestamp(now);
        // The basis's facts go sealed on the timeline with the reason.
        std::string detail = request.reason();
        if (in.lawful_basis() != v1::LAWFUL_BASIS_CONSENT) {
          detail = absl::StrCat(access::DescribeBasis(in.lawful_basis(), in.basis_detail()),
                                detail.empty() ? "" : "\n", detail);
        }
        if (absl::Status t = scope.AppendTimeline(v1::TIMELINE_EVENT_REFERRED,
                                                  Summary(r, "drafted"), detail);
            !t.ok()) {
          return t;
        }
        if (send) {
          if (absl::Status d = SendDraft(scope, r, ""); !d.ok()) return d;
          if (absl::Status q = QueueIfAbroad(scope, r, v1::REFERRAL_STATUS_DRAFT); !q.ok()) return q;
        }
        result = r;
        if (absl::Status p = scope.PutReferral(r); !p.ok()) return p;
        return along_with ? along_with(scope, r) : absl::OkStatus();
      },
      within);
  if (!s.ok()) return s;
  return result;
}

absl::Status ReferralDesk::SendDraft(CaseScope& scope, v1::Referral& r, absl::string_view reason) {
  if (r.status() != v1::REFERRAL_STATUS_DRAFT) return Refuse(r, "only a draft can be sent");
  if (FromTimestamp(r.response_deadline()) <= scope.now()) {
    return absl::FailedPreconditionError("the response deadline has passed; draft a new referral");
  }
  const access::Principal& sender = scope.context().principal;
  if (access::NeedsSecondPerson(r.lawful_basis()) &&
      (!sender.HasRole(v1::ROLE_SUPERVISOR) || sender.id == r.created_by())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a referral under ", v1::LawfulBasis_Name(r.lawful_basis()),
        " is sent by a supervisor other than the one who drafted it"));
  }
  if (r.lawful_basis() == v1::LAWFUL_BASIS_CHILD_PROTECTION_EMERGENCY) {
    absl::StatusOr<bool> child = scope.SubjectIsChild();
    if (!child.ok()) return child.status();
    if (!*child) {
      return absl::FailedPreconditionError(
          "a child-protection emergency is a basis only for a subject who is or is presumed a "
          "child");
    }
  }
  if (r.lawful_basis() == v1::LAWFUL_BASIS_CONSENT) {
    std::vector<v1::ConsentPurpose> needed;
    if (r.partner_id().empty()) {
      absl::StatusOr<v1::Organisation> receiver =
          accounts_->FindOrganisation(r.receiver_organisation_id());
      if (!receiver.ok()) return receiver.status();
      needed.push_back(access::ConsentNeededToShare(receiver->type(), r.purpose()));
    } else {
      needed = ConsentsNeededAbroad(r.purpose());
    }
    for (v1::ConsentPurpose purpose : needed) {
      absl::StatusOr<bool> consented = scope.HasConsent(purpose);
      if (!consented.ok()) return consented.status();
      if (!*consented) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the subject has not consented to ", v1::ConsentPurpose_Name(purpose),
            ": record that consent, or a lawful basis that does not need it"));
      }
    }
  } else {
    scope.set_lawful_basis(v1::LawfulBasis_Name(r.lawful_basis()));
  }
  r.set_status(v1::REFERRAL_STATUS_SENT);
  r.set_sent_by(sender.id);
  *r.mutable_send_time() = ToTimestamp(scope.now());
  return scope.AppendTimeline(
      v1::TIMELINE_EVENT_REFERRED,
      absl::StrCat(Summary(r, "sent"), "; basis ", v1::LawfulBasis_Name(r.lawful_basis())), reason);
}

absl::Status ReferralDesk::QueueIfAbroad(CaseWriter& scope, const v1::Referral& r,
                                         v1::ReferralStatus before) {
  // The partner mechanism hears of every change of a referral it has: the
  // packet when it is sent, then each status.
  if (r.partner_id().empty() || r.status() == before || !r.has_send_time()) {
    return absl::OkStatus();
  }
  v1::PartnerOutboxRecord message;
  message.set_partner_id(r.partner_id());
  message.set_referral_id(r.id());
  if (r.status() != v1::REFERRAL_STATUS_SENT) message.set_status(r.status());
  message.set_change_time_micros(absl::ToUnixMicros(scope.now()));
  return scope.QueueForPartner(message);
}

absl::StatusOr<v1::Referral> ReferralDesk::FindForParty(const access::RequestContext& ctx,
                                                        absl::string_view referral_id, Side side) {
  absl::StatusOr<std::optional<v1::Referral>> found = door_->FindReferral(referral_id);
  if (!found.ok()) return found.status();
  const std::string& party = !found->has_value() ? std::string()
                             : side == Side::kSender ? (*found)->sender_organisation_id()
                                                     : (*found)->receiver_organisation_id();
  // A referral is the sender's alone until it is sent (a draft cancelled
  // unsent never reaches the receiver).
  if (!found->has_value() || party != ctx.principal.organisation_id ||
      !WorksOnCases(ctx.principal) ||
      (side == Side::kReceiver && !(*found)->has_send_time())) {
    return NotFound();
  }
  return **found;
}

absl::Status ReferralDesk::Apply(CaseWriter& scope, absl::string_view referral_id,
                                 const std::function<absl::Status(v1::Referral&)>& change,
                                 v1::Referral* result) {
  absl::StatusOr<v1::Referral> current = scope.FindReferral(referral_id);
  if (!current.ok()) return current.status();
  v1::Referral referral = AsOf(*current, scope.now());
  const v1::ReferralStatus before = referral.status();
  if (absl::Status c = change(referral); !c.ok()) return c;
  if (absl::Status p = scope.PutReferral(referral); !p.ok()) return p;
  if (absl::Status q = QueueIfAbroad(scope, referral, before); !q.ok()) return q;
  if (referral.status() != before) {
    for (const Moved& listener : on_moved_) {
      if (absl::Status m = listener(scope, referral); !m.ok()) return m;
    }
  }
  *result = referral;
  return absl::OkStatus();
}

absl::StatusOr<v1::Referral> ReferralDesk::Answer(const absl::Status& status,
                                                  const v1::Referral& result) {
  if (absl::IsNotFound(status)) return NotFound();
  if (!status.ok()) return status;
  if (!result.partner_id().empty() && wake_partner_link_) wake_partner_link_();
  return result;
}

absl::StatusOr<v1::Referral> ReferralDesk::AsSender(const access::RequestContext& ctx,
                                                    absl::string_view referral_id,
                                                    absl::string_view audit_action,
                                                    const SenderChange& change) {
  absl::StatusOr<v1::Referral> found = FindForParty(ctx, referral_id, Side::kSender);
  if (!found.ok()) return found.status();
  v1::Referral result;
  absl::Status s = door_->WithCase(
      ctx, found->case_id(), v1::CASE_ACTION_SHARE, audit_action, [&](CaseScope& scope) {
        return Apply(scope, referral_id, [&](v1::Referral& r) { return change(scope, r); },
                     &result);
      });
  return Answer(s, result);
}

absl::StatusOr<v1::Referral> ReferralDesk::AsReceiver(const access::RequestContext& ctx,
                                                      absl::string_view referral_id,
                                                      absl::string_view audit_action,
                                                      const ReceiverChange& change) {
  absl::StatusOr<v1::Referral> found = FindForParty(ctx, referral_id, Side::kReceiver);
  if (!found.ok()) return found.status();
  v1::Referral result;
  absl::Status s = door_->WithCaseAsReferralParty(
      ctx, found->case_id(), audit_action, [&](CaseWriter& scope) {
        return Apply(scope, referral_id, [&](v1::Referral& r) { return change(scope, r); },
                     &result);
      });
  return Answer(s, result);
}

absl::StatusOr<v1::Referral> ReferralDesk::Send(const access::RequestContext& ctx,
                                                const v1::ReferralTransitionRequest& request) {
  if (absl::Status s = CheckReason(request.reason(), false); !s.ok()) return s;
  return AsSender(ctx, request.referral_id(), "referral.send",
                    [&](CaseScope& scope, v1::Referral& r) {
                      return SendDraft(scope, r, request.reason());
                    });
}

absl::StatusOr<v1::Referral> ReferralDesk::Cancel(const access::RequestContext& ctx,
                                                  const v1::ReferralTransitionRequest& request) {
  if (absl::Status s = CheckReason(request.reason(), false); !s.ok()) return s;
  return AsSender(ctx, request.referral_id(), "referral.cancel",
                    [&](CaseScope& scope, v1::Referral& r) -> absl::Status {
    if (!Cancellable(r)) return Refuse(r, "only a draft, open or accepted referral can be cancelled");
    return CancelReferral(scope, r, request.reason());
  });
}

bool ReferralDesk::Cancellable(const v1::Referral& r) {
  return r.status() == v1::REFERRAL_STATUS_DRAFT || IsOpen(r.status()) ||
         r.status() == v1::REFERRAL_STATUS_ACCEPTED;
}

absl::Status ReferralDesk::CancelReferral(CaseScope& scope, v1::Referral& r,
                                          absl::string_view reason) {
  if (!r.grant_id().empty()) {
    if (absl::Status e = scope.EndGrant(r.grant_id()); !e.ok()) return e;
  }
  r.set_status(v1::REFERRAL_STATUS_CANCELLED);
  *r.mutable_close_time() = ToTimestamp(scope.now());
  return scope.AppendTimeline(v1::TIMELINE_EVENT_REFERRED, Summary(r, "cancelled"), reason);
}

absl::StatusOr<bool> ReferralDesk::CancelIfUnfinished(CaseScope& scope,
                                                      absl::string_view referral_id,
                                                      absl::string_view reason) {
  bool cancelled = false;
  v1::Referral result;
  absl::Status s = Apply(scope, referral_id, [&](v1::Referral& r) -> absl::Status {
    if (!Cancellable(r)) return absl::OkStatus();
    cancelled = true;
    return CancelReferral(scope, r, reason);
  }, &result);
  if (!s.ok()) return s;
  return cancelled;
}

void ReferralDesk::WakePartnerLink() {
  if (wake_partner_link_) wake_partner_link_();
}

absl::StatusOr<v1::Referral> ReferralDesk::Acknowledge(const access::RequestContext& ctx,
                                                       const v1::ReferralTransitionRequest& request) {
  if (absl::Status s = CheckReason(request.reason(), false); !s.ok()) return s;
  return AsReceiver(ctx, request.referral_id(), "referral.acknowledge",
                    [&](CaseWriter& scope, v1::Referral& r) -> absl::Status {
    if (r.status() != v1::REFERRAL_STATUS_SENT) {
      return Refuse(r, "only a sent referral can be acknowledged");
    }
    r.set_status(v1::REFERRAL_STATUS_ACKNOWLEDGED);
    *r.mutable_acknowledge_time() = ToTimestamp(scope.now());
    return scope.AppendTimeline(v1::TIMELINE_EVENT_REFERRED, Summary(r, "acknowledged"),
                                request.reason());
  });
}

absl::StatusOr<v1::Referral> ReferralDesk::Accept(const access::RequestContext& ctx,
                                                  const v1::ReferralTransitionRequest& request) {
  if (absl::Status s = CheckReason(request.reason(), false); !s.ok()) return s;
  if (!access::MayAcceptReferrals(ctx.principal)) {
    return absl::PermissionDeniedError(
        "only caseworkers and supervisors accept referrals for their organisation");
  }
  return AsReceiver(ctx, request.referral_id(), "referral.accept",
                    [&](CaseWriter& scope, v1::Referral& r) -> absl::Status {
    if (!IsOpen(r.status())) return Refuse(r, "only a sent or acknowledged referral can be accepted");
    // Access follows the referral: the scoped classes, until it ends. A
    // referral from a partner abroad came with its own case here.
    if (r.partner_id().empty()) {
      absl::StatusOr<std::string> grant_id = scope.GrantForReferral(r.id());
      if (!grant_id.ok()) return grant_id.status();
      r.set_grant_id(*grant_id);
    }
    r.set_status(v1::REFERRAL_STATUS_ACCEPTED);
    *r.mutable_accept_time() = ToTimestamp(scope.now());
    if (!r.has_acknowledge_time()) *r.mutable_acknowledge_time() = r.accept_time();
    return scope.AppendTimeline(v1::TIMELINE_EVENT_REFERRED, Summary(r, "accepted"),
                                request.reason());
  });
}

absl::StatusOr<v1::Referral> ReferralDesk::Decline(const access::RequestContext& ctx,
                                                   const v1::ReferralTransitionRequest& request) {
  if (absl::Status s = CheckReason(request.reason(), true); !s.ok()) return s;
  return AsReceiver(ctx, request.referral_id(), "referral.decline",
                    [&](CaseWriter& scope, v1::Referral& r) -> absl::Status {
    if (!IsOpen(r.status())) return Refuse(r, "only a sent or acknowledged referral can be declined");
    r.set_status(v1::REFERRAL_STATUS_DECLINED);
    *r.mutable_close_time() = ToTimestamp(scope.now());
    return scope.AppendTimeline(v1::TIMELINE_EVENT_REFERRED, Summary(r, "declined"),
                                request.reason());
  });
}

absl::StatusOr<v1::Referral> ReferralDesk::Complete(const access::RequestContext& ctx,
                                                    const v1::ReferralTransitionRequest& request) {
  if (absl::Status s = CheckReason(request.reason(), false); !s.ok()) return s;
  return AsReceiver(ctx, request.referral_id(), "referral.complete",
                    [&](CaseWriter& scope, v1::Referral& r) -> absl::Status {
    if (r.status() != v1::REFERRAL_STATUS_ACCEPTED) {
      return Refuse(r, "only an accepted referral can be completed");
    }
    if (!r.grant_id().empty()) {
      if (absl::Status e = scope.EndGrant(r.grant_id()); !e.ok()) return e;
    }
    r.set_status(v1::REFERRAL_STATUS_COMPLETED);
    *r.mutable_close_time() = ToTimestamp(scope.now());
    return scope.AppendTimeline(v1::TIMELINE_EVENT_REFERRED, Summary(r, "completed"),
                                request.reason());
  });
}

absl::StatusOr<v1::Referral> ReferralDesk::Get(const access::RequestContext& ctx,
                                               const v1::GetReferralRequest& request) {
  absl::StatusOr<std::optional<v1::Referral>> found = door_->FindReferral(request.referral_id());
  if (!found.ok()) return found.status();
  const bool sender = found->has_value() &&
                      (*found)->sender_organisation_id() == ctx.principal.organisation_id;
  const bool receiver = found->has_value() &&
                        (*found)->receiver_organisation_id() == ctx.principal.organisation_id &&
                        (*found)->has_send_time();
  if (!WorksOnCases(ctx.principal) || (!sender && !receiver)) return NotFound();
  return AsOf(**found, clock_->Now());
}

absl::StatusOr<v1::ListReferralsResponse> ReferralDesk::List(const access::RequestContext& ctx,
                                                             const v1::ListReferralsRequest& request,
                                                             bool inbox) {
  if (!v1::ReferralStatus_IsValid(request.status())) {
    return absl::InvalidArgumentError("status must be a known referral status");
  }
  if (request.page_size() < 0) return absl::InvalidArgumentError("page_size must not be negative");
  v1::ListReferralsResponse response;
  if (!WorksOnCases(ctx.principal)) return response;
  const int limit = request.page_size() == 0 ? 100 : std::min(request.page_size(), 500);
  const absl::Time now = clock_->Now();
  absl::Status s = door_->ScanReferrals(
      inbox, ctx.principal.organisation_id, request.page_token(), [&](const v1::Referral& stored) {
        v1::Referral r = AsOf(stored, now);
        // What was never sent is the sender's own business.
        if (inbox && !r.has_send_time()) return true;
        if (request.status() != v1::REFERRAL_STATUS_UNSPECIFIED && r.status() != request.status()) {
          return true;
        }
        if (request.overdue_only() && r.status() != v1::REFERRAL_STATUS_EXPIRED) return true;
        if (response.referrals_size() == limit) {
          response.set_next_page_token(response.referrals().rbegin()->id());
          return false;
        }
        *response.add_referrals() = std::move(r);
        return true;
      });
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<v1::GetReferralFiguresResponse> ReferralDesk::Figures(
    const access::RequestContext& ctx) {
  struct Tally {
    v1::ReferralFigures figures;
    double hours_to_acknowledge = 0;
    double hours_to_accept = 0;
  };
  std::map<std::string, Tally> by_receiver;
  v1::GetReferralFiguresResponse response;
  if (!WorksOnCases(ctx.principal)) return response;
  const absl::Time now = clock_->Now();
  auto hours = [](const google::protobuf::Timestamp& from, const google::protobuf::Timestamp& to) {
    return absl::ToDoubleHours(FromTimestamp(to) - FromTimestamp(from));
  };
  absl::Status s = door_->ScanReferrals(
      false, ctx.principal.organisation_id, "", [&](const v1::Referral& stored) {
        v1::Referral r = AsOf(stored, now);
        if (r.status() == v1::REFERRAL_STATUS_DRAFT) return true;
        Tally& t = by_receiver[r.partner_id().empty() ? r.receiver_organisation_id()
                                                      : "partner/" + r.partner_id()];
        t.figures.set_receiver_organisation_id(r.receiver_organisation_id());
        t.figures.set_receiver_partner_id(r.partner_id());
        t.figures.set_sent(t.figures.sent() + 1);
        if (r.has_acknowledge_time()) {
          t.figures.set_acknowledged(t.figures.acknowledged() + 1);
          t.hours_to_acknowledge += hours(r.send_time(), r.acknowledge_time());
        }
        if (r.has_accept_time()) {
          t.figures.set_accepted(t.figures.accepted() + 1);
          t.hours_to_accept += hours(r.send_time(), r.accept_time());
        }
        if (r.status() == v1::REFERRAL_STATUS_DECLINED) t.figures.set_declined(t.figures.declined() + 1);
        if (r.status() == v1::REFERRAL_STATUS_EXPIRED) t.figures.set_expired(t.figures.expired() + 1);
        return true;
      });
  if (!s.ok()) return s;
  for (auto& [id, t] : by_receiver) {
    v1::ReferralFigures& f = t.figures;
    int answered = f.accepted() + f.declined();
    f.set_acceptance_rate(answered == 0 ? 0 : static_cast<double>(f.accepted()) / answered);
    f.set_mean_hours_to_acknowledge(f.acknowledged() == 0 ? 0 : t.hours_to_acknowledge / f.acknowledged());
    f.set_mean_hours_to_accept(f.accepted() == 0 ? 0 : t.hours_to_accept / f.accepted());
    *response.add_figures() = std::move(f);
  }
  return response;
}

absl::StatusOr<v1::ListPartnersResponse> ReferralDesk::ListPartners(
    const access::RequestContext& ctx) {
  v1::ListPartnersResponse response;
  if (!WorksOnCases(ctx.principal) || partners_ == nullptr) return response;
  for (const v1::PartnerConfig& config : partners_->all()) {
    v1::PartnerMechanism* partner = response.add_partners();
    partner->set_id(config.id());
    partner->set_display_name(config.display_name());
    partner->set_country(config.country());
  }
  return response;
}

}  // namespace haven::referral
