// StatisticsShelf: reading the sealed statistics records for analysts, audited first.
#include "storage/access/statistics_shelf.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "storage/access/case_door.h"
#include "storage/ids.h"
#include "storage/store.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

}  // namespace

bool MayReadStatistics(const Principal& principal) {
  return !principal.password_change_required && principal.partner_id.empty() &&
         principal.HasRole(v1::ROLE_ANALYST);
}

absl::Status StatisticsShelf::ForEach(
    const RequestContext& ctx, absl::string_view audit_action, absl::string_view what, int shards,
    const std::function<void(int, const v1::CaseStatistics&)>& visit) {
  const bool allowed = MayReadStatistics(ctx.principal);
  {
    std::unique_ptr<storage::Txn> txn = store_->Begin();
    v1::AuditEntry entry = NewAuditEntry(ctx, audit_action, absl::StrCat("statistics/", what));
    entry.set_outcome(allowed ? v1::AUDIT_OUTCOME_ALLOWED : v1::AUDIT_OUTCOME_DENIED);
    if (allowed) {
      entry.add_classes(v1::CONFIDENTIALITY_ADMINISTRATIVE);
      entry.add_classes(v1::CONFIDENTIALITY_PSEUDONYMOUS);
    }
    txn->Audit(std::move(entry));
    absl::Status audited = store_->Commit(std::move(txn));
    if (!allowed) return absl::PermissionDeniedError("only analysts read statistics");
    if (!audited.ok()) return audited;
  }
  if (shards < 1) shards = 1;
  // Statistics ids are random: their first byte splits them evenly.
  std::vector<absl::Status> results(shards);
  auto run = [&](int shard) {
    v1::CaseStatistics record;
    std::string plain;  // reused: no allocation per record
    std::string aad = "statistics:";
    const size_t aad_prefix = aad.size();
    for (int first = shard * 256 / shards; first < (shard + 1) * 256 / shards; ++first) {
      std::string prefix(1, static_cast<char>(first));
      absl::Status failure;
      absl::Status s = store_->Scan(
          Cf::kCaseStatistics, prefix, "", [&](absl::string_view key, absl::string_view value) {
            aad.resize(aad_prefix);
            aad.append(key.data(), key.size());
            if (absl::Status o = keys_->OpenStatisticsInto(value, aad, &plain); !o.ok()) {
              failure = o;
              return false;
            }
            if (!record.ParseFromString(plain)) {
              failure = absl::DataLossError("a statistics record is unreadable");
              return false;
            }
            visit(shard, record);
            return true;
          });
      if (!s.ok() || !failure.ok()) {
        results[shard] = s.ok() ? failure : s;
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < shards; ++i) threads.emplace_back(run, i);
  run(0);
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status StatisticsShelf::StoreSynthetic(const std::vector<v1::CaseStatistics>& records,
                                             int batch) {
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  int pending = 0;
  for (const v1::CaseStatistics& record : records) {
    const std::string id = NewRawId();
    if (absl::Status s = txn->Put(Cf::kCaseStatistics, id,
                                  keys_->SealStatistics(record.SerializeAsString(),
                                                        absl::StrCat("statistics:", id)));
        !s.ok()) {
      return s;
    }
    if (++pending == batch) {
      if (absl::Status s = store_->Commit(std::move(txn)); !s.ok()) return s;
      txn = store_->Begin();
      pending = 0;
    }
  }
  return store_->Commit(std::move(txn));
}

absl::StatusOr<uint64_t> StatisticsShelf::CountKeys() {
  uint64_t n = 0;
  absl::Status s = store_->Scan(Cf::kCaseStatistics, "", "",
                                [&](absl::string_view, absl::string_view) {
                                  ++n;
                                  return true;
                                });
  if (!s.ok()) return s;
  return n;
}

}  // namespace haven::access
