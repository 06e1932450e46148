// Adaptive cap: AIMD on the number of concurrent transfers, steered by how long transfers take.
// Slow transfers mean the uplink (or disk) is saturated: serving fewer at once keeps each one fast and
// sends the rest to the swarm; fast transfers with refused clients mean room to serve more.
#include <algorithm>
#include <vector>

#include "hybridnode/capacity_policy.h"

namespace hn {
namespace {

class AdaptiveCap final : public CapacityPolicy {
 public:
  AdaptiveCap(double target, int64_t max, int retry, Clock clock)
      : target_(target), max_(std::max<int64_t>(1, max)), retry_(retry), clock_(std::move(clock)),
        cap_(static_cast<double>(max_)), window_start_(clock_()) {}
  std::string name() const override { return "adaptive"; }
  bool try_admit(uint64_t) override {
    maybe_adjust();
    if (active_ >= static_cast<int64_t>(cap_)) {
      ++refused_in_window_;
      return false;
    }
    ++active_;
    return true;
  }
  void finish(uint64_t bytes_sent, double seconds) override {
    --active_;
    maybe_adjust();  // first: a window that is over closes without this sample, which belongs to the next
    // A transfer that sent nothing (404, store error, client gone at once) says nothing about the uplink.
    if (bytes_sent > 0) durations_.push_back(seconds);
  }
  int retry_after_seconds() const override { return retry_; }
  int64_t active() const override { return active_; }
  int64_t limit() const override { return static_cast<int64_t>(cap_); }

 private:
  void maybe_adjust() {
    double now = clock_();
    double age = now - window_start_;
    if (age < 1.0) return;
    if (durations_.empty()) {
      // Nothing finished: no evidence either way. Start afresh, so refusals of a window that measured
      // nothing (or an idle spell) are not weighed against the next window's transfer times.
      refused_in_window_ = 0;
      window_start_ = now;
      return;
    }
    // One sample is noise: wait for a few, unless the window is old (long transfers finish rarely).
    if (durations_.size() < kMinSamples && age < 4.0) return;
    size_t k = durations_.size() * 9 / 10;
    std::nth_element(durations_.begin(), durations_.begin() + static_cast<long>(k), durations_.end());
    double p90 = durations_[k];
    if (p90 > target_) cap_ = std::max(1.0, cap_ * 0.7);
    else if (p90 < 0.7 * target_ && refused_in_window_ > 0) cap_ = std::min(static_cast<double>(max_), cap_ + 1);
    durations_.clear();
    refused_in_window_ = 0;
    window_start_ = now;
  }
  static constexpr size_t kMinSamples = 3;
  double target_;
  int64_t max_;
  int retry_;
  Clock clock_;
  double cap_;
  double window_start_;
  std::vector<double> durations_;
  int64_t active_ = 0, refused_in_window_ = 0;
};

}  // namespace

std::unique_ptr<CapacityPolicy> make_adaptive_cap(double target_seconds, int64_t max_transfers, int retry_after_seconds,
                                                  Clock clock) {
  return std::make_unique<AdaptiveCap>(target_seconds, max_transfers, retry_after_seconds, std::move(clock));
}

}  // namespace hn
