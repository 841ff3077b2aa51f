// LiaisonDesk: the rules of law-enforcement liaison: referrals of people
// met by first responders, pseudonymous follow-up, disclosure requests
// under consent or a judicial order, the event log a liaison system
// watches, and the non-punishment question. Thread-safe.
#ifndef HAVEN_SERVICES_LIAISON_LIAISON_DESK_H_
#define HAVEN_SERVICES_LIAISON_LIAISON_DESK_H_

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "haven/v1/liaison.pb.h"
#include "storage/access/liaison_door.h"
#include "storage/clock.h"

namespace haven::liaison {

class LiaisonDesk {
 public:
  struct Options {
    // Owns the cases liaison systems refer; empty: referrals are refused.
    std::string receiving_organisation_id;
    // Longest a disclosure runs.
    absl::Duration disclosure_max = absl::Hours(24 * 30);
  };

  LiaisonDesk(access::LiaisonDoor* door, const Clock* clock, Options options)
      : door_(door), clock_(clock), options_(std::move(options)) {}

  absl::StatusOr<haven::v1::ReferResponse> Refer(const access::RequestContext& ctx,
                                                 const haven::v1::ReferRequest& request);
  absl::StatusOr<haven::v1::LiaisonCase> GetCase(const access::RequestContext& ctx,
                                                 const haven::v1::GetLiaisonCaseRequest& request);
  absl::StatusOr<haven::v1::Disclosure> RequestDisclosure(
      const access::RequestContext& ctx, const haven::v1::RequestDisclosureRequest& request);
  absl::StatusOr<haven::v1::AskNonPunishmentResponse> AskNonPunishment(
      const access::RequestContext& ctx, const haven::v1::AskNonPunishmentRequest& request);
  absl::StatusOr<haven::v1::IntroduceCaseResponse> IntroduceCase(
      const access::RequestContext& ctx, const haven::v1::IntroduceCaseRequest& request);

  // The caller's events after `after`, at most `limit`.
  absl::StatusOr<std::vector<haven::v1::LiaisonEvent>> Events(const access::RequestContext& ctx,
                                                              uint64_t after, int limit);
  // Where the event logs stand: take it before reading events, then wait
  // past it with WaitForEvents.
  uint64_t EventGeneration() const;
  // Waits until events are committed after `generation` was taken (or Stop),
  // at most `timeout`; returns the generation now.
  uint64_t WaitForEvents(uint64_t generation, absl::Duration timeout);
  // Wakes every watcher and ends their streams: the server is stopping.
  void Stop();
  bool stopping() const { return stopping_.load(); }

 private:
  access::LiaisonDoor* door_;
  const Clock* clock_;
  Options options_;
  std::atomic<bool> stopping_{false};
};

}  // namespace haven::liaison

#endif  // HAVEN_SERVICES_LIAISON_LIAISON_DESK_H_
