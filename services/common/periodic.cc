// Periodic: a job on a background thread, every interval or when woken.
#include "services/common/periodic.h"

namespace haven::services {

void Periodic::Start(absl::Duration interval, std::function<void()> job) {
  thread_ = std::thread([this, interval, job = std::move(job)] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      wake_.wait_for(lock, absl::ToChronoMilliseconds(interval),
                     [this] { return stopping_ || woken_; });
      if (stopping_) break;
      woken_ = false;
      lock.unlock();
      job();
      lock.lock();
    }
  });
}

void Periodic::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  wake_.notify_all();
}

void Periodic::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace haven::services
