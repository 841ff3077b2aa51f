// LiaisonDoor: law-enforcement systems' pseudonymous way to the cases they follow.
#include "storage/access/liaison_door.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "haven/v1/admin.pb.h"
#include "storage/access/case_door_parts.h"
#include "storage/access/redaction.h"
#include "storage/ids.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "storage/timestamps.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

constexpr absl::string_view kPseudonymPrefix = "lp-";

// Keys of Cf::kLiaisonEvents and the agency part of the other liaison keys.
std::string AgencyKey(absl::string_view agency_id) {
  std::string key;
  keys::AppendShortString(&key, agency_id);
  return key;
}

absl::StatusOr<std::string> ParsePseudonym(absl::string_view text) {
  if (!absl::StartsWith(text, kPseudonymPrefix) || text.size() != kPseudonymPrefix.size() + 32) {
    return absl::InvalidArgumentError("pseudonym must be \"lp-\" and 32 hexadecimal characters");
  }
  return FromHex(text.substr(kPseudonymPrefix.size()), "pseudonym");
}

// Appends one event to `agency_id`'s log: the log's head key holds the last
// sequence and is locked until the write, so sequences are dense and become
// visible in order.
absl::Status AppendEvent(storage::Txn& txn, absl::string_view agency_id,
                         const v1::LiaisonEventRecord& event) {
  const std::string head = AgencyKey(agency_id);
  absl::StatusOr<std::optional<std::string>> last = txn.GetForUpdate(Cf::kLiaisonEvents, head);
  if (!last.ok()) return last.status();
  uint64_t sequence = 0;
  if (last->has_value()) {
    absl::string_view value = **last;
    sequence = keys::ConsumeU64(&value).value_or(0);
  }
  ++sequence;
  std::string value;
  keys::AppendU64(&value, sequence);
  if (absl::Status s = txn.Put(Cf::kLiaisonEvents, head, value); !s.ok()) return s;
  std::string key = head;
  keys::AppendU64(&key, sequence);
  return txn.Put(Cf::kLiaisonEvents, key, SerializeKnownFields(event));
}

v1::LiaisonEventRecord Event(absl::string_view raw_pseudonym, v1::LiaisonEventKind kind,
                             int64_t now_micros) {
  v1::LiaisonEventRecord event;
  event.set_pseudonym(std::string(raw_pseudonym));
  event.set_kind(kind);
  event.set_time_micros(now_micros);
  return event;
}

// Whether `g` is a grant to `organisation_id` that was approved and not
// ended (it may have run out): one whose expiry a following agency is told of.
bool ApprovedDisclosureTo(const v1::GrantRecord& g, absl::string_view organisation_id) {
  return g.grantee_organisation_id() == organisation_id && !g.revoked() && !g.awaiting_approval();
}

// Whether a live, approved grant gives `organisation_id` access at `now`.
bool RunningGrant(const v1::GrantRecord& g, absl::string_view organisation_id, int64_t now_micros) {
  return ApprovedDisclosureTo(g, organisation_id) && g.expire_time_micros() > now_micros;
}

// Statuses under which a person is protected as a presumed or confirmed
// victim (as the identification desk's ProtectedAsVictim).
bool PresumedOrConfirmed(v1::IdentificationStatus status) {
  return status == v1::IDENTIFICATION_STATUS_PRESUMED_VICTIM ||
         status == v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS ||
         status == v1::IDENTIFICATION_STATUS_CONFIRMED_VICTIM ||
         status == v1::IDENTIFICATION_STATUS_RECONSIDERATION_REQUESTED;
}

v1::Disclosure DisclosureOf(const v1::GrantRecord& g, absl::string_view pseudonym,
                            int64_t now_micros) {
  v1::Disclosure d;
  d.set_id(ToHex(g.id()));
  d.set_pseudonym(std::string(pseudonym));
  for (int c : g.classes()) d.add_classes(static_cast<v1::ConfidentialityClass>(c));
  d.set_lawful_basis(g.lawful_basis());
  if (g.revoked()) {
    d.set_state(v1::DISCLOSURE_STATE_ENDED);
  } else if (g.expire_time_micros() <= now_micros) {
    d.set_state(v1::DISCLOSURE_STATE_EXPIRED);
  } else if (g.awaiting_approval()) {
    d.set_state(v1::DISCLOSURE_STATE_AWAITING_APPROVAL);
  } else {
    d.set_state(v1::DISCLOSURE_STATE_APPROVED);
  }
  *d.mutable_create_time() = MicrosToTimestamp(g.create_time_micros());
  *d.mutable_expire_time() = MicrosToTimestamp(g.expire_time_micros());
  if (g.approve_time_micros() > 0) *d.mutable_approve_time() = MicrosToTimestamp(g.approve_time_micros());
  return d;
}

struct Follower {
  std::string agency;
  v1::LiaisonFollower record;
};

// The agencies that follow a case, and why.
absl::StatusOr<std::vector<Follower>> Followers(storage::Txn& txn, absl::string_view raw_case_id) {
  std::vector<Follower> out;
  bool corrupt = false;
  absl::Status s = txn.Scan(Cf::kLiaisonFollowers, raw_case_id, "",
                            [&](absl::string_view key, absl::string_view value) {
                              absl::string_view rest = key.substr(raw_case_id.size());
                              std::optional<absl::string_view> agency = keys::ConsumeShortString(&rest);
                              Follower f;
                              if (!agency.has_value() ||
                                  !f.record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                                corrupt = true;
                                return false;
                              }
                              f.agency = std::string(*agency);
                              out.push_back(std::move(f));
                              return true;
                            });
  if (!s.ok()) return s;
  if (corrupt) return absl::DataLossError("a liaison follower record is unreadable");
  return out;
}

