// Periodic: a background thread that runs one job every interval, or
// sooner when woken, until stopped.
#ifndef HAVEN_SERVICES_COMMON_PERIODIC_H_
#define HAVEN_SERVICES_COMMON_PERIODIC_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/time/time.h"

namespace haven::services {

class Periodic {
 public:
  Periodic() = default;
  ~Periodic() { Stop(); }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  // Starts running `job` (wall-clock interval). Call once.
  void Start(absl::Duration interval, std::function<void()> job);
  // Runs the job again as soon as the thread is free.
  void Wake();
  // Stops the thread and waits for it; safe to call more than once.
  void Stop();

 private:
  std::mutex mu_;
  std::condition_variable wake_;
  bool woken_ = false;     // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace haven::services

#endif  // HAVEN_SERVICES_COMMON_PERIODIC_H_
