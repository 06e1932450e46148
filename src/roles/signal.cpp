// --role=signal: not built yet (issue "The signaller role"). Says so instead of pretending.
#include <iostream>

#include "roles/roles.h"

namespace hn::roles {

int run_signal(const std::vector<std::string>&) {
  std::cerr << "error: --role=signal is not implemented yet\n";
  return 3;
}

}  // namespace hn::roles
