#include "policy/shared_policy.h"

#include <mutex>

namespace hn {
namespace {

class SharedPolicy final : public CapacityPolicy {
 public:
  explicit SharedPolicy(std::shared_ptr<CapacityPolicy> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return inner_->name(); }  // fixed at construction
  bool try_admit(uint64_t bytes) override {
    std::lock_guard<std::mutex> g(mu_);
    return inner_->try_admit(bytes);
  }
  void finish(uint64_t bytes_sent, double seconds) override {
    std::lock_guard<std::mutex> g(mu_);
    inner_->finish(bytes_sent, seconds);
  }
  void recharge(int64_t delta) override {
    std::lock_guard<std::mutex> g(mu_);
    inner_->recharge(delta);
  }
  int retry_after_seconds() const override {
    std::lock_guard<std::mutex> g(mu_);
    return inner_->retry_after_seconds();
  }
  int64_t active() const override {
    std::lock_guard<std::mutex> g(mu_);
    return inner_->active();
  }
  int64_t limit() const override {
    std::lock_guard<std::mutex> g(mu_);
    return inner_->limit();
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<CapacityPolicy> inner_;
};

}  // namespace

std::shared_ptr<CapacityPolicy> make_shared_policy(std::shared_ptr<CapacityPolicy> inner) {
  return std::make_shared<SharedPolicy>(std::move(inner));
}

}  // namespace hn
