// The content server's switching rule: may this chunk transfer start now, or go to the swarm?
// One interface, several policies (the seed's connection cap first; bandwidth and adaptive later).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace hn {

class CapacityPolicy {
 public:
  virtual ~CapacityPolicy() = default;
  virtual std::string name() const = 0;
  // True: the transfer may start and the caller must call finish() exactly once when it ends.
  virtual bool try_admit() = 0;
  virtual void finish(uint64_t bytes_sent, double seconds) = 0;
  // Seconds a refused client should wait before asking again (HTTP Retry-After).
  virtual int retry_after_seconds() const = 0;
  virtual int64_t active() const = 0;
  virtual int64_t limit() const = 0;  // current cap on concurrent transfers; <0 when unlimited
};

// The seed's rule: at most `max_transfers` chunk transfers at once (0 means unlimited).
std::unique_ptr<CapacityPolicy> make_connection_cap(int64_t max_transfers, int retry_after_seconds = 1);

// Holds one admitted transfer; its destructor calls finish() so a dropped connection can never leak a slot.
class TransferSlot {
 public:
  // Null when the policy refuses.
  static std::unique_ptr<TransferSlot> try_acquire(CapacityPolicy& p);
  explicit TransferSlot(CapacityPolicy& p);  // for an already admitted transfer
  ~TransferSlot();
  TransferSlot(const TransferSlot&) = delete;
  TransferSlot& operator=(const TransferSlot&) = delete;
  void add_bytes(uint64_t n) { bytes_ += n; }

 private:
  CapacityPolicy& policy_;
  uint64_t bytes_ = 0;
  double started_;
};

}  // namespace hn
