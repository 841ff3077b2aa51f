// LoginGuard: what a storm of logins may cost the server. Password hashing
// (Argon2id: 64 to 256 MiB and tens of milliseconds each) runs in a fixed
// number of slots, and a call that finds none free is turned away at once
// rather than queued; attempts are limited per source address; and failed
// guesses at usernames with no account are counted by the same lock-out rule
// as those at real accounts, so that a lock-out answer says nothing of
// whether the account exists.
//
// Thread-safe. Remembers at most Options::max_remembered usernames and
// addresses; beyond that it forgets those whose window or lock has passed,
// then the rest (a flood of names cannot grow it).
#ifndef HAVEN_STORAGE_ACCESS_LOGIN_GUARD_H_
#define HAVEN_STORAGE_ACCESS_LOGIN_GUARD_H_

#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace haven::access {

class LoginGuard {
 public:
  struct Options {
    // Password hashes computed at once; more callers are turned away.
    int hashing_slots = 2;
    // Logins one source address may attempt in a minute; 0: no limit.
    int attempts_per_address_per_minute = 60;
    // The failure that makes this many in a row locks the username for a
    // second; each further failure doubles that, up to max_lockout.
    int failures_before_lockout = 5;
    absl::Duration max_lockout = absl::Minutes(15);
    size_t max_remembered = 100000;
  };

  explicit LoginGuard(Options options) : options_(options) {}
  LoginGuard(const LoginGuard&) = delete;
  LoginGuard& operator=(const LoginGuard&) = delete;

  // One hashing slot while it lives; empty when none was free.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept : guard_(other.guard_) { other.guard_ = nullptr; }
    Slot& operator=(Slot&&) = delete;
    ~Slot();
    explicit operator bool() const { return guard_ != nullptr; }

   private:
    friend class LoginGuard;
    explicit Slot(LoginGuard* guard) : guard_(guard) {}
    LoginGuard* guard_ = nullptr;
  };
  Slot TakeHashingSlot();

  // Counts an attempt from `address` at `now`; false when it is over the
  // limit. An empty address (not known) is not limited.
  bool AdmitAddress(absl::string_view address, absl::Time now);

  // For usernames with no account: whether `username` is locked out at
  // `now`, and a failed guess at it.
  bool IsLockedOut(absl::string_view username, absl::Time now);
  void RecordFailure(absl::string_view username, absl::Time now);

  // How long `failures` failures in a row lock a username (zero: not at
  // all): the one rule for real accounts and unknown names alike.
  absl::Duration LockoutAfter(int failures) const;

 private:
  struct Failures {
    int count = 0;
    absl::Time locked_until = absl::InfinitePast();
  };
  // Forgets what no longer counts at `now` when over max_remembered. mu_ held.
  void Forget(absl::Time now);

  const Options options_;
  std::mutex mu_;
  int slots_taken_ = 0;                                        // mu_
  std::map<std::string, std::deque<absl::Time>> attempts_;     // per address, last minute; mu_
  std::map<std::string, Failures> failures_;                   // per unknown username; mu_
};

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_LOGIN_GUARD_H_
