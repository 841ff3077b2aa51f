// HSDS: the directory as an Open Referral HSDS 3.0 page of fully nested organizations
// (docs/hsds.md gives the shape and every field's mapping).
#include "services/protection/hsds.h"

#include <algorithm>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "services/protection/hsds_format.h"
#include "services/protection/hsds_json.h"
#include "services/protection/hsds_taxonomy.h"

namespace haven::protection {
namespace {

namespace v1 = haven::v1;
using hsds::JsonRecord;
using hsds::JsonWriter;
using hsds::Presence;
using hsds::Problems;
using hsds::Term;
using hsds::TermGroup;

constexpr size_t kMaxDocumentBytes = size_t{64} << 20;
// The deepest nesting the HSDS 3.0 organization schema needs is 15; a little room beyond.
constexpr int kMaxNesting = 24;

constexpr absl::string_view kDayCodes[] = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};
constexpr absl::string_view kAllDays = "MO,TU,WE,TH,FR,SA,SU";
constexpr absl::string_view kMidnight = "00:00";
constexpr absl::string_view kBedUnitIdentifier = "bed";

constexpr absl::string_view kUuidRule = "a UUID (8-4-4-4-12 hexadecimal digits)";
constexpr absl::string_view kEmailRule = "an e-mail address such as help@example.org";
constexpr absl::string_view kUrlRule = "an http or https URL such as https://example.org";
constexpr absl::string_view kTimeRule = "a 24-hour time \"HH:MM\" such as 08:30";

// HSDS service.status, in the order of v1::ServiceStatus from 1.
const std::vector<absl::string_view>& StatusNames() {
  static const auto* const kNames =
      new std::vector<absl::string_view>{"active", "inactive", "temporarily closed", "defunct"};
  return *kNames;
}

// In the order HSDS lists them, for messages.
const std::vector<absl::string_view>& StatusNamesInHsdsOrder() {
  static const auto* const kNames =
      new std::vector<absl::string_view>{"active", "inactive", "defunct", "temporarily closed"};
  return *kNames;
}

// UNSPECIFIED is written as "inactive": nobody said the service is open.
absl::string_view StatusName(v1::ServiceStatus status) {
  if (status < 1 || status > static_cast<int>(StatusNames().size())) return "inactive";
  return StatusNames()[status - 1];
}

v1::ServiceStatus StatusFromName(absl::string_view name) {
  for (size_t i = 0; i < StatusNames().size(); ++i) {
    if (StatusNames()[i] == name) return static_cast<v1::ServiceStatus>(i + 1);
  }
  return v1::SERVICE_STATUS_UNSPECIFIED;
}

absl::Time ToAbslTime(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  google::protobuf::Timestamp timestamp;
  const int64_t seconds = absl::ToUnixSeconds(time);
  timestamp.set_seconds(seconds);
  timestamp.set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
  return timestamp;
}

std::string FormatTime(const google::protobuf::Timestamp& timestamp) {
  return absl::FormatTime(absl::RFC3339_full, ToAbslTime(timestamp), absl::UTCTimeZone());
}

// ---------------------------------------------------------------------------------------------
// Writing

// A Haven attribute to write: its term and, for the terms that carry one, its value.
struct AttributeOut {
  const Term* term;
  std::string value;
};

void AddTerm(TermGroup group, int enum_value, std::vector<AttributeOut>* attributes) {
  if (const Term* term = hsds::TermFor(group, enum_value)) attributes->push_back({term, ""});
}

void AddValue(TermGroup group, absl::string_view value, std::vector<AttributeOut>* attributes) {
  if (!value.empty()) attributes->push_back({hsds::TermFor(group, 0), std::string(value)});
}

class DirectoryWriter {
 public:
  explicit DirectoryWriter(const v1::DirectorySnapshot& snapshot) : snapshot_(snapshot) {
    for (const v1::ProviderProfile& profile : snapshot.profiles()) {
      profiles_[profile.organisation_id()] = &profile;
    }
    for (const v1::ProviderLocation& location : snapshot.locations()) {
      locations_[location.organisation_id()].push_back(&location);
    }
    for (const v1::ProviderService& service : snapshot.services()) {
      services_[service.organisation_id()].push_back(&service);
    }
  }

