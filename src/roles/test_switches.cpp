#include "roles/test_switches.h"

#include <iostream>
#include <set>

#include "util/log.h"

namespace hn::roles {

std::vector<config::OptionSpec> peer_test_switches() {
  using config::Type;
  std::vector<config::OptionSpec> all = {
      {"test-far-prefix", Type::string, "", "peers whose id starts with this are in a far region"},
      {"test-far-delay-ms", Type::integer, "0", "hold messages to far peers this long", 0, 10000},
      {"test-near-delay-ms", Type::integer, "0", "hold messages to other peers this long", 0, 10000},
      {"test-send-garbage", Type::boolean, "false", "send malformed wire messages to peers"},
      {"test-lie", Type::string, "", "claim | wrong-video | flood | reject | busy | request-flood"},
      {"test-corrupt-uploads", Type::boolean, "false", "corrupt every chunk this peer serves"},
  };
  for (auto& o : all) o.test_only = true;
  return all;
}

bool apply_peer_test_switches(const config::Options& o, PeerOptions& po) {
  po.test_corrupt_uploads = o.boolean("test-corrupt-uploads");
  po.test_send_garbage = o.boolean("test-send-garbage");
  po.test_lie = o.str("test-lie");
  static const std::set<std::string> lies = {"claim", "wrong-video", "flood", "reject", "busy", "request-flood"};
  if (!po.test_lie.empty() && !lies.count(po.test_lie)) {
    std::cerr << "error: --test-lie: claim, wrong-video, flood, reject, busy or request-flood\n";
    return false;
  }
  if (!po.test_lie.empty()) log::warn("TEST MODE: this peer lies (" + po.test_lie + ")");
  po.test_far_prefix = o.str("test-far-prefix");
  po.test_far_delay_ms = static_cast<uint64_t>(o.integer("test-far-delay-ms"));
  po.test_near_delay_ms = static_cast<uint64_t>(o.integer("test-near-delay-ms"));
  if (po.test_corrupt_uploads) log::warn("TEST MODE: this peer corrupts every chunk it serves");
  return true;
}

}  // namespace hn::roles
