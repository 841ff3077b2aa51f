// Where the access layer keeps its records in the store: the key layouts its parts
// and its migration share. Not for services.
#ifndef HAVEN_STORAGE_ACCESS_LAYOUT_H_
#define HAVEN_STORAGE_ACCESS_LAYOUT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "haven/v1/case.pb.h"
#include "haven/v1/records.pb.h"
#include "storage/crypto.h"
#include "storage/store.h"

namespace haven::access {

class CaseDoor;

// Where an alert is kept in Cf::kAlerts: under its addressee ('u' user, 'o'
// organisation, 'a' every competent authority; behind 'r' once resolved),
// its creation time and its id; 'i' + raw id points at that key.
std::string AlertKey(const haven::v1::Alert& alert, bool resolved);
absl::Status PutAlert(storage::Txn& txn, const haven::v1::Alert& alert, bool resolved);

// The prefix in Cf::kCaseIndex of an organisation's own cases under a
// blinded name key ('n'): a search finds its namesakes without reading
// another organisation's entries.
std::string OwnNameKey(absl::string_view organisation_id, absl::string_view blinded_name_key);

// The key in Cf::kCaseIndex that lists an open case under its owning
// organisation's deadlines ('D').
std::string DeadlineKey(absl::string_view organisation_id, int64_t deadline_micros,
                        absl::string_view raw_case_id);

// The keys in Cf::kCaseIndex of a case's watch ('W', kind, owning
// organisation, due time, case id) and of an organisation's watches of a kind.
std::string WatchPrefix(haven::v1::WatchKind kind, absl::string_view organisation_id);
std::string WatchKey(haven::v1::WatchKind kind, absl::string_view organisation_id,
                     int64_t due_micros, absl::string_view raw_case_id);

// The keys in Cf::kCaseIndex of the directory services a case's open plan
// items wait on: 'S' + service id + raw case id -> until when (u64 micros),
// for the provider's side; 's' + raw case id + service id -> "", for the
// case's. Ids and times only.
std::string AwaitedServicePrefix(absl::string_view service_id);
std::string AwaitedByCasePrefix(absl::string_view raw_case_id);

// Alerts (`kind`, about the case alone), in `txn`, the user a watch names
// when `addressee_user_id` is given, else the caseworkers assigned to the
// case, else its organisation's supervisors. Ids only.
absl::Status AlertCaseworkers(storage::Txn& txn, haven::v1::AlertKind kind,
                              const haven::v1::CaseRecord& record,
                              absl::string_view addressee_user_id, absl::Time now);

// The key in Cf::kUsersByOrganisation that lists a user under its organisation.
std::string UserByOrganisationKey(absl::string_view organisation_id, absl::string_view user_id);

// Brings a store written by an earlier havend to kSchemaVersion's layout;
// each step can run again after a crash.
absl::Status MigrateStore(storage::Store& store);
// Version 2 to 3, once the doors are open: statistics records of erased
// cases move from the case's id to a random statistics id, and every other
// case gets its statistics record.
absl::Status MigrateStatistics(storage::Store& store, const crypto::KeyRing& keys,
                               CaseDoor& door);
// Version 3 to 4: contacts are indexed by the case they were escalated to,
// and each erased case forgets what an earlier havend kept beside it (see
// ForgetErasedCase), as a system job at `now`.
absl::Status MigrateErasures(storage::Store& store, absl::Time now);

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_LAYOUT_H_