  std::string Write() {
    const int count = snapshot_.organisations_size();
    json_.BeginObject();
    json_.Field("total_items", count);
    json_.Field("total_pages", 1);
    json_.Field("page_number", 1);
    json_.Field("size", count);
    json_.Key("first_page");
    json_.Bool(true);
    json_.Key("last_page");
    json_.Bool(true);
    json_.Key("empty");
    json_.Bool(count == 0);
    json_.Key("contents");
    json_.BeginArray();
    for (const v1::Organisation& organisation : snapshot_.organisations()) {
      WriteOrganization(organisation);
    }
    json_.EndArray();
    json_.EndObject();
    return json_.Take();
  }

 private:
  void WriteOrganization(const v1::Organisation& organisation) {
    static const v1::ProviderProfile kNoProfile;
    const auto found = profiles_.find(organisation.id());
    const v1::ProviderProfile& profile = found == profiles_.end() ? kNoProfile : *found->second;
    json_.BeginObject();
    json_.Field("id", hsds::HavenIdToUuid(organisation.id()));
    json_.Field("name", organisation.display_name());
    json_.Field("description", profile.description());
    json_.FieldIfSet("email", profile.email());
    json_.FieldIfSet("website", profile.url());
    WritePhones(organisation.id(), profile.phone());
    WriteEach("locations", locations_[organisation.id()], &DirectoryWriter::WriteLocation);
    WriteEach("services", services_[organisation.id()], &DirectoryWriter::WriteService);
    std::vector<AttributeOut> attributes;
    AddTerm(TermGroup::kOrganisationType, organisation.type(), &attributes);
    AddValue(TermGroup::kCountry, organisation.country(), &attributes);
    WriteAttributes(organisation.id(), "organization", attributes);
    json_.EndObject();
  }

  template <typename Record>
  void WriteEach(absl::string_view key, const std::vector<const Record*>& records,
                 void (DirectoryWriter::*write)(const Record&)) {
    if (records.empty()) return;
    json_.Key(key);
    json_.BeginArray();
    for (const Record* record : records) (this->*write)(*record);
    json_.EndArray();
  }

  void WritePhones(absl::string_view parent_id, absl::string_view number) {
    if (number.empty()) return;
    json_.Key("phones");
    json_.BeginArray();
    json_.BeginObject();
    json_.Field("id", hsds::DerivedUuid(parent_id, "phone", 0));
    json_.Field("number", number);
    json_.EndObject();
    json_.EndArray();
  }

  void WriteLocation(const v1::ProviderLocation& location) {
    json_.BeginObject();
    json_.Field("id", hsds::HavenIdToUuid(location.id()));
    json_.Field("location_type", "physical");
    json_.FieldIfSet("name", location.name());
    WriteAddress(location);
    WritePhones(location.id(), location.phone());
    WriteAccessibility(location);
    json_.EndObject();
  }

  void WriteAddress(const v1::ProviderLocation& location) {
    if (!location.has_address()) return;
    const v1::ProviderAddress& address = location.address();
    json_.Key("addresses");
    json_.BeginArray();
    json_.BeginObject();
    json_.Field("id", hsds::DerivedUuid(location.id(), "address", 0));
    json_.Field("address_1", address.address_1());
    json_.Field("city", address.city());
    json_.Field("state_province", address.region());
    json_.Field("postal_code", address.postal_code());
    json_.Field("country", address.country());
    json_.Field("address_type", "physical");
    json_.EndObject();
    json_.EndArray();
  }

  void WriteAccessibility(const v1::ProviderLocation& location) {
    if (location.accessibility().empty() && location.accessibility_note().empty()) return;
    const std::string id = hsds::DerivedUuid(location.id(), "accessibility", 0);
    std::vector<AttributeOut> attributes;
    std::vector<absl::string_view> names;
    for (int feature : location.accessibility()) {
      const Term* term = hsds::TermFor(TermGroup::kAccessibility, feature);
      if (term == nullptr) continue;
      attributes.push_back({term, ""});
      names.push_back(term->name);
    }
    json_.Key("accessibility");
    json_.BeginArray();
    json_.BeginObject();
    json_.Field("id", id);
    json_.FieldIfSet("description", absl::StrJoin(names, "; "));
    json_.FieldIfSet("details", location.accessibility_note());
    WriteAttributes(id, "accessibility", attributes);
    json_.EndObject();
    json_.EndArray();
  }

