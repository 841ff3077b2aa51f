// PartnerDesk: referral packets and status changes from partner mechanisms.
#include "services/referral/partner_desk.h"

#include "absl/strings/str_cat.h"
#include "services/cases/case_file.h"
#include "services/referral/referral_desk.h"
#include "storage/access/redaction.h"
#include "storage/ids.h"
#include "storage/timestamps.h"

namespace haven::referral {
namespace {

namespace v1 = haven::v1;
using access::CaseScope;
using access::ClassSet;
using access::RecordKind;

absl::Status CheckPacket(const v1::ReferralPacket& packet, absl::Time now) {
  if (absl::StatusOr<std::string> id = ParseId(packet.referral_id(), "referral_id"); !id.ok()) {
    return id.status();
  }
  if (absl::Status s = CheckTerms(packet.purpose(), packet.urgency(), packet.lawful_basis());
      !s.ok()) {
    return s;
  }
  const absl::Time deadline = FromTimestamp(packet.response_deadline());
  if (deadline > now + kMaxResponseTime) {
    return absl::InvalidArgumentError("response_deadline must be within 90 days");
  }
  if (deadline <= now) {
    return absl::FailedPreconditionError("the response deadline has passed");
  }
  if (absl::Status s = cases::ValidateSubject(packet.subject(), now); !s.ok()) return s;
  for (const v1::Consent& consent : packet.consents()) {
    if (!v1::ConsentPurpose_IsValid(consent.purpose()) ||
        consent.purpose() == v1::CONSENT_PURPOSE_UNSPECIFIED) {
      return absl::InvalidArgumentError("consents hold an unknown purpose");
    }
  }
  return absl::OkStatus();
}

// May a partner's update move the referral from where it stands here? The
// receiver abroad answers a referral sent from here; the sender abroad may
// only cancel one it sent here.
absl::Status CheckMove(const v1::Referral& r, v1::ReferralStatus to) {
  const bool sent_from_here = !r.sender_organisation_id().empty();
  bool allowed = false;
  switch (to) {
    case v1::REFERRAL_STATUS_ACKNOWLEDGED:
      allowed = sent_from_here && r.status() == v1::REFERRAL_STATUS_SENT;
      break;
    case v1::REFERRAL_STATUS_ACCEPTED:
    case v1::REFERRAL_STATUS_DECLINED:
      allowed = sent_from_here && IsOpen(r.status());
      break;
    case v1::REFERRAL_STATUS_COMPLETED:
      allowed = sent_from_here && r.status() == v1::REFERRAL_STATUS_ACCEPTED;
      break;
    case v1::REFERRAL_STATUS_CANCELLED:
      allowed = !sent_from_here &&
                (IsOpen(r.status()) || r.status() == v1::REFERRAL_STATUS_ACCEPTED);
      break;
    default:
      return absl::InvalidArgumentError(
          "status must be ACKNOWLEDGED, ACCEPTED, DECLINED, COMPLETED or CANCELLED");
  }
  if (!allowed) {
    return absl::FailedPreconditionError(
        absl::StrCat("a partner cannot move this referral to ", v1::ReferralStatus_Name(to),
                     " (it is ", v1::ReferralStatus_Name(r.status()), " here)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::ReferralReceipt> PartnerDesk::Receive(const access::RequestContext& ctx,
                                                         const v1::ReferralPacket& packet) {
  const std::string& partner_id = ctx.principal.partner_id;
  const v1::PartnerConfig* partner = partners_->Find(partner_id);
  if (partner == nullptr) return absl::UnauthenticatedError("not a partner mechanism");
  const absl::Time now = clock_->Now();
  if (absl::Status s = CheckPacket(packet, now); !s.ok()) return s;
  absl::StatusOr<ClassSet> scope_classes = ScopeOf(packet.data_scope());
  if (!scope_classes.ok()) return scope_classes.status();
  const absl::Status no_inbox = absl::FailedPreconditionError(
      "this mechanism has no inbox for your referrals yet; ask its administrators to set "
      "inbox_organisation_id");
  if (partner->inbox_organisation_id().empty()) return no_inbox;
  if (!accounts_->FindOrganisation(partner->inbox_organisation_id()).ok()) return no_inbox;

  // A packet delivered before (the sender retried after a lost answer) gets
  // the same receipt.
  v1::ReferralReceipt receipt;
  auto known_receipt = [&]() -> absl::StatusOr<bool> {
    absl::StatusOr<std::optional<v1::Referral>> known =
        door_->FindReferralFromPartner(partner_id, packet.referral_id());
    if (!known.ok()) return known.status();
    if (known->has_value()) receipt.set_referral_id((*known)->id());
    return known->has_value();
  };
  absl::StatusOr<bool> known = known_receipt();
  if (!known.ok()) return known.status();
  if (*known) return receipt;

  if (!TakeFromHourlyAllowance(*partner, now)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "more than ", partner->max_referrals_per_hour(),
        " referrals from your mechanism in an hour; try again later"));
  }
  // Only the scope (and the administrative facts, which name no one) is
  // kept, whatever else the packet holds.
  const ClassSet kept = *scope_classes | ClassSet::Of({v1::CONFIDENTIALITY_ADMINISTRATIVE});
  v1::ReferralPacket in = packet;
  access::Redact(&in, kept);
  absl::StatusOr<v1::CaseRecord> opened = door_->ReceiveCase(
      ctx, partner->inbox_organisation_id(), kept, "referral.receive",
      [&](CaseScope& scope) -> absl::Status {
        if (absl::Status s = scope.Save(RecordKind::kSubject, "", in.subject()); !s.ok()) return s;
        for (v1::Consent consent : in.consents()) {
          consent.set_recorded_by(ctx.principal.id);
          if (absl::Status s = scope.Save(RecordKind::kConsent,
                                          access::ConsentRecordId(consent.purpose()), consent);
              !s.ok()) {
            return s;
          }
        }
        if (absl::Status s = scope.AppendTimeline(
                v1::TIMELINE_EVENT_OPENED,
                absl::StrCat("case opened from a referral of partner ", partner_id,
                             "; identification status there: ",
                             v1::IdentificationStatus_Name(in.identification_status()),
                             in.presumed_child() ? "; presumed child" : ""));
            !s.ok()) {
          return s;
        }
        v1::Referral r;
        r.set_id(NewId());
        r.set_case_id(scope.case_id());
        r.set_receiver_organisation_id(partner->inbox_organisation_id());
        r.set_partner_id(partner_id);
        r.set_partner_referral_id(packet.referral_id());
        r.set_purpose(packet.purpose());
        r.set_urgency(packet.urgency());
        r.set_status(v1::REFERRAL_STATUS_SENT);
        *r.mutable_response_deadline() = packet.response_deadline();
        for (auto c : scope_classes->ToVector()) r.add_data_scope(c);
        r.set_lawful_basis(packet.lawful_basis());
        r.set_created_by(ctx.principal.id);
        *r.mutable_create_time() = ToTimestamp(now);
        *r.mutable_send_time() = ToTimestamp(now);
        if (absl::Status p = scope.PutReferral(r); !p.ok()) return p;
        receipt.set_referral_id(r.id());
        if (packet.lawful_basis() != v1::LAWFUL_BASIS_CONSENT) {
          scope.set_lawful_basis(v1::LawfulBasis_Name(packet.lawful_basis()));
        }
        return scope.AppendTimeline(v1::TIMELINE_EVENT_REFERRED, Summary(r, "received"));
      });
  if (absl::IsAlreadyExists(opened.status())) {  // the same packet, delivered meanwhile
    known = known_receipt();
    if (!known.ok()) return known.status();
    if (*known) return receipt;
  }
  if (!opened.ok()) return opened.status();
  return receipt;
}

absl::StatusOr<v1::PartnerReferralUpdateResponse> PartnerDesk::Update(
    const access::RequestContext& ctx, const v1::PartnerReferralUpdate& update) {
  const bool notice = update.notice() != v1::PARTNER_NOTICE_UNSPECIFIED;
  if (!v1::PartnerNotice_IsValid(update.notice())) {
    return absl::InvalidArgumentError("notice is not a known partner notice");
  }
  if (notice + (update.status() != v1::REFERRAL_STATUS_UNSPECIFIED) + update.has_follow_up() != 1) {
    return absl::InvalidArgumentError("give exactly one of a status, a notice and a follow-up");
  }
  absl::StatusOr<std::optional<v1::Referral>> found = door_->FindReferral(update.referral_id());
  if (!found.ok()) return found.status();
  // A referral not shared with this partner is missing, as far as it knows.
  if (!found->has_value() || (*found)->partner_id() != ctx.principal.partner_id) {
    return absl::NotFoundError("referral not found");
  }
  if (notice) return ReceiveNotice(ctx, **found, update.notice());
  if (update.has_follow_up()) return ReceiveFollowUp(ctx, **found, update.follow_up());
  absl::Status s = door_->WithCaseAsReferralParty(
      ctx, (*found)->case_id(), "referral.partner_update", [&](access::CaseWriter& scope) -> absl::Status {
        absl::StatusOr<v1::Referral> current = scope.FindReferral(update.referral_id());
        if (!current.ok()) return current.status();
        v1::Referral r = AsOf(*current, scope.now());
        if (r.status() == update.status()) return absl::OkStatus();  // applied before
        if (absl::Status m = CheckMove(r, update.status()); !m.ok()) return m;
        const google::protobuf::Timestamp now = ToTimestamp(scope.now());
        r.set_status(update.status());
        switch (update.status()) {
          case v1::REFERRAL_STATUS_ACKNOWLEDGED:
            *r.mutable_acknowledge_time() = now;
            break;
          case v1::REFERRAL_STATUS_ACCEPTED:
            *r.mutable_accept_time() = now;
            if (!r.has_acknowledge_time()) *r.mutable_acknowledge_time() = now;
            break;
          default:
            *r.mutable_close_time() = now;
        }
        if (absl::Status p = scope.PutReferral(r); !p.ok()) return p;
        for (const Moved& moved : on_moved_) {
          if (absl::Status m = moved(scope, r); !m.ok()) return m;
        }
        return scope.AppendTimeline(
            v1::TIMELINE_EVENT_REFERRED,
            Summary(r, absl::StrCat(v1::ReferralStatus_Name(update.status()), " by the partner")));
      });
  if (!s.ok()) return s;
  return v1::PartnerReferralUpdateResponse();
}

absl::StatusOr<v1::PartnerReferralUpdateResponse> PartnerDesk::ReceiveNotice(
    const access::RequestContext& ctx, const v1::Referral& referral, v1::PartnerNotice notice) {
  if (!referral.sender_organisation_id().empty()) {
    return absl::FailedPreconditionError(
        "only the mechanism that sent a referral passes on notices about its subject");
  }
  const bool erased = notice == v1::PARTNER_NOTICE_SUBJECT_ERASED;
  const std::string what =
      erased ? "sender erased the subject's data: consider erasing this case under the law here"
             : "sender reports the subject withdrew consent to share with another country";
  absl::Status s = door_->WithCaseAsReferralParty(
      ctx, referral.case_id(), "referral.partner_notice", [&](access::CaseWriter& scope) -> absl::Status {
        absl::Status t = scope.AppendTimeline(v1::TIMELINE_EVENT_REFERRED, Summary(referral, what));
        if (!t.ok()) return t;
        return scope.RaiseAlert(
            erased ? v1::ALERT_KIND_ERASED_ABROAD : v1::ALERT_KIND_CONSENT_WITHDRAWN_ABROAD,
            {scope.case_id()}, access::CaseWriter::Addressee{"", referral.receiver_organisation_id()});
      });
  if (!s.ok()) return s;
  return v1::PartnerReferralUpdateResponse();
}

absl::StatusOr<v1::PartnerReferralUpdateResponse> PartnerDesk::ReceiveFollowUp(
    const access::RequestContext& ctx, const v1::Referral& referral,
    const v1::FollowUp& follow_up) {
  if (referral.sender_organisation_id().empty() ||
      referral.purpose() != v1::REFERRAL_PURPOSE_RETURN || !on_follow_up_) {
    return absl::FailedPreconditionError(
        "follow-ups are reported only on a return referral this mechanism sent");
  }
  if (referral.status() != v1::REFERRAL_STATUS_COMPLETED) {
    return absl::FailedPreconditionError(
        "follow-ups are reported once the return referral is completed (the person received)");
  }
  absl::Status s = door_->WithCaseForPartner(
      ctx, referral.case_id(), SharedClasses(referral), v1::CASE_ACTION_UPDATE,
      "repatriation.partner_follow_up",
      [&](access::CaseScope& scope) { return on_follow_up_(scope, referral, follow_up); });
  if (!s.ok()) return s;
  return v1::PartnerReferralUpdateResponse();
}

bool PartnerDesk::TakeFromHourlyAllowance(const v1::PartnerConfig& partner, absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::deque<absl::Time>& received = received_[partner.id()];
  while (!received.empty() && received.front() <= now - absl::Hours(1)) received.pop_front();
  if (static_cast<int>(received.size()) >= partner.max_referrals_per_hour()) return false;
  received.push_back(now);
  return true;
}

}  // namespace haven::referral
