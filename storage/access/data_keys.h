// Data keys in their stored form (v1::WrappedKey), and their re-wrapping
// under the newest wrap-key epoch by `havend rotate-keys`.
#ifndef HAVEN_STORAGE_ACCESS_DATA_KEYS_H_
#define HAVEN_STORAGE_ACCESS_DATA_KEYS_H_

#include <cstdint>
#include <map>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "haven/v1/records.pb.h"
#include "storage/crypto.h"

namespace haven::storage {
class Store;
}

namespace haven::access {

haven::v1::WrappedKey WrapKey(const crypto::KeyRing& keys, const crypto::SecretKey& data_key,
                              crypto::KeyDomain domain, absl::string_view raw_id);
absl::StatusOr<crypto::SecretKey> UnwrapKey(const crypto::KeyRing& keys,
                                            const haven::v1::WrappedKey& wrapped,
                                            crypto::KeyDomain domain, absl::string_view raw_id);

// How many stored data keys (cases' and contacts') each epoch wraps.
absl::StatusOr<std::map<uint32_t, uint64_t>> CountDataKeysByEpoch(storage::Store& store);

// Re-wraps every stored data key not under keys.newest_epoch() under it,
// `batch` keys to a transaction (each batch atomic, audited as
// "keys.rewrap"), then purges the old wraps from the files. Resumable: a
// run after a crash finds what is left. Returns how many it re-wrapped.
absl::StatusOr<uint64_t> RewrapDataKeys(storage::Store& store, const crypto::KeyRing& keys,
                                        int batch = 256);

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_DATA_KEYS_H_
