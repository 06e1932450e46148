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
  void finish(uint64_t, double seconds) override {
    --active_;
    durations_.push_back(seconds);
    maybe_adjust();
  }
  int retry_after_seconds() const override { return retry_; }
  int64_t active() const override { return active_; }
  int64_t limit() const override { return static_cast<int64_t>(cap_); }

 private:
  void maybe_adjust() {
    double now = clock_();
    if (now - window_start_ < 1.0 || durations_.empty()) return;
    size_t k = durations_.size() * 9 / 10;
    std::nth_element(durations_.begin(), durations_.begin() + static_cast<long>(k), durations_.end());
    double p90 = durations_[k];
    if (p90 > target_) cap_ = std::max(1.0, cap_ * 0.7);
    else if (p90 < 0.7 * target_ && refused_in_window_ > 0) cap_ = std::min(static_cast<double>(max_), cap_ + 1);
    durations_.clear();
    refused_in_window_ = 0;
    window_start_ = now;
  }
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
