#include "net/ip_budget.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace hn::net {

IpBudget::IpBudget(uint64_t per_second, uint64_t burst, size_t max_entries)
    : per_second_(per_second), burst_(std::max<uint64_t>(1, burst)), max_entries_(std::max<size_t>(1, max_entries)) {}

std::string IpBudget::key_of(std::string_view remote) {
  std::string host;
  if (!remote.empty() && remote.front() == '[') {
    size_t close = remote.find(']');
    if (close == std::string_view::npos) return {};
    host = std::string(remote.substr(1, close - 1));
  } else {
    size_t colon = remote.rfind(':');
    host = std::string(colon == std::string_view::npos ? remote : remote.substr(0, colon));
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
      char buf[INET_ADDRSTRLEN] = {0};
      inet_ntop(AF_INET, &a6.s6_addr[12], buf, sizeof buf);
      return buf;
    }
    std::memset(&a6.s6_addr[8], 0, 8);  // the /64
    char buf[INET6_ADDRSTRLEN] = {0};
    inet_ntop(AF_INET6, &a6, buf, sizeof buf);
    return std::string(buf) + "/64";
  }
  in_addr a4{};
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) return host;
  return {};
}

void IpBudget::sweep(uint64_t now_ns) {
  // A bucket that has refilled is the same as no bucket: drop it. Time to refill from empty: burst/rate.
  uint64_t full_after_ns = burst_ * 1000000000ull / per_second_ + 1;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    if (now_ns - it->second.last_ns >= full_after_ns) it = buckets_.erase(it);
    else ++it;
  }
  last_sweep_ns_ = now_ns;
}

bool IpBudget::take(std::string_view remote, uint64_t now_ns) {
  if (per_second_ == 0) return true;
  std::string key = key_of(remote);
  std::lock_guard<std::mutex> g(mu_);
  // Full: sweep again soon, but not on every connection of a flood from many addresses (a sweep walks the
  // whole table; between sweeps a full table admits newcomers, as below).
  if (now_ns - last_sweep_ns_ > 5000000000ull || (buckets_.size() >= max_entries_ && now_ns - last_sweep_ns_ > 100000000ull))
    sweep(now_ns);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    // Still full after a sweep: more addresses are busy at once than any per-address budget can tell
    // apart; admit (the process-wide caps still hold) rather than refuse newcomers.
    if (buckets_.size() >= max_entries_) return true;
    it = buckets_.emplace(std::move(key), Bucket{static_cast<double>(burst_), now_ns}).first;
  } else {
    double refill = static_cast<double>(now_ns - it->second.last_ns) * 1e-9 * static_cast<double>(per_second_);
    it->second.tokens = std::min(static_cast<double>(burst_), it->second.tokens + refill);
    it->second.last_ns = now_ns;
  }
  if (it->second.tokens < 1.0) return false;
  it->second.tokens -= 1.0;
  return true;
}

size_t IpBudget::size() const {
  std::lock_guard<std::mutex> g(mu_);
  return buckets_.size();
}

}  // namespace hn::net
