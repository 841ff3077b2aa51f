// PermitDesk: a case's residence permits (applications, decisions, renewals) and the permits
// expiring soon, through the CaseDoor; a permit in force keeps the case's expiry watch.
#ifndef HAVEN_SERVICES_PROTECTION_PERMIT_DESK_H_
#define HAVEN_SERVICES_PROTECTION_PERMIT_DESK_H_

#include "absl/status/statusor.h"
#include "haven/v1/protection.pb.h"
#include "storage/access/case_door.h"
#include "storage/clock.h"

namespace haven::protection {

class PermitDesk {
 public:
  PermitDesk(access::CaseDoor* door, const Clock* clock) : door_(door), clock_(clock) {}

  // A new application, or the decision on (or a correction of) one; the
  // owning organisation's caseworkers and supervisors record them.
  absl::StatusOr<haven::v1::ResidencePermit> Record(
      const access::RequestContext& ctx, const haven::v1::RecordResidencePermitRequest& request);
  absl::StatusOr<haven::v1::ListResidencePermitsResponse> List(
      const access::RequestContext& ctx, const haven::v1::ListResidencePermitsRequest& request);
  // The permits in force, in the caller's reach, expiring within the days
  // asked (or expired unrenewed); a page of cases at a time.
  absl::StatusOr<haven::v1::ListExpiringPermitsResponse> ListExpiring(
      const access::RequestContext& ctx, const haven::v1::ListExpiringPermitsRequest& request);

 private:
  access::CaseDoor* door_;
  const Clock* clock_;
};

}  // namespace haven::protection

#endif  // HAVEN_SERVICES_PROTECTION_PERMIT_DESK_H_
