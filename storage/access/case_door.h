// CaseDoor: the one door through which services reach a case's personal
// data. Every passage authorizes the caller from its credentials and the
// case's grants, opens and seals with the case's data key, redacts to the
// classes the caller may see, and writes its audit entry in the same
// transaction as the data. A denial is indistinguishable from a missing
// case.
//
// Thread-safe. Services get a CaseScope only inside a CaseDoor call and must
// not keep it.
#ifndef HAVEN_STORAGE_ACCESS_CASE_DOOR_H_
#define HAVEN_STORAGE_ACCESS_CASE_DOOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/message.h"
#include "absl/time/time.h"
#include "haven/v1/audit.pb.h"
#include "haven/v1/case.pb.h"
#include "haven/v1/common.pb.h"
#include "haven/v1/records.pb.h"
#include "haven/v1/referral.pb.h"
#include "storage/access/policy.h"
#include "storage/access/principal.h"
#include "storage/clock.h"
#include "storage/crypto.h"
#include "storage/access/joint.h"

namespace haven::storage {
class Store;
class Txn;
enum class Cf : int;
}  // namespace haven::storage

namespace haven::access {

// Kinds of sealed records kept under a case. DO NOT CHANGE THESE VALUES:
// they are part of keys on disk.
enum class RecordKind : uint8_t {
  kSubject = 1,
  kConsent = 2,         // id: the ConsentPurpose number, one byte
  kLinkedPerson = 3,    // id: raw record id
  kTimeline = 4,        // id: event sequence, u64 big-endian
  kScreening = 5,       // id: raw record id
  kIdentification = 6,  // id: empty; the identification state of the case
  kProceeding = 7,      // id: raw record id
  kGuardian = 8,        // id: empty
  kBestInterests = 9,   // id: empty; the latest assessment
  kDecision = 10,       // id: decision sequence, u64 big-endian
  kServicePlan = 11,    // id: empty; the plan's version and approval
  kPlanItem = 12,       // id: raw record id
  kResidencePermit = 13,  // id: raw record id
  kCompensationClaim = 14,     // id: raw record id
  kProtectiveMeasure = 15,     // id: raw record id
  kLanguageNeeds = 16,         // id: empty
  kInterpreterAssignment = 17, // id: raw record id
  // 18-19: protection (services/protection/); 20-29: repatriation
  // (services/repatriation/).
  kReturnPlan = 20,      // id: raw record id
  kReturnFollowUp = 21,    // id: FollowUpRecordId(the plan's raw id, months)
  kReceivedFollowUp = 22,  // id: FollowUpRecordId(a received return referral's raw id, months)
  // 30-34: statistics (docs/statistics.md).
  kStatisticsLink = 30,       // id: empty; the case's statistics id (door only)
  kExploitationProfile = 31,  // id: empty
  // 35-39: law-enforcement liaison (storage/access/liaison_door.h).
  kLiaisonReferral = 35,  // id: empty; what the referring law-enforcement system reported
};

// The id of a reintegration follow-up record: the raw id of what is
// followed up (a return plan, or a return referral received from abroad),
// then the months after arrival, one byte.
inline std::string FollowUpRecordId(absl::string_view raw_followed_id, int months) {
  return absl::StrCat(raw_followed_id, std::string(1, static_cast<char>(months)));
}

class CaseDoor;

// What a search asks for; every criterion given must hold.
struct CaseQuery {
  haven::v1::CaseStatus status = haven::v1::CASE_STATUS_UNSPECIFIED;
  haven::v1::IdentificationStatus identification_status =
      haven::v1::IDENTIFICATION_STATUS_UNSPECIFIED;
  std::string assignee_id;
  std::optional<absl::Time> deadline_before;
  // Name match keys (access/names.h); all must match.
  std::vector<std::string> name_keys;
  // Cases whose watch of this kind is due before watch_due_before.
  haven::v1::WatchKind watch = haven::v1::WATCH_KIND_UNSPECIFIED;
  absl::Time watch_due_before;
  std::string page_token;  // the last case id of the previous page
  int limit = 50;

