// Accounts: the only place credentials become a Principal. Each test keeps
// its Argon2id hashes few (about 100 ms each).
#include "storage/access/accounts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "storage/ids.h"
#include "storage/store.h"
#include "tests/unit/test_util.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using ::haven::testing::MemStore;
using ::haven::testing::StatusIs;
using ::testing::HasSubstr;
using storage::Cf;

class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(db_.Open(), nullptr);
    Accounts::Options options;
    options.login.failures_before_lockout = 2;
    options.session_lifetime = absl::Hours(8);
    accounts_ = std::make_unique<Accounts>(db_.store(), &db_.clock(), options);
  }

  // Bootstraps and logs in with the one-time password.
  Accounts::Bootstrapped Bootstrap() {
    absl::StatusOr<Accounts::Bootstrapped> b = accounts_->Bootstrap("Competent authority", "root");
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? *b : Accounts::Bootstrapped();
  }

  // Logs in with the one-time password and logs out again.
  void LoginAndLogout(const Accounts::Bootstrapped& b, std::string* token = nullptr) {
    absl::StatusOr<Accounts::Session> session = accounts_->Login("root", b.one_time_password, "");
    HAVEN_ASSERT_OK(session);
    absl::StatusOr<Principal> p = accounts_->AuthenticateToken(session->token);
    HAVEN_ASSERT_OK(p);
    RequestContext ctx;
    ctx.principal = *p;
    HAVEN_ASSERT_OK(accounts_->Logout(ctx));
    if (token != nullptr) *token = session->token;
  }

  static RequestContext Administrator(const std::string& org) {
    RequestContext ctx;
    ctx.principal.id = NewId();
    ctx.principal.organisation_id = org;
    ctx.principal.roles = {v1::ROLE_ADMINISTRATOR};
    ctx.purpose = "administration";
    return ctx;
  }

  v1::AuditEntry LastAudit() {
    absl::StatusOr<v1::AuditEntry> e = db_.store()->ReadAuditEntry(db_.store()->last_audit_sequence());
    EXPECT_TRUE(e.ok());
    return e.ok() ? *e : v1::AuditEntry();
  }

  MemStore db_;
  std::unique_ptr<Accounts> accounts_;
};

TEST_F(AccountsTest, BootstrapOnceThenOneTimePasswordSessionMayDoNothingElse) {
  Accounts::Bootstrapped b = Bootstrap();
  ASSERT_TRUE(b.created);
  EXPECT_EQ(b.username, "root");
  EXPECT_GE(b.one_time_password.size(), 20u);
  absl::StatusOr<Accounts::Bootstrapped> again = accounts_->Bootstrap("Other", "root2");
  HAVEN_ASSERT_OK(again);
  EXPECT_FALSE(again->created);
  EXPECT_TRUE(again->one_time_password.empty());

  absl::StatusOr<Accounts::Session> session = accounts_->Login("root", b.one_time_password, "req-1");
  HAVEN_ASSERT_OK(session);
  EXPECT_TRUE(session->password_change_required);
  EXPECT_EQ(LastAudit().action(), "auth.login");
  EXPECT_EQ(LastAudit().outcome(), v1::AUDIT_OUTCOME_ALLOWED);

  absl::StatusOr<Principal> p = accounts_->AuthenticateToken(session->token);
  HAVEN_ASSERT_OK(p);
  EXPECT_EQ(p->organisation_id, b.organisation_id);
  EXPECT_TRUE(p->HasRole(v1::ROLE_ADMINISTRATOR));
  EXPECT_TRUE(p->password_change_required);
  EXPECT_FALSE(p->session_key.empty());

  RequestContext ctx;
  ctx.principal = *p;
  v1::Organisation org;
  org.set_display_name("NGO");
  org.set_type(v1::ORGANISATION_TYPE_NGO);
  EXPECT_THAT(accounts_->CreateOrganisation(ctx, org),
              StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
}

TEST_F(AccountsTest, SessionTokenIsNotStoredAndEndsAtExpiryAndLogout) {
  Accounts::Bootstrapped b = Bootstrap();
  absl::StatusOr<Accounts::Session> session = accounts_->Login("root", b.one_time_password, "");
  HAVEN_ASSERT_OK(session);
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    HAVEN_ASSERT_OK(db_.store()->Scan(static_cast<Cf>(i), "", "",
                                      [&](absl::string_view k, absl::string_view v) {
                                        EXPECT_EQ(k.find(session->token), absl::string_view::npos);
                                        EXPECT_EQ(v.find(session->token), absl::string_view::npos);
                                        EXPECT_EQ(v.find(b.one_time_password), absl::string_view::npos);
                                        return true;
                                      }));
  }
  HAVEN_EXPECT_OK(accounts_->AuthenticateToken(session->token));
  std::string altered = session->token;
  altered.back() = altered.back() == 'A' ? 'B' : 'A';
  EXPECT_THAT(accounts_->AuthenticateToken(altered),
              StatusIs(absl::StatusCode::kUnauthenticated, ::testing::_));
  EXPECT_THAT(accounts_->AuthenticateToken(""),
              StatusIs(absl::StatusCode::kUnauthenticated, ::testing::_));

  db_.clock().Advance(absl::Hours(8));
  EXPECT_THAT(accounts_->AuthenticateToken(session->token),
              StatusIs(absl::StatusCode::kUnauthenticated, ::testing::_));
}

