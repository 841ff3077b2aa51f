// StatisticsShelf: the statistics door, the only reader of the statistics
// records (Cf::kCaseStatistics): non-identifying attributes of every case,
// sealed with the statistics key under random statistics ids that no case
// id leads to, so that they can be counted without opening any case and
// survive erasure. Only analysts read them, and every read is audited
// before anything is read.
//
// Thread-safe. Does not own the store or the key ring.
#ifndef HAVEN_STORAGE_ACCESS_STATISTICS_SHELF_H_
#define HAVEN_STORAGE_ACCESS_STATISTICS_SHELF_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "haven/v1/records.pb.h"
#include "storage/access/principal.h"
#include "storage/crypto.h"

namespace haven::storage {
class Store;
}

namespace haven::access {

// Whether `principal` may read statistics: analysts only (who read no
// case), never with a password still to change.
bool MayReadStatistics(const Principal& principal);

class StatisticsShelf {
 public:
  StatisticsShelf(storage::Store* store, const crypto::KeyRing* keys) : store_(store), keys_(keys) {}

  // Visits every statistics record, from `shards` threads at once (each
  // record by one; `visit` gets its shard, 0 .. shards-1). The query is
  // audited first (`audit_action`, and `what`: its dimensions, codes only)
  // and nothing is read when that fails; PERMISSION_DENIED, audited, for
  // anyone but an analyst. No case id is read or handed out.
  absl::Status ForEach(const RequestContext& ctx, absl::string_view audit_action,
                       absl::string_view what, int shards,
                       const std::function<void(int shard, const haven::v1::CaseStatistics&)>& visit);

  // For benchmarks and tests only: stores `records` as if cases had been
  // registered, each under a fresh statistics id, `batch` to a transaction.
  absl::Status StoreSynthetic(const std::vector<haven::v1::CaseStatistics>& records,
                              int batch = 1000);

  // The statistics records' count, reading their keys only (the raw
  // baseline of a scan for benchmarks).
  absl::StatusOr<uint64_t> CountKeys();

 private:
  storage::Store* store_;
  const crypto::KeyRing* keys_;
};

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_STATISTICS_SHELF_H_
