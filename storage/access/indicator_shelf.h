// IndicatorShelf: the stored versions of the trafficking indicator sets; no
// personal data.
//
// A version, once stored, stays as it is, so that the versions screenings
// cite stay readable after newer ones ship.
//
// Thread-safe. Does not own the store, which must outlive it.
#ifndef HAVEN_STORAGE_ACCESS_INDICATOR_SHELF_H_
#define HAVEN_STORAGE_ACCESS_INDICATOR_SHELF_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "haven/v1/identification.pb.h"

namespace haven::storage {
class Store;
}

namespace haven::access {

class IndicatorShelf {
 public:
  explicit IndicatorShelf(storage::Store* store) : store_(store) {}

  // Stores, in one transaction, each of `sets` whose version is not stored
  // yet. FAILED_PRECONDITION, storing none of them, when one differs from
  // the set stored under the same id and version: a changed set needs a new
  // version number.
  absl::Status StoreNewVersions(const std::vector<haven::v1::IndicatorSet>& sets);

  // Every stored version, each set's in ascending order. DATA_LOSS when one
  // is unreadable.
  absl::StatusOr<std::vector<haven::v1::IndicatorSet>> LoadAll() const;

 private:
  storage::Store* store_;
};

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_INDICATOR_SHELF_H_
