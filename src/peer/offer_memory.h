// When each remote's offer last opened an inbound link (against offer floods, issue 22). Kept only as long as
// it matters: past the offer interval and the inbound connect timeout an entry says nothing, so entries are
// dropped by age (swept at most once per offer interval) and the table never holds more than kMax.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>

namespace hn {

class OfferMemory {
 public:
  // `keep_s`: how long an entry matters; `max`: entries at most (a flood of fresh ids past it is refused).
  OfferMemory(double keep_s, size_t max) : keep_s_(keep_s), max_(max) {}
  // When `remote` last offered, if still remembered.
  std::optional<double> at(const std::string& remote) const;
  // False when the table is full of entries younger than keep_s (the offer should be refused).
  bool record(const std::string& remote, double now);
  size_t size() const { return at_.size(); }

 private:
  void sweep(double now);
  double keep_s_;
  size_t max_;
  double last_sweep_ = 0;
  std::unordered_map<std::string, double> at_;
};

}  // namespace hn
