// PartnerLink: delivers queued messages to partner mechanisms abroad.
#include "services/referral/partner_link.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/cases/case_file.h"
#include "services/common/log.h"
#include "services/referral/referral_desk.h"
#include "storage/ids.h"
#include "storage/timestamps.h"

namespace haven::referral {
namespace {

namespace v1 = haven::v1;
using access::CaseScope;
using access::ClassSet;
using access::RecordKind;

bool IsPacket(const v1::PartnerOutboxRecord& message) {
  return message.status() == v1::REFERRAL_STATUS_UNSPECIFIED &&
         message.notice() == v1::PARTNER_NOTICE_UNSPECIFIED && message.follow_up_months() == 0;
}

std::string What(const v1::PartnerOutboxRecord& message) {
  if (IsPacket(message)) return "packet";
  if (message.follow_up_months() != 0) return absl::StrCat(message.follow_up_months(), "-month follow-up");
  return message.notice() != v1::PARTNER_NOTICE_UNSPECIFIED
             ? v1::PartnerNotice_Name(message.notice())
             : v1::ReferralStatus_Name(message.status());
}

// Answers after which the same message can never succeed.
bool NeverDeliverable(const v1::PartnerOutboxRecord& message, grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNIMPLEMENTED:
      return true;
    case grpc::StatusCode::FAILED_PRECONDITION:
      // A status change the partner's rules refuse stays refused; a packet
      // waits for the partner to configure an inbox.
      return !IsPacket(message);
    default:
      return false;
  }
}

}  // namespace

PartnerLink::PartnerLink(access::PartnerOutbox* outbox, access::CaseDoor* door,
                         const services::Partners* partners, const Clock* clock, Options options)
    : outbox_(outbox), door_(door), partners_(partners), clock_(clock),
      options_(std::move(options)) {}

PartnerLink::~PartnerLink() { Stop(); }

void PartnerLink::Start() {
  worker_.Start(absl::Seconds(1), [this] { DeliverDue(); });
  worker_.Wake();  // what was queued before a restart goes out now
}

void PartnerLink::Wake() { worker_.Wake(); }

void PartnerLink::Stop() { worker_.Stop(); }

int PartnerLink::DeliverDue() {
  std::lock_guard<std::mutex> pass(deliver_mu_);
  int delivered = 0;
  absl::Status visited = outbox_->VisitDue(
      clock_->Now(), [&](const access::PartnerOutbox::Message& message) {
        switch (Deliver(message.key, message.record)) {
          case Outcome::kDelivered:
            ++delivered;
            return true;
          case Outcome::kDropped:
            return true;
          case Outcome::kRetry:
            Reschedule(message);
            return false;  // the partner's later messages wait behind it
        }
        return false;
      });
  if (!visited.ok()) {
    services::Log(services::LogLevel::kError, "partner outbox unreadable",
                  {{"code", absl::StatusCodeToString(visited.code())}});
  }
  return delivered;
}

PartnerLink::Outcome PartnerLink::Deliver(absl::string_view key,
                                          const v1::PartnerOutboxRecord& message) {
  if (partners_->Find(message.partner_id()) == nullptr) {
    // Removed from the configuration: kept until it comes back.
    services::Log(services::LogLevel::kWarning, "partner not configured; message kept",
                  {{"partner", message.partner_id()}, {"referral", message.referral_id()}});
    return Outcome::kRetry;
  }
  return IsPacket(message) ? DeliverPacket(key, message) : DeliverUpdate(key, message);
}

