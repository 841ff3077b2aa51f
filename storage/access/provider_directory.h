// ProviderDirectory: the stored directory of service providers (organisations, never victims):
// who may change which entry, each change audited in its transaction.
//
// A provider's entries (profile, locations, services) are changed by a
// supervisor of that organisation or a mechanism administrator; its free
// places by any of its own staff; the whole directory is imported by a
// mechanism administrator. Everyone who refers people reads it.
//
// Thread-safe. Does not own the store, which must outlive it.
#ifndef HAVEN_STORAGE_ACCESS_PROVIDER_DIRECTORY_H_
#define HAVEN_STORAGE_ACCESS_PROVIDER_DIRECTORY_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "haven/v1/protection.pb.h"
#include "storage/access/principal.h"
#include "storage/clock.h"

namespace haven::storage {
class Store;
class Txn;
}

namespace haven::access {

class ProviderDirectory {
 public:
  ProviderDirectory(storage::Store* store, const Clock* clock) : store_(store), clock_(clock) {}

  // Records a provider's profile, location or service, given whole (its
  // content already checked by the caller's rules). Without an id, a new
  // entry gets one; with an id, it replaces that entry of the same
  // provider. NOT_FOUND for an unknown organisation or entry;
  // FAILED_PRECONDITION for an organisation that provides no services or a
  // location that is not the provider's; PERMISSION_DENIED for a caller
  // other than the provider's supervisors or a mechanism administrator.
  absl::StatusOr<haven::v1::ProviderProfile> PutProfile(const RequestContext& ctx,
                                                        haven::v1::ProviderProfile profile);
  absl::StatusOr<haven::v1::ProviderLocation> PutLocation(const RequestContext& ctx,
                                                          haven::v1::ProviderLocation location);
  // A replaced service keeps the free places its provider last gave.
  absl::StatusOr<haven::v1::ProviderService> PutService(const RequestContext& ctx,
                                                        haven::v1::ProviderService service);
  // A shelter's free places, as its own staff say, with who and when;
  // FAILED_PRECONDITION for a service that is no shelter or a number above
  // its capacity. When they fall from some to none, the caseworkers of
  // every open case with a plan item waiting on it are alerted
  // (SHELTER_FULL), in the same transaction.
  absl::StatusOr<haven::v1::ProviderService> UpdateFreePlaces(const RequestContext& ctx,
                                                              absl::string_view service_id,
                                                              int free_places);

  // A service with its locations and its provider's name.
  absl::StatusOr<haven::v1::ServiceMatch> GetService(const RequestContext& ctx,
                                                     absl::string_view service_id);

  // Visits the services of `kind` (every kind when unspecified) that serve
  // `region` (every region when empty), in index order after `page_token`,
  // until `visit` returns false or `max_visits` were visited. Returns the
  // token that resumes after the last one visited; empty at the end.
  absl::StatusOr<std::string> ScanServices(
      const RequestContext& ctx, haven::v1::ServiceKind kind, absl::string_view region,
      absl::string_view page_token, int max_visits,
      const std::function<bool(const haven::v1::ServiceMatch&)>& visit);

  // The whole directory, in id order.
  absl::StatusOr<haven::v1::DirectorySnapshot> Export(const RequestContext& ctx);
  // Writes a whole directory in one transaction (a mechanism
  // administrator's): organisations it names that do not exist are created
  // as it gives them; entries with the same ids are replaced. Each entry
  // must be checked by the caller's rules first.
  absl::Status Import(const RequestContext& ctx, const haven::v1::DirectorySnapshot& snapshot);

  // Whether `principal` may read the directory: those who refer people,
  // provide services or administer the mechanism.
  static bool MayRead(const Principal& principal);

 private:
  // Alerts the caseworkers of each open case whose plan waits on
  // `service_id` (CaseScope::SetServicesAwaited), in `txn`; reads case
  // records only (ids, no personal data), each alert audited.
  absl::Status AlertCasesAwaiting(storage::Txn& txn, const RequestContext& ctx,
                                  absl::string_view service_id);

  storage::Store* store_;
  const Clock* clock_;
};

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_PROVIDER_DIRECTORY_H_