  void WriteService(const v1::ProviderService& service) {
    json_.BeginObject();
    json_.Field("id", hsds::HavenIdToUuid(service.id()));
    json_.Field("name", service.name());
    json_.FieldIfSet("description", service.description());
    json_.FieldIfSet("url", service.url());
    json_.FieldIfSet("email", service.email());
    json_.Field("status", StatusName(service.status()));
    if (service.shelter().has_min_age()) json_.Field("minimum_age", service.shelter().min_age());
    if (service.shelter().has_max_age()) json_.Field("maximum_age", service.shelter().max_age());
    WritePhones(service.id(), service.phone());
    WriteSchedules(service);
    WriteNamedList("service_areas", "service_area", "name", service.id(), service.regions());
    WriteCapacity(service);
    WriteServiceAtLocations(service);
    WriteNamedList("languages", "language", "code", service.id(), service.languages());
    WriteAttributes(service.id(), "service", ServiceAttributes(service));
    json_.EndObject();
  }

  void WriteSchedule(absl::string_view id, absl::string_view byday, absl::string_view opens_at,
                     absl::string_view closes_at, absl::string_view description) {
    json_.BeginObject();
    json_.Field("id", id);
    json_.Field("freq", "WEEKLY");
    json_.Field("byday", byday);
    json_.Field("opens_at", opens_at);
    json_.Field("closes_at", closes_at);
    json_.FieldIfSet("description", description);
    json_.EndObject();
  }

  void WriteSchedules(const v1::ProviderService& service) {
    if (!service.open_all_hours() && service.hours().empty()) return;
    int position = 0;
    json_.Key("schedules");
    json_.BeginArray();
    if (service.open_all_hours()) {
      WriteSchedule(hsds::DerivedUuid(service.id(), "schedule", position++), kAllDays, kMidnight,
                    kMidnight, "Open 24 hours, every day");
    }
    for (const v1::OpeningHours& hours : service.hours()) {
      std::vector<absl::string_view> days;
      for (int day : hours.days()) {
        if (day >= v1::WEEKDAY_MONDAY && day <= v1::WEEKDAY_SUNDAY) {
          days.push_back(kDayCodes[day - 1]);
        }
      }
      WriteSchedule(hsds::DerivedUuid(service.id(), "schedule", position++),
                    absl::StrJoin(days, ","), hours.opens_at(), hours.closes_at(), "");
    }
    json_.EndArray();
  }

  // An array of records that each hold one string of `items` under `field`.
  void WriteNamedList(absl::string_view key, absl::string_view kind, absl::string_view field,
                      absl::string_view parent_id,
                      const google::protobuf::RepeatedPtrField<std::string>& items) {
    if (items.empty()) return;
    json_.Key(key);
    json_.BeginArray();
    for (int i = 0; i < items.size(); ++i) {
      json_.BeginObject();
      json_.Field("id", hsds::DerivedUuid(parent_id, kind, i));
      json_.Field(field, items[i]);
      json_.EndObject();
    }
    json_.EndArray();
  }

  void WriteCapacity(const v1::ProviderService& service) {
    if (!service.has_shelter()) return;
    const v1::ShelterPlaces& shelter = service.shelter();
    json_.Key("service_capacities");
    json_.BeginArray();
    json_.BeginObject();
    json_.Field("id", hsds::DerivedUuid(service.id(), "service_capacity", 0));
    json_.Key("unit");
    json_.BeginObject();
    json_.Field("id", hsds::DerivedUuid("unit", kBedUnitIdentifier, 0));
    json_.Field("name", "Bed");
    json_.Field("scheme", hsds::kHavenTaxonomy);
    json_.Field("identifier", kBedUnitIdentifier);
    json_.EndObject();
    json_.Field("available", shelter.free_places());
    json_.Field("maximum", shelter.capacity());
    json_.Field("description", "Shelter places: free now and in all");
    json_.Field("updated", FormatTime(shelter.free_places_time()));
    json_.EndObject();
    json_.EndArray();
  }