TEST_F(AccountsTest, LogoutEndsTheSession) {
  Accounts::Bootstrapped b = Bootstrap();
  std::string token;
  ASSERT_NO_FATAL_FAILURE(LoginAndLogout(b, &token));
  EXPECT_THAT(accounts_->AuthenticateToken(token),
              StatusIs(absl::StatusCode::kUnauthenticated, ::testing::_));
}

TEST_F(AccountsTest, PurgeRemovesOnlySessionsThatCanNeverBeUsedAgain) {
  Accounts::Bootstrapped b = Bootstrap();
  auto count_sessions = [&] {
    int n = 0;
    EXPECT_TRUE(db_.store()
                    ->Scan(Cf::kSessions, "", "",
                           [&](absl::string_view, absl::string_view) { return ++n > 0; })
                    .ok());
    return n;
  };
  ASSERT_NO_FATAL_FAILURE(LoginAndLogout(b));
  db_.clock().Advance(absl::Hours(4));
  absl::StatusOr<Accounts::Session> live = accounts_->Login("root", b.one_time_password, "");
  HAVEN_ASSERT_OK(live);
  ASSERT_EQ(count_sessions(), 2);

  absl::StatusOr<int> purged = accounts_->PurgeEndedSessions();
  HAVEN_ASSERT_OK(purged);
  EXPECT_EQ(*purged, 1);  // the logged-out one
  EXPECT_EQ(count_sessions(), 1);
  HAVEN_EXPECT_OK(accounts_->AuthenticateToken(live->token));

  db_.clock().Advance(absl::Hours(8));  // the live one has expired too
  purged = accounts_->PurgeEndedSessions();
  HAVEN_ASSERT_OK(purged);
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(count_sessions(), 0);
}

