// CaseDoor's erasure and statistics: crypto-shredding, what an erased case must not
// leave behind and the purge of its key ranges, and the statistics record that moves
// with every case and outlives its erasure.
#include "storage/access/case_door.h"

#include <set>

#include "absl/time/civil_time.h"
#include "haven/v1/admin.pb.h"
#include "haven/v1/identification.pb.h"
#include "haven/v1/protection.pb.h"
#include "haven/v1/repatriation.pb.h"
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

// The lower bound of the CTDC age band ("0--8", "9--17", "18--20", ...,
// "48+"); -1 unknown.
int32_t CtdcBand(int age) {
  if (age < 0) return -1;
  for (int32_t band : {48, 39, 30, 27, 24, 21, 18, 9}) {
    if (age >= band) return band;
  }
  return 0;
}

// Deletes every key of `cf` under `prefix` in `txn`.
absl::Status DeleteAll(storage::Txn& txn, Cf cf, absl::string_view prefix) {
  std::vector<std::string> doomed;
  absl::Status s = txn.Scan(cf, prefix, "", [&](absl::string_view key, absl::string_view) {
    doomed.emplace_back(key);
    return true;
  });
  if (!s.ok()) return s;
  for (const std::string& key : doomed) {
    if (absl::Status d = txn.Delete(cf, key); !d.ok()) return d;
  }
  return absl::OkStatus();
}

// An erasure's purge list: (column family byte, short string prefix)...
std::string EncodePurgeRanges(const std::vector<std::pair<Cf, std::string>>& ranges) {
  std::string out;
  for (const auto& [cf, prefix] : ranges) {
    out.push_back(static_cast<char>(cf));
    keys::AppendShortString(&out, prefix);
  }
  return out;
}

bool DecodePurgeRanges(absl::string_view in, std::vector<std::pair<Cf, std::string>>* out) {
  while (!in.empty()) {
    const int cf = static_cast<unsigned char>(in[0]);
    in.remove_prefix(1);
    std::optional<absl::string_view> prefix = keys::ConsumeShortString(&in);
    if (!prefix.has_value() || cf >= static_cast<int>(Cf::kCount)) return false;
    out->emplace_back(static_cast<Cf>(cf), std::string(*prefix));
  }
  return true;
}