  void WriteServiceAtLocations(const v1::ProviderService& service) {
    if (service.location_ids().empty()) return;
    json_.Key("service_at_locations");
    json_.BeginArray();
    for (int i = 0; i < service.location_ids_size(); ++i) {
      json_.BeginObject();
      json_.Field("id", hsds::DerivedUuid(service.id(), "service_at_location", i));
      json_.Field("location_id", hsds::HavenIdToUuid(service.location_ids(i)));
      json_.EndObject();
    }
    json_.EndArray();
  }

  static std::vector<AttributeOut> ServiceAttributes(const v1::ProviderService& service) {
    std::vector<AttributeOut> attributes;
    AddTerm(TermGroup::kServiceKind, service.kind(), &attributes);
    for (int group : service.shelter().takes()) {
      AddTerm(TermGroup::kShelterGroup, group, &attributes);
    }
    AddValue(TermGroup::kTimeZone, service.time_zone(), &attributes);
    AddValue(TermGroup::kFreePlacesBy, service.shelter().free_places_by(), &attributes);
    return attributes;
  }

  void WriteAttributes(absl::string_view parent_id, absl::string_view link_entity,
                       const std::vector<AttributeOut>& attributes) {
    if (attributes.empty()) return;
    const std::string link_id = hsds::HavenIdToUuid(parent_id);
    json_.Key("attributes");
    json_.BeginArray();
    for (size_t i = 0; i < attributes.size(); ++i) {
      const Term& term = *attributes[i].term;
      const std::string term_id = hsds::TermId(term);
      json_.BeginObject();
      json_.Field("id", hsds::DerivedUuid(parent_id, "attribute", static_cast<int>(i)));
      json_.Field("link_id", link_id);
      json_.Field("link_type", hsds::LinkType(term.group));
      json_.Field("link_entity", link_entity);
      json_.Field("taxonomy_term_id", term_id);
      json_.FieldIfSet("value", attributes[i].value);
      json_.Key("taxonomy_term");
      json_.BeginObject();
      json_.Field("id", term_id);
      json_.Field("code", term.code);
      json_.Field("name", term.name);
      json_.Field("description", term.description);
      json_.Field("taxonomy", hsds::kHavenTaxonomy);
      json_.EndObject();
      json_.EndObject();
    }
    json_.EndArray();
  }

  const v1::DirectorySnapshot& snapshot_;
  absl::flat_hash_map<std::string, const v1::ProviderProfile*> profiles_;
  absl::flat_hash_map<std::string, std::vector<const v1::ProviderLocation*>> locations_;
  absl::flat_hash_map<std::string, std::vector<const v1::ProviderService*>> services_;
  JsonWriter json_;
};

// ---------------------------------------------------------------------------------------------
// Reading

// A Haven attribute found on a record: its term, value and where it was.
struct AttributeIn {
  const Term* term;
  std::string value;
  JsonRecord record;
};

// The weekdays in an RRULE byday list ("MO,WE,FR"); empty when it is not one.
std::vector<v1::Weekday> WeekdaysOf(absl::string_view byday) {
  std::vector<v1::Weekday> days;
  for (absl::string_view code : absl::StrSplit(byday, ',')) {
    const auto* found = std::find(std::begin(kDayCodes), std::end(kDayCodes), code);
    if (found == std::end(kDayCodes)) return {};
    const auto day = static_cast<v1::Weekday>(found - std::begin(kDayCodes) + 1);
    if (std::find(days.begin(), days.end(), day) != days.end()) return {};
    days.push_back(day);
  }
  return days;
}

class DirectoryReader {
 public:
  explicit DirectoryReader(Problems* problems) : problems_(problems) {}

  void ReadPage(const JsonRecord& page) {
    page.Bool("empty", Presence::kRequired);
    const std::optional<int> pages = page.Count("total_pages", Presence::kOptional);
    if (pages.has_value() && *pages > 1) {
      page.Fail("total_pages", "must be 1: Haven imports the whole directory as one page");
    }
    if (!page.Has("contents")) page.Fail("contents", "required but missing; add it");
    for (const JsonRecord& organization : page.Records("contents")) {
      ReadOrganization(organization);
    }
  }

  v1::DirectorySnapshot Take() { return std::move(snapshot_); }

