// PartnerLink: the delivery worker for partner mechanisms abroad. It takes
// the queued messages oldest first (in order per partner), builds each
// referral packet from the case through the door at delivery (audited, so
// nothing personal waits in the queue), calls the partner over mutual TLS,
// and records the receipt; while a partner cannot be reached it retries
// with a growing delay.
#ifndef HAVEN_SERVICES_REFERRAL_PARTNER_LINK_H_
#define HAVEN_SERVICES_REFERRAL_PARTNER_LINK_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "haven/v1/partner.grpc.pb.h"
#include "haven/v1/records.pb.h"
#include "services/common/partners.h"
#include "services/common/periodic.h"
#include "storage/access/case_door.h"
#include "storage/access/partner_outbox.h"
#include "storage/clock.h"

namespace haven::referral {

class PartnerLink {
 public:
  struct Options {
    // This mechanism's certificate and key (PEM), presented to partners.
    std::string certificate_pem;
    std::string private_key_pem;
    absl::Duration first_retry = absl::Seconds(1);
    absl::Duration max_retry = absl::Seconds(60);
    absl::Duration call_timeout = absl::Seconds(10);
  };
  PartnerLink(access::PartnerOutbox* outbox, access::CaseDoor* door,
              const services::Partners* partners, const Clock* clock, Options options);
  ~PartnerLink();

  // Delivers every message that is due; returns how many reached their
  // partner. The worker calls it; tests may call it directly.
  int DeliverDue();

  // Starts the worker: it delivers when woken and checks every second.
  void Start();
  // Asks the worker to look now (a message was queued).
  void Wake();
  // Stops the worker and waits for it; safe to call more than once.
  void Stop();

 private:
  enum class Outcome { kDelivered, kDropped, kRetry };
  Outcome Deliver(absl::string_view key, const haven::v1::PartnerOutboxRecord& message);
  Outcome DeliverPacket(absl::string_view key, const haven::v1::PartnerOutboxRecord& message);
  Outcome DeliverUpdate(absl::string_view key, const haven::v1::PartnerOutboxRecord& message);
  // Cancels a referral whose consent was withdrawn before its packet left.
  Outcome CancelUndelivered(absl::string_view key, const haven::v1::Referral& referral,
                            const access::RequestContext& ctx);
  // What a partner's answer means for the message: delivered, to be tried
  // again, or never deliverable.
  Outcome Judge(const haven::v1::PartnerOutboxRecord& message, const grpc::Status& status);
  // Tries `message` again later, after a delay that grows with its attempts.
  void Reschedule(const access::PartnerOutbox::Message& message);
  void Drop(absl::string_view key, const haven::v1::PartnerOutboxRecord& message,
            absl::string_view why);
  haven::v1::PartnerService::Stub* StubFor(const haven::v1::PartnerConfig& partner);
  access::RequestContext ContextFor(absl::string_view partner_id) const;

  access::PartnerOutbox* outbox_;
  access::CaseDoor* door_;
  const services::Partners* partners_;
  const Clock* clock_;
  Options options_;

  std::mutex deliver_mu_;  // one delivery pass at a time
  std::map<std::string, std::unique_ptr<haven::v1::PartnerService::Stub>> stubs_;

  services::Periodic worker_;
};

}  // namespace haven::referral

#endif  // HAVEN_SERVICES_REFERRAL_PARTNER_LINK_H_
