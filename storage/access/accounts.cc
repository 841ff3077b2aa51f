// Accounts: organisations, users, service accounts and sessions.
#include "storage/access/accounts.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "storage/access/case_door.h"
#include "storage/access/layout.h"
#include "storage/codes.h"
#include "storage/ids.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "storage/timestamps.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

constexpr size_t kMinPasswordLength = 12;
constexpr size_t kMaxPasswordLength = 1024;
constexpr size_t kMaxDisplayName = 200;
constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
constexpr char kTokenPrefix[] = "hvn_";

absl::Status WrongCredentials() {
  return absl::UnauthenticatedError("username or password is wrong");
}
// The same answer for a real account and a username with none.
absl::Status LockedOut() {
  return absl::ResourceExhaustedError("too many failed logins; wait and try again later");
}
absl::Status TooManyFromAddress() {
  return absl::ResourceExhaustedError(
      "too many login attempts from your address in the last minute; wait and try again");
}
absl::Status HashingBusy() {
  return absl::ResourceExhaustedError(
      "the server is checking too many passwords at once; try again in a moment");
}
absl::Status InvalidToken() {
  return absl::UnauthenticatedError("the session token is invalid or has expired; log in again");
}
absl::Status AdministratorsOnly() {
  return absl::PermissionDeniedError("only administrators may manage accounts");
}

v1::User UserToApi(const v1::UserRecord& r) {
  v1::User u;
  u.set_id(r.id());
  u.set_organisation_id(r.organisation_id());
  u.set_username(r.username());
  u.set_display_name(r.display_name());
  *u.mutable_roles() = r.roles();
  u.set_disabled(r.disabled());
  *u.mutable_create_time() = MicrosToTimestamp(r.create_time_micros());
  return u;
}

bool IsAdministrator(const Principal& p) {
  return p.HasRole(v1::ROLE_ADMINISTRATOR) && !p.password_change_required;
}

absl::Status ValidatePassword(absl::string_view password) {
  if (password.size() < kMinPasswordLength || password.size() > kMaxPasswordLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("a password has ", kMinPasswordLength, " to ", kMaxPasswordLength,
                     " characters"));
  }
  return absl::OkStatus();
}

absl::Status ValidateDisplayName(absl::string_view name, absl::string_view field) {
  if (name.empty() || name.size() > kMaxDisplayName) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is required and has at most ", kMaxDisplayName, " bytes"));
  }
  return absl::OkStatus();
}

// Roles that read no case content; an administrator may hold only these, so
// that whoever manages accounts cannot also read the cases.
bool ReadsNoCaseContent(int role) {
  return role == v1::ROLE_ADMINISTRATOR || role == v1::ROLE_AUDITOR || role == v1::ROLE_ANALYST;
}

absl::Status ValidateRoles(const google::protobuf::RepeatedField<int>& roles, bool service_account) {
  if (roles.empty()) return absl::InvalidArgumentError("at least one role is required");
  const bool administrator =
      std::find(roles.begin(), roles.end(), v1::ROLE_ADMINISTRATOR) != roles.end();
  for (int r : roles) {
    if (administrator && !ReadsNoCaseContent(r)) {
      return absl::InvalidArgumentError(
          "an administrator cannot also hold a role that reads case content");
    }
    if (!v1::Role_IsValid(r) || r == v1::ROLE_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat("roles holds an unknown value ", r));
    }
    if (service_account && r == v1::ROLE_ADMINISTRATOR) {
      return absl::InvalidArgumentError("a service account cannot be an administrator");
    }
  }
  return absl::OkStatus();
}

