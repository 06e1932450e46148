#include <uv.h>

#include "hybridnode/capacity_policy.h"

namespace hn {
namespace {

class ConnectionCap final : public CapacityPolicy {
 public:
  ConnectionCap(int64_t cap, int retry) : cap_(cap), retry_(retry) {}
  std::string name() const override { return "connections"; }
  bool try_admit(uint64_t) override {
    if (cap_ > 0 && active_ >= cap_) return false;
    ++active_;
    return true;
  }
  void finish(uint64_t, double) override { --active_; }
  int retry_after_seconds() const override { return retry_; }
  int64_t active() const override { return active_; }
  int64_t limit() const override { return cap_ > 0 ? cap_ : -1; }

 private:
  int64_t cap_;
  int retry_;
  int64_t active_ = 0;
};

}  // namespace

Clock monotonic_clock() {
  return [] { return static_cast<double>(uv_hrtime()) / 1e9; };
}

std::unique_ptr<CapacityPolicy> make_connection_cap(int64_t max_transfers, int retry_after_seconds) {
  return std::make_unique<ConnectionCap>(max_transfers, retry_after_seconds);
}

std::unique_ptr<TransferSlot> TransferSlot::try_acquire(CapacityPolicy& p, uint64_t bytes) {
  if (!p.try_admit(bytes)) return nullptr;
  auto slot = std::make_unique<TransferSlot>(p);
  slot->charged_ = bytes;
  return slot;
}

void TransferSlot::set_size(uint64_t bytes) {
  policy_.recharge(static_cast<int64_t>(bytes) - static_cast<int64_t>(charged_));
  charged_ = bytes;
}

TransferSlot::TransferSlot(CapacityPolicy& p) : policy_(p), started_(static_cast<double>(uv_hrtime()) / 1e9) {}
TransferSlot::~TransferSlot() {
  // A transfer that ended early (client gone, 404, store error) is charged only what it sent.
  if (bytes_ < charged_) policy_.recharge(-static_cast<int64_t>(charged_ - bytes_));
  policy_.finish(bytes_, static_cast<double>(uv_hrtime()) / 1e9 - started_);
}

}  // namespace hn
