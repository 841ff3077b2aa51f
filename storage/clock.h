// Clock: where Haven reads the time, so that time-dependent rules can be
// tested on an injected clock.
#ifndef HAVEN_STORAGE_CLOCK_H_
#define HAVEN_STORAGE_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace haven {

// Thread-safe; implementations must be too.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The system's wall clock.
class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// A clock that moves only when told to. For tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start = absl::FromUnixSeconds(1'790'000'000))
      : micros_(absl::ToUnixMicros(start)) {}
  absl::Time Now() const override { return absl::FromUnixMicros(micros_.load()); }
  void Advance(absl::Duration d) { micros_ += absl::ToInt64Microseconds(d); }
  void Set(absl::Time t) { micros_ = absl::ToUnixMicros(t); }

 private:
  std::atomic<int64_t> micros_;
};

}  // namespace haven

#endif  // HAVEN_STORAGE_CLOCK_H_
