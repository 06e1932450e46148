#include "roles/role_flags.h"

#include <iostream>

#include "util/log.h"

namespace hn::roles {

std::optional<int> parse_role_flags(config::ParseSpec spec, const std::vector<std::string>& args, config::Options& out) {
  using config::Type;
  spec.options.push_back({"log-level", Type::string, "info", "debug, info, warn or error (default: $HN_LOG, else info)"});
  spec.options.push_back({"help", Type::boolean, "false", "show this help"});
  auto parsed = config::parse(spec, args);
  if (!parsed) {
    std::cerr << "error: " << parsed.error() << "\n(see " << spec.command << " --help)\n";
    return 2;
  }
  out = std::move(*parsed);
  if (out.boolean("help")) {
    std::cout << config::help_text(spec);
    return 0;
  }
  if (out.is_set("log-level") && !log::set_level(out.str("log-level"))) {  // else HN_LOG or info
    std::cerr << "error: --log-level: unknown level '" << out.str("log-level") << "'\n";
    return 2;
  }
  return std::nullopt;
}

}  // namespace hn::roles
