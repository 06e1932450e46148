// Entry points of the binary's roles and commands; each parses its own flags.
#pragma once
#include <string>
#include <vector>

namespace hn::roles {

int run_server(const std::vector<std::string>& args);
int run_signal(const std::vector<std::string>& args);
int run_peer(const std::vector<std::string>& args);
int run_ingest(const std::vector<std::string>& args);

}  // namespace hn::roles