bool ExpiryTold(const v1::LiaisonFollower& follower, absl::string_view grant_id) {
  for (const std::string& id : follower.expiry_told_disclosure_ids()) {
    if (id == grant_id) return true;
  }
  return false;
}

// Tells, in `txn`, each agency following the case of its approved
// disclosures that ran out by `now_micros` and were not told yet
// (DISCLOSURE_EXPIRED at the expiry's time, in order of expiry), and
// remembers them as told. Returns how many were told; `next_micros` is the
// first expiry still ahead (0: none).
absl::StatusOr<int> TellExpiredDisclosures(storage::Txn& txn, absl::string_view raw_case_id,
                                           int64_t now_micros, int64_t* next_micros) {
  *next_micros = 0;
  absl::StatusOr<std::vector<Follower>> followers = Followers(txn, raw_case_id);
  if (!followers.ok()) return followers.status();
  absl::StatusOr<std::vector<v1::GrantRecord>> grants = LoadGrants(txn, raw_case_id);
  if (!grants.ok()) return grants.status();
  std::stable_sort(grants->begin(), grants->end(), [](const auto& a, const auto& b) {
    return a.expire_time_micros() < b.expire_time_micros();
  });
  int told = 0;
  for (Follower& f : *followers) {
    bool changed = false;
    for (const v1::GrantRecord& g : *grants) {
      if (!ApprovedDisclosureTo(g, f.agency) || ExpiryTold(f.record, g.id())) continue;
      if (g.expire_time_micros() > now_micros) {
        if (*next_micros == 0 || g.expire_time_micros() < *next_micros) {
          *next_micros = g.expire_time_micros();
        }
        continue;
      }
      if (absl::Status s = AppendEvent(
              txn, f.agency,
              Event(f.record.pseudonym(), v1::LIAISON_EVENT_DISCLOSURE_EXPIRED, g.expire_time_micros()));
          !s.ok()) {
        return s;
      }
      f.record.add_expiry_told_disclosure_ids(g.id());
      changed = true;
      ++told;
    }
    if (!changed) continue;
    if (absl::Status s = txn.Put(Cf::kLiaisonFollowers, absl::StrCat(raw_case_id, AgencyKey(f.agency)),
                                 SerializeKnownFields(f.record));
        !s.ok()) {
      return s;
    }
  }
  return told;
}

// Sets the record's disclosure-expiry watch to `due_micros`, or removes it
// at 0, leaving the rest of the record as it is (a system job's
// bookkeeping, not a change to the case).
void SetExpiryWatch(v1::CaseRecord* record, int64_t due_micros) {
  auto* watches = record->mutable_watches();
  for (int i = 0; i < watches->size(); ++i) {
    if (watches->Get(i).kind() != v1::WATCH_KIND_DISCLOSURE_EXPIRY) continue;
    if (due_micros == 0) {
      watches->DeleteSubrange(i, 1);
    } else {
      watches->Mutable(i)->set_due_micros(due_micros);
    }
    return;
  }
}

// The sequence of the oldest event `head`'s log keeps: the first one
// stored, or, when the retention purge removed them all, the one after the
// last written (1 for a log never written).
absl::StatusOr<uint64_t> OldestKept(storage::Store& store, const std::string& head) {
  std::optional<uint64_t> first;
  absl::Status s = store.Scan(Cf::kLiaisonEvents, head, head,
                              [&](absl::string_view key, absl::string_view) {
                                absl::string_view rest = key.substr(head.size());
                                first = keys::ConsumeU64(&rest);
                                return false;
                              });
  if (!s.ok()) return s;
  if (first.has_value()) return *first;
  absl::StatusOr<std::optional<std::string>> last = store.Get(Cf::kLiaisonEvents, head);
  if (!last.ok()) return last.status();
  if (!last->has_value()) return uint64_t{1};
  absl::string_view value = **last;
  return keys::ConsumeU64(&value).value_or(0) + 1;
}

}  // namespace

std::string PseudonymText(absl::string_view raw_pseudonym) {
  return absl::StrCat(kPseudonymPrefix, ToHex(raw_pseudonym));
}

uint64_t EventBell::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

void EventBell::Ring() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
  }
  rung_.notify_all();
}

uint64_t EventBell::WaitPast(uint64_t seen, absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  rung_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] { return generation_ != seen; });
  return generation_;
}

LiaisonDoor::LiaisonDoor(storage::Store* store, const crypto::KeyRing* keys, const Clock* clock,
                         CaseDoor* cases)
    : store_(store), keys_(keys), clock_(clock), cases_(cases), decoy_(MakeDecoy(*keys)) {
  store_->OnCommit(Cf::kLiaisonEvents, [this] { bell_.Ring(); });
}

