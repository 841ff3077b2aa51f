// ProviderDirectory: the stored directory of service providers and who may change it.
//
// Cf::kDirectory keys:
//   'p' + organisation id (hex)                -> ProviderProfile
//   'l' + raw location id                      -> ProviderLocation
//   's' + raw service id                       -> ProviderService
//   'k' + kind (1 byte) + raw service id       -> ""  (services by kind)
//   'r' + short string region + kind + raw id  -> ""  (services by region served)
#include "storage/access/provider_directory.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "haven/v1/admin.pb.h"
#include "storage/access/case_door.h"
#include "storage/access/layout.h"
#include "storage/ids.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "storage/timestamps.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

std::string ProfileKey(absl::string_view organisation_id) {
  return absl::StrCat("p", organisation_id);
}
std::string LocationKey(absl::string_view raw_id) { return absl::StrCat("l", raw_id); }
std::string ServiceKey(absl::string_view raw_id) { return absl::StrCat("s", raw_id); }
std::string KindPrefix(v1::ServiceKind kind) {
  return std::string{'k', static_cast<char>(kind)};
}
std::string RegionPrefix(absl::string_view region) {
  std::string key = "r";
  keys::AppendShortString(&key, region);
  return key;
}

// The index keys of a stored service.
std::set<std::string> ServiceIndexKeys(const v1::ProviderService& service, absl::string_view raw_id) {
  std::set<std::string> out = {absl::StrCat(KindPrefix(service.kind()), raw_id)};
  for (const std::string& region : service.regions()) {
    out.insert(absl::StrCat(RegionPrefix(region), std::string(1, static_cast<char>(service.kind())),
                            raw_id));
  }
  return out;
}

bool IsMechanismAdministrator(const Principal& p) {
  return p.HasRole(v1::ROLE_ADMINISTRATOR) && !p.password_change_required;
}

bool MayManage(const Principal& p, absl::string_view organisation_id) {
  return IsMechanismAdministrator(p) ||
         (p.HasRole(v1::ROLE_SUPERVISOR) && p.organisation_id == organisation_id);
}

bool ProvidesServices(v1::OrganisationType type) {
  return type == v1::ORGANISATION_TYPE_SERVICE_PROVIDER || type == v1::ORGANISATION_TYPE_NGO ||
         type == v1::ORGANISATION_TYPE_INTERNATIONAL_ORGANISATION;
}

absl::Status NotAllowed() {
  return absl::PermissionDeniedError(
      "only the provider's own supervisors or a mechanism administrator change its entries");
}

template <typename Message>
absl::StatusOr<std::optional<Message>> Read(storage::Txn& txn, Cf cf, absl::string_view key,
                                            bool for_update = false) {
  absl::StatusOr<std::optional<std::string>> bytes =
      for_update ? txn.GetForUpdate(cf, key) : txn.Get(cf, key);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return std::optional<Message>();
  Message message;
  if (!message.ParseFromString(**bytes)) return absl::DataLossError("a directory record is unreadable");
  return std::optional<Message>(std::move(message));
}

// The provider organisation `organisation_id`, which must exist and provide services.
absl::StatusOr<v1::Organisation> LoadProvider(storage::Txn& txn, absl::string_view organisation_id) {
  absl::StatusOr<std::string> raw = ParseId(organisation_id, "organisation_id");
  if (!raw.ok()) return raw.status();
  absl::StatusOr<std::optional<v1::Organisation>> org =
      Read<v1::Organisation>(txn, Cf::kOrganisations, organisation_id);
  if (!org.ok()) return org.status();
  if (!org->has_value()) return absl::NotFoundError("organisation not found");
  if (!ProvidesServices((*org)->type())) {
    return absl::FailedPreconditionError(
        "only a service provider, an NGO or an international organisation is in the directory");
  }
  return **org;
}

// The raw id for an entry: a new one when `id` is empty.
absl::StatusOr<std::string> RawIdFor(std::string* id, absl::string_view what) {
  if (id->empty()) *id = NewId();
  return ParseId(*id, what);
}