  bool Matches(const haven::v1::CaseRecord& record) const;
};

// Index keys of a case record in Cf::kCaseIndex (no personal data):
// 'o' owning organisation, 'a' assignee, 'D' the owning organisation's
// deadlines (organisation, time, case), 'n' its blinded names (organisation,
// name key, case); 'g' grantee keys are
// written with grants; 'i', 'x' and 'r' (receiver, sender, case) with
// referrals.
std::string IndexPrefix(char tag, absl::string_view id);
// Key in Cf::kPartnerReferrals of a referral as a partner mechanism knows it.
std::string PartnerReferralKey(absl::string_view partner_id, absl::string_view partner_referral_id);
std::set<std::string> CaseIndexKeys(const haven::v1::CaseRecord& record);

// What a passage may do to a case it may not read: record what happened to
// a referral of it. Has no read methods; the door hands it to a referral's
// receiver before acceptance and to a partner mechanism's updates.
class CaseWriter {
 public:
  struct Addressee {
    std::string user_id;
    std::string organisation_id;
  };

  virtual ~CaseWriter() = default;
  virtual const std::string& case_id() const = 0;
  virtual const RequestContext& context() const = 0;
  virtual absl::Time now() const = 0;

  // Appends an event to the case's timeline. `summary` is Haven's own text,
  // made from codes; `detail` is what a person wrote (narrative class).
  virtual absl::Status AppendTimeline(haven::v1::TimelineEventKind kind,
                                      absl::string_view summary,
                                      absl::string_view detail = "") = 0;
  // Raises an alert (ids only), in this transaction, to one user, or to the
  // supervisors of one organisation (and its decision makers, at a
  // competent authority), or, with neither, of every competent authority.
  virtual absl::Status RaiseAlert(haven::v1::AlertKind kind,
                                  const std::vector<std::string>& hex_case_ids,
                                  const Addressee& addressee) = 0;
  // Gives the receiver of `referral_id`, a referral of this case being
  // accepted, the access the referral's sender decided: its data scope,
  // read and update, until its access_until, under its lawful basis (a
  // consent basis ends with the consent). Returns the grant's id.
  virtual absl::StatusOr<std::string> GrantForReferral(absl::string_view referral_id) = 0;
  // Ends one of this case's grants at once (a referral completed or
  // cancelled).
  virtual absl::Status EndGrant(absl::string_view grant_id) = 0;
  // A referral of this case as stored now, read in this transaction.
  virtual absl::StatusOr<haven::v1::Referral> FindReferral(absl::string_view referral_id) = 0;
  // Writes a referral of this case to the referral directory, with its
  // inbox and outbox index entries (and, for a transnational one, the
  // partner's id for it).
  virtual absl::Status PutReferral(const haven::v1::Referral& referral) = 0;
  // Queues a message for a partner mechanism in this transaction (ids only;
  // the delivery worker sends it). Due at once.
  virtual absl::Status QueueForPartner(haven::v1::PartnerOutboxRecord message) = 0;
  // Removes a delivered message from the queue in this transaction.
  virtual absl::Status DequeueForPartner(absl::string_view outbox_key) = 0;
  // Names the lawful basis of a disclosure without consent in this
  // passage's audit entry.
  virtual void set_lawful_basis(absl::string_view basis) = 0;
  // Brings the case's watch of `kind` forward to `due` unless it falls due
  // sooner already (see SetWatch); for a writer that knows a new due time
  // but may not read what else is due.
  virtual void WatchNoLaterThan(haven::v1::WatchKind kind, absl::Time due) = 0;
  // Sets (or, with nullopt, clears) the case's watch of `kind`: its
  // caseworkers (or `addressee_user_id`, when given) are alerted as the time
  // nears (CaseDoor::RaiseDueAlerts) and the case is listed by queries on
  // that watch.
  virtual void SetWatch(haven::v1::WatchKind kind, std::optional<absl::Time> due,
                        absl::string_view addressee_user_id = "") = 0;
  // Indexes the directory services this case's open plan items wait on
  // (service id -> until when: a referral's response deadline, or
  // InfiniteFuture for an item not referred yet), replacing what was
  // indexed; ids and times only. A shelter whose free places fall to zero
  // alerts the cases waiting on it (ProviderDirectory::UpdateFreePlaces).
  virtual absl::Status SetServicesAwaited(const std::map<std::string, absl::Time>& until) = 0;