// The one place where changes to a case reach the agencies that follow it:
// CaseDoor::Finish calls this in every passage that changed a case record.
absl::Status RecordLiaisonEvents(storage::Txn& txn, const v1::CaseRecord& before,
                                 const v1::CaseRecord& after, int64_t now_micros) {
  if (before.id().empty()) return absl::OkStatus();
  std::vector<v1::LiaisonEventRecord> events;
  if (before.assignee_ids().empty() && !after.assignee_ids().empty()) {
    events.push_back(Event("", v1::LIAISON_EVENT_ACCEPTED, now_micros));
  }
  if (before.identification_status() != after.identification_status()) {
    events.push_back(Event("", v1::LIAISON_EVENT_IDENTIFICATION, now_micros));
    events.back().set_identification_status(after.identification_status());
  }
  if (before.status() != after.status()) {
    if (after.status() == v1::CASE_STATUS_CLOSED) {
      events.push_back(Event("", v1::LIAISON_EVENT_CLOSED, now_micros));
    } else if (after.status() == v1::CASE_STATUS_OPEN) {
      events.push_back(Event("", v1::LIAISON_EVENT_REOPENED, now_micros));
    } else if (after.status() == v1::CASE_STATUS_ERASED) {
      events.push_back(Event("", v1::LIAISON_EVENT_ERASED, now_micros));
    }
  }
  if (events.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<Follower>> followers = Followers(txn, after.id());
  if (!followers.ok()) return followers.status();
  for (const Follower& f : *followers) {
    for (v1::LiaisonEventRecord event : events) {
      event.set_pseudonym(f.record.pseudonym());
      if (absl::Status a = AppendEvent(txn, f.agency, event); !a.ok()) return a;
    }
  }
  return absl::OkStatus();
}

absl::Status EndLiaisonFollowsOnConsent(storage::Txn& txn, absl::string_view raw_case_id,
                                        v1::ConsentPurpose purpose, int64_t now_micros) {
  absl::StatusOr<std::vector<Follower>> followers = Followers(txn, raw_case_id);
  if (!followers.ok()) return followers.status();
  for (const Follower& f : *followers) {
    if (f.record.lawful_basis() != v1::LAWFUL_BASIS_CONSENT || f.record.consent_purpose() != purpose) {
      continue;
    }
    if (absl::Status s = txn.Delete(Cf::kLiaisonFollowers, absl::StrCat(raw_case_id, AgencyKey(f.agency)));
        !s.ok()) {
      return s;
    }
    if (absl::Status s = txn.Delete(Cf::kLiaisonPseudonyms, AgencyKey(f.agency) + f.record.pseudonym());
        !s.ok()) {
      return s;
    }
    if (absl::Status s = AppendEvent(
            txn, f.agency, Event(f.record.pseudonym(), v1::LIAISON_EVENT_WITHDRAWN, now_micros));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status RecordLiaisonDisclosureEvent(storage::Txn& txn, CaseWriter& scope,
                                          absl::string_view raw_case_id,
                                          const v1::GrantRecord& grant, bool approved) {
  if (grant.grantee_organisation_id().empty()) return absl::OkStatus();
  absl::StatusOr<std::optional<std::string>> stored = txn.Get(
      Cf::kLiaisonFollowers, absl::StrCat(raw_case_id, AgencyKey(grant.grantee_organisation_id())));
  if (!stored.ok()) return stored.status();
  v1::LiaisonFollower follower;
  if (!stored->has_value() || !follower.ParseFromString(**stored)) return absl::OkStatus();
  if (approved) {
    scope.WatchNoLaterThan(v1::WATCH_KIND_DISCLOSURE_EXPIRY,
                           absl::FromUnixMicros(grant.expire_time_micros()));
  }
  return AppendEvent(txn, grant.grantee_organisation_id(),
                     Event(follower.pseudonym(),
                           approved ? v1::LIAISON_EVENT_DISCLOSURE_APPROVED
                                    : v1::LIAISON_EVENT_DISCLOSURE_ENDED,
                           absl::ToUnixMicros(scope.now())));
}

absl::StatusOr<std::string> LiaisonDoor::Follow(storage::Txn& txn, absl::string_view agency_id,
                                                absl::string_view raw_case_id,
                                                v1::LawfulBasis basis, bool* introduced) {
  if (introduced != nullptr) *introduced = false;
  std::string pseudonym = keys_->LiaisonPseudonym(agency_id, raw_case_id);
  const std::string follower_key = absl::StrCat(raw_case_id, AgencyKey(agency_id));
  absl::StatusOr<std::optional<std::string>> existing =
      txn.GetForUpdate(Cf::kLiaisonFollowers, follower_key);
  if (!existing.ok()) return existing.status();
  v1::LiaisonFollower follower;
  if (existing->has_value() && follower.ParseFromString(**existing) &&
      follower.lawful_basis() == v1::LAWFUL_BASIS_UNSPECIFIED) {
    return pseudonym;  // it referred the case: that stands whatever the introduction
  }
  if (introduced != nullptr) *introduced = true;
  // What the agency was told of its disclosures' expiry stays told; one
  // that starts following now is owed nothing for what ran out before.
  std::vector<std::string> told;
  if (existing->has_value()) {
    told.assign(follower.expiry_told_disclosure_ids().begin(),
                follower.expiry_told_disclosure_ids().end());
  } else {
    absl::StatusOr<std::vector<v1::GrantRecord>> grants = LoadGrants(txn, raw_case_id);
    if (!grants.ok()) return grants.status();
    const int64_t now = absl::ToUnixMicros(clock_->Now());
    for (const v1::GrantRecord& g : *grants) {
      if (ApprovedDisclosureTo(g, agency_id) && g.expire_time_micros() <= now) told.push_back(g.id());
    }
  }
  follower.Clear();
  for (std::string& id : told) follower.add_expiry_told_disclosure_ids(std::move(id));
  follower.set_pseudonym(pseudonym);
  follower.set_lawful_basis(basis);
  if (basis == v1::LAWFUL_BASIS_CONSENT) {
    follower.set_consent_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT);
  }
  if (absl::Status s = txn.Put(Cf::kLiaisonPseudonyms, AgencyKey(agency_id) + pseudonym,
                               std::string(raw_case_id));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = txn.Put(Cf::kLiaisonFollowers, follower_key, SerializeKnownFields(follower));
      !s.ok()) {
    return s;
  }
  return pseudonym;
}

void LiaisonDoor::AuditDenial(const RequestContext& ctx, absl::string_view audit_action) {
  cases_->AuditDenial(ctx, "", audit_action);
}

absl::StatusOr<LiaisonDoor::Referred> LiaisonDoor::Refer(const RequestContext& ctx,
                                                         absl::string_view receiving_organisation_id,
                                                         const CaseDoor::Work& work) {
  constexpr absl::string_view kAction = "liaison.refer";
  AccessQuestion question;
  question.principal = &ctx.principal;
  question.relation = Relation::kLiaison;
  question.action = v1::CASE_ACTION_CREATE;
  const ClassSet classes = Decide(question);
  if (classes.empty()) {
    AuditDenial(ctx, kAction);
    return absl::PermissionDeniedError("only a law-enforcement liaison refers through LiaisonService");
  }
  const std::string& agency = ctx.principal.organisation_id;
  Referred out;
  absl::StatusOr<v1::CaseRecord> opened = cases_->OpenNewCase(
      ctx, receiving_organisation_id, classes, kAction, [&](CaseScope& scope) -> absl::Status {
        absl::StatusOr<std::optional<std::string>> receiver =
            scope.txn_->Get(Cf::kOrganisations, receiving_organisation_id);
        if (!receiver.ok()) return receiver.status();
        if (!receiver->has_value()) {
          return absl::FailedPreconditionError(
              "liaison_receiving_organisation_id names no organisation of this mechanism");
        }
        if (absl::Status s = work(scope); !s.ok()) return s;
        absl::StatusOr<std::string> pseudonym = Follow(*scope.txn_, agency, scope.raw_id_);
        if (!pseudonym.ok()) return pseudonym.status();
        if (absl::Status s = AppendEvent(*scope.txn_, agency,
                                         Event(*pseudonym, v1::LIAISON_EVENT_RECEIVED, scope.now_micros_));
            !s.ok()) {
          return s;
        }
        if (absl::Status s = scope.AppendTimeline(
                v1::TIMELINE_EVENT_LIAISON_REFERRED,
                absl::StrCat("opened on a referral from law-enforcement organisation ", agency));
            !s.ok()) {
          return s;
        }
        CaseScope::Addressee supervisors;
        supervisors.organisation_id = std::string(receiving_organisation_id);
        if (absl::Status s =
                scope.RaiseAlert(v1::ALERT_KIND_LIAISON_REFERRAL, {scope.case_id()}, supervisors);
            !s.ok()) {
          return s;
        }
        out.pseudonym = PseudonymText(*pseudonym);
        out.time = scope.now();
        return absl::OkStatus();
      },
      nullptr);
  if (!opened.ok()) return opened.status();
  return out;
}

absl::Status LiaisonDoor::WithFollowedCase(const RequestContext& ctx, absl::string_view pseudonym,
                                           v1::CaseAction action, absl::string_view audit_action,
                                           const CaseDoor::Work& work) {
  const bool lock = action != v1::CASE_ACTION_READ;
  absl::StatusOr<std::string> raw_pseudonym = ParsePseudonym(pseudonym);
  if (!raw_pseudonym.ok()) return raw_pseudonym.status();
  AccessQuestion question;
  question.principal = &ctx.principal;
  question.relation = Relation::kLiaison;
  question.action = action;
  const ClassSet following = Decide(question);
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  auto deny = [&](absl::string_view hex_case) {
    txn.reset();
    cases_->AuditDenial(ctx, hex_case, audit_action);
    return NotFoundCase();
  };
  if (following.empty()) return deny("");
  // Only the agency's own range: another agency's pseudonym finds nothing.
  absl::StatusOr<std::optional<std::string>> raw_case =
      txn->Get(Cf::kLiaisonPseudonyms, AgencyKey(ctx.principal.organisation_id) + *raw_pseudonym);
  if (!raw_case.ok() || !raw_case->has_value()) return deny("");
  const std::string raw_id = **raw_case;
  absl::StatusOr<std::optional<std::string>> stored =
      lock ? txn->GetForUpdate(Cf::kCases, raw_id) : txn->Get(Cf::kCases, raw_id);
  if (!stored.ok()) return stored.status();
  CaseScope scope;
  if (!stored->has_value() || !scope.record_.ParseFromString(**stored) ||
      scope.record_.status() == v1::CASE_STATUS_ERASED) {
    return deny(ToHex(raw_id));
  }
  absl::StatusOr<std::vector<v1::GrantRecord>> grants = LoadGrants(*txn, raw_id);
  if (!grants.ok()) return grants.status();
  const absl::Time now = clock_->Now();
  const ClassSet granted =
      lock ? ClassSet()
           : DecideCaseAccess(ctx, v1::CASE_ACTION_READ, scope.record_, *grants, now).classes;
  if (absl::Status p = cases_->Prepare(*txn, ctx, raw_id, following | granted, &scope); !p.ok()) {
    return p;
  }
  // A disclosure is audited with the bases it rests on.
  std::set<std::string> bases;
  for (const v1::GrantRecord& g : *grants) {
    if (!lock && RunningGrant(g, ctx.principal.organisation_id, absl::ToUnixMicros(now))) {
      bases.insert(v1::LawfulBasis_Name(g.lawful_basis()));
    }
  }
  scope.lawful_basis_ = absl::StrJoin(bases, ",");
  absl::Status s = work(scope);
  if (s.ok()) s = cases_->Finish(*txn, scope, audit_action);
  if (!s.ok()) {
    if (absl::IsPermissionDenied(s)) {
      txn.reset();
      cases_->AuditDenial(ctx, scope.hex_id_, audit_action);
    }
    return s;
  }
  return store_->Commit(std::move(txn));
}

std::vector<v1::Disclosure> LiaisonDoor::Disclosures(CaseScope& scope, absl::string_view pseudonym) {
  std::vector<v1::Disclosure> out;
  absl::StatusOr<std::vector<v1::GrantRecord>> grants = LoadGrants(*scope.txn_, scope.raw_id_);
  if (!grants.ok()) return out;
  for (const v1::GrantRecord& g : *grants) {
    if (g.grantee_organisation_id() != scope.context().principal.organisation_id) continue;
    out.push_back(DisclosureOf(g, pseudonym, scope.now_micros_));
  }
  return out;
}

absl::StatusOr<v1::Disclosure> LiaisonDoor::RequestDisclosure(
    const RequestContext& ctx, const v1::RequestDisclosureRequest& request, absl::Duration longest) {
  using C = v1::ConfidentialityClass;
  const ClassSet disclosable = ClassSet::Of(
      {C::CONFIDENTIALITY_IDENTIFYING, C::CONFIDENTIALITY_LOCATION, C::CONFIDENTIALITY_NARRATIVE});
  ClassSet classes;
  for (int c : request.classes()) {
    if (!v1::ConfidentialityClass_IsValid(c) ||
        !disclosable.Contains(static_cast<v1::ConfidentialityClass>(c))) {
      return absl::InvalidArgumentError(
          "classes may hold only IDENTIFYING, LOCATION and NARRATIVE (health is never disclosed "
          "to law enforcement)");
    }
    classes.Add(static_cast<v1::ConfidentialityClass>(c));
  }
  if (classes.empty()) return absl::InvalidArgumentError("classes: name at least one class");
  const v1::LawfulBasis basis = request.lawful_basis();
  if (basis != v1::LAWFUL_BASIS_CONSENT && basis != v1::LAWFUL_BASIS_JUDICIAL_ORDER) {
    return absl::InvalidArgumentError(
        "lawful_basis: a disclosure rests on CONSENT (the subject's, to co-operate with law "
        "enforcement) or a JUDICIAL_ORDER");
  }
  if (absl::Status b = CheckLawfulBasis(basis, request.basis_detail()); !b.ok()) return b;
  const std::string purpose = request.purpose().empty() ? "investigation" : request.purpose();
  if (!IsValidPurpose(purpose)) {
    return absl::InvalidArgumentError(
        "purpose must be a token of 1 to 64 characters [a-z0-9_-], starting with a letter");
  }
  const absl::Time now = clock_->Now();
  const absl::Time expire =
      request.has_expire_time() ? FromTimestamp(request.expire_time()) : now + longest;
  if (expire <= now || expire > now + longest) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expire_time must be in the future and within ", absl::FormatDuration(longest)));
  }
  v1::Disclosure result;
  absl::Status s = WithFollowedCase(
      ctx, request.pseudonym(), v1::CASE_ACTION_UPDATE, "liaison.request_disclosure",
      [&](CaseScope& scope) -> absl::Status {
        v1::GrantRecord draft;
        draft.set_grantee_organisation_id(ctx.principal.organisation_id);
        draft.set_purpose(purpose);
        for (auto c : classes.ToVector()) draft.add_classes(c);
        draft.add_actions(v1::CASE_ACTION_READ);
        draft.set_expire_time_micros(absl::ToUnixMicros(expire));
        draft.set_lawful_basis(basis);
        // Every disclosure to law enforcement waits for a supervisor of the
        // owning organisation, whatever its basis.
        draft.set_awaiting_approval(true);
        if (basis == v1::LAWFUL_BASIS_CONSENT) {
          absl::StatusOr<bool> consented =
              scope.HasConsent(v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT);
          if (!consented.ok()) return consented.status();
          if (!*consented) {
            return absl::FailedPreconditionError(
                "no consent of the subject to co-operate with law enforcement is in force: ask "
                "under a judicial order");
          }
          draft.set_consent_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT);
        }
        scope.set_lawful_basis(v1::LawfulBasis_Name(basis));
        absl::StatusOr<v1::Grant> added =
            scope.AddGrant(draft, DescribeBasis(basis, request.basis_detail()));
        if (!added.ok()) return added.status();
        CaseScope::Addressee supervisors;
        supervisors.organisation_id = scope.record().owning_organisation_id();
        if (absl::Status a = scope.RaiseAlert(v1::ALERT_KIND_DISCLOSURE_APPROVAL_NEEDED,
                                              {scope.case_id()}, supervisors);
            !a.ok()) {
          return a;
        }
        absl::StatusOr<std::string> raw_grant = ParseId(added->id(), "grant id");
        if (!raw_grant.ok()) return raw_grant.status();
        draft.set_id(*raw_grant);
        draft.set_create_time_micros(scope.now_micros_);
        result = DisclosureOf(draft, request.pseudonym(), scope.now_micros_);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<std::string> LiaisonDoor::Introduce(const RequestContext& ctx,
                                                   absl::string_view case_id,
                                                   absl::string_view agency_id,
                                                   v1::LawfulBasis basis,
                                                   const v1::BasisDetail& detail) {
  if (basis != v1::LAWFUL_BASIS_CONSENT && basis != v1::LAWFUL_BASIS_LEGAL_OBLIGATION &&
      basis != v1::LAWFUL_BASIS_JUDICIAL_ORDER) {
    return absl::InvalidArgumentError(
        "lawful_basis: a case is made known to law enforcement under CONSENT, a "
        "LEGAL_OBLIGATION or a JUDICIAL_ORDER");
  }
  if (absl::Status b = CheckLawfulBasis(basis, detail); !b.ok()) return b;
  absl::StatusOr<std::string> raw_agency = ParseId(agency_id, "agency_organisation_id");
  if (!raw_agency.ok()) return raw_agency.status();
  const std::string agency = ToHex(*raw_agency);
  {
    absl::StatusOr<std::optional<std::string>> org = store_->Get(Cf::kOrganisations, agency);
    if (!org.ok()) return org.status();
    v1::Organisation parsed;
    if (!org->has_value() || !parsed.ParseFromString(**org) ||
        parsed.type() != v1::ORGANISATION_TYPE_LAW_ENFORCEMENT) {
      return absl::InvalidArgumentError(
          "agency_organisation_id must name a law-enforcement organisation");
    }
  }
  std::string pseudonym;
  absl::Status s = cases_->WithCase(
      ctx, case_id, v1::CASE_ACTION_SHARE, "liaison.introduce", [&](CaseScope& scope) -> absl::Status {
        if (basis == v1::LAWFUL_BASIS_CONSENT) {
          absl::StatusOr<bool> consented =
              scope.HasConsent(v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT);
          if (!consented.ok()) return consented.status();
          if (!*consented) {
            return absl::FailedPreconditionError(
                "the subject has not consented to SHARE_WITH_LAW_ENFORCEMENT: record that "
                "consent, or introduce under another lawful basis");
          }
        }
        scope.set_lawful_basis(v1::LawfulBasis_Name(basis));
        bool introduced = false;
        absl::StatusOr<std::string> raw =
            Follow(*scope.txn_, agency, scope.raw_id_, basis, &introduced);
        if (!raw.ok()) return raw.status();
        if (introduced) {  // not for the agency that referred the case
          if (absl::Status a = AppendEvent(
                  *scope.txn_, agency, Event(*raw, v1::LIAISON_EVENT_INTRODUCED, scope.now_micros_));
              !a.ok()) {
            return a;
          }
        }
        if (absl::Status t = scope.AppendTimeline(
                v1::TIMELINE_EVENT_ACCESS_GRANTED,
                absl::StrCat("made known to law-enforcement organisation ", agency, " under ",
                             v1::LawfulBasis_Name(basis), ": administrative and pseudonymous"),
                DescribeBasis(basis, detail));
            !t.ok()) {
          return t;
        }
        pseudonym = PseudonymText(*raw);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return pseudonym;
}

absl::StatusOr<std::vector<v1::LiaisonEvent>> LiaisonDoor::ReadEvents(const RequestContext& ctx,
                                                                     uint64_t after, int limit) {
  AccessQuestion question;
  question.principal = &ctx.principal;
  question.relation = Relation::kLiaison;
  question.action = v1::CASE_ACTION_READ;
  if (Decide(question).empty()) {
    AuditDenial(ctx, "liaison.watch");
    return absl::PermissionDeniedError("only a law-enforcement liaison watches its events");
  }
  const std::string head = AgencyKey(ctx.principal.organisation_id);
  std::string from = head;
  keys::AppendU64(&from, after);
  std::vector<v1::LiaisonEvent> out;
  bool corrupt = false;
  absl::Status s = store_->Scan(
      Cf::kLiaisonEvents, head, from, [&](absl::string_view key, absl::string_view value) {
        absl::string_view rest = key.substr(head.size());
        std::optional<uint64_t> sequence = keys::ConsumeU64(&rest);
        v1::LiaisonEventRecord record;
        if (!sequence.has_value() ||
            !record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          corrupt = true;
          return false;
        }
        v1::LiaisonEvent event;
        event.set_sequence(*sequence);
        event.set_pseudonym(PseudonymText(record.pseudonym()));
        event.set_kind(record.kind());
        *event.mutable_time() = MicrosToTimestamp(record.time_micros());
        event.set_identification_status(record.identification_status());
        out.push_back(std::move(event));
        return static_cast<int>(out.size()) < limit;
      });
  if (!s.ok()) return s;
  if (corrupt) return absl::DataLossError("a liaison event is unreadable");
  // Events after `after` that the retention purge removed are a gap the
  // watcher must hear of, never one it is silently handed.
  if (out.empty() || out.front().sequence() != after + 1) {
    absl::StatusOr<uint64_t> oldest =
        out.empty() ? OldestKept(*store_, head) : absl::StatusOr<uint64_t>(out.front().sequence());
    if (!oldest.ok()) return oldest.status();
    if (after < *oldest - 1) {  // the oldest kept is at least 1
      return absl::OutOfRangeError(absl::StrCat(
          "the events up to sequence ", *oldest - 1,
          " are past the retention period and removed: resume from the oldest kept position, "
          "after_sequence ",
          *oldest - 1));
    }
  }
  if (!out.empty()) {
    std::unique_ptr<storage::Txn> txn = store_->Begin();
    v1::AuditEntry entry = NewAuditEntry(
        ctx, "liaison.watch",
        absl::StrCat("liaison/events/", out.front().sequence(), "-", out.back().sequence()));
    entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
    entry.add_classes(v1::CONFIDENTIALITY_ADMINISTRATIVE);
    txn->Audit(std::move(entry));
    // Nothing is handed over unless its audit entry is written.
    if (absl::Status c = store_->Commit(std::move(txn)); !c.ok()) return c;
  }
  return out;
}

absl::StatusOr<int> LiaisonDoor::RecordDisclosureExpiries() {
  const absl::Time now = clock_->Now();
  const int64_t now_micros = absl::ToUnixMicros(now);
  absl::StatusOr<std::vector<std::string>> due =
      cases_->DueCases(v1::WATCH_KIND_DISCLOSURE_EXPIRY, now);
  if (!due.ok()) return due.status();
  RequestContext system;
  system.principal.id = "system:liaison";
  system.purpose = "liaison-events";
  int told = 0;
  absl::Status s = ChangeEachDueCase(
      *store_, *due, system, "liaison.disclosure_expiry",
      [&](storage::Txn& txn, v1::CaseRecord& record) -> absl::StatusOr<bool> {
        if (record.status() == v1::CASE_STATUS_ERASED) return false;
        const v1::CaseRecord before = record;
        int64_t next = 0;
        absl::StatusOr<int> written =
            TellExpiredDisclosures(txn, record.id(), now_micros, &next);
        if (!written.ok()) return written.status();
        SetExpiryWatch(&record, next);
        if (absl::Status r = cases_->Reindex(txn, before, record); !r.ok()) return r;
        told += *written;
        return true;
      });
  if (!s.ok()) return s;
  return told;
}

absl::StatusOr<int> LiaisonDoor::PurgeEvents(absl::Duration retention) {
  // In pieces of at most kBatch events per transaction, so the job holds a
  // bounded number of keys however long a log is.
  constexpr size_t kBatch = 1000;
  const int64_t cutoff = absl::ToUnixMicros(clock_->Now() - retention);
  RequestContext system;
  system.principal.id = "system:retention";
  system.purpose = "retention";
  int purged = 0;
  // Each agency's log in turn: its head key, then its events in order.
  std::string past_previous;  // sorts after every key of the previous agency
  while (true) {
    std::string agency;
    bool found = false;
    absl::Status s = store_->Scan(Cf::kLiaisonEvents, "", past_previous,
                                  [&](absl::string_view key, absl::string_view) {
                                    std::optional<absl::string_view> id = keys::ConsumeShortString(&key);
                                    if (id.has_value()) agency = std::string(*id);
                                    found = id.has_value();
                                    return false;
                                  });
    if (!s.ok()) return s;
    if (!found) return purged;
    const std::string head = AgencyKey(agency);
    past_previous = head + std::string(8, '\xff');
    for (bool more = true; more;) {
      // The oldest events only: what a log keeps is always its newest part,
      // so a watcher's position is either kept or before the oldest kept.
      std::vector<std::string> old;
      uint64_t first = 0, last = 0;
      more = false;
      bool corrupt = false;
      s = store_->Scan(Cf::kLiaisonEvents, head, head, [&](absl::string_view key, absl::string_view value) {
        v1::LiaisonEventRecord record;
        absl::string_view rest = key.substr(head.size());
        std::optional<uint64_t> sequence = keys::ConsumeU64(&rest);
        if (!sequence.has_value() || !record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          corrupt = true;
          return false;
        }
        if (record.time_micros() >= cutoff) return false;
        if (old.empty()) first = *sequence;
        last = *sequence;
        old.emplace_back(key);
        more = old.size() == kBatch;
        return !more;
      });
      if (!s.ok()) return s;
      if (corrupt) return absl::DataLossError("a liaison event is unreadable");
      if (old.empty()) break;
      std::unique_ptr<storage::Txn> txn = store_->Begin();
      for (const std::string& key : old) {
        if (absl::Status d = txn->Delete(Cf::kLiaisonEvents, key); !d.ok()) return d;
      }
      system.request_id = NewId();
      v1::AuditEntry entry = NewAuditEntry(
          system, "liaison.events_purged", absl::StrCat("liaison/", agency, "/events/", first, "-", last));
      entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
      txn->Audit(std::move(entry));
      if (absl::Status c = store_->Commit(std::move(txn)); !c.ok()) return c;
      purged += static_cast<int>(old.size());
    }
  }
}

LiaisonDoor::Decoy LiaisonDoor::MakeDecoy(const crypto::KeyRing& keys) {
  Decoy decoy;
  decoy.raw_id = NewRawId();
  const crypto::SecretKey data_key = crypto::SecretKey::Random();
  decoy.wrapped_key = keys.WrapDataKey(data_key, crypto::KeyDomain::kCase, decoy.raw_id);
  CaseScope probe;  // for the record's key only
  probe.raw_id_ = decoy.raw_id;
  decoy.consent_key =
      probe.DataKey(RecordKind::kConsent, ConsentRecordId(v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT));
  v1::Consent consent;  // about the size of a consent on file
  consent.set_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT);
  consent.set_language("en");
  consent.set_recorded_by(NewId());
  *consent.mutable_record_time() = MicrosToTimestamp(int64_t{1'700'000'000} * 1'000'000);
  decoy.consent_key_material = data_key;
  decoy.sealed_consent = crypto::Seal(data_key, SerializeKnownFields(consent), decoy.consent_key);
  return decoy;
}

absl::Status LiaisonDoor::OpenDecoyConsent() const {
  absl::StatusOr<std::string> plain =
      crypto::Open(decoy_.consent_key_material, decoy_.sealed_consent, decoy_.consent_key);
  if (!plain.ok()) return plain.status();
  v1::Consent consent;
  if (!consent.ParseFromString(*plain)) return absl::DataLossError("the decoy consent is unreadable");
  return absl::OkStatus();
}

absl::Status LiaisonDoor::ReadLikeACandidate(storage::Txn& txn) const {
  if (absl::StatusOr<std::optional<std::string>> r = txn.Get(Cf::kCases, decoy_.raw_id); !r.ok()) {
    return r.status();
  }
  if (absl::StatusOr<std::vector<v1::GrantRecord>> g = LoadGrants(txn, decoy_.raw_id); !g.ok()) {
    return g.status();
  }
  if (absl::StatusOr<std::optional<std::string>> k = txn.Get(Cf::kCaseKeys, decoy_.raw_id); !k.ok()) {
    return k.status();
  }
  if (absl::StatusOr<crypto::SecretKey> key = keys_->UnwrapDataKey(decoy_.wrapped_key, crypto::KeyDomain::kCase, decoy_.raw_id);
      !key.ok()) {
    return key.status();
  }
  if (absl::StatusOr<std::optional<std::string>> c = txn.Get(Cf::kCaseData, decoy_.consent_key);
      !c.ok()) {
    return c.status();
  }
  return OpenDecoyConsent();
}

absl::StatusOr<bool> LiaisonDoor::AskNonPunishment(const RequestContext& ctx,
                                                   absl::string_view pseudonym,
                                                   const std::vector<std::string>& name_keys) {
  constexpr absl::string_view kAction = "liaison.non_punishment";
  AccessQuestion question;
  question.principal = &ctx.principal;
  question.relation = Relation::kLiaison;
  question.action = v1::CASE_ACTION_READ;
  if (Decide(question).empty()) {
    AuditDenial(ctx, kAction);
    return absl::PermissionDeniedError("only a law-enforcement liaison asks through LiaisonService");
  }
  const std::string& agency = ctx.principal.organisation_id;
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  // The candidate cases: the one the agency holds under the pseudonym, or
  // those indexed under every name key (each key's range read in full,
  // whatever the ones before found).
  std::vector<std::string> candidates;
  if (!pseudonym.empty()) {
    absl::StatusOr<std::string> raw_pseudonym = ParsePseudonym(pseudonym);
    if (!raw_pseudonym.ok()) return raw_pseudonym.status();
    absl::StatusOr<std::optional<std::string>> raw_case =
        txn->Get(Cf::kLiaisonPseudonyms, AgencyKey(agency) + *raw_pseudonym);
    if (!raw_case.ok()) return raw_case.status();
    if (raw_case->has_value()) candidates.push_back(**raw_case);
  } else {
    std::set<std::string> matched;
    bool first = true;
    for (const std::string& name_key : name_keys) {
      const std::string prefix = cases_->NameIndexKey(name_key);
      std::set<std::string> these;
      absl::Status s = txn->Scan(Cf::kNameIndex, prefix, "", [&](absl::string_view key, absl::string_view) {
        these.insert(std::string(key.substr(prefix.size())));
        return these.size() < 4096;
      });
      if (!s.ok()) return s;
      if (first) {
        matched = std::move(these);
        first = false;
      } else {
        std::set<std::string> both;
        std::set_intersection(matched.begin(), matched.end(), these.begin(), these.end(),
                              std::inserter(both, both.begin()));
        matched = std::move(both);
      }
    }
    for (const std::string& raw : matched) {
      if (static_cast<int>(candidates.size()) >= kMaxNonPunishmentCandidates) break;
      candidates.push_back(raw);
    }
  }
  const int64_t now = absl::ToUnixMicros(clock_->Now());
  bool answer = false;
  // Every candidate costs the same reads and cryptography whatever it holds
  // (its grants, its key, its consent opened, the decoy's when it has none),
  // and the decoy pads them to kNonPunishmentSlots, each with an audit entry
  // like a case's: "no such person" takes the work of "a person, and no".
  for (const std::string& raw_id : candidates) {
    CaseScope scope;
    absl::StatusOr<std::optional<std::string>> stored = txn->Get(Cf::kCases, raw_id);
    if (!stored.ok()) return stored.status();
    if (!stored->has_value() || !scope.record_.ParseFromString(**stored) ||
        scope.record_.status() == v1::CASE_STATUS_ERASED) {
      if (absl::Status d = ReadLikeACandidate(*txn); !d.ok()) return d;
      continue;
    }
    // Allowed: the subject consented to share with law enforcement, or a
    // grant to this agency rests on a recorded basis. Read whole, disclosed
    // to no one but as this yes.
    absl::StatusOr<std::vector<v1::GrantRecord>> grants = LoadGrants(*txn, raw_id);
    if (!grants.ok()) return grants.status();
    bool granted = false;
    for (const v1::GrantRecord& g : *grants) granted = granted || RunningGrant(g, agency, now);
    // The scope sees nothing; it only reads the consent for this decision.
    if (absl::Status p = cases_->Prepare(*txn, ctx, raw_id, ClassSet(), &scope); !p.ok()) return p;
    absl::StatusOr<CaseScope::ConsentState> consent =
        scope.ConsentFor(v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT);
    if (!consent.ok()) return consent.status();
    if (*consent == CaseScope::ConsentState::kNotRecorded) {
      if (absl::Status d = OpenDecoyConsent(); !d.ok()) return d;
    }
    const bool allowed = granted || *consent == CaseScope::ConsentState::kGiven;
    const bool yes = allowed && PresumedOrConfirmed(scope.record_.identification_status());
    answer = answer || yes;
    v1::AuditEntry entry = NewAuditEntry(ctx, kAction, absl::StrCat("cases/", ToHex(raw_id)));
    entry.set_case_id(ToHex(raw_id));
    entry.set_outcome(allowed ? v1::AUDIT_OUTCOME_ALLOWED : v1::AUDIT_OUTCOME_DENIED);
    if (allowed) entry.add_classes(v1::CONFIDENTIALITY_ADMINISTRATIVE);
    txn->Audit(std::move(entry));
  }
  for (size_t i = candidates.size(); i < kNonPunishmentSlots; ++i) {
    if (absl::Status d = ReadLikeACandidate(*txn); !d.ok()) return d;
    // Its entry, in place of a case's: the write costs the same too.
    v1::AuditEntry entry = NewAuditEntry(ctx, kAction, "liaison/non-punishment/no-case");
    entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
    txn->Audit(std::move(entry));
  }
  // The ask itself, whatever it found: no name, no pseudonym, no answer.
  v1::AuditEntry ask = NewAuditEntry(ctx, kAction, "liaison/non-punishment");
  ask.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  txn->Audit(std::move(ask));
  if (absl::Status c = store_->Commit(std::move(txn)); !c.ok()) return c;
  return answer;
}

}  // namespace haven::access