absl::Status CommitAudited(storage::Store* store, std::unique_ptr<storage::Txn> txn,
                           const RequestContext& ctx, absl::string_view action,
                           absl::string_view record) {
  v1::AuditEntry entry = NewAuditEntry(ctx, action, record);
  entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  entry.add_classes(v1::CONFIDENTIALITY_ADMINISTRATIVE);
  txn->Audit(std::move(entry));
  return store->Commit(std::move(txn));
}

// Writes `service` (whose previous version is `before`, if any), its index
// keys and the check that its locations are its provider's.
absl::Status WriteService(storage::Txn& txn, const v1::ProviderService& service,
                          absl::string_view raw_id, const std::optional<v1::ProviderService>& before) {
  for (int i = 0; i < service.location_ids_size(); ++i) {
    absl::StatusOr<std::string> raw_location =
        ParseId(service.location_ids(i), absl::StrCat("location_ids[", i, "]"));
    if (!raw_location.ok()) return raw_location.status();
    absl::StatusOr<std::optional<v1::ProviderLocation>> location =
        Read<v1::ProviderLocation>(txn, Cf::kDirectory, LocationKey(*raw_location));
    if (!location.ok()) return location.status();
    if (!location->has_value() || (*location)->organisation_id() != service.organisation_id()) {
      return absl::FailedPreconditionError(
          absl::StrCat("location_ids[", i, "] is not a location of this provider"));
    }
  }
  std::set<std::string> old_keys;
  if (before.has_value()) old_keys = ServiceIndexKeys(*before, raw_id);
  std::set<std::string> new_keys = ServiceIndexKeys(service, raw_id);
  for (const std::string& key : old_keys) {
    if (new_keys.count(key) == 0) {
      if (absl::Status s = txn.Delete(Cf::kDirectory, key); !s.ok()) return s;
    }
  }
  for (const std::string& key : new_keys) {
    if (absl::Status s = txn.Put(Cf::kDirectory, key, ""); !s.ok()) return s;
  }
  return txn.Put(Cf::kDirectory, ServiceKey(raw_id), service.SerializeAsString());
}

}  // namespace

bool ProviderDirectory::MayRead(const Principal& p) {
  if (!p.partner_id.empty() || p.password_change_required) return false;
  for (v1::Role role : {v1::ROLE_CASEWORKER, v1::ROLE_SUPERVISOR, v1::ROLE_HOTLINE_OPERATOR,
                        v1::ROLE_DECISION_MAKER, v1::ROLE_SERVICE_PROVIDER_STAFF,
                        v1::ROLE_RETURN_OFFICER, v1::ROLE_ADMINISTRATOR}) {
    if (p.HasRole(role)) return true;
  }
  return false;
}

absl::StatusOr<v1::ProviderProfile> ProviderDirectory::PutProfile(const RequestContext& ctx,
                                                                  v1::ProviderProfile profile) {
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  absl::StatusOr<v1::Organisation> org = LoadProvider(*txn, profile.organisation_id());
  if (!org.ok()) return org.status();
  if (!MayManage(ctx.principal, org->id())) return NotAllowed();
  *profile.mutable_update_time() = MicrosToTimestamp(absl::ToUnixMicros(clock_->Now()));
  if (absl::Status s = txn->Put(Cf::kDirectory, ProfileKey(org->id()), profile.SerializeAsString());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CommitAudited(store_, std::move(txn), ctx, "directory.put_profile",
                                     absl::StrCat("directory/providers/", org->id()));
      !s.ok()) {
    return s;
  }
  return profile;
}

absl::StatusOr<v1::ProviderLocation> ProviderDirectory::PutLocation(const RequestContext& ctx,
                                                                    v1::ProviderLocation location) {
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  absl::StatusOr<v1::Organisation> org = LoadProvider(*txn, location.organisation_id());
  if (!org.ok()) return org.status();
  if (!MayManage(ctx.principal, org->id())) return NotAllowed();
  const bool replacing = !location.id().empty();
  absl::StatusOr<std::string> raw = RawIdFor(location.mutable_id(), "id");
  if (!raw.ok()) return raw.status();
  if (replacing) {
    absl::StatusOr<std::optional<v1::ProviderLocation>> before =
        Read<v1::ProviderLocation>(*txn, Cf::kDirectory, LocationKey(*raw), true);
    if (!before.ok()) return before.status();
    if (!before->has_value() || (*before)->organisation_id() != org->id()) {
      return absl::NotFoundError("location not found");
    }
  }
  *location.mutable_update_time() = MicrosToTimestamp(absl::ToUnixMicros(clock_->Now()));
  if (absl::Status s = txn->Put(Cf::kDirectory, LocationKey(*raw), location.SerializeAsString());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CommitAudited(store_, std::move(txn), ctx, "directory.put_location",
                                     absl::StrCat("directory/locations/", location.id()));
      !s.ok()) {
    return s;
  }
  return location;
}

