/// @file
/// The content server's switching rule: may this chunk transfer start now, or go to the swarm?
/// One interface, three policies (docs/policy.md):
///  - connections: the seed's cap on concurrent transfers;
///  - bandwidth:   an egress budget in bytes/s (token bucket);
///  - adaptive:    a cap that rises and falls to keep chunk transfer times under a target.
#pragma once
#include "hybridnode/export.h"
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace hn {

using Clock = std::function<double()>;  ///< seconds, monotonic; tests inject their own
HN_API Clock monotonic_clock();

class HN_API CapacityPolicy {
 public:
  virtual ~CapacityPolicy() = default;
  virtual std::string name() const = 0;
  /// True: a transfer of `bytes` may start; the caller must call finish() exactly once when it ends.
  virtual bool try_admit(uint64_t bytes) = 0;
  virtual void finish(uint64_t bytes_sent, double seconds) = 0;
  /// Corrects what an admitted transfer was charged: \> 0 charges more, \< 0 refunds (the real size once
  /// the store has opened the chunk; what was not sent when it ends). Only byte budgets care.
  virtual void recharge(int64_t /*delta_bytes*/) {}
  /// Seconds a refused client should wait before asking again (HTTP Retry-After).
  virtual int retry_after_seconds() const = 0;
  virtual int64_t active() const = 0;
  virtual int64_t limit() const = 0;  ///< current cap on concurrent transfers; \<0 when none
};

/// At most `max_transfers` chunk transfers at once (0 means unlimited).
HN_API std::unique_ptr<CapacityPolicy> make_connection_cap(int64_t max_transfers, int retry_after_seconds = 1);
/// Admits while the egress budget (bytes_per_sec, burst of `burst_bytes`) is not spent; a transfer is
/// charged its expected size when admitted, its real size once known, and what it did not send is refunded.
HN_API std::unique_ptr<CapacityPolicy> make_bandwidth_budget(uint64_t bytes_per_sec, uint64_t burst_bytes,
                                                      int retry_after_seconds = 1, Clock clock = monotonic_clock());
/// A cap between 1 and max_transfers, lowered (x0.7) when the p90 transfer time of the last window exceeds
/// target_seconds, raised (+1) when it is well under the target while clients were being refused.
HN_API std::unique_ptr<CapacityPolicy> make_adaptive_cap(double target_seconds, int64_t max_transfers,
                                                  int retry_after_seconds = 1, Clock clock = monotonic_clock());

/// Holds one admitted transfer; its destructor calls finish() so a dropped connection can never leak a slot.
class HN_API TransferSlot {
 public:
  /// Null when the policy refuses.
  static std::unique_ptr<TransferSlot> try_acquire(CapacityPolicy& p, uint64_t bytes);
  explicit TransferSlot(CapacityPolicy& p);  ///< for an already admitted transfer
  ~TransferSlot();
  TransferSlot(const TransferSlot&) = delete;
  TransferSlot& operator=(const TransferSlot&) = delete;
  void add_bytes(uint64_t n) { bytes_ += n; }
  /// The transfer's real size (known once the store has opened the chunk): the charge follows it.
  void set_size(uint64_t bytes);

 private:
  CapacityPolicy& policy_;
  uint64_t bytes_ = 0, charged_ = 0;
  double started_;
};

}  ///< namespace hn