PartnerLink::Outcome PartnerLink::DeliverPacket(absl::string_view key,
                                                const v1::PartnerOutboxRecord& message) {
  absl::StatusOr<std::optional<v1::Referral>> found = door_->FindReferral(message.referral_id());
  if (!found.ok()) return Outcome::kRetry;
  if (!found->has_value()) {
    Drop(key, message, "the referral is gone");
    return Outcome::kDropped;
  }
  const v1::Referral referral = AsOf(**found, clock_->Now());
  if (referral.status() != v1::REFERRAL_STATUS_SENT) {
    Drop(key, message, "the referral was cancelled or expired before it was delivered");
    return Outcome::kDropped;
  }
  const ClassSet scope = SharedClasses(referral);

  // Read and audited as a disclosure to the partner before it leaves; not
  // read at all when the subject has withdrawn the consent it was sent on.
  const access::RequestContext ctx = ContextFor(message.partner_id());
  v1::ReferralPacket packet;
  bool consent_withdrawn = false;
  absl::Status read = door_->WithCaseForPartner(
      ctx, referral.case_id(), scope, v1::CASE_ACTION_READ, "referral.deliver", [&](CaseScope& case_scope) {
        if (referral.lawful_basis() == v1::LAWFUL_BASIS_CONSENT) {
          for (v1::ConsentPurpose purpose : ConsentsNeededAbroad(referral.purpose())) {
            absl::StatusOr<bool> given = case_scope.HasConsent(purpose);
            if (!given.ok()) return given.status();
            if (!*given) consent_withdrawn = true;
          }
          if (consent_withdrawn) return absl::OkStatus();
        }
        packet.set_referral_id(referral.id());
        packet.set_purpose(referral.purpose());
        packet.set_urgency(referral.urgency());
        *packet.mutable_response_deadline() = referral.response_deadline();
        *packet.mutable_data_scope() = referral.data_scope();
        packet.set_lawful_basis(referral.lawful_basis());
        *packet.mutable_send_time() = referral.send_time();
        packet.set_identification_status(case_scope.record().identification_status());
        absl::StatusOr<bool> subject =
            case_scope.Load(RecordKind::kSubject, "", packet.mutable_subject());
        if (!subject.ok()) return subject.status();
        v1::Identification identification;
        absl::StatusOr<bool> identified =
            case_scope.Load(RecordKind::kIdentification, "", &identification);
        if (!identified.ok()) return identified.status();
        packet.set_presumed_child(identification.presumed_child());
        absl::StatusOr<std::vector<v1::Consent>> consents =
            case_scope.LoadAll<v1::Consent>(RecordKind::kConsent);
        if (!consents.ok()) return consents.status();
        for (v1::Consent& consent : *consents) *packet.add_consents() = std::move(consent);
        case_scope.Disclose(&packet);
        return absl::OkStatus();
      });
  if (absl::IsNotFound(read)) {
    Drop(key, message, "the case was erased before the referral was delivered");
    return Outcome::kDropped;
  }
  if (!read.ok()) return Outcome::kRetry;
  if (consent_withdrawn) return CancelUndelivered(key, referral, ctx);

  const v1::PartnerConfig& partner = *partners_->Find(message.partner_id());
  grpc::ClientContext call;
  call.set_deadline(absl::ToChronoTime(absl::Now() + options_.call_timeout));
  v1::ReferralReceipt receipt;
  grpc::Status status = StubFor(partner)->ReceiveReferral(&call, packet, &receipt);
  Outcome outcome = Judge(message, status);
  if (outcome != Outcome::kDelivered) {
    if (outcome == Outcome::kDropped) Drop(key, message, "the partner refused it");
    return outcome;
  }
  if (!ParseId(receipt.referral_id(), "receipt").ok()) {
    Drop(key, message, "the partner's receipt is malformed");
    return Outcome::kDropped;
  }
  absl::Status recorded = door_->WithCaseAsReferralParty(
      ctx, referral.case_id(), "referral.delivered", [&](access::CaseWriter& case_scope) -> absl::Status {
        absl::StatusOr<v1::Referral> current = case_scope.FindReferral(referral.id());
        if (!current.ok()) return current.status();
        v1::Referral r = *current;
        r.set_partner_referral_id(receipt.referral_id());
        *r.mutable_deliver_time() = ToTimestamp(case_scope.now());
        if (absl::Status p = case_scope.PutReferral(r); !p.ok()) return p;
        if (absl::Status d = case_scope.DequeueForPartner(key); !d.ok()) return d;
        return case_scope.AppendTimeline(v1::TIMELINE_EVENT_REFERRED, Summary(r, "delivered"));
      });
  // Not recorded: the next attempt sends it again and the partner answers
  // with the same receipt.
  return recorded.ok() ? Outcome::kDelivered : Outcome::kRetry;
}

PartnerLink::Outcome PartnerLink::CancelUndelivered(absl::string_view key,
                                                    const v1::Referral& referral,
                                                    const access::RequestContext& ctx) {
  absl::Status cancelled = door_->WithCaseAsReferralParty(
      ctx, referral.case_id(), "referral.cancel", [&](access::CaseWriter& case_scope) -> absl::Status {
        absl::StatusOr<v1::Referral> current = case_scope.FindReferral(referral.id());
        if (!current.ok()) return current.status();
        v1::Referral r = *current;
        r.set_status(v1::REFERRAL_STATUS_CANCELLED);
        *r.mutable_close_time() = ToTimestamp(case_scope.now());
        if (absl::Status p = case_scope.PutReferral(r); !p.ok()) return p;
        if (absl::Status d = case_scope.DequeueForPartner(key); !d.ok()) return d;
        return case_scope.AppendTimeline(
            v1::TIMELINE_EVENT_REFERRED,
            Summary(r, "cancelled before delivery: the subject withdrew the consent it needs"));
      });
  if (!cancelled.ok()) return Outcome::kRetry;
  services::Log(services::LogLevel::kInfo, "partner referral cancelled: consent withdrawn",
                {{"partner", referral.partner_id()}, {"referral", referral.id()}});
  return Outcome::kDropped;
}