absl::StatusOr<v1::ProviderService> ProviderDirectory::PutService(const RequestContext& ctx,
                                                                  v1::ProviderService service) {
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  absl::StatusOr<v1::Organisation> org = LoadProvider(*txn, service.organisation_id());
  if (!org.ok()) return org.status();
  if (!MayManage(ctx.principal, org->id())) return NotAllowed();
  const bool replacing = !service.id().empty();
  absl::StatusOr<std::string> raw = RawIdFor(service.mutable_id(), "id");
  if (!raw.ok()) return raw.status();
  const int64_t now = absl::ToUnixMicros(clock_->Now());
  std::optional<v1::ProviderService> before;
  if (replacing) {
    absl::StatusOr<std::optional<v1::ProviderService>> stored =
        Read<v1::ProviderService>(*txn, Cf::kDirectory, ServiceKey(*raw), true);
    if (!stored.ok()) return stored.status();
    if (!stored->has_value() || (*stored)->organisation_id() != org->id()) {
      return absl::NotFoundError("service not found");
    }
    before = **stored;
  }
  v1::ShelterPlaces* places = service.mutable_shelter();
  if (before.has_value() && before->has_shelter()) {
    // Free places are the provider staff's to say (UpdateFreePlaces).
    places->set_free_places(std::min(before->shelter().free_places(), places->capacity()));
    *places->mutable_free_places_time() = before->shelter().free_places_time();
    places->set_free_places_by(before->shelter().free_places_by());
  } else if (service.kind() == v1::SERVICE_KIND_SHELTER) {
    *places->mutable_free_places_time() = MicrosToTimestamp(now);
    places->set_free_places_by(ctx.principal.id);
  }
  if (service.kind() != v1::SERVICE_KIND_SHELTER) service.clear_shelter();
  *service.mutable_update_time() = MicrosToTimestamp(now);
  if (absl::Status s = WriteService(*txn, service, *raw, before); !s.ok()) return s;
  if (absl::Status s = CommitAudited(store_, std::move(txn), ctx, "directory.put_service",
                                     absl::StrCat("directory/services/", service.id()));
      !s.ok()) {
    return s;
  }
  return service;
}

