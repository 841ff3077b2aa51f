// ContactDoor: the one door through which services reach hotline contacts,
// mirroring the CaseDoor. Every passage authorizes the caller from its
// credentials (deny by default: only hotline operators and supervisors of
// the organisation that logged a contact), opens and seals the contact's
// personal details with its own data key, redacts to the classes the caller
// may see, and writes its audit entry in the same transaction as the data. A
// denial is indistinguishable from a missing contact.
//
// Index entries in Cf::kContactIndex hold ids, times and keyed hashes only:
//   'o' org (short string) + start micros (u64) + raw id: contacts by day
//   'h' phone blind index (16 bytes) + raw id: repeat callers
//   'r' expire micros (u64) + raw id: caller details awaiting the purge
//   'q' assignee (short string) + due (u64) + raw id + raw callback id
//   'p' org (short string) + due (u64) + raw id + raw callback id
//       ('q' and 'p': open callbacks only)
//
// Thread-safe. Services get a ContactScope only inside a ContactDoor call
// and must not keep it.
#ifndef HAVEN_STORAGE_ACCESS_CONTACT_DOOR_H_
#define HAVEN_STORAGE_ACCESS_CONTACT_DOOR_H_

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "haven/v1/hotline.pb.h"
#include "haven/v1/records.pb.h"
#include "storage/access/policy.h"
#include "storage/access/principal.h"
#include "storage/clock.h"
#include "storage/crypto.h"
#include "storage/access/joint.h"

namespace haven::storage {
class Store;
class Txn;
}  // namespace haven::storage

namespace haven::access {

class ContactDoor;

// The classes a principal may see and write on a contact logged by
// `organisation_id`; empty when it may not touch it at all.
ClassSet ContactClasses(const Principal& principal, absl::string_view organisation_id);

// The index keys of a contact record (see above).
std::set<std::string> ContactIndexKeys(const haven::v1::ContactRecord& record);

// A contact as one caller may use it, inside one transaction.
class ContactScope {
 public:
  const std::string& contact_id() const { return hex_id_; }
  const haven::v1::ContactRecord& record() const { return record_; }
  // The administrative record to change; written and re-indexed on commit.
  haven::v1::ContactRecord* mutable_record();
  const RequestContext& context() const { return *ctx_; }
  absl::Time now() const { return absl::FromUnixMicros(now_micros_); }
  ClassSet visible() const { return visible_; }

  // Opens the sealed details into `out`, redacted to visible(); false when
  // none are held (anonymous, non-data, or purged).
  absl::StatusOr<bool> LoadDetails(haven::v1::ContactDetails* out);
  // Seals `details` with the contact's data key (made on first use), to be
  // purged at `expire`. `normalized_phone` (digits only; may be empty)
  // indexes the caller's number through a keyed hash. PERMISSION_DENIED when
  // they hold classes the caller may not write.
  absl::Status SaveDetails(const haven::v1::ContactDetails& details,
                           absl::string_view normalized_phone, absl::Time expire);
  // How many other contacts, anywhere, are indexed under this contact's
  // phone hash. A count only: which ones is never disclosed.
  absl::StatusOr<uint32_t> CountSamePhone();

  // Redacts a response about this contact to visible() and records what it
  // discloses for the audit entry. Every response passes through here.
  void Disclose(google::protobuf::Message* response);

  // This passage's transaction, for a case passage that must commit with
  // it (CaseDoor's `within`): a contact escalated with its case, or neither.
  Joint joint() const { return Joint(txn_); }

 private:
  friend class ContactDoor;
  ContactScope() = default;
  void MarkChanged();

  storage::Txn* txn_ = nullptr;
  ContactDoor* door_ = nullptr;
  const RequestContext* ctx_ = nullptr;
  haven::v1::ContactRecord record_;
  haven::v1::ContactRecord original_;  // as read, to re-index what changed
  std::string raw_id_;
  std::string hex_id_;
  ClassSet visible_;
  ClassSet disclosed_;
  int64_t now_micros_ = 0;
  bool changed_ = false;
  bool created_ = false;
};

// One open callback as it stands in a queue (administrative only).
struct QueuedCallback {
  std::string contact_id;  // hex
  haven::v1::CallbackRecord callback;
};

// Counts of an organisation's contacts started in [from, to), by
// administrative fields, and its open callbacks.
struct ContactCounts {
  uint32_t total = 0;
  std::vector<std::pair<std::string, uint32_t>> by_channel;   // enum name -> count
  std::vector<std::pair<std::string, uint32_t>> by_category;  // enum name -> count
  std::vector<std::pair<std::string, uint32_t>> by_language;  // tag ("und") -> count
  uint32_t open_callbacks = 0;
  uint32_t overdue_callbacks = 0;
};

class ContactDoor {
 public:
  using Work = std::function<absl::Status(ContactScope&)>;

  ContactDoor(storage::Store* store, const crypto::KeyRing* keys, const Clock* clock);

  // Logs a new contact owned by the caller's organisation and runs `work`
  // on it. PERMISSION_DENIED (audited) when the caller's roles may not log
  // contacts.
  absl::StatusOr<haven::v1::ContactRecord> CreateContact(const RequestContext& ctx,
                                                         absl::string_view audit_action,
                                                         const Work& work);

  // Runs `work` on contact `contact_id` when the caller may use it;
  // otherwise NOT_FOUND "contact not found", exactly as for a contact that
  // does not exist, and the denial is audited.
  absl::Status WithContact(const RequestContext& ctx, absl::string_view contact_id,
                           absl::string_view audit_action, const Work& work);

  // The open callbacks assigned to the caller, in due order (audited).
  absl::StatusOr<std::vector<QueuedCallback>> CallbackQueue(const RequestContext& ctx,
                                                            absl::string_view audit_action);

  // Counts for the caller's organisation (hotline operators, supervisors
  // and analysts), from administrative fields only. Audited.
  absl::StatusOr<ContactCounts> Count(const RequestContext& ctx, absl::Time from, absl::Time to,
                                      absl::string_view audit_action);

  // Retention: removes the sealed details, the wrapped key and the phone
  // index entry of every contact whose details expired at or before `now`,
  // keeping the administrative record. Each removal is audited. Returns how
  // many contacts it purged.
  absl::StatusOr<int> PurgeExpiredDetails(absl::Time now);

 private:
  friend class ContactScope;
  void AuditDenial(const RequestContext& ctx, absl::string_view hex_id,
                   absl::string_view audit_action);
  absl::Status Finish(storage::Txn& txn, ContactScope& scope, absl::string_view audit_action);
  std::string PhoneBlind(absl::string_view normalized_phone) const;

  storage::Store* store_;
  const crypto::KeyRing* keys_;
  const Clock* clock_;
};

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_CONTACT_DOOR_H_