TEST_F(AccountsTest, PurgingEndedSessionsWorksInPiecesThroughAllOfThem) {
  // More sessions than one piece of the purge holds, every other one ended.
  constexpr int kSessions = 2500;
  const int64_t now = absl::ToUnixMicros(db_.clock().Now());
  std::unique_ptr<storage::Txn> txn = db_.store()->Begin();
  for (int i = 0; i < kSessions; ++i) {
    v1::SessionRecord session;
    session.set_user_id(absl::StrCat("user-", i));
    session.set_expire_time_micros(i % 2 == 0 ? now - 1 : now + 3'600'000'000);
    HAVEN_ASSERT_OK(txn->Put(Cf::kSessions, absl::StrCat("session-", 100000 + i),
                             session.SerializeAsString()));
  }
  HAVEN_ASSERT_OK(db_.store()->Commit(std::move(txn)));
  absl::StatusOr<int> purged = accounts_->PurgeEndedSessions();
  HAVEN_ASSERT_OK(purged);
  EXPECT_EQ(*purged, kSessions / 2);
  int left = 0;
  HAVEN_ASSERT_OK(db_.store()->Scan(Cf::kSessions, "", "", [&](absl::string_view, absl::string_view v) {
    v1::SessionRecord session;
    EXPECT_TRUE(session.ParseFromArray(v.data(), static_cast<int>(v.size())));
    EXPECT_GT(session.expire_time_micros(), now);
    ++left;
    return true;
  }));
  EXPECT_EQ(left, kSessions / 2);
}

TEST_F(AccountsTest, WrongPasswordAndUnknownUserLookTheSame) {
  Bootstrap();
  absl::StatusOr<Accounts::Session> wrong = accounts_->Login("root", "not the password", "");
  EXPECT_EQ(LastAudit().outcome(), v1::AUDIT_OUTCOME_DENIED);
  absl::StatusOr<Accounts::Session> unknown = accounts_->Login("nobody", "not the password", "");
  EXPECT_THAT(wrong, StatusIs(absl::StatusCode::kUnauthenticated, ::testing::_));
  EXPECT_EQ(wrong.status(), unknown.status());
}

TEST_F(AccountsTest, RepeatedFailuresLockTheAccountEvenForTheRightPassword) {
  Accounts::Bootstrapped b = Bootstrap();
  EXPECT_FALSE(accounts_->Login("root", "wrong password 1", "").ok());
  EXPECT_FALSE(accounts_->Login("root", "wrong password 2", "").ok());
  EXPECT_THAT(accounts_->Login("root", b.one_time_password, ""),
              StatusIs(absl::StatusCode::kResourceExhausted, ::testing::_));
  db_.clock().Advance(absl::Seconds(2));
  HAVEN_EXPECT_OK(accounts_->Login("root", b.one_time_password, ""));
}

TEST_F(AccountsTest, AnUnknownUsernameIsLockedOutExactlyLikeARealOne) {
  Bootstrap();
  for (const char* username : {"root", "nobody"}) {
    EXPECT_THAT(accounts_->Login(username, "guess 1", ""),
                StatusIs(absl::StatusCode::kUnauthenticated, ::testing::_));
    EXPECT_THAT(accounts_->Login(username, "guess 2", ""),
                StatusIs(absl::StatusCode::kUnauthenticated, ::testing::_));
  }
  absl::StatusOr<Accounts::Session> real = accounts_->Login("root", "guess 3", "");
  absl::StatusOr<Accounts::Session> unknown = accounts_->Login("nobody", "guess 3", "");
  EXPECT_THAT(real, StatusIs(absl::StatusCode::kResourceExhausted, ::testing::_));
  EXPECT_EQ(real.status(), unknown.status()) << "the answer tells whether the account exists";
  db_.clock().Advance(absl::Seconds(2));
  EXPECT_EQ(accounts_->Login("root", "guess 4", "").status(),
            accounts_->Login("nobody", "guess 4", "").status());
}

TEST_F(AccountsTest, AttemptsAreLimitedPerSourceAddress) {
  Accounts::Options options;
  options.login.attempts_per_address_per_minute = 3;
  Accounts limited(db_.store(), &db_.clock(), options);
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(limited.Login("nobody", "guess", "", "ipv4:10.0.0.7"),
                StatusIs(absl::StatusCode::kUnauthenticated, ::testing::_));
  }
  EXPECT_THAT(limited.Login("someone", "guess", "", "ipv4:10.0.0.7"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("address")));
  EXPECT_THAT(limited.Login("nobody", "guess", "", "ipv4:10.0.0.8"),
              StatusIs(absl::StatusCode::kUnauthenticated, ::testing::_))
      << "another address is not limited by the first";
  db_.clock().Advance(absl::Seconds(61));
  EXPECT_THAT(limited.Login("nobody", "guess", "", "ipv4:10.0.0.7"),
              StatusIs(absl::StatusCode::kUnauthenticated, ::testing::_));
}