 private:
  // The record's required UUID id as a Haven id, noted so that no other record repeats it.
  std::string RecordId(const JsonRecord& record) {
    const std::string uuid = record.Formatted("id", Presence::kRequired, hsds::IsUuid, kUuidRule);
    if (uuid.empty()) return "";
    std::string id = hsds::UuidToHavenId(uuid);
    const auto [seen, added] = id_paths_.emplace(id, record.path());
    if (!added) {
      record.Fail(
          "id", absl::StrCat("repeats the id of ", seen->second, "; give each record its own id"));
    }
    return id;
  }

  void ReadOrganization(const JsonRecord& organization) {
    v1::Organisation& organisation = *snapshot_.add_organisations();
    organisation.set_id(RecordId(organization));
    organisation.set_display_name(organization.String("name", Presence::kRequired));
    ReadProfile(organization, organisation.id());
    ReadOrganisationAttributes(organization, &organisation);
    absl::flat_hash_set<std::string> location_ids;
    for (const JsonRecord& location : organization.Records("locations")) {
      location_ids.insert(ReadLocation(location, organisation.id()));
    }
    for (const JsonRecord& service : organization.Records("services")) {
      ReadService(service, organisation.id(), location_ids);
    }
  }

  // A profile when the organization says anything of itself.
  void ReadProfile(const JsonRecord& organization, const std::string& organisation_id) {
    v1::ProviderProfile profile;
    profile.set_organisation_id(organisation_id);
    profile.set_description(organization.String("description", Presence::kRequired));
    profile.set_email(
        organization.Formatted("email", Presence::kOptional, hsds::IsEmail, kEmailRule));
    profile.set_url(
        organization.Formatted("website", Presence::kOptional, hsds::IsWebUrl, kUrlRule));
    profile.set_phone(FirstPhone(organization));
    if (!profile.description().empty() || !profile.email().empty() || !profile.url().empty() ||
        !profile.phone().empty()) {
      *snapshot_.add_profiles() = std::move(profile);
    }
  }

  void ReadOrganisationAttributes(const JsonRecord& organization, v1::Organisation* organisation) {
    for (const AttributeIn& attribute :
         HavenAttributes(organization, {TermGroup::kOrganisationType, TermGroup::kCountry},
                         "an organization")) {
      if (attribute.term->group == TermGroup::kOrganisationType) {
        organisation->set_type(static_cast<v1::OrganisationType>(attribute.term->enum_value));
      } else if (!hsds::IsCountryCode(attribute.value)) {
        attribute.record.Fail(
            "value", "must be an ISO 3166-1 alpha-2 country code in upper case, such as AT");
      } else {
        organisation->set_country(attribute.value);
      }
    }
  }

  // Haven keeps one phone number a record: the first.
  std::string FirstPhone(const JsonRecord& record) {
    std::string first;
    for (const JsonRecord& phone : record.Records("phones")) {
      RecordId(phone);
      std::string number = phone.String("number", Presence::kRequired);
      if (first.empty()) first = std::move(number);
    }
    return first;
  }

  // The attributes of `record` whose term is Haven's; a Haven term of a group not in
  // `allowed` is a problem. Attributes of other taxonomies are checked and passed over.
  std::vector<AttributeIn> HavenAttributes(const JsonRecord& record,
                                           std::initializer_list<TermGroup> allowed,
                                           absl::string_view entity) {
    std::vector<AttributeIn> found;
    for (const JsonRecord& attribute : record.Records("attributes")) {
      RecordId(attribute);
      attribute.Formatted("link_id", Presence::kOptional, hsds::IsUuid, kUuidRule);
      attribute.Formatted("taxonomy_term_id", Presence::kOptional, hsds::IsUuid, kUuidRule);
      std::string value = attribute.String("value", Presence::kOptional);
      const Term* term = HavenTerm(attribute);
      if (term == nullptr) continue;
      if (std::find(allowed.begin(), allowed.end(), term->group) == allowed.end()) {
        attribute.Fail("taxonomy_term.code",
                       absl::StrCat("is not a Haven term for ", entity, "; see docs/hsds.md"));
      } else if (hsds::CarriesValue(term->group) && value.empty()) {
        attribute.Fail("value", "required for this Haven term; add it");
      } else {
        found.push_back({term, std::move(value), attribute});
      }
    }
    return found;
  }

