// LoginGuard: hashing slots, attempts per address, and lock-outs of unknown usernames.
#include "storage/access/login_guard.h"

#include <algorithm>
#include <cstdint>

namespace haven::access {

LoginGuard::Slot::~Slot() {
  if (guard_ == nullptr) return;
  std::lock_guard<std::mutex> lock(guard_->mu_);
  --guard_->slots_taken_;
}

LoginGuard::Slot LoginGuard::TakeHashingSlot() {
  std::lock_guard<std::mutex> lock(mu_);
  if (slots_taken_ >= options_.hashing_slots) return Slot();
  ++slots_taken_;
  return Slot(this);
}

bool LoginGuard::AdmitAddress(absl::string_view address, absl::Time now) {
  if (address.empty() || options_.attempts_per_address_per_minute <= 0) return true;
  std::lock_guard<std::mutex> lock(mu_);
  Forget(now);
  std::deque<absl::Time>& attempts = attempts_[std::string(address)];
  while (!attempts.empty() && attempts.front() <= now - absl::Minutes(1)) attempts.pop_front();
  if (static_cast<int>(attempts.size()) >= options_.attempts_per_address_per_minute) return false;
  attempts.push_back(now);
  return true;
}

bool LoginGuard::IsLockedOut(absl::string_view username, absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(std::string(username));
  return it != failures_.end() && it->second.locked_until > now;
}

void LoginGuard::RecordFailure(absl::string_view username, absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  Forget(now);
  Failures& f = failures_[std::string(username)];
  ++f.count;
  const absl::Duration locked_for = LockoutAfter(f.count);
  if (locked_for > absl::ZeroDuration()) f.locked_until = now + locked_for;
}

absl::Duration LoginGuard::LockoutAfter(int failures) const {
  const int over = failures - options_.failures_before_lockout;
  if (over < 0) return absl::ZeroDuration();
  return std::min(absl::Seconds(1) * (int64_t{1} << std::min(over, 20)), options_.max_lockout);
}

void LoginGuard::Forget(absl::Time now) {
  if (attempts_.size() + failures_.size() <= options_.max_remembered) return;
  for (auto it = attempts_.begin(); it != attempts_.end();) {
    const bool stale = it->second.empty() || it->second.back() <= now - absl::Minutes(1);
    it = stale ? attempts_.erase(it) : std::next(it);
  }
  for (auto it = failures_.begin(); it != failures_.end();) {
    it = it->second.locked_until <= now ? failures_.erase(it) : std::next(it);
  }
  if (attempts_.size() + failures_.size() > options_.max_remembered) {
    attempts_.clear();
    failures_.clear();
  }
}

}  // namespace haven::access