  // The administrative fields (ids, statuses, times: never personal data)
  // of every record of `kind`, in key order: what a rule needs to keep the
  // case's own bookkeeping (a watch, an index) right after a writer's
  // change. Not for the caller: nothing of it is disclosed.
  template <typename Record>
  absl::StatusOr<std::vector<Record>> LoadAllAdministrative(RecordKind kind) {
    std::vector<Record> out;
    absl::Status s = VisitAdministrative(kind, Record::default_instance(),
                                         [&](const google::protobuf::Message& record) {
                                           out.push_back(static_cast<const Record&>(record));
                                         });
    if (!s.ok()) return s;
    return out;
  }

 protected:
  // Calls `visit` with each record of `kind`, parsed as `prototype` is and
  // cut to its administrative fields.
  virtual absl::Status VisitAdministrative(
      RecordKind kind, const google::protobuf::Message& prototype,
      const std::function<void(const google::protobuf::Message&)>& visit) = 0;
};

// A case as one caller may use it, inside one transaction: what a writer
// may do, and read, write and search within the classes the caller may see.
class CaseScope final : public CaseWriter {
 public:
  const std::string& case_id() const override { return hex_id_; }
  const RequestContext& context() const override { return *ctx_; }
  absl::Time now() const override { return absl::FromUnixMicros(now_micros_); }
  absl::Status AppendTimeline(haven::v1::TimelineEventKind kind, absl::string_view summary,
                              absl::string_view detail = "") override;
  absl::Status RaiseAlert(haven::v1::AlertKind kind, const std::vector<std::string>& hex_case_ids,
                          const Addressee& addressee) override;
  absl::StatusOr<std::string> GrantForReferral(absl::string_view referral_id) override;
  absl::Status EndGrant(absl::string_view grant_id) override;
  absl::StatusOr<haven::v1::Referral> FindReferral(absl::string_view referral_id) override;
  absl::Status PutReferral(const haven::v1::Referral& referral) override;
  absl::Status QueueForPartner(haven::v1::PartnerOutboxRecord message) override;
  absl::Status DequeueForPartner(absl::string_view outbox_key) override;
  void set_lawful_basis(absl::string_view basis) override { lawful_basis_ = std::string(basis); }
  void WatchNoLaterThan(haven::v1::WatchKind kind, absl::Time due) override;
  void SetWatch(haven::v1::WatchKind kind, std::optional<absl::Time> due,
                absl::string_view addressee_user_id = "") override;
  absl::Status SetServicesAwaited(const std::map<std::string, absl::Time>& until) override;

  const haven::v1::CaseRecord& record() const { return record_; }
  // The administrative record to change; written and re-indexed on commit.
  haven::v1::CaseRecord* mutable_record();
  // What the caller may see and write on this case.
  ClassSet visible() const { return visible_; }
  // This passage's transaction, for another door's passage to join.
  Joint joint() const { return Joint(txn_); }