  // The attribute's term when it is of the Haven taxonomy.
  static const Term* HavenTerm(const JsonRecord& attribute) {
    const std::optional<JsonRecord> term = attribute.Record("taxonomy_term", Presence::kOptional);
    if (!term.has_value()) return nullptr;
    term->Formatted("id", Presence::kRequired, hsds::IsUuid, kUuidRule);
    term->String("name", Presence::kRequired);
    term->String("description", Presence::kRequired);
    const std::string code = term->String("code", Presence::kOptional);
    if (term->String("taxonomy", Presence::kOptional) != hsds::kHavenTaxonomy) return nullptr;
    const Term* haven_term = hsds::TermWithCode(code);
    if (haven_term == nullptr) {
      term->Fail("code", "must be a code of the Haven taxonomy listed in docs/hsds.md");
    }
    return haven_term;
  }

  std::string ReadLocation(const JsonRecord& record, const std::string& organisation_id) {
    v1::ProviderLocation& location = *snapshot_.add_locations();
    location.set_id(RecordId(record));
    location.set_organisation_id(organisation_id);
    record.OneOf("location_type", Presence::kRequired, {"physical", "postal", "virtual"});
    location.set_name(record.String("name", Presence::kOptional));
    location.set_phone(FirstPhone(record));
    ReadAddress(record, &location);
    ReadAccessibility(record, &location);
    return location.id();
  }

  // Haven keeps one address a location: the first.
  void ReadAddress(const JsonRecord& location_record, v1::ProviderLocation* location) {
    const std::vector<JsonRecord> addresses = location_record.Records("addresses");
    for (size_t i = 0; i < addresses.size(); ++i) {
      const JsonRecord& record = addresses[i];
      RecordId(record);
      v1::ProviderAddress address;
      address.set_address_1(record.String("address_1", Presence::kRequired));
      address.set_city(record.String("city", Presence::kRequired));
      address.set_region(record.String("state_province", Presence::kRequired));
      address.set_postal_code(record.String("postal_code", Presence::kRequired));
      address.set_country(
          record.Formatted("country", Presence::kRequired, hsds::IsCountryCode,
                           "an ISO 3166-1 alpha-2 country code in upper case, such as AT"));
      record.OneOf("address_type", Presence::kRequired, {"physical", "postal", "virtual"});
      if (i == 0) *location->mutable_address() = std::move(address);
    }
  }

  void ReadAccessibility(const JsonRecord& location_record, v1::ProviderLocation* location) {
    std::vector<std::string> notes;
    for (const JsonRecord& record : location_record.Records("accessibility")) {
      RecordId(record);
      record.String("description", Presence::kOptional);
      std::string details = record.String("details", Presence::kOptional);
      if (!details.empty()) notes.push_back(std::move(details));
      for (const AttributeIn& attribute :
           HavenAttributes(record, {TermGroup::kAccessibility}, "an accessibility record")) {
        location->add_accessibility(
            static_cast<v1::AccessibilityFeature>(attribute.term->enum_value));
      }
    }
    location->set_accessibility_note(absl::StrJoin(notes, "\n"));
  }

  void ReadService(const JsonRecord& record, const std::string& organisation_id,
                   const absl::flat_hash_set<std::string>& location_ids) {
    v1::ProviderService& service = *snapshot_.add_services();
    service.set_id(RecordId(record));
    service.set_organisation_id(organisation_id);
    const std::string listed_under =
        record.Formatted("organization_id", Presence::kOptional, hsds::IsUuid, kUuidRule);
    if (!listed_under.empty() && hsds::UuidToHavenId(listed_under) != organisation_id) {
      record.Fail("organization_id", "must be the id of the organization it is listed under");
    }
    service.set_name(record.String("name", Presence::kRequired));
    service.set_description(record.String("description", Presence::kOptional));
    service.set_url(record.Formatted("url", Presence::kOptional, hsds::IsWebUrl, kUrlRule));
    service.set_email(record.Formatted("email", Presence::kOptional, hsds::IsEmail, kEmailRule));
    service.set_status(
        StatusFromName(record.OneOf("status", Presence::kRequired, StatusNamesInHsdsOrder())));
    service.set_phone(FirstPhone(record));
    ReadAges(record, &service);
    ReadSchedules(record, &service);
    ReadServiceAreas(record, &service);
    ReadCapacity(record, &service);
    ReadServiceAtLocations(record, location_ids, &service);
    ReadLanguages(record, &service);
    ReadServiceAttributes(record, &service);
  }

