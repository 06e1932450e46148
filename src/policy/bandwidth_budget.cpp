// Egress budget: a token bucket in bytes. The server's bill is bytes, not connections, so this is the
// policy to use when the cost to cap is the uplink or the CDN invoice.
#include <algorithm>

#include "hybridnode/capacity_policy.h"

namespace hn {
namespace {

class BandwidthBudget final : public CapacityPolicy {
 public:
  BandwidthBudget(uint64_t rate, uint64_t burst, int retry, Clock clock)
      : rate_(static_cast<double>(rate)), burst_(static_cast<double>(std::max(burst, rate / 10))), retry_(retry),
        clock_(std::move(clock)), tokens_(burst_), last_(clock_()) {}
  std::string name() const override { return "bandwidth"; }
  bool try_admit(uint64_t bytes) override {
    refill();
    // Admit while anything is left: a transfer may overdraw the bucket once, then everyone waits.
    if (tokens_ <= 0) return false;
    tokens_ -= static_cast<double>(bytes);
    ++active_;
    return true;
  }
  void finish(uint64_t, double) override { --active_; }
  void recharge(int64_t delta) override {
    refill();
    tokens_ = std::min(burst_, tokens_ - static_cast<double>(delta));
  }
  int retry_after_seconds() const override {
    // Long enough for the bucket to refill to zero, at least the configured minimum.
    double deficit = std::max(0.0, -tokens_);
    return std::max(retry_, static_cast<int>(deficit / rate_ + 0.999));
  }
  int64_t active() const override { return active_; }
  int64_t limit() const override { return -1; }

 private:
  void refill() {
    double now = clock_();
    tokens_ = std::min(burst_, tokens_ + (now - last_) * rate_);
    last_ = now;
  }
  double rate_, burst_;
  int retry_;
  Clock clock_;
  double tokens_, last_;
  int64_t active_ = 0;
};

}  // namespace

std::unique_ptr<CapacityPolicy> make_bandwidth_budget(uint64_t bytes_per_sec, uint64_t burst_bytes, int retry_after_seconds,
                                                      Clock clock) {
  return std::make_unique<BandwidthBudget>(std::max<uint64_t>(1, bytes_per_sec), burst_bytes, retry_after_seconds,
                                           std::move(clock));
}

}  // namespace hn
