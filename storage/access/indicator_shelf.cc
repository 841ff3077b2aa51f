// IndicatorShelf: the stored versions of the trafficking indicator sets.
#include "storage/access/indicator_shelf.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace haven::access {
namespace {

using storage::Cf;

// Cf::kIndicatorSets key: short string set id + version (u32).
std::string SetKey(const haven::v1::IndicatorSet& set) {
  std::string key;
  keys::AppendShortString(&key, set.id());
  keys::AppendU32(&key, set.version());
  return key;
}

}  // namespace

absl::Status IndicatorShelf::StoreNewVersions(const std::vector<haven::v1::IndicatorSet>& sets) {
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  for (const haven::v1::IndicatorSet& set : sets) {
    const std::string key = SetKey(set);
    const std::string bytes = set.SerializeAsString();
    absl::StatusOr<std::optional<std::string>> stored = txn->Get(Cf::kIndicatorSets, key);
    if (!stored.ok()) return stored.status();
    if (!stored->has_value()) {
      if (absl::Status s = txn->Put(Cf::kIndicatorSets, key, bytes); !s.ok()) return s;
    } else if (**stored != bytes) {
      return absl::FailedPreconditionError(absl::StrCat(
          "indicator set ", set.id(), " version ", set.version(),
          " differs from the stored one: a changed set needs a new version number"));
    }
  }
  return store_->Commit(std::move(txn));
}

absl::StatusOr<std::vector<haven::v1::IndicatorSet>> IndicatorShelf::LoadAll() const {
  std::vector<haven::v1::IndicatorSet> sets;
  bool readable = true;
  absl::Status s = store_->Scan(Cf::kIndicatorSets, "", "",
                                [&](absl::string_view, absl::string_view value) {
                                  haven::v1::IndicatorSet set;
                                  readable = set.ParseFromArray(value.data(),
                                                                static_cast<int>(value.size()));
                                  if (readable) sets.push_back(std::move(set));
                                  return readable;
                                });
  if (!s.ok()) return s;
  if (!readable) return absl::DataLossError("a stored indicator set is unreadable");
  return sets;
}

}  // namespace haven::access
