#include "roles/role_flags.h"

#include <algorithm>
#include <iostream>

#include "net/ws_client.h"
#include "util/log.h"

namespace hn::roles {

std::optional<int> parse_role_flags(config::ParseSpec spec, const std::vector<std::string>& args, config::Options& out) {
  using config::Type;
  spec.options.push_back({"log-level", Type::string, "info", "debug, info, warn or error (default: $HN_LOG, else info)"});
  spec.options.push_back({"help", Type::boolean, "false", "show this help"});
  if (std::any_of(spec.options.begin(), spec.options.end(), [](const config::OptionSpec& o) { return o.test_only; }))
    spec.options.push_back({"help-test", Type::boolean, "false", "list the TEST ONLY switches (for the project's tests)"});
  auto parsed = config::parse(spec, args);
  if (!parsed) {
    std::cerr << "error: " << parsed.error() << "\n(see " << spec.command << " --help)\n";
    return 2;
  }
  out = std::move(*parsed);
  if (out.boolean("help") || out.boolean("help-test")) {
    std::cout << config::help_text(spec, out.boolean("help-test"));
    return 0;
  }
  if (out.is_set("log-level") && !log::set_level(out.str("log-level"))) {  // else HN_LOG or info
    std::cerr << "error: --log-level: unknown level '" << out.str("log-level") << "'\n";
    return 2;
  }
  return std::nullopt;
}

bool check_signal_urls(const std::string& list) {
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string url = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    auto u = net::parse_ws_url(url);
    if (!u) {
      std::cerr << "error: --signal-url: " << u.error() << ", e.g. ws://127.0.0.1:8090/ws\n";
      return false;
    }
    if (u->path == "/") {
      std::cerr << "error: --signal-url: '" << url << "' has no path; the signaller's endpoint is " << url
                << (url.back() == '/' ? "ws" : "/ws") << "\n";
      return false;
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return true;
}

}  // namespace hn::roles
