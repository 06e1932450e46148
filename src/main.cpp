// hybridnode: one binary, three roles (server, signal, peer) plus the ingest command.
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/options.h"
#include "roles/roles.h"
#include "util/json_limits.h"

namespace {

const char* kUsage =
    "usage:\n"
    "  hybridnode --role=server|signal|peer [--config FILE] [--flag=value ...]\n"
    "  hybridnode ingest FILE --store DIR [--chunk-size N] [--id ID] [--title T] [--media-type TYPE]\n"
    "  hybridnode --role=ROLE --help      flags of one role\n"
    "  hybridnode --version\n";

// The role comes from --role, else from the "role" key of --config. `error`: why the config file could not
// be read (the role's parser would say the same, but without a role there is no parser to say it).
std::string role_from_config(const std::vector<std::string>& args, std::string& error) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string path;
    if (args[i] == "--config" && i + 1 < args.size()) path = args[i + 1];
    else if (args[i].rfind("--config=", 0) == 0) path = args[i].substr(9);
    if (path.empty()) continue;
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto j = hn::parse_json_bounded(text);
    if (j.is_object() && j.contains("role") && j["role"].is_string()) return j["role"].get<std::string>();
    if (!j.is_object()) {
      auto r = hn::config::parse({"hybridnode", {}, 0}, {"--config=" + path});
      if (!r) error = r.error();
    }
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "hybridnode " << HN_VERSION << "\n";
    return 0;
  }
  if (args[0] == "ingest") return hn::roles::run_ingest({args.begin() + 1, args.end()});

  std::string role;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind("--role=", 0) == 0) role = args[i].substr(7);
    else if (args[i] == "--role" && i + 1 < args.size()) role = args[++i];
    else rest.push_back(args[i]);
  }
  std::string config_error;
  std::string config_role = role_from_config(rest, config_error);
  if (role.empty() && !config_error.empty()) {
    std::cerr << "error: " << config_error << "\n";
    return 2;
  }
  if (role.empty()) {
    role = config_role;
  } else if (!config_role.empty() && config_role != role) {
    std::cerr << "error: --role=" << role << " but the config file says \"role\": \"" << config_role
              << "\"; remove one of them\n";
    return 2;
  }
  if (role == "server") return hn::roles::run_server(rest);
  if (role == "signal") return hn::roles::run_signal(rest);
  if (role == "peer") return hn::roles::run_peer(rest);
  if (role.empty()) std::cerr << "error: no role given\n" << kUsage;
  else std::cerr << "error: unknown role '" << role << "' (server, signal or peer)\n";
  return 2;
}
