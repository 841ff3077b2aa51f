// Authenticator: turns a call's credentials (bearer token, or the client
// certificate on the mutual-TLS listener) and its declared purpose into a
// RequestContext. Nothing else in a request can name the caller.
#ifndef HAVEN_SERVICES_COMMON_AUTHENTICATOR_H_
#define HAVEN_SERVICES_COMMON_AUTHENTICATOR_H_

#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "services/common/partners.h"
#include "storage/access/accounts.h"
#include "storage/access/principal.h"

namespace haven::services {

inline constexpr char kPurposeHeader[] = "x-haven-purpose";
inline constexpr char kRequestIdHeader[] = "x-request-id";

class Authenticator {
 public:
  // `partners` may be null when none are configured.
  Authenticator(const access::Accounts* accounts, const Partners* partners)
      : accounts_(accounts), partners_(partners) {}

  enum class Session { kFull, kMayBeRestricted };
  // UNAUTHENTICATED without valid credentials; FAILED_PRECONDITION for a
  // session whose one-time password must first be changed, unless allowed.
  // PERMISSION_DENIED for a law-enforcement system (a service account of a
  // law-enforcement organisation): it reaches cases only through
  // LiaisonService (AuthenticateLiaison); only the calls that touch no case
  // (Session::kMayBeRestricted: WhoAmI) stay open to it.
  absl::StatusOr<access::RequestContext> Authenticate(grpc::ServerContext* context,
                                                      Session session = Session::kFull) const;

  // For LiaisonService: as Authenticate, law-enforcement systems included.
  absl::StatusOr<access::RequestContext> AuthenticateLiaison(grpc::ServerContext* context) const;

  // A partner mechanism calling on the mTLS listener, recognised by the CA
  // that signed its certificate; UNAUTHENTICATED for anyone else.
  absl::StatusOr<access::RequestContext> AuthenticatePartner(grpc::ServerContext* context) const;

  // Only what the call itself says: purpose and request id, no principal.
  static absl::StatusOr<access::RequestContext> Anonymous(grpc::ServerContext* context);

 private:
  absl::StatusOr<access::RequestContext> AuthenticateAny(grpc::ServerContext* context,
                                                         Session session) const;
  const access::Accounts* accounts_;
  const Partners* partners_;
};

}  // namespace haven::services

#endif  // HAVEN_SERVICES_COMMON_AUTHENTICATOR_H_