int PageSize(int requested) {
  if (requested <= 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

absl::Status ValidatePageToken(absl::string_view token) {
  if (token.empty()) return absl::OkStatus();
  return ParseId(token, "page_token").status();
}

template <typename Record>
absl::StatusOr<Record> Parse(const std::optional<std::string>& bytes, absl::string_view what) {
  Record r;
  if (!bytes.has_value()) return absl::NotFoundError(absl::StrCat(what, " not found"));
  if (!r.ParseFromString(*bytes)) return absl::DataLossError(absl::StrCat(what, " is unreadable"));
  return r;
}

std::vector<v1::Role> RolesOf(const google::protobuf::RepeatedField<int>& roles) {
  std::vector<v1::Role> out;
  for (int r : roles) out.push_back(static_cast<v1::Role>(r));
  return out;
}

// Audits an account action and commits.
absl::Status CommitAudited(storage::Store* store, std::unique_ptr<storage::Txn> txn,
                           const RequestContext& ctx, absl::string_view action,
                           absl::string_view record) {
  v1::AuditEntry entry = NewAuditEntry(ctx, action, record);
  entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  txn->Audit(std::move(entry));
  return store->Commit(std::move(txn));
}

}  // namespace

bool IsValidUsername(absl::string_view username) {
  if (username.size() < 3 || username.size() > 64) return false;
  return std::all_of(username.begin(), username.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

Accounts::Accounts(storage::Store* store, const Clock* clock, Options options)
    : store_(store), clock_(clock), options_(options), guard_(options.login) {
  dummy_hash_ = crypto::HashPassword(crypto::RandomToken(16), options_.password_cost).value_or("");
}

absl::StatusOr<Accounts::Bootstrapped> Accounts::Bootstrap(absl::string_view organisation_name,
                                                           absl::string_view username) {
  Bootstrapped result;
  bool any_user = false;
  if (absl::Status s = store_->Scan(Cf::kUsers, "", "",
                                    [&](absl::string_view, absl::string_view) {
                                      any_user = true;
                                      return false;
                                    });
      !s.ok()) {
    return s;
  }
  if (any_user) return result;
  if (!IsValidUsername(username)) return absl::InvalidArgumentError("invalid bootstrap username");

  int64_t now = absl::ToUnixMicros(clock_->Now());
  v1::Organisation org;
  org.set_id(NewId());
  org.set_display_name(std::string(organisation_name));
  org.set_type(v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY);
  *org.mutable_create_time() = MicrosToTimestamp(now);

  result.one_time_password = crypto::RandomToken(18);
  absl::StatusOr<std::string> hash =
      crypto::HashPassword(result.one_time_password, options_.password_cost);
  if (!hash.ok()) return hash.status();
  v1::UserRecord user;
  user.set_id(NewId());
  user.set_organisation_id(org.id());
  user.set_username(std::string(username));
  user.set_display_name("First administrator");
  user.add_roles(v1::ROLE_ADMINISTRATOR);
  user.set_password_hash(*hash);
  user.set_password_change_required(true);
  user.set_create_time_micros(now);

  std::unique_ptr<storage::Txn> txn = store_->Begin();
  if (absl::Status s = txn->Put(Cf::kOrganisations, org.id(), org.SerializeAsString()); !s.ok()) return s;
  if (absl::Status s = txn->Put(Cf::kUsers, user.id(), user.SerializeAsString()); !s.ok()) return s;
  if (absl::Status s = txn->Put(Cf::kUsersByOrganisation,
                                UserByOrganisationKey(user.organisation_id(), user.id()), "");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = txn->Put(Cf::kUsernames, user.username(), user.id()); !s.ok()) return s;
  RequestContext system;
  system.principal.id = "system";
  system.purpose = "bootstrap";
  if (absl::Status s = CommitAudited(store_, std::move(txn), system, "admin.bootstrap",
                                     absl::StrCat("users/", user.id()));
      !s.ok()) {
    return s;
  }
  result.created = true;
  result.organisation_id = org.id();
  result.username = user.username();
  return result;
}

absl::StatusOr<Accounts::Session> Accounts::Login(absl::string_view username,
                                                  absl::string_view password,
                                                  absl::string_view request_id,
                                                  absl::string_view source_address) {
  const absl::Time now = clock_->Now();
  if (!guard_.AdmitAddress(source_address, now)) return TooManyFromAddress();
  if (!IsValidUsername(username) || password.empty() || password.size() > kMaxPasswordLength) {
    return WrongCredentials();
  }
  absl::StatusOr<std::optional<std::string>> user_id = store_->Get(Cf::kUsernames, username);
  if (!user_id.ok()) return user_id.status();
  if (!user_id->has_value()) {
    // Answered as a real account would be: locked out by the same rule,
    // after the same hashing work.
    if (guard_.IsLockedOut(username, now)) return LockedOut();
    LoginGuard::Slot slot = guard_.TakeHashingSlot();
    if (!slot) return HashingBusy();
    crypto::VerifyPassword(dummy_hash_, password);
    guard_.RecordFailure(username, now);
    return WrongCredentials();
  }
  absl::StatusOr<std::optional<std::string>> stored = store_->Get(Cf::kUsers, **user_id);
  if (!stored.ok()) return stored.status();
  absl::StatusOr<v1::UserRecord> before = Parse<v1::UserRecord>(*stored, "user");
  if (!before.ok()) return before.status();
  if (IsLockedOut(*before, now)) return LockedOut();
  bool password_ok = false;
  {
    LoginGuard::Slot slot = guard_.TakeHashingSlot();
    if (!slot) return HashingBusy();
    password_ok = crypto::VerifyPassword(before->password_hash(), password);
  }

  std::unique_ptr<storage::Txn> txn = store_->Begin();
  absl::StatusOr<std::optional<std::string>> locked = txn->GetForUpdate(Cf::kUsers, **user_id);
  if (!locked.ok()) return locked.status();
  absl::StatusOr<v1::UserRecord> user = Parse<v1::UserRecord>(*locked, "user");
  if (!user.ok()) return user.status();
  // Checked again under the lock: concurrent guesses must not all slip in
  // before the first failure locks the account.
  if (IsLockedOut(*user, now)) return LockedOut();
  RequestContext ctx;
  ctx.principal.id = user->id();
  ctx.principal.organisation_id = user->organisation_id();
  ctx.purpose = "login";
  ctx.request_id = std::string(request_id);
  v1::AuditEntry entry = NewAuditEntry(ctx, "auth.login", absl::StrCat("users/", user->id()));

  if (!password_ok || user->disabled()) {
    if (absl::Status s = CommitFailure(std::move(txn), *user, std::move(entry), now); !s.ok()) {
      return s;
    }
    return WrongCredentials();
  }

  user->set_failed_logins(0);
  user->set_locked_until_micros(0);
  Session session;
  session.token = absl::StrCat(kTokenPrefix, crypto::RandomToken(32));
  session.expire_time = now + options_.session_lifetime;
  session.user = UserToApi(*user);
  session.password_change_required = user->password_change_required();
  v1::SessionRecord record;
  record.set_user_id(user->id());
  record.set_create_time_micros(absl::ToUnixMicros(now));
  record.set_expire_time_micros(absl::ToUnixMicros(session.expire_time));
  record.set_session_epoch(user->session_epoch());
  if (absl::Status s = txn->Put(Cf::kUsers, user->id(), user->SerializeAsString()); !s.ok()) return s;
  if (absl::Status s = txn->Put(Cf::kSessions, crypto::Sha256(session.token), record.SerializeAsString());
      !s.ok()) {
    return s;
  }
  entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  txn->Audit(std::move(entry));
  if (absl::Status s = store_->Commit(std::move(txn)); !s.ok()) return s;
  return session;
}

absl::StatusOr<v1::OrganisationType> Accounts::OrganisationTypeOf(absl::string_view org_id) const {
  absl::StatusOr<std::optional<std::string>> stored = store_->Get(Cf::kOrganisations, org_id);
  if (!stored.ok()) return stored.status();
  absl::StatusOr<v1::Organisation> org = Parse<v1::Organisation>(*stored, "organisation");
  if (!org.ok()) return org.status();
  return org->type();
}

absl::StatusOr<Principal> Accounts::AuthenticateToken(absl::string_view token) const {
  if (token.size() < sizeof(kTokenPrefix) || token.size() > 128) return InvalidToken();
  std::string key = crypto::Sha256(token);
  absl::StatusOr<std::optional<std::string>> stored = store_->Get(Cf::kSessions, key);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return InvalidToken();
  absl::StatusOr<v1::SessionRecord> session = Parse<v1::SessionRecord>(*stored, "session");
  if (!session.ok()) return session.status();
  if (session->revoked() || absl::FromUnixMicros(session->expire_time_micros()) <= clock_->Now()) {
    return InvalidToken();
  }
  absl::StatusOr<std::optional<std::string>> user_bytes = store_->Get(Cf::kUsers, session->user_id());
  if (!user_bytes.ok()) return user_bytes.status();
  absl::StatusOr<v1::UserRecord> user = Parse<v1::UserRecord>(*user_bytes, "user");
  if (!user.ok() || user->disabled() || user->session_epoch() != session->session_epoch()) {
    return InvalidToken();
  }
  absl::StatusOr<v1::OrganisationType> type = OrganisationTypeOf(user->organisation_id());
  if (!type.ok()) return InvalidToken();
  Principal p;
  p.id = user->id();
  p.organisation_id = user->organisation_id();
  p.organisation_type = *type;
  p.roles = RolesOf(user->roles());
  p.password_change_required = user->password_change_required();
  p.session_key = std::move(key);
  return p;
}

absl::StatusOr<Principal> Accounts::AuthenticateCertificate(absl::string_view der_sha256) const {
  auto unknown = [] {
    return absl::UnauthenticatedError("the client certificate is not registered to a service account");
  };
  absl::StatusOr<std::optional<std::string>> id =
      store_->Get(Cf::kServiceAccountCerts, ToHex(der_sha256));
  if (!id.ok()) return id.status();
  if (!id->has_value() || (*id)->empty()) return unknown();  // empty: revoked
  absl::StatusOr<std::optional<std::string>> stored = store_->Get(Cf::kServiceAccounts, **id);
  if (!stored.ok()) return stored.status();
  absl::StatusOr<v1::ServiceAccount> account = Parse<v1::ServiceAccount>(*stored, "service account");
  if (!account.ok() || account->disabled()) return unknown();
  absl::StatusOr<v1::OrganisationType> type = OrganisationTypeOf(account->organisation_id());
  if (!type.ok()) return unknown();
  Principal p;
  p.id = account->id();
  p.organisation_id = account->organisation_id();
  p.organisation_type = *type;
  p.roles = RolesOf(account->roles());
  p.service_account = true;
  return p;
}

absl::StatusOr<v1::User> Accounts::FindUser(absl::string_view user_id) const {
  absl::StatusOr<std::string> raw = ParseId(user_id, "user id");
  if (!raw.ok()) return raw.status();
  absl::StatusOr<std::optional<std::string>> stored = store_->Get(Cf::kUsers, ToHex(*raw));
  if (!stored.ok()) return stored.status();
  absl::StatusOr<v1::UserRecord> user = Parse<v1::UserRecord>(*stored, "user");
  if (!user.ok()) return user.status();
  return UserToApi(*user);
}

absl::StatusOr<v1::Organisation> Accounts::FindOrganisation(absl::string_view organisation_id) const {
  absl::StatusOr<std::string> raw = ParseId(organisation_id, "organisation id");
  if (!raw.ok()) return raw.status();
  absl::StatusOr<std::optional<std::string>> stored = store_->Get(Cf::kOrganisations, ToHex(*raw));
  if (!stored.ok()) return stored.status();
  return Parse<v1::Organisation>(*stored, "organisation");
}

absl::Status Accounts::Logout(const RequestContext& ctx) {
  if (ctx.principal.session_key.empty()) {
    return absl::FailedPreconditionError("certificate callers have no session to end");
  }
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  absl::StatusOr<std::optional<std::string>> stored =
      txn->GetForUpdate(Cf::kSessions, ctx.principal.session_key);
  if (!stored.ok()) return stored.status();
  absl::StatusOr<v1::SessionRecord> session = Parse<v1::SessionRecord>(*stored, "session");
  if (!session.ok()) return session.status();
  session->set_revoked(true);
  if (absl::Status s = txn->Put(Cf::kSessions, ctx.principal.session_key, session->SerializeAsString());
      !s.ok()) {
    return s;
  }
  return CommitAudited(store_, std::move(txn), ctx, "auth.logout",
                       absl::StrCat("users/", ctx.principal.id));
}

absl::Status Accounts::ChangePassword(const RequestContext& ctx, absl::string_view current,
                                      absl::string_view replacement) {
  if (ctx.principal.service_account) {
    return absl::FailedPreconditionError("service accounts have no password");
  }
  if (absl::Status s = ValidatePassword(replacement); !s.ok()) return s;
  if (current == replacement) {
    return absl::InvalidArgumentError("the new password must differ from the current one");
  }
  const absl::Time now = clock_->Now();
  absl::StatusOr<std::optional<std::string>> stored = store_->Get(Cf::kUsers, ctx.principal.id);
  if (!stored.ok()) return stored.status();
  absl::StatusOr<v1::UserRecord> before = Parse<v1::UserRecord>(*stored, "user");
  if (!before.ok()) return before.status();
  if (IsLockedOut(*before, now)) return LockedOut();
  absl::StatusOr<std::string> hash;
  bool current_ok = false;
  {
    LoginGuard::Slot slot = guard_.TakeHashingSlot();
    if (!slot) return HashingBusy();
    current_ok = crypto::VerifyPassword(before->password_hash(), current);
    if (current_ok) hash = crypto::HashPassword(replacement, options_.password_cost);
  }
  if (current_ok && !hash.ok()) return hash.status();

  std::unique_ptr<storage::Txn> txn = store_->Begin();
  absl::StatusOr<std::optional<std::string>> locked = txn->GetForUpdate(Cf::kUsers, ctx.principal.id);
  if (!locked.ok()) return locked.status();
  absl::StatusOr<v1::UserRecord> user = Parse<v1::UserRecord>(*locked, "user");
  if (!user.ok()) return user.status();
  if (IsLockedOut(*user, now)) return LockedOut();
  v1::AuditEntry entry =
      NewAuditEntry(ctx, "auth.change_password", absl::StrCat("users/", user->id()));
  if (!current_ok) {
    // A wrong current password counts as a failed login: a stolen session
    // cannot be used to guess the password.
    if (absl::Status s = CommitFailure(std::move(txn), *user, std::move(entry), now); !s.ok()) {
      return s;
    }
    return absl::PermissionDeniedError("the current password is wrong");
  }
  user->set_password_hash(*hash);
  user->set_password_change_required(false);
  user->set_failed_logins(0);
  user->set_locked_until_micros(0);
  // Every other session ends; this one goes on under the new epoch.
  user->set_session_epoch(user->session_epoch() + 1);
  if (absl::Status s = txn->Put(Cf::kUsers, user->id(), user->SerializeAsString()); !s.ok()) return s;
  if (!ctx.principal.session_key.empty()) {
    absl::StatusOr<std::optional<std::string>> session_bytes =
        txn->GetForUpdate(Cf::kSessions, ctx.principal.session_key);
    if (!session_bytes.ok()) return session_bytes.status();
    absl::StatusOr<v1::SessionRecord> session = Parse<v1::SessionRecord>(*session_bytes, "session");
    if (!session.ok()) return session.status();
    session->set_session_epoch(user->session_epoch());
    if (absl::Status s =
            txn->Put(Cf::kSessions, ctx.principal.session_key, session->SerializeAsString());
        !s.ok()) {
      return s;
    }
  }
  entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  txn->Audit(std::move(entry));
  return store_->Commit(std::move(txn));
}

bool Accounts::IsLockedOut(const v1::UserRecord& user, absl::Time now) const {
  return absl::FromUnixMicros(user.locked_until_micros()) > now;
}

absl::Status Accounts::CommitFailure(std::unique_ptr<storage::Txn> txn, v1::UserRecord& user,
                                     v1::AuditEntry entry, absl::Time now) {
  user.set_failed_logins(user.failed_logins() + 1);
  const absl::Duration lock = guard_.LockoutAfter(static_cast<int>(user.failed_logins()));
  if (lock > absl::ZeroDuration()) user.set_locked_until_micros(absl::ToUnixMicros(now + lock));
  if (absl::Status s = txn->Put(Cf::kUsers, user.id(), user.SerializeAsString()); !s.ok()) return s;
  entry.set_outcome(v1::AUDIT_OUTCOME_DENIED);
  txn->Audit(std::move(entry));
  return store_->Commit(std::move(txn));
}

absl::StatusOr<std::string> Accounts::HashNewPassword(absl::string_view password) {
  LoginGuard::Slot slot = guard_.TakeHashingSlot();
  if (!slot) return HashingBusy();
  return crypto::HashPassword(password, options_.password_cost);
}

absl::StatusOr<v1::Organisation> Accounts::CreateOrganisation(const RequestContext& ctx,
                                                              v1::Organisation org) {
  if (!IsAdministrator(ctx.principal)) return AdministratorsOnly();
  if (absl::Status s = ValidateDisplayName(org.display_name(), "display_name"); !s.ok()) return s;
  if (!v1::OrganisationType_IsValid(org.type()) ||
      org.type() == v1::ORGANISATION_TYPE_UNSPECIFIED) {
    return absl::InvalidArgumentError("type must be a known organisation type");
  }
  if (!org.country().empty() && !IsCountryCode(org.country())) {
    return absl::InvalidArgumentError("country must be an ISO 3166-1 alpha-2 code such as \"NL\"");
  }
  org.set_id(NewId());
  *org.mutable_create_time() = MicrosToTimestamp(absl::ToUnixMicros(clock_->Now()));
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  if (absl::Status s = txn->Put(Cf::kOrganisations, org.id(), org.SerializeAsString()); !s.ok()) {
    return s;
  }
  if (absl::Status s = CommitAudited(store_, std::move(txn), ctx, "admin.create_organisation",
                                     absl::StrCat("organisations/", org.id()));
      !s.ok()) {
    return s;
  }
  return org;
}

absl::StatusOr<std::pair<std::vector<v1::Organisation>, std::string>> Accounts::ListOrganisations(
    const RequestContext& ctx, int page_size, absl::string_view page_token) {
  if (!IsAdministrator(ctx.principal)) return AdministratorsOnly();
  if (absl::Status s = ValidatePageToken(page_token); !s.ok()) return s;
  const int limit = PageSize(page_size);
  std::vector<v1::Organisation> out;
  std::string next;
  absl::Status s = store_->Scan(Cf::kOrganisations, "", page_token,
                                [&](absl::string_view key, absl::string_view value) {
                                  if (static_cast<int>(out.size()) == limit) {
                                    next = out.back().id();
                                    return false;
                                  }
                                  v1::Organisation org;
                                  if (org.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                                    out.push_back(std::move(org));
                                  }
                                  (void)key;
                                  return true;
                                });
  if (!s.ok()) return s;
  return std::make_pair(std::move(out), std::move(next));
}

absl::StatusOr<std::pair<v1::User, std::string>> Accounts::CreateUser(const RequestContext& ctx,
                                                                      v1::User user) {
  if (!IsAdministrator(ctx.principal)) return AdministratorsOnly();
  if (!IsValidUsername(user.username())) {
    return absl::InvalidArgumentError("username must be 3 to 64 characters of [a-z0-9._-]");
  }
  if (absl::Status s = ValidateDisplayName(user.display_name(), "display_name"); !s.ok()) return s;
  if (absl::Status s = ValidateRoles(user.roles(), false); !s.ok()) return s;
  absl::StatusOr<std::string> org_raw = ParseId(user.organisation_id(), "organisation_id");
  if (!org_raw.ok()) return org_raw.status();
  std::string password = crypto::RandomToken(18);
  absl::StatusOr<std::string> hash = HashNewPassword(password);
  if (!hash.ok()) return hash.status();

  std::unique_ptr<storage::Txn> txn = store_->Begin();
  absl::StatusOr<std::optional<std::string>> org = txn->Get(Cf::kOrganisations, ToHex(*org_raw));
  if (!org.ok()) return org.status();
  if (!org->has_value()) return absl::NotFoundError("organisation not found");
  absl::StatusOr<std::optional<std::string>> taken = txn->GetForUpdate(Cf::kUsernames, user.username());
  if (!taken.ok()) return taken.status();
  if (taken->has_value()) return absl::AlreadyExistsError("that username is taken");

  v1::UserRecord record;
  record.set_id(NewId());
  record.set_organisation_id(ToHex(*org_raw));
  record.set_username(user.username());
  record.set_display_name(user.display_name());
  *record.mutable_roles() = user.roles();
  record.set_password_hash(*hash);
  record.set_password_change_required(true);
  record.set_create_time_micros(absl::ToUnixMicros(clock_->Now()));
  if (absl::Status s = txn->Put(Cf::kUsers, record.id(), record.SerializeAsString()); !s.ok()) return s;
  if (absl::Status s = txn->Put(Cf::kUsersByOrganisation,
                                UserByOrganisationKey(record.organisation_id(), record.id()), "");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = txn->Put(Cf::kUsernames, record.username(), record.id()); !s.ok()) return s;
  if (absl::Status s = CommitAudited(store_, std::move(txn), ctx, "admin.create_user",
                                     absl::StrCat("users/", record.id()));
      !s.ok()) {
    return s;
  }
  return std::make_pair(UserToApi(record), std::move(password));
}

absl::StatusOr<std::pair<std::vector<v1::User>, std::string>> Accounts::ListUsers(
    const RequestContext& ctx, absl::string_view organisation_id, int page_size,
    absl::string_view page_token) {
  if (!IsAdministrator(ctx.principal)) return AdministratorsOnly();
  if (absl::Status s = ValidatePageToken(page_token); !s.ok()) return s;
  std::string org = organisation_id.empty() ? ctx.principal.organisation_id : std::string(organisation_id);
  if (absl::StatusOr<std::string> raw = ParseId(org, "organisation_id"); !raw.ok()) return raw.status();
  const int limit = PageSize(page_size);
  std::vector<v1::User> out;
  std::string next;
  const std::string prefix = UserByOrganisationKey(org, "");
  absl::Status failure;
  absl::Status s = store_->Scan(
      Cf::kUsersByOrganisation, prefix, page_token.empty() ? "" : prefix + std::string(page_token),
      [&](absl::string_view key, absl::string_view) {
        if (static_cast<int>(out.size()) == limit) {
          next = out.back().id();
          return false;
        }
        absl::StatusOr<std::optional<std::string>> stored =
            store_->Get(Cf::kUsers, key.substr(prefix.size()));
        v1::UserRecord r;
        if (!stored.ok() || !stored->has_value() || !r.ParseFromString(**stored)) {
          failure = absl::DataLossError("a user index entry has no readable user");
          return false;
        }
        out.push_back(UserToApi(r));
        return true;
      });
  if (!s.ok()) return s;
  if (!failure.ok()) return failure;
  return std::make_pair(std::move(out), std::move(next));
}

absl::StatusOr<v1::User> Accounts::ChangeUser(const RequestContext& ctx, absl::string_view user_id,
                                              absl::string_view audit_action,
                                              const UserChange& change) {
  absl::StatusOr<std::string> raw = ParseId(user_id, "user_id");
  if (!raw.ok()) return raw.status();
  std::string id = ToHex(*raw);
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  absl::StatusOr<std::optional<std::string>> stored = txn->GetForUpdate(Cf::kUsers, id);
  if (!stored.ok()) return stored.status();
  absl::StatusOr<v1::UserRecord> user = Parse<v1::UserRecord>(*stored, "user");
  if (!user.ok()) return user.status();
  if (absl::Status s = change(*user); !s.ok()) return s;
  if (absl::Status s = txn->Put(Cf::kUsers, id, user->SerializeAsString()); !s.ok()) return s;
  if (absl::Status s = CommitAudited(store_, std::move(txn), ctx, audit_action, absl::StrCat("users/", id));
      !s.ok()) {
    return s;
  }
  return UserToApi(*user);
}

absl::StatusOr<v1::User> Accounts::SetUserDisabled(const RequestContext& ctx,
                                                   absl::string_view user_id, bool disabled) {
  if (!IsAdministrator(ctx.principal)) return AdministratorsOnly();
  if (disabled && user_id == ctx.principal.id) {
    return absl::FailedPreconditionError("administrators cannot disable themselves");
  }
  return ChangeUser(ctx, user_id, disabled ? "admin.disable_user" : "admin.enable_user",
                    [&](v1::UserRecord& user) {
                      user.set_disabled(disabled);
                      user.set_session_epoch(user.session_epoch() + 1);
                      return absl::OkStatus();
                    });
}

absl::StatusOr<v1::User> Accounts::SetUserRoles(const RequestContext& ctx, absl::string_view user_id,
                                                const std::vector<v1::Role>& roles) {
  if (!IsAdministrator(ctx.principal)) return AdministratorsOnly();
  if (user_id == ctx.principal.id) {
    return absl::FailedPreconditionError("administrators cannot change their own roles");
  }
  google::protobuf::RepeatedField<int> role_values(roles.begin(), roles.end());
  if (absl::Status s = ValidateRoles(role_values, false); !s.ok()) return s;
  return ChangeUser(ctx, user_id, "admin.set_user_roles", [&](v1::UserRecord& user) {
    *user.mutable_roles() = role_values;
    return absl::OkStatus();
  });
}

absl::StatusOr<std::string> Accounts::ResetPassword(const RequestContext& ctx,
                                                    absl::string_view user_id) {
  if (!IsAdministrator(ctx.principal)) return AdministratorsOnly();
  std::string password = crypto::RandomToken(18);
  absl::StatusOr<std::string> hash = HashNewPassword(password);
  if (!hash.ok()) return hash.status();
  absl::StatusOr<v1::User> user =
      ChangeUser(ctx, user_id, "admin.reset_password", [&](v1::UserRecord& record) {
        record.set_password_hash(*hash);
        record.set_password_change_required(true);
        record.set_failed_logins(0);
        record.set_locked_until_micros(0);
        record.set_session_epoch(record.session_epoch() + 1);
        return absl::OkStatus();
      });
  if (!user.ok()) return user.status();
  return password;
}

absl::StatusOr<int> Accounts::PurgeEndedSessions() {
  // In pieces of at most kBatch, each scan resuming after the last key seen,
  // so the job holds a bounded number of keys however many sessions exist.
  constexpr size_t kBatch = 1000;
  const int64_t now = absl::ToUnixMicros(clock_->Now());
  int purged = 0;
  std::string after;
  for (bool more = true; more;) {
    std::vector<std::string> ended;
    size_t seen = 0;
    more = false;
    absl::Status scanned = store_->Scan(
        Cf::kSessions, "", after, [&](absl::string_view key, absl::string_view value) {
          v1::SessionRecord session;
          if (session.ParseFromArray(value.data(), static_cast<int>(value.size())) &&
              (session.revoked() || session.expire_time_micros() <= now)) {
            ended.emplace_back(key);
          }
          after = std::string(key);
          more = ++seen == kBatch;
          return !more;
        });
    if (!scanned.ok()) return scanned;
    if (ended.empty()) continue;
    std::unique_ptr<storage::Txn> txn = store_->Begin();
    for (const std::string& key : ended) {
      if (absl::Status s = txn->Delete(Cf::kSessions, key); !s.ok()) return s;
    }
    if (absl::Status s = store_->Commit(std::move(txn)); !s.ok()) return s;
    purged += static_cast<int>(ended.size());
  }
  return purged;
}

absl::Status Accounts::RevokeSessions(const RequestContext& ctx, absl::string_view user_id) {
  if (!IsAdministrator(ctx.principal)) return AdministratorsOnly();
  return ChangeUser(ctx, user_id, "admin.revoke_sessions",
                    [](v1::UserRecord& user) {
                      user.set_session_epoch(user.session_epoch() + 1);
                      return absl::OkStatus();
                    })
      .status();
}

namespace {

// Checks, in `txn`, that `fingerprint` (lower-case hex SHA-256 of a DER
// certificate) is well formed and was never registered, and locks it.
absl::Status ClaimCertificate(storage::Txn& txn, absl::string_view fingerprint) {
  if (!IsSha256Hex(fingerprint)) {
    return absl::InvalidArgumentError(
        "certificate_sha256 must be 64 lower-case hex characters (SHA-256 of the DER certificate)");
  }
  absl::StatusOr<std::optional<std::string>> taken =
      txn.GetForUpdate(Cf::kServiceAccountCerts, fingerprint);
  if (!taken.ok()) return taken.status();
  if (!taken->has_value()) return absl::OkStatus();
  return absl::AlreadyExistsError((*taken)->empty()
                                      ? "that certificate was revoked and cannot be registered again"
                                      : "that certificate is registered to a service account");
}

}  // namespace

absl::StatusOr<v1::ServiceAccount> Accounts::CreateServiceAccount(const RequestContext& ctx,
                                                                  v1::ServiceAccount account) {
  if (!IsAdministrator(ctx.principal)) return AdministratorsOnly();
  if (absl::Status s = ValidateDisplayName(account.display_name(), "display_name"); !s.ok()) return s;
  if (absl::Status s = ValidateRoles(account.roles(), true); !s.ok()) return s;
  absl::StatusOr<std::string> org_raw = ParseId(account.organisation_id(), "organisation_id");
  if (!org_raw.ok()) return org_raw.status();
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  absl::StatusOr<std::optional<std::string>> org = txn->Get(Cf::kOrganisations, ToHex(*org_raw));
  if (!org.ok()) return org.status();
  if (!org->has_value()) return absl::NotFoundError("organisation not found");
  const std::string& fingerprint = account.certificate_sha256();
  if (absl::Status s = ClaimCertificate(*txn, fingerprint); !s.ok()) return s;
  account.set_id(NewId());
  account.set_organisation_id(ToHex(*org_raw));
  account.set_disabled(false);
  *account.mutable_create_time() = MicrosToTimestamp(absl::ToUnixMicros(clock_->Now()));
  if (absl::Status s = txn->Put(Cf::kServiceAccounts, account.id(), account.SerializeAsString()); !s.ok()) {
    return s;
  }
  if (absl::Status s = txn->Put(Cf::kServiceAccountCerts, fingerprint, account.id()); !s.ok()) {
    return s;
  }
  if (absl::Status s = CommitAudited(store_, std::move(txn), ctx, "admin.create_service_account",
                                     absl::StrCat("service_accounts/", account.id()));
      !s.ok()) {
    return s;
  }
  return account;
}

absl::StatusOr<std::vector<v1::ServiceAccount>> Accounts::ListServiceAccounts(
    const RequestContext& ctx, absl::string_view organisation_id) {
  if (!IsAdministrator(ctx.principal)) return AdministratorsOnly();
  std::vector<v1::ServiceAccount> out;
  absl::Status s = store_->Scan(Cf::kServiceAccounts, "", "",
                                [&](absl::string_view, absl::string_view value) {
                                  v1::ServiceAccount a;
                                  if (a.ParseFromArray(value.data(), static_cast<int>(value.size())) &&
                                      (organisation_id.empty() || a.organisation_id() == organisation_id)) {
                                    out.push_back(std::move(a));
                                  }
                                  return true;
                                });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::ServiceAccount> Accounts::ChangeServiceAccount(
    const RequestContext& ctx, absl::string_view service_account_id,
    absl::string_view audit_action, const ServiceAccountChange& change) {
  if (!IsAdministrator(ctx.principal)) return AdministratorsOnly();
  absl::StatusOr<std::string> raw = ParseId(service_account_id, "service_account_id");
  if (!raw.ok()) return raw.status();
  const std::string id = ToHex(*raw);
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  absl::StatusOr<std::optional<std::string>> stored = txn->GetForUpdate(Cf::kServiceAccounts, id);
  if (!stored.ok()) return stored.status();
  absl::StatusOr<v1::ServiceAccount> account = Parse<v1::ServiceAccount>(*stored, "service account");
  if (!account.ok()) return account.status();
  if (absl::Status s = change(*txn, *account); !s.ok()) return s;
  if (absl::Status s = txn->Put(Cf::kServiceAccounts, id, account->SerializeAsString()); !s.ok()) {
    return s;
  }
  if (absl::Status s = CommitAudited(store_, std::move(txn), ctx, audit_action,
                                     absl::StrCat("service_accounts/", id));
      !s.ok()) {
    return s;
  }
  return *account;
}

absl::StatusOr<v1::ServiceAccount> Accounts::SetServiceAccountDisabled(
    const RequestContext& ctx, absl::string_view service_account_id, bool disabled) {
  return ChangeServiceAccount(
      ctx, service_account_id,
      disabled ? "admin.disable_service_account" : "admin.enable_service_account",
      [&](storage::Txn&, v1::ServiceAccount& account) {
        account.set_disabled(disabled);
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::ServiceAccount> Accounts::RotateServiceAccountCertificate(
    const RequestContext& ctx, absl::string_view service_account_id,
    absl::string_view certificate_sha256) {
  return ChangeServiceAccount(
      ctx, service_account_id, "admin.rotate_service_account_certificate",
      [&](storage::Txn& txn, v1::ServiceAccount& account) -> absl::Status {
        if (absl::Status s = ClaimCertificate(txn, certificate_sha256); !s.ok()) return s;
        // The old certificate stays in the table, naming no account: it
        // authenticates nothing and cannot be registered again.
        if (absl::Status s = txn.Put(Cf::kServiceAccountCerts, account.certificate_sha256(), "");
            !s.ok()) {
          return s;
        }
        if (absl::Status s = txn.Put(Cf::kServiceAccountCerts, certificate_sha256, account.id());
            !s.ok()) {
          return s;
        }
        account.add_revoked_certificate_sha256(account.certificate_sha256());
        account.set_certificate_sha256(std::string(certificate_sha256));
        return absl::OkStatus();
      });
}

std::string UserByOrganisationKey(absl::string_view organisation_id, absl::string_view user_id) {
  std::string key;
  keys::AppendShortString(&key, organisation_id);
  return absl::StrCat(key, user_id);
}

}  // namespace haven::access
