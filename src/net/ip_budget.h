// Per-remote-address token buckets: how many new connections (TLS handshakes) one address may start.
// IPv4 addresses count one by one, IPv6 ones by /64 (one host usually holds a whole /64). Bounded: idle
// buckets (full again) are swept every few seconds and the table never holds more than `max_entries`.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace hn::net {

class IpBudget {
 public:
  // `per_second` new connections per address, bursts up to `burst`; per_second 0: unlimited.
  IpBudget(uint64_t per_second, uint64_t burst, size_t max_entries = 65536);
  // `remote` as the listener gives it ("1.2.3.4:5", "[::1]:5"). False: over budget, refuse.
  bool take(std::string_view remote, uint64_t now_ns);
  size_t size() const;
  // The address part a budget is kept for: "1.2.3.4", "2001:db8:1:2::/64"; empty if unparsable.
  static std::string key_of(std::string_view remote);

 private:
  struct Bucket {
    double tokens;
    uint64_t last_ns;
  };
  void sweep(uint64_t now_ns);
  uint64_t per_second_, burst_;
  size_t max_entries_;
  mutable std::mutex mu_;  // --workers: one budget for the process, taken from several loops
  std::unordered_map<std::string, Bucket> buckets_;
  uint64_t last_sweep_ns_ = 0;
};

}  // namespace hn::net
