// Data keys in their stored form, and their re-wrapping.
#include "storage/access/data_keys.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/access/case_door.h"
#include "storage/store.h"

namespace haven::access {
namespace {

using storage::Cf;

crypto::WrappedDataKey FromProto(const v1::WrappedKey& wrapped) {
  crypto::WrappedDataKey out;
  out.epoch = wrapped.epoch();
  out.associated_data_version = wrapped.associated_data_version();
  out.sealed = wrapped.sealed_key();
  return out;
}

// Where data keys are stored: cases' in their own column family, contacts'
// inside the contact record.
struct KeyPlace {
  Cf cf;
  crypto::KeyDomain domain;
  // The wrapped key within a stored value; null when the value holds none.
  v1::WrappedKey* (*find)(const std::string& value, v1::ContactRecord* contact,
                          v1::WrappedKey* alone);
  std::string (*store)(const v1::ContactRecord& contact, const v1::WrappedKey& alone);
};

const KeyPlace kPlaces[] = {
    {Cf::kCaseKeys, crypto::KeyDomain::kCase,
     [](const std::string& value, v1::ContactRecord*, v1::WrappedKey* alone) {
       return alone->ParseFromString(value) ? alone : nullptr;
     },
     [](const v1::ContactRecord&, const v1::WrappedKey& alone) { return alone.SerializeAsString(); }},
    {Cf::kContacts, crypto::KeyDomain::kContact,
     [](const std::string& value, v1::ContactRecord* contact, v1::WrappedKey*) {
       return contact->ParseFromString(value) && contact->has_data_key()
                  ? contact->mutable_data_key()
                  : nullptr;
     },
     [](const v1::ContactRecord& contact, const v1::WrappedKey&) {
       return contact.SerializeAsString();
     }},
};

// Visits every stored wrapped key in `place`.
absl::Status ForEachKey(storage::Store& store, const KeyPlace& place,
                        const std::function<bool(absl::string_view id, const v1::WrappedKey&)>& visit) {
  return store.Scan(place.cf, "", "", [&](absl::string_view id, absl::string_view value) {
    v1::ContactRecord contact;
    v1::WrappedKey alone;
    const v1::WrappedKey* wrapped = place.find(std::string(value), &contact, &alone);
    return wrapped == nullptr || visit(id, *wrapped);
  });
}

}  // namespace

v1::WrappedKey WrapKey(const crypto::KeyRing& keys, const crypto::SecretKey& data_key,
                       crypto::KeyDomain domain, absl::string_view raw_id) {
  crypto::WrappedDataKey sealed = keys.WrapDataKey(data_key, domain, raw_id);
  v1::WrappedKey out;
  out.set_epoch(sealed.epoch);
  out.set_associated_data_version(sealed.associated_data_version);
  out.set_sealed_key(std::move(sealed.sealed));
  return out;
}

absl::StatusOr<crypto::SecretKey> UnwrapKey(const crypto::KeyRing& keys,
                                            const v1::WrappedKey& wrapped,
                                            crypto::KeyDomain domain, absl::string_view raw_id) {
  return keys.UnwrapDataKey(FromProto(wrapped), domain, raw_id);
}

absl::StatusOr<std::map<uint32_t, uint64_t>> CountDataKeysByEpoch(storage::Store& store) {
  std::map<uint32_t, uint64_t> counts;
  for (const KeyPlace& place : kPlaces) {
    absl::Status s = ForEachKey(store, place, [&](absl::string_view, const v1::WrappedKey& w) {
      ++counts[w.epoch() == 0 ? 1 : w.epoch()];
      return true;
    });
    if (!s.ok()) return s;
  }
  return counts;
}

absl::StatusOr<uint64_t> RewrapDataKeys(storage::Store& store, const crypto::KeyRing& keys,
                                        int batch) {
  const uint32_t newest = keys.newest_epoch();
  uint64_t rewrapped = 0;
  for (const KeyPlace& place : kPlaces) {
    for (;;) {
      std::vector<std::string> ids;
      absl::Status s = ForEachKey(store, place, [&](absl::string_view id, const v1::WrappedKey& w) {
        if (w.epoch() != newest) ids.emplace_back(id);
        return ids.size() < static_cast<size_t>(batch);
      });
      if (!s.ok()) return s;
      if (ids.empty()) break;
      std::unique_ptr<storage::Txn> txn = store.Begin();
      for (const std::string& id : ids) {
        absl::StatusOr<std::optional<std::string>> value = txn->GetForUpdate(place.cf, id);
        if (!value.ok()) return value.status();
        if (!value->has_value()) continue;  // erased meanwhile
        v1::ContactRecord contact;
        v1::WrappedKey alone;
        v1::WrappedKey* wrapped = place.find(**value, &contact, &alone);
        if (wrapped == nullptr) return absl::DataLossError("a stored data key is unreadable");
        if (wrapped->epoch() == newest) continue;
        absl::StatusOr<crypto::SecretKey> key = UnwrapKey(keys, *wrapped, place.domain, id);
        if (!key.ok()) return key.status();
        *wrapped = WrapKey(keys, *key, place.domain, id);
        if (absl::Status put = txn->Put(place.cf, id, place.store(contact, alone)); !put.ok()) {
          return put;
        }
        ++rewrapped;
      }
      v1::AuditEntry entry;
      entry.set_principal_id("system:rotate-keys");
      entry.set_action("keys.rewrap");
      entry.set_record(absl::StrCat(storage::CfName(place.cf), "/*"));
      entry.set_purpose("key-rotation");
      entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
      txn->Audit(std::move(entry));
      if (absl::Status c = store.Commit(std::move(txn)); !c.ok()) return c;
    }
    // The old wraps leave the files, so that no copy taken from now on
    // holds them.
    if (absl::Status s = store.PurgePrefixes({{place.cf, ""}}); !s.ok()) return s;
  }
  return rewrapped;
}

}  // namespace haven::access
