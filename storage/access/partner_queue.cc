// CaseDoor's queue for partner mechanisms abroad (ids only; the delivery worker sends).
#include "storage/access/case_door.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "storage/access/case_door_parts.h"
#include "storage/ids.h"
#include "storage/keys.h"
#include "storage/timestamps.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

}  // namespace

absl::Status CaseScope::QueueForPartner(v1::PartnerOutboxRecord message) {
  // Keys sort in the order messages were queued, even within a microsecond
  // (a referral's packet must reach the partner before its cancellation).
  static std::atomic<uint64_t> queued{0};
  message.set_next_attempt_micros(now_micros_);
  std::string key;
  keys::AppendU64(&key, static_cast<uint64_t>(now_micros_));
  keys::AppendU64(&key, queued.fetch_add(1));
  return txn_->Put(Cf::kPartnerOutbox, key, message.SerializeAsString());
}

absl::Status CaseScope::DequeueForPartner(absl::string_view outbox_key) {
  return txn_->Delete(Cf::kPartnerOutbox, outbox_key);
}

absl::Status CaseScope::NotifyPartners(v1::PartnerNotice notice) {
  std::vector<std::string> referral_ids;
  const std::string prefix = IndexPrefix('r', raw_id_);
  absl::Status s = txn_->Scan(Cf::kCaseIndex, prefix, "", [&](absl::string_view key, absl::string_view) {
    referral_ids.push_back(ToHex(key.substr(prefix.size())));
    return true;
  });
  if (!s.ok()) return s;
  for (const std::string& id : referral_ids) {
    absl::StatusOr<v1::Referral> referral = FindReferral(id);
    if (!referral.ok()) return referral.status();
    // Only what was sent from here and reached the partner.
    if (referral->partner_id().empty() || referral->sender_organisation_id().empty() ||
        !referral->has_deliver_time()) {
      continue;
    }
    v1::PartnerOutboxRecord message;
    message.set_partner_id(referral->partner_id());
    message.set_referral_id(referral->id());
    message.set_notice(notice);
    message.set_change_time_micros(now_micros_);
    if (absl::Status q = QueueForPartner(message); !q.ok()) return q;
  }
  return absl::OkStatus();
}

}  // namespace haven::access