  // Opens a sealed record into `out`, redacted to visible(); false when
  // there is no such record.
  absl::StatusOr<bool> Load(RecordKind kind, absl::string_view record_id,
                            google::protobuf::Message* out);
  // Seals and writes a whole record. PERMISSION_DENIED when it holds
  // classes the caller may not write.
  absl::Status Save(RecordKind kind, absl::string_view record_id,
                    const google::protobuf::Message& record);
  // Writes the fields of `patch` named by `mask` (paths relative to the
  // record) over the stored record, keeping every other field, and sets
  // `result` to the new record redacted for the caller.
  absl::Status Patch(RecordKind kind, absl::string_view record_id,
                     const google::protobuf::Message& patch,
                     const google::protobuf::FieldMask& mask,
                     google::protobuf::Message* result);
  // The ids of this case's records of one kind, in key order.
  absl::StatusOr<std::vector<std::string>> RecordIds(RecordKind kind);
  // Every record of one kind, in key order, each redacted as Load does.
  template <typename Record>
  absl::StatusOr<std::vector<Record>> LoadAll(RecordKind kind) {
    absl::StatusOr<std::vector<std::string>> ids = RecordIds(kind);
    if (!ids.ok()) return ids.status();
    std::vector<Record> out;
    for (const std::string& id : *ids) {
      Record record;
      absl::StatusOr<bool> found = Load(kind, id, &record);
      if (!found.ok()) return found.status();
      if (*found) out.push_back(std::move(record));
    }
    return out;
  }
  // Indexes the subject under these name match keys (blind: only keyed
  // hashes of them are stored), replacing the previous ones.
  void SetNameKeys(const std::vector<std::string>& name_keys);
  // Other cases indexed under a name match key; for duplicate detection,
  // whose result only ever reaches the competent authority.
  absl::StatusOr<std::vector<std::string>> CasesIndexedUnder(absl::string_view name_key);
  // Gives, by a rule of the mechanism itself (`rule` names it, e.g. "NRM
  // identification procedure"), the grantee in `record` scoped, expiring
  // access: a grant under a legal obligation. PERMISSION_DENIED for classes
  // the caller cannot see itself.
  absl::StatusOr<haven::v1::Grant> GrantByRule(haven::v1::GrantRecord record,
                                               absl::string_view rule);
  // What the subject decided about `purpose`, and whether the subject has
  // given, and not withdrawn, that consent. Read whole but disclosed to no
  // one: a decision's input (what a caller may see of it is its own class).
  enum class ConsentState { kNotRecorded, kGiven, kRefused, kWithdrawn };
  absl::StatusOr<ConsentState> ConsentFor(haven::v1::ConsentPurpose purpose);
  absl::StatusOr<bool> HasConsent(haven::v1::ConsentPurpose purpose);
  // Whether the subject is, or is presumed, a child now (presumed by the
  // identification, or under 18 by date of birth or estimated age).
  absl::StatusOr<bool> SubjectIsChild();
  // Queues `notice` for every partner mechanism a referral of this case was
  // delivered to (the subject withdrew consent, or was erased here).
  absl::Status NotifyPartners(haven::v1::PartnerNotice notice);

  // Redacts a response about this case to visible() and records what it
  // discloses for the audit entry. Every response passes through here.
  void Disclose(google::protobuf::Message* response);
  // Crypto-shreds: keeps the non-identifying statistics attributes, then
  // destroys the data key and every sealed record of the case, and marks it
  // erased.
  absl::Status Shred();

