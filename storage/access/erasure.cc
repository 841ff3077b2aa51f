// CaseDoor's erasure: crypto-shredding, and the statistics that outlive it.
#include "storage/access/case_door.h"

#include <set>

#include "absl/time/civil_time.h"
#include "haven/v1/identification.pb.h"
#include "absl/strings/str_cat.h"
#include "storage/access/case_door_parts.h"
#include "storage/ids.h"
#include "storage/keys.h"
#include "storage/timestamps.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

int32_t AgeBand(const v1::Subject& subject, absl::Time now) {
  const int age = AgeOf(subject, now);
  if (age < 0) return -1;
  for (int32_t band : {50, 35, 25, 18, 12}) {
    if (age >= band) return band;
  }
  return 0;
}

}  // namespace

int AgeOf(const v1::Subject& subject, absl::Time now) {
  if (subject.has_date_of_birth() && subject.date_of_birth().year() > 0) {
    absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
    const v1::Date& d = subject.date_of_birth();
    int age = static_cast<int>(today.year() - d.year());
    if (today.month() < d.month() || (today.month() == d.month() && today.day() < d.day())) --age;
    return age;
  }
  return subject.estimated_age() > 0 ? static_cast<int>(subject.estimated_age()) : -1;
}

absl::Status CaseScope::KeepStatistics() {
  v1::CaseStatistics stats;
  v1::Subject subject;
  absl::StatusOr<bool> found = LoadWhole(RecordKind::kSubject, "", &subject);
  if (!found.ok()) return found.status();
  stats.set_sex(subject.sex());
  stats.set_age_band(AgeBand(subject, now()));
  *stats.mutable_citizenships() = subject.citizenships();
  v1::Identification ident;
  found = LoadWhole(RecordKind::kIdentification, "", &ident);
  if (!found.ok()) return found.status();
  stats.set_presumed_child(ident.presumed_child());
  absl::StatusOr<std::vector<std::string>> screenings = RecordIds(RecordKind::kScreening);
  if (!screenings.ok()) return screenings.status();
  std::set<int> forms;
  for (const std::string& id : *screenings) {
    v1::Screening screening;
    found = LoadWhole(RecordKind::kScreening, id, &screening);
    if (!found.ok()) return found.status();
    forms.insert(screening.forms_suspected().begin(), screening.forms_suspected().end());
  }
  for (int f : forms) stats.add_forms_suspected(static_cast<v1::ExploitationForm>(f));
  stats.set_identification_status(record_.identification_status());
  stats.set_opened_year(static_cast<int32_t>(
      absl::ToCivilYear(absl::FromUnixMicros(record_.create_time_micros()), absl::UTCTimeZone())
          .year()));
  stats.set_closure_reason(record_.closure_reason());
  stats.set_owning_organisation_id(record_.owning_organisation_id());
  return txn_->Put(Cf::kCaseStatistics, raw_id_,
                   door_->keys_->SealStatistics(stats.SerializeAsString(),
                                                absl::StrCat("statistics:", raw_id_)));
}

absl::Status CaseScope::Shred() {
  // What statistics need survives; the rest becomes unreadable.
  if (absl::Status s = KeepStatistics(); !s.ok()) return s;
  if (absl::Status s = txn_->Delete(Cf::kCaseKeys, raw_id_); !s.ok()) return s;
  std::vector<std::string> doomed;
  absl::Status s = txn_->Scan(Cf::kCaseData, raw_id_, "",
                              [&](absl::string_view key, absl::string_view) {
                                doomed.emplace_back(key);
                                return true;
                              });
  if (!s.ok()) return s;
  for (const std::string& key : doomed) {
    if (absl::Status d = txn_->Delete(Cf::kCaseData, key); !d.ok()) return d;
  }
  record_.set_status(v1::CASE_STATUS_ERASED);
  MarkChanged();
  shredded_ = true;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::CaseStatistics>> CaseDoor::ErasedCaseStatistics(
    absl::string_view case_id) {
  absl::StatusOr<std::string> raw = ParseId(case_id, "case_id");
  if (!raw.ok()) return raw.status();
  absl::StatusOr<std::optional<std::string>> sealed = store_->Get(Cf::kCaseStatistics, *raw);
  if (!sealed.ok()) return sealed.status();
  if (!sealed->has_value()) return std::optional<v1::CaseStatistics>();
  absl::StatusOr<std::string> plain =
      keys_->OpenStatistics(**sealed, absl::StrCat("statistics:", *raw));
  if (!plain.ok()) return plain.status();
  v1::CaseStatistics stats;
  if (!stats.ParseFromString(*plain)) return absl::DataLossError("statistics record is unreadable");
  return std::optional<v1::CaseStatistics>(std::move(stats));
}

absl::Status CaseDoor::PurgeDestroyedKeys() {
  if (absl::Status s = store_->Purge(Cf::kCaseKeys); !s.ok()) return s;
  return store_->Purge(Cf::kCaseData);
}

}  // namespace haven::access
