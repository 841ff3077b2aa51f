// ProtectionDesk: the directory of service providers as its users work with it; the
// ProtectionService handlers call it. (Service plans come next.)
#ifndef HAVEN_SERVICES_PROTECTION_PROTECTION_DESK_H_
#define HAVEN_SERVICES_PROTECTION_PROTECTION_DESK_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "haven/v1/protection.pb.h"
#include "storage/access/principal.h"
#include "storage/access/provider_directory.h"
#include "storage/clock.h"

namespace haven::protection {

class ProtectionDesk {
 public:
  struct Options {
    // The jurisdiction's time zone: of opening hours that name none.
    absl::TimeZone time_zone = absl::UTCTimeZone();
  };

  ProtectionDesk(access::ProviderDirectory* directory, Options options)
      : directory_(directory), options_(options) {}

  absl::StatusOr<haven::v1::ProviderProfile> PutProfile(
      const access::RequestContext& ctx, const haven::v1::PutProviderProfileRequest& request);
  absl::StatusOr<haven::v1::ProviderLocation> PutLocation(
      const access::RequestContext& ctx, const haven::v1::PutProviderLocationRequest& request);
  absl::StatusOr<haven::v1::ProviderService> PutService(
      const access::RequestContext& ctx, const haven::v1::PutProviderServiceRequest& request);
  absl::StatusOr<haven::v1::ProviderService> UpdateFreePlaces(
      const access::RequestContext& ctx, const haven::v1::UpdateFreePlacesRequest& request);
  absl::StatusOr<haven::v1::ServiceMatch> GetService(
      const access::RequestContext& ctx, const haven::v1::GetProviderServiceRequest& request);
  // A page of the services that answer the request (directory_rules.h),
  // from at most a bounded stretch of the directory: a page may hold fewer
  // than asked and still have a next page token.
  absl::StatusOr<haven::v1::SearchServicesResponse> Search(
      const access::RequestContext& ctx, const haven::v1::SearchServicesRequest& request);
  // Imports an HSDS document whole, or nothing of it.
  absl::StatusOr<haven::v1::ImportDirectoryResponse> Import(const access::RequestContext& ctx,
                                                            absl::string_view hsds_json);
  // The whole directory as an HSDS document.
  absl::StatusOr<std::string> Export(const access::RequestContext& ctx);

 private:
  access::ProviderDirectory* directory_;
  Options options_;
};

}  // namespace haven::protection

#endif  // HAVEN_SERVICES_PROTECTION_PROTECTION_DESK_H_