// Destroys the personal data of the hotline contacts escalated to case
// `case_id` (hex), adding the key ranges that held it to `ranges`.
absl::Status ShredContactsOf(storage::Txn& txn, const RequestContext& ctx, absl::Time now,
                             const std::string& case_id,
                             std::vector<std::pair<Cf, std::string>>* ranges) {
  std::vector<std::string> contacts;
  const std::string prefix = ContactsOfCasePrefix(case_id);
  absl::Status s = txn.Scan(Cf::kContactIndex, prefix, "",
                            [&](absl::string_view key, absl::string_view) {
                              contacts.emplace_back(key.substr(prefix.size()));
                              return true;
                            });
  if (!s.ok()) return s;
  for (const std::string& raw : contacts) {
    absl::StatusOr<std::optional<std::string>> stored = txn.GetForUpdate(Cf::kContacts, raw);
    if (!stored.ok()) return stored.status();
    v1::ContactRecord contact;
    if (!stored->has_value() || !contact.ParseFromString(**stored)) {
      return absl::DataLossError("a contact record is unreadable");
    }
    if (contact.sealed_details().empty()) continue;  // nothing personal left
    if (absl::Status p = PutContact(txn, contact, WithoutDetails(contact, now)); !p.ok()) return p;
    AddPurgeRanges(contact, ranges);
    v1::AuditEntry entry =
        NewAuditEntry(ctx, "contact.erase_with_case", absl::StrCat("contacts/", ToHex(raw)));
    entry.set_case_id(case_id);
    entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
    txn.Audit(std::move(entry));
  }
  return absl::OkStatus();
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

bool CaseScope::MovesStatistics() const {
  if (shredded_) return false;  // Shred kept them, and nothing is left to read
  return statistics_moved_ || original_.status() != record_.status() ||
         original_.identification_status() != record_.identification_status() ||
         original_.closure_reason() != record_.closure_reason();
}

absl::Status CaseScope::KeepStatistics() {
  // The case's statistics id: random, named only by the case's sealed link
  // (destroyed with the case's key), so that the record cannot be tied back.
  v1::StatisticsLink link;
  absl::StatusOr<bool> found = LoadWhole(RecordKind::kStatisticsLink, "", &link);
  if (!found.ok()) return found.status();
  if (!*found || link.statistics_id().size() != 16) {
    link.set_statistics_id(NewRawId());
    const std::string key = DataKey(RecordKind::kStatisticsLink, "");
    if (absl::Status s = txn_->Put(Cf::kCaseData, key,
                                   crypto::Seal(data_key_, link.SerializeAsString(), key));
        !s.ok()) {
      return s;
    }
  }
  v1::CaseStatistics stats;
  v1::Subject subject;
  found = LoadWhole(RecordKind::kSubject, "", &subject);
  if (!found.ok()) return found.status();
  const absl::Time registered = absl::FromUnixMicros(record_.create_time_micros());
  stats.set_sex(subject.sex());
  stats.set_age_band(AgeBand(subject, now()));
  const int age = AgeOf(subject, registered);
  stats.set_age_band_ctdc(CtdcBand(age));
  std::set<std::string> citizenships;
  for (const std::string& c : subject.citizenships()) {
    if (citizenships.insert(c).second) stats.add_citizenships(c);
  }
  v1::Identification ident;
  found = LoadWhole(RecordKind::kIdentification, "", &ident);
  if (!found.ok()) return found.status();
  stats.set_presumed_child(ident.presumed_child());
  stats.set_child(ident.presumed_child() || (age >= 0 && age < 18));
  absl::StatusOr<std::vector<std::string>> ids = RecordIds(RecordKind::kScreening);
  if (!ids.ok()) return ids.status();
  std::set<int> forms;
  for (const std::string& id : *ids) {
    v1::Screening screening;
    found = LoadWhole(RecordKind::kScreening, id, &screening);
    if (!found.ok()) return found.status();
    forms.insert(screening.forms_suspected().begin(), screening.forms_suspected().end());
  }
  v1::ExploitationProfile profile;
  found = LoadWhole(RecordKind::kExploitationProfile, "", &profile);
  if (!found.ok()) return found.status();
  forms.insert(profile.forms().begin(), profile.forms().end());
  forms.erase(v1::EXPLOITATION_FORM_UNSPECIFIED);
  for (int f : forms) stats.add_forms_suspected(static_cast<v1::ExploitationForm>(f));
  for (int m : std::set<int>(profile.means_of_control().begin(), profile.means_of_control().end())) {
    stats.add_means_of_control(static_cast<v1::MeansOfControl>(m));
  }
  for (int l : std::set<int>(profile.labour_types().begin(), profile.labour_types().end())) {
    stats.add_labour_types(static_cast<v1::LabourType>(l));
  }
  for (int t : std::set<int>(profile.sexual_exploitation_types().begin(),
                             profile.sexual_exploitation_types().end())) {
    stats.add_sexual_exploitation_types(static_cast<v1::SexualExploitationType>(t));
  }
  for (int r : std::set<int>(profile.recruiter_relations().begin(),
                             profile.recruiter_relations().end())) {
    stats.add_recruiter_relations(static_cast<v1::RecruiterRelation>(r));
  }
  for (const std::string& c : std::set<std::string>(profile.countries_of_recruitment().begin(),
                                                     profile.countries_of_recruitment().end())) {
    stats.add_countries_of_recruitment(c);
  }
  for (const std::string& c : std::set<std::string>(profile.countries_of_exploitation().begin(),
                                                     profile.countries_of_exploitation().end())) {
    stats.add_countries_of_exploitation(c);
  }
  stats.set_region(profile.region_of_identification());
  ids = RecordIds(RecordKind::kPlanItem);
  if (!ids.ok()) return ids.status();
  std::set<int> delivered;
  for (const std::string& id : *ids) {
    v1::PlanItem item;
    found = LoadWhole(RecordKind::kPlanItem, id, &item);
    if (!found.ok()) return found.status();
    if (item.status() == v1::PLAN_ITEM_STATUS_DELIVERED) delivered.insert(item.kind());
  }
  for (int k : delivered) stats.add_services_delivered(static_cast<v1::ServiceKind>(k));
  ids = RecordIds(RecordKind::kReturnPlan);
  if (!ids.ok()) return ids.status();
  auto rank = [](v1::ReturnStatus r) {
    return r == v1::RETURN_STATUS_SUSPENDED || r == v1::RETURN_STATUS_CANCELLED ? 0 : r + 1;
  };
  for (const std::string& id : *ids) {
    v1::ReturnPlan plan;
    found = LoadWhole(RecordKind::kReturnPlan, id, &plan);
    if (!found.ok()) return found.status();
    if (stats.return_status() == v1::RETURN_STATUS_UNSPECIFIED ||
        rank(plan.status()) > rank(stats.return_status())) {
      stats.set_return_status(plan.status());
    }
  }
  stats.set_identification_status(record_.identification_status());
  const absl::CivilSecond when = absl::ToCivilSecond(registered, absl::UTCTimeZone());
  stats.set_opened_year(static_cast<int32_t>(when.year()));
  stats.set_opened_month(when.month());
  stats.set_closure_reason(record_.closure_reason());
  stats.set_case_status(record_.status());
  stats.set_owning_organisation_id(record_.owning_organisation_id());
  absl::StatusOr<std::optional<std::string>> org =
      txn_->Get(Cf::kOrganisations, record_.owning_organisation_id());
  if (!org.ok()) return org.status();
  v1::Organisation organisation;
  if (org->has_value() && organisation.ParseFromString(**org)) {
    stats.set_referrer_type(organisation.type());
  }
  const std::string& id = link.statistics_id();
  return txn_->Put(Cf::kCaseStatistics, id,
                   door_->keys_->SealStatistics(stats.SerializeAsString(),
                                                absl::StrCat("statistics:", id)));
}

absl::Status CaseScope::Shred() {
  // What statistics need survives (the case counted as erased); the rest,
  // the link to the statistics record with it, becomes unreadable.
  record_.set_status(v1::CASE_STATUS_ERASED);
  if (absl::Status s = KeepStatistics(); !s.ok()) return s;
  if (absl::Status s = SetServicesAwaited({}); !s.ok()) return s;
  if (absl::Status s = ForgetErasedCase(*txn_, *ctx_, now(), original_, mutable_record());
      !s.ok()) {
    return s;
  }
  shredded_ = true;
  return absl::OkStatus();
}

absl::Status ForgetErasedCase(storage::Txn& txn, const RequestContext& ctx, absl::Time now,
                              const v1::CaseRecord& before, v1::CaseRecord* after) {
  const std::string& raw = before.id();
  // The key ranges that held the case, pushed out of the files on disk
  // later (CaseDoor::PurgeErasedCases): its record, key and sealed records,
  // its grants, and every index entry it had.
  std::vector<std::pair<Cf, std::string>> ranges = {
      {Cf::kCases, raw}, {Cf::kCaseKeys, raw}, {Cf::kCaseData, raw}, {Cf::kGrants, raw}};
  v1::CaseRecord as_open = before;  // an erased record has no index keys
  as_open.set_status(v1::CASE_STATUS_OPEN);
  for (const std::string& k : CaseIndexKeys(as_open)) ranges.emplace_back(Cf::kCaseIndex, k);
  for (const std::string& k : before.name_index_keys()) ranges.emplace_back(Cf::kNameIndex, k + raw);
  absl::StatusOr<std::vector<v1::GrantRecord>> grants = LoadGrants(txn, raw);
  if (!grants.ok()) return grants.status();
  for (const v1::GrantRecord& g : *grants) {
    for (const std::string& grantee : {g.grantee_organisation_id(), g.grantee_user_id()}) {
      if (grantee.empty()) continue;
      const std::string key = IndexPrefix('g', grantee) + raw;
      if (absl::Status s = txn.Delete(Cf::kCaseIndex, key); !s.ok()) return s;
      ranges.emplace_back(Cf::kCaseIndex, key);
    }
  }
  if (absl::Status s = txn.Delete(Cf::kCaseKeys, raw); !s.ok()) return s;
  for (Cf cf : {Cf::kCaseData, Cf::kGrants}) {
    if (absl::Status s = DeleteAll(txn, cf, raw); !s.ok()) return s;
  }
  if (absl::Status s = ShredContactsOf(txn, ctx, now, ToHex(raw), &ranges); !s.ok()) return s;
  // Nothing derived from the person stays in the clear record: recording
  // the same names and date of birth again must not lead back to this case.
  after->clear_name_index_keys();
  after->clear_assignee_ids();
  after->clear_supervisor_id();
  after->clear_watches();
  after->clear_next_deadline_micros();
  return txn.Put(Cf::kErasurePurges, raw, EncodePurgeRanges(ranges));
}

void CaseDoor::OnErased(std::function<void()> listener) {
  // Only an erasure, and the purge that follows it, write its purge list.
  store_->OnCommit(Cf::kErasurePurges, std::move(listener));
}

absl::StatusOr<int> CaseDoor::PurgeErasedCases() {
  std::vector<std::string> erased;
  std::vector<std::pair<Cf, std::string>> ranges;
  bool unreadable = false;
  absl::Status s = store_->Scan(Cf::kErasurePurges, "", "",
                                [&](absl::string_view key, absl::string_view value) {
                                  erased.emplace_back(key);
                                  unreadable = !DecodePurgeRanges(value, &ranges);
                                  return !unreadable;
                                });
  if (!s.ok()) return s;
  if (unreadable) return absl::DataLossError("an erasure's purge list is unreadable");
  if (erased.empty()) return 0;
  if (absl::Status p = store_->PurgePrefixes(ranges); !p.ok()) return p;
  // Done: the lists go too, and out of the files with them (they name the
  // erased case's former index keys).
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  std::vector<std::pair<Cf, std::string>> lists;
  for (const std::string& raw : erased) {
    if (absl::Status d = txn->Delete(Cf::kErasurePurges, raw); !d.ok()) return d;
    lists.emplace_back(Cf::kErasurePurges, raw);
  }
  if (absl::Status c = store_->Commit(std::move(txn)); !c.ok()) return c;
  if (absl::Status p = store_->PurgePrefixes(lists); !p.ok()) return p;
  return static_cast<int>(erased.size());
}

absl::Status CaseDoor::RecountStatistics(absl::string_view raw_case_id) {
  RequestContext system;
  system.principal.id = "system:statistics";
  system.purpose = "statistics";
  system.request_id = NewId();
  const std::string raw(raw_case_id);
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  absl::StatusOr<std::optional<std::string>> stored = txn->GetForUpdate(Cf::kCases, raw);
  if (!stored.ok()) return stored.status();
  CaseScope scope;
  if (!stored->has_value() || !scope.record_.ParseFromString(**stored)) {
    return absl::DataLossError("a case record is unreadable");
  }
  // An erased case has no key left; its record was kept when it was erased.
  if (scope.record_.status() == v1::CASE_STATUS_ERASED) return absl::OkStatus();
  if (absl::Status s = Prepare(*txn, system, raw, ClassSet::All(), &scope); !s.ok()) return s;
  if (absl::Status s = scope.KeepStatistics(); !s.ok()) return s;
  v1::AuditEntry entry =
      NewAuditEntry(system, "statistics.recount", absl::StrCat("cases/", scope.hex_id_));
  entry.set_case_id(scope.hex_id_);
  entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  txn->Audit(std::move(entry));
  return store_->Commit(std::move(txn));
}

}  // namespace haven::access
