// Principal and RequestContext: who is calling, established only from
// credentials, and why (the purpose the caller declared).
#ifndef HAVEN_STORAGE_ACCESS_PRINCIPAL_H_
#define HAVEN_STORAGE_ACCESS_PRINCIPAL_H_

#include <string>
#include <vector>

#include "haven/v1/common.pb.h"

namespace haven::access {

struct Principal {
  std::string id;               // user or service account id (hex)
  std::string organisation_id;  // hex
  haven::v1::OrganisationType organisation_type =
      haven::v1::ORGANISATION_TYPE_UNSPECIFIED;
  std::vector<haven::v1::Role> roles;
  bool service_account = false;
  // Logged in with a one-time password not yet changed: may only change it.
  bool password_change_required = false;
  std::string session_key;  // SHA-256 of the session token; empty for certificates
  // Set for a partner mechanism in another country (id "partner/<id>", no
  // organisation here, no roles): it may only use PartnerService.
  std::string partner_id;

  bool HasRole(haven::v1::Role role) const {
    for (haven::v1::Role r : roles) {
      if (r == role) return true;
    }
    return false;
  }
};

// The purpose of a request whose caller declared none.
inline constexpr char kNoDeclaredPurpose[] = "unspecified";

struct RequestContext {
  Principal principal;
  // A short token such as "case-management" (request metadata
  // x-haven-purpose), or kNoDeclaredPurpose.
  std::string purpose;
  std::string request_id;
};

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_PRINCIPAL_H_