TEST_F(AccountsTest, AWrongCurrentPasswordCountsAsAFailedLoginAndAChangeEndsOtherSessions) {
  Accounts::Bootstrapped b = Bootstrap();
  absl::StatusOr<Accounts::Session> here = accounts_->Login("root", b.one_time_password, "");
  absl::StatusOr<Accounts::Session> elsewhere = accounts_->Login("root", b.one_time_password, "");
  HAVEN_ASSERT_OK(here);
  HAVEN_ASSERT_OK(elsewhere);
  absl::StatusOr<Principal> p = accounts_->AuthenticateToken(here->token);
  HAVEN_ASSERT_OK(p);
  RequestContext ctx;
  ctx.principal = *p;
  EXPECT_THAT(accounts_->ChangePassword(ctx, "wrong 1", "a new long passphrase 1"),
              StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
  EXPECT_THAT(accounts_->ChangePassword(ctx, "wrong 2", "a new long passphrase 1"),
              StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
  EXPECT_THAT(accounts_->ChangePassword(ctx, b.one_time_password, "a new long passphrase 1"),
              StatusIs(absl::StatusCode::kResourceExhausted, ::testing::_))
      << "two wrong guesses lock the account, for ChangePassword as for Login";
  db_.clock().Advance(absl::Seconds(2));
  HAVEN_ASSERT_OK(accounts_->ChangePassword(ctx, b.one_time_password, "a new long passphrase 1"));
  HAVEN_EXPECT_OK(accounts_->AuthenticateToken(here->token));
  EXPECT_THAT(accounts_->AuthenticateToken(elsewhere->token),
              StatusIs(absl::StatusCode::kUnauthenticated, ::testing::_));
  HAVEN_EXPECT_OK(accounts_->Login("root", "a new long passphrase 1", ""));
}

TEST(LoginGuardTest, HashingSlotsAreBoundedAndComeBack) {
  LoginGuard::Options options;
  options.hashing_slots = 2;
  LoginGuard guard(options);
  {
    LoginGuard::Slot first = guard.TakeHashingSlot();
    LoginGuard::Slot second = guard.TakeHashingSlot();
    EXPECT_TRUE(first);
    EXPECT_TRUE(second);
    EXPECT_FALSE(guard.TakeHashingSlot()) << "a third hash at once";
  }
  EXPECT_TRUE(guard.TakeHashingSlot()) << "slots come back when their holders finish";
}

TEST(LoginGuardTest, RemembersABoundedNumberOfNames) {
  LoginGuard::Options options;
  options.max_remembered = 100;
  options.failures_before_lockout = 1;
  LoginGuard guard(options);
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  guard.RecordFailure("target", now);
  EXPECT_TRUE(guard.IsLockedOut("target", now));
  for (int i = 0; i < 1000; ++i) guard.RecordFailure(absl::StrCat("name", i), now);
  // Nothing grows without bound; a flood may make it forget, never remember more.
  int remembered = 0;
  for (int i = 0; i < 1000; ++i) remembered += guard.IsLockedOut(absl::StrCat("name", i), now);
  EXPECT_LE(remembered, 101);
}

TEST_F(AccountsTest, OnlyAdministratorsManageAccounts) {
  RequestContext caseworker = Administrator(NewId());
  caseworker.principal.roles = {v1::ROLE_CASEWORKER};
  v1::Organisation org;
  org.set_display_name("NGO");
  org.set_type(v1::ORGANISATION_TYPE_NGO);
  EXPECT_THAT(accounts_->CreateOrganisation(caseworker, org),
              StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
  EXPECT_THAT(accounts_->ListOrganisations(caseworker, 10, ""),
              StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
  EXPECT_THAT(accounts_->RevokeSessions(caseworker, NewId()),
              StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
  HAVEN_EXPECT_OK(accounts_->CreateOrganisation(Administrator(NewId()), org));
}

TEST_F(AccountsTest, CertificateOfARegisteredServiceAccountBecomesItsPrincipal) {
  RequestContext admin = Administrator(NewId());
  v1::Organisation org;
  org.set_display_name("Police liaison unit");
  org.set_type(v1::ORGANISATION_TYPE_LAW_ENFORCEMENT);
  absl::StatusOr<v1::Organisation> created = accounts_->CreateOrganisation(admin, org);
  HAVEN_ASSERT_OK(created);
  const std::string der = "pretend DER bytes";
  v1::ServiceAccount account;
  account.set_organisation_id(created->id());
  account.set_display_name("liaison system");
  account.add_roles(v1::ROLE_LAW_ENFORCEMENT_LIAISON);
  account.set_certificate_sha256(ToHex(crypto::Sha256(der)));
  absl::StatusOr<v1::ServiceAccount> registered = accounts_->CreateServiceAccount(admin, account);
  HAVEN_ASSERT_OK(registered);

  absl::StatusOr<Principal> p = accounts_->AuthenticateCertificate(crypto::Sha256(der));
  HAVEN_ASSERT_OK(p);
  EXPECT_EQ(p->id, registered->id());
  EXPECT_TRUE(p->service_account);
  EXPECT_EQ(p->organisation_type, v1::ORGANISATION_TYPE_LAW_ENFORCEMENT);
  EXPECT_TRUE(p->HasRole(v1::ROLE_LAW_ENFORCEMENT_LIAISON));
  EXPECT_THAT(accounts_->AuthenticateCertificate(crypto::Sha256("another certificate")),
              StatusIs(absl::StatusCode::kUnauthenticated, ::testing::_));

  account.add_roles(v1::ROLE_ADMINISTRATOR);
  account.set_certificate_sha256(ToHex(crypto::Sha256("second")));
  EXPECT_THAT(accounts_->CreateServiceAccount(admin, account),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("administrator")));
}

}  // namespace
}  // namespace haven::access