absl::Status ProviderDirectory::AlertCasesAwaiting(storage::Txn& txn, const RequestContext& ctx,
                                                  absl::string_view service_id) {
  const absl::Time now = clock_->Now();
  RequestContext system;
  system.principal.id = "system:shelter-full";
  system.purpose = "shelter-full";
  system.request_id = ctx.request_id;
  const std::string prefix = AwaitedServicePrefix(service_id);
  std::vector<std::string> waiting;  // raw case ids
  absl::Status scanned = txn.Scan(Cf::kCaseIndex, prefix, "",
                                  [&](absl::string_view key, absl::string_view value) {
                                    std::optional<uint64_t> until = keys::ConsumeU64(&value);
                                    if (until.has_value() &&
                                        *until > static_cast<uint64_t>(absl::ToUnixMicros(now))) {
                                      waiting.emplace_back(key.substr(prefix.size()));
                                    }
                                    return true;
                                  });
  if (!scanned.ok()) return scanned;
  for (const std::string& raw_case_id : waiting) {
    absl::StatusOr<std::optional<v1::CaseRecord>> record =
        Read<v1::CaseRecord>(txn, Cf::kCases, raw_case_id);
    if (!record.ok()) return record.status();
    if (!record->has_value() || (*record)->status() != v1::CASE_STATUS_OPEN) continue;
    if (absl::Status s = AlertCaseworkers(txn, v1::ALERT_KIND_SHELTER_FULL, **record, "", now);
        !s.ok()) {
      return s;
    }
    // The system read the case's record, not the caller (who learns nothing
    // of the case); the request id ties the alert to the caller's update.
    v1::AuditEntry entry = NewAuditEntry(system, "system.shelter_full_alert",
                                         absl::StrCat("cases/", ToHex(raw_case_id)));
    entry.set_case_id(ToHex(raw_case_id));
    entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
    entry.add_classes(v1::CONFIDENTIALITY_ADMINISTRATIVE);
    txn.Audit(std::move(entry));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ProviderService> ProviderDirectory::UpdateFreePlaces(
    const RequestContext& ctx, absl::string_view service_id, int free_places) {
  absl::StatusOr<std::string> raw = ParseId(service_id, "service_id");
  if (!raw.ok()) return raw.status();
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  absl::StatusOr<std::optional<v1::ProviderService>> stored =
      Read<v1::ProviderService>(*txn, Cf::kDirectory, ServiceKey(*raw), true);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return absl::NotFoundError("service not found");
  v1::ProviderService service = **stored;
  const Principal& p = ctx.principal;
  const bool own_staff = p.organisation_id == service.organisation_id() &&
                         (p.HasRole(v1::ROLE_SERVICE_PROVIDER_STAFF) ||
                          p.HasRole(v1::ROLE_CASEWORKER) || p.HasRole(v1::ROLE_SUPERVISOR));
  if (!own_staff) {
    return absl::PermissionDeniedError("only the provider's own staff say how many places are free");
  }
  if (service.kind() != v1::SERVICE_KIND_SHELTER) {
    return absl::FailedPreconditionError("only a shelter has places");
  }
  if (free_places < 0 || free_places > service.shelter().capacity()) {
    return absl::InvalidArgumentError(absl::StrCat("free_places must be from 0 to the capacity, ",
                                                   service.shelter().capacity()));
  }
  const bool filled_up = service.shelter().free_places() > 0 && free_places == 0;
  v1::ShelterPlaces* places = service.mutable_shelter();
  places->set_free_places(free_places);
  *places->mutable_free_places_time() = MicrosToTimestamp(absl::ToUnixMicros(clock_->Now()));
  places->set_free_places_by(p.id);
  if (absl::Status s = txn->Put(Cf::kDirectory, ServiceKey(*raw), service.SerializeAsString());
      !s.ok()) {
    return s;
  }
  if (filled_up) {
    if (absl::Status s = AlertCasesAwaiting(*txn, ctx, service.id()); !s.ok()) return s;
  }
  if (absl::Status s = CommitAudited(store_, std::move(txn), ctx, "directory.update_free_places",
                                     absl::StrCat("directory/services/", service.id()));
      !s.ok()) {
    return s;
  }
  return service;
}

namespace {

// Every record under `tag`, in key order.
template <typename Message>
absl::Status ReadAll(storage::Txn& txn, char tag,
                     google::protobuf::RepeatedPtrField<Message>* into) {
  absl::Status failure;
  absl::Status s = txn.Scan(Cf::kDirectory, std::string(1, tag), "",
                            [&](absl::string_view, absl::string_view value) {
                              if (!into->Add()->ParseFromArray(value.data(),
                                                               static_cast<int>(value.size()))) {
                                failure = absl::DataLossError("a directory record is unreadable");
                                return false;
                              }
                              return true;
                            });
  return s.ok() ? failure : s;
}

// A service as a match: with its locations and its provider's name.
absl::StatusOr<v1::ServiceMatch> MatchOf(storage::Txn& txn, v1::ProviderService service) {
  v1::ServiceMatch match;
  for (const std::string& id : service.location_ids()) {
    absl::StatusOr<std::string> raw = FromHex(id, "location id");
    if (!raw.ok()) return absl::DataLossError("a service names an unreadable location id");
    absl::StatusOr<std::optional<v1::ProviderLocation>> location =
        Read<v1::ProviderLocation>(txn, Cf::kDirectory, LocationKey(*raw));
    if (!location.ok()) return location.status();
    if (location->has_value()) *match.add_locations() = **std::move(location);
  }
  absl::StatusOr<std::optional<v1::Organisation>> org =
      Read<v1::Organisation>(txn, Cf::kOrganisations, service.organisation_id());
  if (!org.ok()) return org.status();
  if (org->has_value()) match.set_provider_name((*org)->display_name());
  *match.mutable_service() = std::move(service);
  return match;
}

}  // namespace

absl::StatusOr<v1::ServiceMatch> ProviderDirectory::GetService(const RequestContext& ctx,
                                                               absl::string_view service_id) {
  if (!MayRead(ctx.principal)) return absl::NotFoundError("service not found");
  absl::StatusOr<std::string> raw = ParseId(service_id, "service_id");
  if (!raw.ok()) return raw.status();
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  absl::StatusOr<std::optional<v1::ProviderService>> stored =
      Read<v1::ProviderService>(*txn, Cf::kDirectory, ServiceKey(*raw));
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return absl::NotFoundError("service not found");
  return MatchOf(*txn, **std::move(stored));
}

absl::StatusOr<std::string> ProviderDirectory::ScanServices(
    const RequestContext& ctx, v1::ServiceKind kind, absl::string_view region,
    absl::string_view page_token, int max_visits,
    const std::function<bool(const v1::ServiceMatch&)>& visit) {
  if (!MayRead(ctx.principal)) {
    return absl::PermissionDeniedError("the directory is for those who refer people or provide services");
  }
  std::string prefix = !region.empty() ? RegionPrefix(region) : kind != v1::SERVICE_KIND_UNSPECIFIED
                                                                    ? KindPrefix(kind)
                                                                    : "s";
  if (!region.empty() && kind != v1::SERVICE_KIND_UNSPECIFIED) prefix += static_cast<char>(kind);
  std::string after;
  if (!page_token.empty()) {
    absl::StatusOr<std::string> raw = FromHex(page_token, "page_token");
    if (!raw.ok() || !absl::StartsWith(*raw, prefix)) {
      return absl::InvalidArgumentError("page_token is not one this search gave");
    }
    after = *raw;
  }
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  std::string token;
  int visits = 0;
  absl::Status failure;
  absl::Status s = txn->Scan(Cf::kDirectory, prefix, after, [&](absl::string_view key,
                                                               absl::string_view value) {
    if (key.size() < prefix.size() + kIdBytes) return true;
    v1::ProviderService service;
    if (prefix == "s") {
      if (!service.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        failure = absl::DataLossError("a directory record is unreadable");
        return false;
      }
    } else {
      absl::StatusOr<std::optional<v1::ProviderService>> stored = Read<v1::ProviderService>(
          *txn, Cf::kDirectory, ServiceKey(key.substr(key.size() - kIdBytes)));
      if (!stored.ok() || !stored->has_value()) {
        failure = stored.ok() ? absl::DataLossError("a directory index entry has no service")
                              : stored.status();
        return false;
      }
      service = **std::move(stored);
    }
    if (kind != v1::SERVICE_KIND_UNSPECIFIED && service.kind() != kind) return true;
    absl::StatusOr<v1::ServiceMatch> match = MatchOf(*txn, std::move(service));
    if (!match.ok()) {
      failure = match.status();
      return false;
    }
    ++visits;
    if (!visit(*match) || visits == max_visits) {
      token = ToHex(key);
      return false;
    }
    return true;
  });
  if (!s.ok()) return s;
  if (!failure.ok()) return failure;
  return token;
}

absl::StatusOr<v1::DirectorySnapshot> ProviderDirectory::Export(const RequestContext& ctx) {
  if (!MayRead(ctx.principal)) {
    return absl::PermissionDeniedError("the directory is for those who refer people or provide services");
  }
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  v1::DirectorySnapshot snapshot;
  if (absl::Status s = ReadAll(*txn, 'p', snapshot.mutable_profiles()); !s.ok()) return s;
  if (absl::Status s = ReadAll(*txn, 'l', snapshot.mutable_locations()); !s.ok()) return s;
  if (absl::Status s = ReadAll(*txn, 's', snapshot.mutable_services()); !s.ok()) return s;
  std::set<std::string> providers;
  for (const auto& p : snapshot.profiles()) providers.insert(p.organisation_id());
  for (const auto& l : snapshot.locations()) providers.insert(l.organisation_id());
  for (const auto& s : snapshot.services()) providers.insert(s.organisation_id());
  for (const std::string& id : providers) {
    absl::StatusOr<std::optional<v1::Organisation>> org =
        Read<v1::Organisation>(*txn, Cf::kOrganisations, id);
    if (!org.ok()) return org.status();
    if (org->has_value()) *snapshot.add_organisations() = **std::move(org);
  }
  return snapshot;
}

absl::Status ProviderDirectory::Import(const RequestContext& ctx,
                                       const v1::DirectorySnapshot& snapshot) {
  if (!IsMechanismAdministrator(ctx.principal)) {
    return absl::PermissionDeniedError("only a mechanism administrator imports the directory");
  }
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  const int64_t now = absl::ToUnixMicros(clock_->Now());
  for (int i = 0; i < snapshot.organisations_size(); ++i) {
    v1::Organisation org = snapshot.organisations(i);
    const std::string where = absl::StrCat("organisations[", i, "]");
    if (absl::StatusOr<std::string> raw = ParseId(org.id(), where + ".id"); !raw.ok()) {
      return raw.status();
    }
    absl::StatusOr<std::optional<v1::Organisation>> stored =
        Read<v1::Organisation>(*txn, Cf::kOrganisations, org.id(), true);
    if (!stored.ok()) return stored.status();
    if (stored->has_value()) continue;  // Haven's own record of it stands
    if (!org.has_create_time()) *org.mutable_create_time() = MicrosToTimestamp(now);
    if (absl::Status s = txn->Put(Cf::kOrganisations, org.id(), org.SerializeAsString()); !s.ok()) {
      return s;
    }
  }
  auto check_provider = [&](absl::string_view organisation_id,
                            const std::string& where) -> absl::Status {
    absl::StatusOr<v1::Organisation> org = LoadProvider(*txn, organisation_id);
    if (!org.ok()) {
      return absl::Status(org.status().code(), absl::StrCat(where, ": ", org.status().message()));
    }
    return absl::OkStatus();
  };
  for (int i = 0; i < snapshot.profiles_size(); ++i) {
    const v1::ProviderProfile& profile = snapshot.profiles(i);
    if (absl::Status s = check_provider(profile.organisation_id(), absl::StrCat("profiles[", i, "]"));
        !s.ok()) {
      return s;
    }
    if (absl::Status s = txn->Put(Cf::kDirectory, ProfileKey(profile.organisation_id()),
                                  profile.SerializeAsString());
        !s.ok()) {
      return s;
    }
  }
  for (int i = 0; i < snapshot.locations_size(); ++i) {
    const v1::ProviderLocation& location = snapshot.locations(i);
    const std::string where = absl::StrCat("locations[", i, "]");
    if (absl::Status s = check_provider(location.organisation_id(), where); !s.ok()) return s;
    absl::StatusOr<std::string> raw = ParseId(location.id(), where + ".id");
    if (!raw.ok()) return raw.status();
    absl::StatusOr<std::optional<v1::ProviderLocation>> before =
        Read<v1::ProviderLocation>(*txn, Cf::kDirectory, LocationKey(*raw), true);
    if (!before.ok()) return before.status();
    if (before->has_value() && (*before)->organisation_id() != location.organisation_id()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".id: is another provider's location"));
    }
    if (absl::Status s = txn->Put(Cf::kDirectory, LocationKey(*raw), location.SerializeAsString());
        !s.ok()) {
      return s;
    }
  }
  for (int i = 0; i < snapshot.services_size(); ++i) {
    const v1::ProviderService& service = snapshot.services(i);
    const std::string where = absl::StrCat("services[", i, "]");
    if (absl::Status s = check_provider(service.organisation_id(), where); !s.ok()) return s;
    absl::StatusOr<std::string> raw = ParseId(service.id(), where + ".id");
    if (!raw.ok()) return raw.status();
    absl::StatusOr<std::optional<v1::ProviderService>> before =
        Read<v1::ProviderService>(*txn, Cf::kDirectory, ServiceKey(*raw), true);
    if (!before.ok()) return before.status();
    if (before->has_value() && (*before)->organisation_id() != service.organisation_id()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".id: is another provider's service"));
    }
    if (absl::Status s = WriteService(*txn, service, *raw, *before); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(where, ".", s.message()));
    }
  }
  return CommitAudited(store_, std::move(txn), ctx, "directory.import", "directory");
}

}  // namespace haven::access