 private:
  friend class CaseDoor;
  friend class LiaisonDoor;
  CaseScope() = default;
  absl::Status VisitAdministrative(
      RecordKind kind, const google::protobuf::Message& prototype,
      const std::function<void(const google::protobuf::Message&)>& visit) override;
  std::string DataKey(RecordKind kind, absl::string_view record_id) const;
  absl::StatusOr<bool> LoadWhole(RecordKind kind, absl::string_view record_id,
                                 google::protobuf::Message* out);
  absl::Status Write(RecordKind kind, absl::string_view record_id,
                     const google::protobuf::Message& record);
  // Bumps the case's version and update time, once per transaction.
  void MarkChanged();
  // Writes a grant of this case with its grantee index entry and a
  // timeline event; id, creator and time are filled in. `basis_line` (the
  // basis and its facts) goes sealed on the timeline.
  absl::StatusOr<haven::v1::Grant> AddGrant(haven::v1::GrantRecord record,
                                            absl::string_view basis_line);
  // Ends every live grant resting on the consent for `purpose` (it was
  // refused or withdrawn).
  absl::Status EndGrantsOnConsent(haven::v1::ConsentPurpose purpose);
  // Marks grant `key` ended and drops its grantee's index entry when no
  // other live grant of this case names the grantee.
  absl::Status EndGrantAt(const std::string& key, haven::v1::GrantRecord record);
  // Seals, with the statistics key, the non-identifying attributes of the
  // case (its statistics record, under a random statistics id that only
  // the case's sealed link names), recomputed from what the case holds.
  absl::Status KeepStatistics();
  // Whether this passage changed something a statistic counts.
  bool MovesStatistics() const;
  // Re-indexes the subject's names and looks for possible duplicates.
  absl::Status IndexSubject(const haven::v1::Subject& subject);

  storage::Txn* txn_ = nullptr;
  CaseDoor* door_ = nullptr;
  const RequestContext* ctx_ = nullptr;
  crypto::SecretKey data_key_;
  haven::v1::CaseRecord record_;
  haven::v1::CaseRecord original_;  // as read, to re-index what changed
  std::string raw_id_;
  std::string hex_id_;
  ClassSet visible_;
  ClassSet disclosed_;  // classes handed to the caller or written: audited
  int64_t now_micros_ = 0;
  bool changed_ = false;
  bool shredded_ = false;
  bool statistics_moved_ = false;  // a record that statistics count was written
  std::string lawful_basis_;
  // The purpose the passage is audited under (policy.h: CaseDecision).
  std::string purpose_;
};

class CaseDoor {
 public:
  using Work = std::function<absl::Status(CaseScope&)>;

  struct Options {
    // Longest a grant under an emergency basis may run.
    absl::Duration emergency_access_max = absl::Hours(72);
  };

  CaseDoor(storage::Store* store, const crypto::KeyRing* keys, const Clock* clock,
           Options options);
  CaseDoor(storage::Store* store, const crypto::KeyRing* keys, const Clock* clock)
      : CaseDoor(store, keys, clock, Options()) {}

  // Opens a new case owned by the caller's organisation and runs `work` on
  // it. PERMISSION_DENIED when the caller's roles may not open cases.
  // `within`: the transaction of another door's passage to join (written
  // when that one commits); null for a transaction of its own.
  absl::StatusOr<haven::v1::CaseRecord> CreateCase(const RequestContext& ctx,
                                                   absl::string_view audit_action,
                                                   const Work& work,
                                                   const Joint* within = nullptr);

  // Runs `work` on case `case_id` when the caller may take `action` on it;
  // otherwise NOT_FOUND, exactly as for a case that does not exist, and the
  // denial is audited. `audit_action` names the operation in the audit log
  // ("case.read").
  absl::Status WithCase(const RequestContext& ctx, absl::string_view case_id,
                        haven::v1::CaseAction action, absl::string_view audit_action,
                        const Work& work, const Joint* within = nullptr);

  // Runs `work` on a case for a party to one of its referrals who may not
  // read it (the receiver before acceptance): the scope can append to the
  // timeline, add and end grants and update the referral, and discloses
  // nothing. The caller must have checked that it is a party. Audited.
  using WriterWork = std::function<absl::Status(CaseWriter&)>;
  absl::Status WithCaseAsReferralParty(const RequestContext& ctx, absl::string_view case_id,
                                       absl::string_view audit_action, const WriterWork& work);

