// Remotes this node refuses (bad chunks, lies). A remote can mint fresh peer ids at will, so the list is
// bounded: a ban lasts keep_s (long enough to outlive the swarm's interest in a liar, short enough that an
// id reused honestly later is not shut out forever), and past `max` entries the oldest ban makes room.
#pragma once
#include <cstddef>
#include <map>
#include <string>
#include <unordered_map>

namespace hn {

class BanList {
 public:
  BanList(double keep_s, size_t max) : keep_s_(keep_s), max_(max) {}
  void ban(const std::string& remote, double now);
  bool banned(const std::string& remote, double now) const;
  size_t size() const { return at_.size(); }

 private:
  void expire(double now);
  double keep_s_;
  size_t max_;
  std::unordered_map<std::string, double> at_;  // remote -> when banned
  std::multimap<double, std::string> by_age_;   // the same entries, oldest first
};

}  // namespace hn
