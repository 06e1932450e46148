// What every role does with its command line: parse against its schema, answer --help, apply
// --log-level, and print errors that name the bad flag. The common flags are appended here.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "config/options.h"

namespace hn::roles {

// Adds log-level and help to `spec`. Returns an exit code when the role should stop now
// (help printed: 0, bad flags: 2), nullopt to go on with `out`.
std::optional<int> parse_role_flags(config::ParseSpec spec, const std::vector<std::string>& args, config::Options& out);
// --signal-url: comma-separated ws://IP:PORT/PATH (a path is required: the signaller answers 404 on "/").
// Prints the error and returns false when one is not usable.
bool check_signal_urls(const std::string& list);

}  // namespace hn::roles