  // Runs `work` on a case for a partner mechanism, within `data_scope`, the
  // scope of a referral shared with it that the caller has checked: READ to
  // build what goes to the partner (the scope sees and discloses only those
  // classes), UPDATE to record what the partner reported (the scope reads
  // and writes only those classes). Audited.
  absl::Status WithCaseForPartner(const RequestContext& ctx, absl::string_view case_id,
                                  ClassSet data_scope, haven::v1::CaseAction action,
                                  absl::string_view audit_action, const Work& work);

  // Opens a new case owned by `owner_organisation_id` for a referral that
  // a partner mechanism (the caller, authenticated by its certificate) sent;
  // `work` may write `classes`, the referral's scope.
  absl::StatusOr<haven::v1::CaseRecord> ReceiveCase(const RequestContext& ctx,
                                                    absl::string_view owner_organisation_id,
                                                    ClassSet classes,
                                                    absl::string_view audit_action,
                                                    const Work& work);

  // A referral from the directory; nullopt when there is none. Holds no
  // personal data.
  absl::StatusOr<std::optional<haven::v1::Referral>> FindReferral(absl::string_view referral_id);
  // The referral that a partner mechanism knows as `partner_referral_id`.
  absl::StatusOr<std::optional<haven::v1::Referral>> FindReferralFromPartner(
      absl::string_view partner_id, absl::string_view partner_referral_id);
  // Referrals to (inbox) or from (outbox) an organisation, in id order
  // after `after_id`, until `visit` returns false.
  absl::Status ScanReferrals(bool inbox, absl::string_view organisation_id,
                             absl::string_view after_id,
                             const std::function<bool(const haven::v1::Referral&)>& visit);

  // Grants: scoped, expiring access to a case for another organisation or
  // user, under a lawful basis. Only those who may share the case manage
  // its grants; they can grant no class they cannot see themselves, and a
  // grantee receives at most what its roles may under that basis
  // (GranteeCeiling). A consent basis needs the consent; a judicial order
  // or an emergency takes effect once a supervisor of the owning
  // organisation other than its creator approves it (and an emergency
  // alerts them, and runs for at most emergency_access_max).
  absl::StatusOr<haven::v1::Grant> CreateGrant(const RequestContext& ctx,
                                               const haven::v1::Grant& grant);
  absl::StatusOr<haven::v1::Grant> ApproveGrant(const RequestContext& ctx,
                                                absl::string_view case_id,
                                                absl::string_view grant_id);
  absl::StatusOr<haven::v1::Grant> RevokeGrant(const RequestContext& ctx,
                                               absl::string_view case_id,
                                               absl::string_view grant_id);
  absl::StatusOr<std::vector<haven::v1::Grant>> ListGrants(const RequestContext& ctx,
                                                           absl::string_view case_id);

  // Runs `work`, in one transaction, on each case matching `query` that
  // the caller may read, in case id order, up to query.limit; each is
  // audited. Returns the next page token, empty at the end.
  absl::StatusOr<std::string> ForEachReadableCase(const RequestContext& ctx, const CaseQuery& query,
                                                  absl::string_view audit_action, const Work& work);

  // Alerts addressed to the caller, or to its organisation when it
  // supervises there (or decides, at a competent authority), or to every
  // competent authority when it decides or supervises at one, oldest first,
  // with the next page token; the resolved ones instead when `resolved`.
  absl::StatusOr<std::pair<std::vector<haven::v1::Alert>, std::string>> ListAlerts(
      const RequestContext& ctx, int page_size, absl::string_view page_token, bool resolved);
  // Takes an alert addressed to the caller off the open list, recording why,
  // by whom and when; audited. NOT_FOUND for an alert not addressed to it.
  absl::StatusOr<haven::v1::Alert> ResolveAlert(const RequestContext& ctx,
                                                absl::string_view alert_id,
                                                haven::v1::AlertResolution resolution);

  // Writes the statistics record of case `case_id` again from what the case
  // holds now, as a system job (audited "statistics.recount"); for the
  // migration to schema 3, which gives every case a statistics record.
  absl::Status RecountStatistics(absl::string_view raw_case_id);