  void ReadAges(const JsonRecord& record, v1::ProviderService* service) {
    const std::optional<int> minimum = record.Count("minimum_age", Presence::kOptional);
    const std::optional<int> maximum = record.Count("maximum_age", Presence::kOptional);
    if (minimum.has_value()) service->mutable_shelter()->set_min_age(*minimum);
    if (maximum.has_value()) service->mutable_shelter()->set_max_age(*maximum);
    if (minimum.has_value() && maximum.has_value() && *maximum < *minimum) {
      record.Fail("maximum_age", "must not be below minimum_age");
    }
  }

  void ReadSchedules(const JsonRecord& record, v1::ProviderService* service) {
    for (const JsonRecord& schedule : record.Records("schedules")) {
      RecordId(schedule);
      const std::string freq = schedule.String("freq", Presence::kRequired);
      if (schedule.Has("freq") && freq != "WEEKLY") {
        schedule.Fail("freq", "must be WEEKLY: Haven keeps weekly opening hours");
      }
      const std::string byday = schedule.String("byday", Presence::kRequired);
      const std::vector<v1::Weekday> days = WeekdaysOf(byday);
      if (schedule.Has("byday") && days.empty()) {
        schedule.Fail("byday",
                      "must list weekdays once each, comma-separated: MO,TU,WE,TH,FR,SA,SU");
      }
      const std::string opens_at =
          schedule.Formatted("opens_at", Presence::kRequired, hsds::IsClockTime, kTimeRule);
      const std::string closes_at =
          schedule.Formatted("closes_at", Presence::kRequired, hsds::IsClockTime, kTimeRule);
      if (days.size() == std::size(kDayCodes) && opens_at == kMidnight && closes_at == kMidnight) {
        service->set_open_all_hours(true);
        continue;
      }
      v1::OpeningHours& hours = *service->add_hours();
      for (v1::Weekday day : days) hours.add_days(day);
      hours.set_opens_at(opens_at);
      hours.set_closes_at(closes_at);
    }
  }

  void ReadServiceAreas(const JsonRecord& record, v1::ProviderService* service) {
    for (const JsonRecord& area : record.Records("service_areas")) {
      RecordId(area);
      service->add_regions(area.String("name", Presence::kRequired));
    }
  }

  void ReadLanguages(const JsonRecord& record, v1::ProviderService* service) {
    for (const JsonRecord& language : record.Records("languages")) {
      RecordId(language);
      service->add_languages(
          language.Formatted("code", Presence::kRequired, hsds::IsLanguageCode,
                             "an ISO 639 language code in lower case, such as en or ti"));
    }
  }

  // Haven's shelter places: the one capacity counted in beds; capacities in other units are
  // passed over.
  void ReadCapacity(const JsonRecord& record, v1::ProviderService* service) {
    bool found = false;
    for (const JsonRecord& capacity : record.Records("service_capacities")) {
      RecordId(capacity);
      const std::optional<JsonRecord> unit = capacity.Record("unit", Presence::kRequired);
      const std::optional<int> available = capacity.Count("available", Presence::kRequired);
      const std::optional<absl::Time> updated = ReadUpdated(capacity);
      if (!unit.has_value() || !IsBedUnit(*unit)) continue;
      if (found) capacity.Fail("unit", "repeats the capacity in beds; give a service one");
      found = true;
      const std::optional<int> maximum = capacity.Count("maximum", Presence::kRequired);
      if (available.has_value() && maximum.has_value() && *available > *maximum) {
        capacity.Fail("available", "must not exceed maximum (free places above capacity)");
      }
      v1::ShelterPlaces& shelter = *service->mutable_shelter();
      shelter.set_capacity(maximum.value_or(0));
      shelter.set_free_places(available.value_or(0));
      if (updated.has_value() && *updated != absl::UnixEpoch()) {
        *shelter.mutable_free_places_time() = ToTimestamp(*updated);
      }
    }
  }

