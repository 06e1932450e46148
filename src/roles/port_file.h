// Tells scripts which port a role bound when it was started with port 0.
#pragma once
#include <string>

namespace hn::roles {

// Written to a temporary name then renamed, so a script polling for the file never reads half of it.
void write_port_file(const std::string& path, int port);

}  // namespace hn::roles
