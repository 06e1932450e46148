#include "roles/port_file.h"

#include <cstdio>

namespace hn::roles {

void write_port_file(const std::string& path, int port) {
  if (path.empty()) return;
  std::string tmp = path + ".tmp";
  if (FILE* f = std::fopen(tmp.c_str(), "w")) {
    std::fprintf(f, "%d\n", port);
    std::fclose(f);
    std::rename(tmp.c_str(), path.c_str());
  }
}

}  // namespace hn::roles