  static bool IsBedUnit(const JsonRecord& unit) {
    unit.Formatted("id", Presence::kRequired, hsds::IsUuid, kUuidRule);
    unit.String("name", Presence::kRequired);
    return unit.String("identifier", Presence::kOptional) == kBedUnitIdentifier;
  }

  static std::optional<absl::Time> ReadUpdated(const JsonRecord& capacity) {
    const std::string text = capacity.String("updated", Presence::kRequired);
    if (!capacity.Has("updated")) return std::nullopt;
    absl::Time time;
    std::string ignored_error;
    if (!absl::ParseTime(absl::RFC3339_full, text, &time, &ignored_error)) {
      capacity.Fail("updated", "must be an RFC 3339 date-time such as 2024-05-02T08:30:00Z");
      return std::nullopt;
    }
    return time;
  }

  void ReadServiceAtLocations(const JsonRecord& record,
                              const absl::flat_hash_set<std::string>& location_ids,
                              v1::ProviderService* service) {
    for (const JsonRecord& link : record.Records("service_at_locations")) {
      RecordId(link);
      std::string uuid =
          link.Formatted("location_id", Presence::kOptional, hsds::IsUuid, kUuidRule);
      const std::optional<JsonRecord> location = link.Record("location", Presence::kOptional);
      if (uuid.empty() && location.has_value()) {
        uuid = location->Formatted("id", Presence::kRequired, hsds::IsUuid, kUuidRule);
      }
      if (uuid.empty()) {
        if (!link.Has("location_id")) {
          link.Fail("location_id", "required by Haven to place the service; add it");
        }
        continue;
      }
      const std::string location_id = hsds::UuidToHavenId(uuid);
      if (!location_ids.contains(location_id)) {
        link.Fail("location_id", "must name a location of the same organization in this document");
      }
      service->add_location_ids(location_id);
    }
  }

  void ReadServiceAttributes(const JsonRecord& record, v1::ProviderService* service) {
    bool has_kind = false;
    for (const AttributeIn& attribute :
         HavenAttributes(record,
                         {TermGroup::kServiceKind, TermGroup::kShelterGroup, TermGroup::kTimeZone,
                          TermGroup::kFreePlacesBy},
                         "a service")) {
      switch (attribute.term->group) {
        case TermGroup::kServiceKind:
          if (has_kind) attribute.record.Fail("taxonomy_term", "a second service kind; give one");
          has_kind = true;
          service->set_kind(static_cast<v1::ServiceKind>(attribute.term->enum_value));
          break;
        case TermGroup::kShelterGroup:
          service->mutable_shelter()->add_takes(
              static_cast<v1::ShelterGroup>(attribute.term->enum_value));
          break;
        case TermGroup::kTimeZone:
          if (!hsds::IsTimeZoneName(attribute.value)) {
            attribute.record.Fail("value", "must be an IANA time zone name such as Europe/Vienna");
          }
          service->set_time_zone(attribute.value);
          break;
        default:
          service->mutable_shelter()->set_free_places_by(attribute.value);
      }
    }
  }

  Problems* problems_;
  absl::flat_hash_map<std::string, std::string> id_paths_;
  v1::DirectorySnapshot snapshot_;
};

}  // namespace

absl::StatusOr<v1::DirectorySnapshot> ParseHsds(absl::string_view json) {
  absl::StatusOr<google::protobuf::Value> document =
      hsds::ParseJson(json, kMaxDocumentBytes, kMaxNesting);
  if (!document.ok()) return document.status();
  if (document->kind_case() != google::protobuf::Value::kStructValue) {
    return absl::InvalidArgumentError(
        "document: must be a JSON object, an HSDS page of organizations (docs/hsds.md)");
  }
  Problems problems;
  DirectoryReader reader(&problems);
  reader.ReadPage(JsonRecord(&document->struct_value(), "", &problems));
  if (problems.any()) return problems.first();
  return reader.Take();
}

std::string WriteHsds(const v1::DirectorySnapshot& snapshot) {
  return DirectoryWriter(snapshot).Write();
}

}  // namespace haven::protection