  // Alerts the caseworkers assigned to each open case (its organisation's
  // supervisors when none is) whose watch of `kind` is due within `lead`
  // from now, once per due time; audited as a system job. Reads no
  // personal data. Returns how many cases were alerted.
  absl::StatusOr<int> RaiseDueAlerts(haven::v1::WatchKind kind, absl::Duration lead,
                                     haven::v1::AlertKind alert);

  // After erasures: pushes what each erased case's key ranges held (its
  // destroyed key, its sealed records, its former index keys) out of the
  // files on disk, compacting only those ranges. A background job: slow,
  // and safe to run again after a crash. Returns how many cases it purged.
  absl::StatusOr<int> PurgeErasedCases();
  // Calls `listener` after every commit that erased a case (to wake the
  // purge). Set before the door is shared.
  void OnErased(std::function<void()> listener);

 private:
  friend class CaseScope;
  friend class LiaisonDoor;
  absl::StatusOr<haven::v1::CaseRecord> OpenNewCase(const RequestContext& ctx,
                                                    absl::string_view owner_organisation_id,
                                                    ClassSet classes,
                                                    absl::string_view audit_action,
                                                    const Work& work, const Joint* within);
  // A passage for a referral's party: write-only when `partner_scope` is
  // empty, else a partner's `action` within just those classes.
  absl::Status WithCaseForReferral(const RequestContext& ctx, absl::string_view case_id,
                                   std::optional<ClassSet> partner_scope,
                                   haven::v1::CaseAction action, absl::string_view audit_action,
                                   const Work& work);
  void AuditDenial(const RequestContext& ctx, absl::string_view hex_id,
                   absl::string_view audit_action);
  // Decides on a plain read of the case and its grants, so that a denial
  // never waits on a lock held by someone allowed; only then, for a
  // change, locks the case and decides again on what it holds. When
  // allowed, makes `scope` ready.
  absl::StatusOr<bool> Open(storage::Txn& txn, const RequestContext& ctx, const std::string& raw_id,
                            haven::v1::CaseAction action, CaseScope* scope);
  // Unwraps the case's key and readies `scope` for `classes`.
  absl::Status Prepare(storage::Txn& txn, const RequestContext& ctx, const std::string& raw_id,
                       ClassSet classes, CaseScope* scope);
  // Writes what the scope changed, its index entries and its audit entry.
  absl::Status Finish(storage::Txn& txn, CaseScope& scope, absl::string_view audit_action);
  absl::Status Reindex(storage::Txn& txn, const haven::v1::CaseRecord& before,
                       const haven::v1::CaseRecord& after);
  absl::StatusOr<std::set<std::string>> Candidates(storage::Txn& txn, const RequestContext& ctx,
                                                   const CaseQuery& query);
  // Raw ids of the cases, of every organisation, whose watch of `kind` is
  // indexed as due by `horizon`.
  absl::StatusOr<std::vector<std::string>> DueCases(haven::v1::WatchKind kind, absl::Time horizon);
  std::string NameIndexKey(absl::string_view name_key) const;
  absl::Status RaiseAlert(storage::Txn& txn, haven::v1::AlertKind kind,
                          const std::vector<std::string>& hex_case_ids,
                          const CaseScope::Addressee& addressee);

  storage::Store* store_;
  const crypto::KeyRing* keys_;
  const Clock* clock_;
  Options options_;
};

// The record id of the subject's consent for `purpose` (RecordKind::kConsent).
std::string ConsentRecordId(haven::v1::ConsentPurpose purpose);

// Purposes are short tokens so that no free text (and no personal data)
// reaches the audit log through them.
bool IsValidPurpose(absl::string_view purpose);

// An audit entry for `ctx` with everything but the outcome-specific parts.
haven::v1::AuditEntry NewAuditEntry(const RequestContext& ctx, absl::string_view action,
                                    absl::string_view record);

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_CASE_DOOR_H_
