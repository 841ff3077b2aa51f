// PartnerOutbox: the queue of messages for partner mechanisms abroad, ids
// only, as the delivery worker sees it: the messages due, in order, and
// their removal or rescheduling.
//
// Case passages queue messages (CaseScope::QueueForPartner) and may remove
// one with the change that records its delivery
// (CaseScope::DequeueForPartner); the keys given here are the keys those
// take.
//
// Thread-safe. Does not own the store, which must outlive it.
#ifndef HAVEN_STORAGE_ACCESS_PARTNER_OUTBOX_H_
#define HAVEN_STORAGE_ACCESS_PARTNER_OUTBOX_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "haven/v1/records.pb.h"

namespace haven::storage {
class Store;
}

namespace haven::access {

class PartnerOutbox {
 public:
  explicit PartnerOutbox(storage::Store* store) : store_(store) {}

  // A queued message and its key in the queue.
  struct Message {
    std::string key;
    haven::v1::PartnerOutboxRecord record;
  };

  // Visits the messages due at `now` in the order they were queued, so that
  // each partner receives its messages in order: a partner's messages wait
  // behind its first one not due yet, and behind one for which `visit`
  // returns false (kept to be tried again). The queue is read once, before
  // the first visit; `visit` may remove or reschedule the message it is
  // given. A message that cannot be read is passed over.
  absl::Status VisitDue(absl::Time now, const std::function<bool(const Message&)>& visit);

  // Removes a message from the queue; nothing when it is gone already.
  absl::Status Remove(absl::string_view key);

  // Counts a failed attempt at `message` and makes it due again at
  // `next_attempt`; nothing when it left the queue meanwhile.
  absl::Status Reschedule(const Message& message, absl::Time next_attempt);

 private:
  storage::Store* store_;
};

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_PARTNER_OUTBOX_H_
