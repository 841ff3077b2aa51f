// ProtectionDesk: the directory's rules applied before the directory stores or searches.
#include "services/protection/protection_desk.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "services/protection/directory_rules.h"
#include "services/protection/hsds.h"

namespace haven::protection {
namespace {

namespace v1 = haven::v1;

constexpr int kDefaultPage = 50;
constexpr int kMaxPage = 200;
// Services looked at per search call, matching or not.
constexpr int kMaxVisitsPerPage = 2000;

// The rule's complaint about one record of an imported file, naming it.
absl::Status InRecord(absl::string_view kind, absl::string_view id, const absl::Status& s) {
  return absl::InvalidArgumentError(absl::StrCat(kind, " ", id, ": ", s.message()));
}

}  // namespace

absl::StatusOr<v1::ProviderProfile> ProtectionDesk::PutProfile(
    const access::RequestContext& ctx, const v1::PutProviderProfileRequest& request) {
  if (absl::Status s = CheckProfile(request.profile()); !s.ok()) return s;
  return directory_->PutProfile(ctx, request.profile());
}

absl::StatusOr<v1::ProviderLocation> ProtectionDesk::PutLocation(
    const access::RequestContext& ctx, const v1::PutProviderLocationRequest& request) {
  if (absl::Status s = CheckLocation(request.location()); !s.ok()) return s;
  return directory_->PutLocation(ctx, request.location());
}

absl::StatusOr<v1::ProviderService> ProtectionDesk::PutService(
    const access::RequestContext& ctx, const v1::PutProviderServiceRequest& request) {
  if (absl::Status s = CheckService(request.service()); !s.ok()) return s;
  return directory_->PutService(ctx, request.service());
}

absl::StatusOr<v1::ProviderService> ProtectionDesk::UpdateFreePlaces(
    const access::RequestContext& ctx, const v1::UpdateFreePlacesRequest& request) {
  return directory_->UpdateFreePlaces(ctx, request.service_id(), request.free_places());
}

absl::StatusOr<v1::ServiceMatch> ProtectionDesk::GetService(
    const access::RequestContext& ctx, const v1::GetProviderServiceRequest& request) {
  return directory_->GetService(ctx, request.service_id());
}

absl::StatusOr<v1::SearchServicesResponse> ProtectionDesk::Search(
    const access::RequestContext& ctx, const v1::SearchServicesRequest& request) {
  if (absl::Status s = CheckSearch(request); !s.ok()) return s;
  const int limit = request.page_size() == 0 ? kDefaultPage : std::min(request.page_size(), kMaxPage);
  v1::SearchServicesResponse response;
  absl::StatusOr<std::string> next = directory_->ScanServices(
      ctx, request.kind(), request.region(), request.page_token(), kMaxVisitsPerPage,
      [&](const v1::ServiceMatch& match) {
        if (Answers(match, request, options_.time_zone)) *response.add_matches() = match;
        return response.matches_size() < limit;
      });
  if (!next.ok()) return next.status();
  response.set_next_page_token(*next);
  return response;
}

absl::StatusOr<v1::ImportDirectoryResponse> ProtectionDesk::Import(
    const access::RequestContext& ctx, absl::string_view hsds_json) {
  absl::StatusOr<v1::DirectorySnapshot> snapshot = ParseHsds(hsds_json);
  if (!snapshot.ok()) return snapshot.status();
  for (const v1::ProviderProfile& profile : snapshot->profiles()) {
    if (absl::Status s = CheckProfile(profile); !s.ok()) {
      return InRecord("organization", profile.organisation_id(), s);
    }
  }
  for (const v1::ProviderLocation& location : snapshot->locations()) {
    if (absl::Status s = CheckLocation(location); !s.ok()) {
      return InRecord("location", location.id(), s);
    }
  }
  for (const v1::ProviderService& service : snapshot->services()) {
    if (absl::Status s = CheckService(service); !s.ok()) return InRecord("service", service.id(), s);
  }
  if (absl::Status s = directory_->Import(ctx, *snapshot); !s.ok()) return s;
  v1::ImportDirectoryResponse response;
  response.set_organisations(snapshot->organisations_size());
  response.set_locations(snapshot->locations_size());
  response.set_services(snapshot->services_size());
  return response;
}

absl::StatusOr<std::string> ProtectionDesk::Export(const access::RequestContext& ctx) {
  absl::StatusOr<v1::DirectorySnapshot> snapshot = directory_->Export(ctx);
  if (!snapshot.ok()) return snapshot.status();
  return WriteHsds(*snapshot);
}

}  // namespace haven::protection
