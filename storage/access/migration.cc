// The store's migration: rewrites what an earlier havend stored into this one's layout.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "haven/v1/records.pb.h"
#include "storage/access/case_door.h"
#include "storage/access/case_door_parts.h"
#include "storage/access/layout.h"
#include "storage/ids.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

constexpr int kBatch = 500;

// Visits every key of `prefix` in `cf`, giving `change` a transaction that
// is committed every kBatch keys and at the end.
absl::Status RewriteEach(
    storage::Store& store, Cf cf, absl::string_view prefix,
    const std::function<absl::Status(storage::Txn&, absl::string_view, absl::string_view)>& change) {
  std::unique_ptr<storage::Txn> txn = store.Begin();
  int pending = 0;
  absl::Status failure;
  absl::Status s = store.Scan(cf, prefix, "", [&](absl::string_view key, absl::string_view value) {
    failure = change(*txn, key, value);
    if (failure.ok() && ++pending == kBatch) {
      failure = store.Commit(std::move(txn));
      txn = store.Begin();
      pending = 0;
    }
    return failure.ok();
  });
  if (!s.ok()) return s;
  if (!failure.ok()) return failure;
  return store.Commit(std::move(txn));
}

// Version 1 to 2: alerts move under their addressee, deadlines and names
// are indexed per organisation, users by organisation.
absl::Status ToVersion2(storage::Store& store) {
  // Every case's index keys as this havend writes them.
  absl::Status s = RewriteEach(store, Cf::kCases, "", [](storage::Txn& txn, absl::string_view,
                                                       absl::string_view value) {
    v1::CaseRecord record;
    if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return absl::DataLossError("a case record is unreadable");
    }
    for (const std::string& key : CaseIndexKeys(record)) {
      if (absl::Status p = txn.Put(Cf::kCaseIndex, key, ""); !p.ok()) return p;
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  // The global deadline list ('d' + time + case) goes.
  s = RewriteEach(store, Cf::kCaseIndex, "d", [](storage::Txn& txn, absl::string_view key,
                                                absl::string_view) {
    return txn.Delete(Cf::kCaseIndex, key);
  });
  if (!s.ok()) return s;
  // Alerts were kept by time alone (a u64 whose first byte is 0 until 2284).
  s = RewriteEach(store, Cf::kAlerts, std::string(1, '\0'),
                  [](storage::Txn& txn, absl::string_view key, absl::string_view value) {
                    v1::Alert alert;
                    if (!alert.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                      return absl::DataLossError("an alert is unreadable");
                    }
                    if (absl::Status p = PutAlert(txn, alert, false); !p.ok()) return p;
                    return txn.Delete(Cf::kAlerts, key);
                  });
  if (!s.ok()) return s;
  return RewriteEach(store, Cf::kUsers, "", [](storage::Txn& txn, absl::string_view,
                                              absl::string_view value) {
    v1::UserRecord user;
    if (!user.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return absl::DataLossError("a user record is unreadable");
    }
    return txn.Put(Cf::kUsersByOrganisation,
                   UserByOrganisationKey(user.organisation_id(), user.id()), "");
  });
}

}  // namespace

absl::Status MigrateStatistics(storage::Store& store, const crypto::KeyRing& keys,
                               CaseDoor& door) {
  if (store.schema_version() >= 3) return absl::OkStatus();
  // An erased case's statistics record was keyed by the case's raw id: it
  // moves to a fresh random id (only records still under an erased case's
  // id, so that running again after a crash moves nothing twice).
  absl::Status s = RewriteEach(
      store, Cf::kCaseStatistics, "",
      [&](storage::Txn& txn, absl::string_view key, absl::string_view value) -> absl::Status {
        absl::StatusOr<std::optional<std::string>> stored = txn.Get(Cf::kCases, key);
        if (!stored.ok()) return stored.status();
        v1::CaseRecord record;
        if (!stored->has_value() || !record.ParseFromString(**stored) ||
            record.status() != v1::CASE_STATUS_ERASED) {
          return absl::OkStatus();
        }
        absl::StatusOr<std::string> plain =
            keys.OpenStatistics(value, absl::StrCat("statistics:", key));
        if (!plain.ok()) return plain.status();
        const std::string id = NewRawId();
        if (absl::Status p = txn.Put(Cf::kCaseStatistics, id,
                                     keys.SealStatistics(*plain, absl::StrCat("statistics:", id)));
            !p.ok()) {
          return p;
        }
        return txn.Delete(Cf::kCaseStatistics, key);
      });
  if (!s.ok()) return s;
  // Every other case gets its record, counted from what it holds.
  std::vector<std::string> cases;
  s = store.Scan(Cf::kCases, "", "", [&](absl::string_view key, absl::string_view) {
    cases.emplace_back(key);
    return true;
  });
  if (!s.ok()) return s;
  for (const std::string& raw : cases) {
    if (absl::Status r = door.RecountStatistics(raw); !r.ok()) return r;
  }
  return store.SetSchemaVersion(3);
}

absl::Status MigrateErasures(storage::Store& store, absl::Time now) {
  if (store.schema_version() >= 4) return absl::OkStatus();
  absl::Status s = RewriteEach(store, Cf::kContacts, "", [](storage::Txn& txn, absl::string_view,
                                                          absl::string_view value) {
    v1::ContactRecord contact;
    if (!contact.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return absl::DataLossError("a contact record is unreadable");
    }
    if (contact.case_id().empty()) return absl::OkStatus();
    return txn.Put(Cf::kContactIndex, ContactsOfCasePrefix(contact.case_id()) + contact.id(), "");
  });
  if (!s.ok()) return s;
  RequestContext system;
  system.principal.id = "system:migration";
  system.purpose = "erasure";
  system.request_id = NewId();
  s = RewriteEach(store, Cf::kCases, "", [&](storage::Txn& txn, absl::string_view key,
                                            absl::string_view value) -> absl::Status {
    v1::CaseRecord record;
    if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return absl::DataLossError("a case record is unreadable");
    }
    if (record.status() != v1::CASE_STATUS_ERASED) return absl::OkStatus();
    v1::CaseRecord after = record;
    if (absl::Status f = ForgetErasedCase(txn, system, now, record, &after); !f.ok()) return f;
    return txn.Put(Cf::kCases, key, after.SerializeAsString());
  });
  if (!s.ok()) return s;
  return store.SetSchemaVersion(4);
}

absl::Status MigrateStore(storage::Store& store) {
  if (store.schema_version() < 2) {
    if (absl::Status s = ToVersion2(store); !s.ok()) return s;
    if (absl::Status s = store.SetSchemaVersion(2); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace haven::access
