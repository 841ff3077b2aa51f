// What the CaseDoor's source files share among themselves; not for services.
#ifndef HAVEN_STORAGE_ACCESS_CASE_DOOR_PARTS_H_
#define HAVEN_STORAGE_ACCESS_CASE_DOOR_PARTS_H_

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "haven/v1/case.pb.h"
#include "haven/v1/records.pb.h"
#include "storage/access/policy.h"
#include "storage/access/principal.h"
#include "storage/store.h"

namespace haven::access {

class CaseWriter;

// The answer to a case that does not exist and to a caller who may not
// know that it does: the same words for both.
absl::Status NotFoundCase();

// The subject's age in whole years at `now`, from the date of birth or else
// the estimated age; -1 when neither is known.
int AgeOf(const haven::v1::Subject& subject, absl::Time now);

// Clears the summary and detail of a timeline event whose subject (its
// `about` class, or its kind's) the caller may not see.
void WithholdTimelineEvent(haven::v1::TimelineEvent* event, ClassSet visible);

// Deletes from `cf` the keys of `before` that are not in `after`, and puts
// (with empty values) those of `after` that are not in `before`.
absl::Status ReplaceIndexKeys(storage::Txn& txn, storage::Cf cf,
                              const std::set<std::string>& before,
                              const std::set<std::string>& after);

// Contacts' storage, shared by the ContactDoor and a case's erasure:
// The index prefix of the contacts escalated to a case (hex id).
std::string ContactsOfCasePrefix(absl::string_view case_id);
// Writes `after` in place of `before` in `txn`, with its index keys.
absl::Status PutContact(storage::Txn& txn, const haven::v1::ContactRecord& before,
                        const haven::v1::ContactRecord& after);
// `record` without its personal data, which is destroyed at `now`: the
// sealed details, their data key and the phone's blind index go; what is
// left names no one.
haven::v1::ContactRecord WithoutDetails(haven::v1::ContactRecord record, absl::Time now);
// Adds the key ranges that held `record` as it was before its details were
// destroyed, for Store::PurgePrefixes.
void AddPurgeRanges(const haven::v1::ContactRecord& record,
                    std::vector<std::pair<storage::Cf, std::string>>* ranges);

// Destroys, in `txn`, what an erased case leaves beside its sealed records:
// its data key, grants and their index entries, the personal data of the
// hotline contacts escalated to it, and (in *after) every key derived from
// the person and every person who worked on it; and queues the key ranges
// that held them all for CaseDoor::PurgeErasedCases. `before` is the record
// as it was indexed.
absl::Status ForgetErasedCase(storage::Txn& txn, const RequestContext& ctx, absl::Time now,
                              const haven::v1::CaseRecord& before, haven::v1::CaseRecord* after);

// A system job's pass over `due` (raw case ids, from CaseDoor::DueCases):
// each case in a transaction of its own, locked and read again; `change`
// edits the record (false: nothing to do now, nothing written), which is
// then stored with an audit entry `action` by `system` (a fresh request id
// per case). Stops at the first error.
absl::Status ChangeEachDueCase(
    storage::Store& store, const std::vector<std::string>& due, RequestContext system,
    absl::string_view action,
    const std::function<absl::StatusOr<bool>(storage::Txn&, haven::v1::CaseRecord&)>& change);

// Every grant of a case, live or not.
absl::StatusOr<std::vector<haven::v1::GrantRecord>> LoadGrants(storage::Txn& txn,
                                                              absl::string_view raw_case_id);

// Appends, in `txn`, to the event log of every law-enforcement agency that
// follows the case, what changed from `before` to `after` (accepted,
// identification status, closed, reopened, erased): pseudonym, kind and
// time only. A new case (`before` without id) reports nothing here.
// liaison_door.cc.
absl::Status RecordLiaisonEvents(storage::Txn& txn, const haven::v1::CaseRecord& before,
                                 const haven::v1::CaseRecord& after, int64_t now_micros);
// Ends, in `txn`, every agency's following of the case that rests on the
// consent for `purpose` (refused or withdrawn): its pseudonym leads nowhere
// and its log gets WITHDRAWN. liaison_door.cc.
absl::Status EndLiaisonFollowsOnConsent(storage::Txn& txn, absl::string_view raw_case_id,
                                        haven::v1::ConsentPurpose purpose, int64_t now_micros);
// Tells a grantee organisation that follows the case, in `txn`, that a grant
// to it was approved or ended (DISCLOSURE_APPROVED or DISCLOSURE_ENDED);
// nothing for one that does not follow it. An approved one's expiry is
// watched on `scope`'s case (WATCH_KIND_DISCLOSURE_EXPIRY), to be told in
// turn (LiaisonDoor::RecordDisclosureExpiries). liaison_door.cc.
absl::Status RecordLiaisonDisclosureEvent(storage::Txn& txn, CaseWriter& scope,
                                          absl::string_view raw_case_id,
                                          const haven::v1::GrantRecord& grant, bool approved);

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_CASE_DOOR_PARTS_H_
