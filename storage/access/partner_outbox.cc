// PartnerOutbox: the queue of messages for partner mechanisms abroad.
#include "storage/access/partner_outbox.h"

#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "storage/store.h"

namespace haven::access {

using storage::Cf;

absl::Status PartnerOutbox::VisitDue(absl::Time now,
                                     const std::function<bool(const Message&)>& visit) {
  std::vector<Message> queue;
  absl::Status scanned = store_->Scan(
      Cf::kPartnerOutbox, "", "", [&](absl::string_view key, absl::string_view value) {
        Message message{std::string(key), {}};
        if (message.record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          queue.push_back(std::move(message));
        }
        return true;
      });
  if (!scanned.ok()) return scanned;
  const int64_t now_micros = absl::ToUnixMicros(now);
  std::set<std::string> waiting;  // partners with an earlier message still queued
  for (const Message& message : queue) {
    const std::string& partner = message.record.partner_id();
    if (waiting.count(partner) > 0) continue;
    if (message.record.next_attempt_micros() > now_micros || !visit(message)) {
      waiting.insert(partner);
    }
  }
  return absl::OkStatus();
}

absl::Status PartnerOutbox::Remove(absl::string_view key) {
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  if (absl::Status s = txn->Delete(Cf::kPartnerOutbox, key); !s.ok()) return s;
  return store_->Commit(std::move(txn));
}

absl::Status PartnerOutbox::Reschedule(const Message& message, absl::Time next_attempt) {
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  absl::StatusOr<std::optional<std::string>> still =
      txn->GetForUpdate(Cf::kPartnerOutbox, message.key);
  if (!still.ok()) return still.status();
  if (!still->has_value()) return absl::OkStatus();
  haven::v1::PartnerOutboxRecord record = message.record;
  record.set_attempts(record.attempts() + 1);
  record.set_next_attempt_micros(absl::ToUnixMicros(next_attempt));
  if (absl::Status s = txn->Put(Cf::kPartnerOutbox, message.key, record.SerializeAsString());
      !s.ok()) {
    return s;
  }
  return store_->Commit(std::move(txn));
}

}  // namespace haven::access