PartnerLink::Outcome PartnerLink::DeliverUpdate(absl::string_view key,
                                                const v1::PartnerOutboxRecord& message) {
  absl::StatusOr<std::optional<v1::Referral>> found = door_->FindReferral(message.referral_id());
  if (!found.ok()) return Outcome::kRetry;
  if (!found->has_value() || (*found)->partner_referral_id().empty()) {
    Drop(key, message, "the partner never received the referral");
    return Outcome::kDropped;
  }
  v1::PartnerReferralUpdate update;
  update.set_referral_id((*found)->partner_referral_id());
  update.set_status(message.status());
  update.set_notice(message.notice());
  *update.mutable_time() = ToTimestamp(absl::FromUnixMicros(message.change_time_micros()));
  if (message.follow_up_months() != 0) {
    // Read at delivery within the referral's scope, audited as a disclosure.
    const v1::Referral& referral = **found;
    absl::Status read = door_->WithCaseForPartner(
        ContextFor(message.partner_id()), referral.case_id(), SharedClasses(referral),
        v1::CASE_ACTION_READ, "repatriation.deliver_follow_up", [&](CaseScope& case_scope) {
          absl::StatusOr<bool> loaded = case_scope.Load(
              RecordKind::kReceivedFollowUp,
              access::FollowUpRecordId(*FromHex(referral.id(), "referral_id"),
                                       message.follow_up_months()),
              update.mutable_follow_up());
          if (!loaded.ok()) return loaded.status();
          if (!*loaded) return absl::NotFoundError("follow-up not found");
          case_scope.Disclose(update.mutable_follow_up());
          return absl::OkStatus();
        });
    if (absl::IsNotFound(read)) {
      Drop(key, message, "the case or its follow-up was erased before it was delivered");
      return Outcome::kDropped;
    }
    if (!read.ok()) return Outcome::kRetry;
  }
  grpc::ClientContext call;
  call.set_deadline(absl::ToChronoTime(absl::Now() + options_.call_timeout));
  v1::PartnerReferralUpdateResponse response;
  grpc::Status status =
      StubFor(*partners_->Find(message.partner_id()))->UpdateReferral(&call, update, &response);
  Outcome outcome = Judge(message, status);
  if (outcome == Outcome::kDropped) Drop(key, message, "the partner refused it");
  if (outcome == Outcome::kDelivered && !outbox_->Remove(key).ok()) {
    return Outcome::kRetry;  // sent again later; the partner accepts a repeat
  }
  return outcome;
}

PartnerLink::Outcome PartnerLink::Judge(const v1::PartnerOutboxRecord& message,
                                        const grpc::Status& status) {
  if (status.ok()) return Outcome::kDelivered;
  services::Log(services::LogLevel::kWarning, "partner delivery failed",
                {{"partner", message.partner_id()},
                 {"referral", message.referral_id()},
                 {"message", What(message)},
                 {"code", std::to_string(status.error_code())},
                 {"attempts", std::to_string(message.attempts() + 1)}});
  return NeverDeliverable(message, status.error_code()) ? Outcome::kDropped : Outcome::kRetry;
}

void PartnerLink::Reschedule(const access::PartnerOutbox::Message& message) {
  absl::Duration delay = options_.first_retry;
  for (int i = 0; i < message.record.attempts() && delay < options_.max_retry; ++i) delay *= 2;
  delay = std::min(delay, options_.max_retry);
  // If lost, it is tried again sooner.
  outbox_->Reschedule(message, clock_->Now() + delay).IgnoreError();
}

void PartnerLink::Drop(absl::string_view key, const v1::PartnerOutboxRecord& message,
                       absl::string_view why) {
  services::Log(services::LogLevel::kWarning, "partner message dropped",
                {{"partner", message.partner_id()},
                 {"referral", message.referral_id()},
                 {"message", What(message)},
                 {"why", std::string(why)}});
  outbox_->Remove(key).IgnoreError();  // if it stays, the next pass decides again
}

v1::PartnerService::Stub* PartnerLink::StubFor(const v1::PartnerConfig& partner) {
  auto& stub = stubs_[partner.id()];
  if (stub == nullptr) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = partners_->CaPem(partner.id());  // the partner's CA alone
    tls.pem_private_key = options_.private_key_pem;
    tls.pem_cert_chain = options_.certificate_pem;
    grpc::ChannelArguments args;
    if (!partner.server_name().empty()) args.SetSslTargetNameOverride(partner.server_name());
    // Reconnect soon after a partner comes back, rather than after gRPC's
    // default of up to two minutes.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 500);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
    stub = v1::PartnerService::NewStub(
        grpc::CreateCustomChannel(partner.address(), grpc::SslCredentials(tls), args));
  }
  return stub.get();
}

access::RequestContext PartnerLink::ContextFor(absl::string_view partner_id) const {
  access::RequestContext ctx;
  ctx.principal.id = absl::StrCat("partner/", partner_id);
  ctx.principal.partner_id = std::string(partner_id);
  ctx.purpose = "transnational-referral";
  ctx.request_id = NewId();
  return ctx;
}

}  // namespace haven::referral
