// Accounts: organisations, users, service accounts and sessions, and the
// only place where credentials (a session token or a client certificate)
// become a Principal. Nothing a client claims in a request does.
//
// Thread-safe.
#ifndef HAVEN_STORAGE_ACCESS_ACCOUNTS_H_
#define HAVEN_STORAGE_ACCESS_ACCOUNTS_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "haven/v1/admin.pb.h"
#include "haven/v1/audit.pb.h"
#include "haven/v1/records.pb.h"
#include "storage/access/login_guard.h"
#include "storage/access/principal.h"
#include "storage/clock.h"
#include "storage/crypto.h"

namespace haven::storage {
class Store;
class Txn;
}

namespace haven::access {

class Accounts {
 public:
  struct Options {
    absl::Duration session_lifetime = absl::Hours(8);
    crypto::PasswordCost password_cost = crypto::PasswordCost::kInteractive;
    // Hashing slots, attempts per address, and the lock-out rule.
    LoginGuard::Options login;
  };

  Accounts(storage::Store* store, const Clock* clock, Options options);

  struct Bootstrapped {
    bool created = false;  // false: users existed already, nothing was done
    std::string organisation_id;
    std::string username;
    std::string one_time_password;
  };
  // Creates the first organisation and its administrator when the store has
  // no user yet.
  absl::StatusOr<Bootstrapped> Bootstrap(absl::string_view organisation_name,
                                         absl::string_view username);

  struct Session {
    std::string token;
    absl::Time expire_time;
    haven::v1::User user;
    bool password_change_required = false;
  };
  // UNAUTHENTICATED for a wrong username or password (the same for both);
  // RESOURCE_EXHAUSTED while the username is locked after failures (the
  // same rule and answer whether or not it has an account), while
  // `source_address` (empty: not known, not limited) is over its attempts,
  // or when every password-hashing slot is busy.
  absl::StatusOr<Session> Login(absl::string_view username, absl::string_view password,
                                absl::string_view request_id,
                                absl::string_view source_address = "");
  // UNAUTHENTICATED unless the token names a live session of an enabled user.
  absl::StatusOr<Principal> AuthenticateToken(absl::string_view token) const;
  // UNAUTHENTICATED unless the SHA-256 of the certificate's DER encoding is
  // registered to an enabled service account.
  absl::StatusOr<Principal> AuthenticateCertificate(absl::string_view der_sha256) const;
  // A user by id, for checks such as "is this assignee a caseworker of the
  // case's organisation"; NOT_FOUND when there is none.
  absl::StatusOr<haven::v1::User> FindUser(absl::string_view user_id) const;
  // An organisation by id; NOT_FOUND when there is none.
  absl::StatusOr<haven::v1::Organisation> FindOrganisation(absl::string_view organisation_id) const;
  absl::Status Logout(const RequestContext& ctx);
  // A wrong current password counts as a failed login (and locks alike);
  // a change ends every other session of the user.
  absl::Status ChangePassword(const RequestContext& ctx, absl::string_view current,
                              absl::string_view replacement);

  // Administration: PERMISSION_DENIED unless the caller is an administrator.
  absl::StatusOr<haven::v1::Organisation> CreateOrganisation(const RequestContext& ctx,
                                                             haven::v1::Organisation org);
  absl::StatusOr<std::pair<std::vector<haven::v1::Organisation>, std::string>>
  ListOrganisations(const RequestContext& ctx, int page_size, absl::string_view page_token);
  // Returns the user and its one-time password.
  absl::StatusOr<std::pair<haven::v1::User, std::string>> CreateUser(const RequestContext& ctx,
                                                                     haven::v1::User user);
  absl::StatusOr<std::pair<std::vector<haven::v1::User>, std::string>> ListUsers(
      const RequestContext& ctx, absl::string_view organisation_id, int page_size,
      absl::string_view page_token);
  absl::StatusOr<haven::v1::User> SetUserDisabled(const RequestContext& ctx,
                                                  absl::string_view user_id, bool disabled);
  absl::StatusOr<haven::v1::User> SetUserRoles(const RequestContext& ctx,
                                               absl::string_view user_id,
                                               const std::vector<haven::v1::Role>& roles);
  absl::StatusOr<std::string> ResetPassword(const RequestContext& ctx, absl::string_view user_id);
  absl::Status RevokeSessions(const RequestContext& ctx, absl::string_view user_id);
  // Deletes the sessions that can never be used again (expired or
  // revoked); returns how many. For the housekeeping thread.
  absl::StatusOr<int> PurgeEndedSessions();
  absl::StatusOr<haven::v1::ServiceAccount> CreateServiceAccount(
      const RequestContext& ctx, haven::v1::ServiceAccount account);
  absl::StatusOr<std::vector<haven::v1::ServiceAccount>> ListServiceAccounts(
      const RequestContext& ctx, absl::string_view organisation_id);
  // A disabled service account's certificate authenticates no call.
  absl::StatusOr<haven::v1::ServiceAccount> SetServiceAccountDisabled(
      const RequestContext& ctx, absl::string_view service_account_id, bool disabled);
  // Registers the account's new certificate and revokes the old one for
  // good: no account can register it again.
  absl::StatusOr<haven::v1::ServiceAccount> RotateServiceAccountCertificate(
      const RequestContext& ctx, absl::string_view service_account_id,
      absl::string_view certificate_sha256);

 private:
  using UserChange = std::function<absl::Status(haven::v1::UserRecord&)>;
  using ServiceAccountChange =
      std::function<absl::Status(storage::Txn&, haven::v1::ServiceAccount&)>;
  absl::StatusOr<haven::v1::ServiceAccount> ChangeServiceAccount(
      const RequestContext& ctx, absl::string_view service_account_id,
      absl::string_view audit_action, const ServiceAccountChange& change);
  absl::StatusOr<haven::v1::User> ChangeUser(const RequestContext& ctx, absl::string_view user_id,
                                             absl::string_view audit_action,
                                             const UserChange& change);
  absl::StatusOr<haven::v1::OrganisationType> OrganisationTypeOf(absl::string_view org_id) const;

  storage::Store* store_;
  const Clock* clock_;
  bool IsLockedOut(const haven::v1::UserRecord& user, absl::Time now) const;
  // Counts a failed login on `user` (locking it by the guard's rule) and
  // commits that with `entry`, audited as denied.
  absl::Status CommitFailure(std::unique_ptr<storage::Txn> txn, haven::v1::UserRecord& user,
                             haven::v1::AuditEntry entry, absl::Time now);
  // Hashes a new password in one of the guard's slots.
  absl::StatusOr<std::string> HashNewPassword(absl::string_view password);

  Options options_;
  LoginGuard guard_;
  std::string dummy_hash_;  // verified against for unknown usernames, for even timing
};

// 3 to 64 characters of [a-z0-9._-].
bool IsValidUsername(absl::string_view username);

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_ACCOUNTS_H_
