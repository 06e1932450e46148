// --role=peer: not built yet (issue "The peer role"). Says so instead of pretending.
#include <iostream>

#include "roles/roles.h"

namespace hn::roles {

int run_peer(const std::vector<std::string>&) {
  std::cerr << "error: --role=peer is not implemented yet\n";
  return 3;
}

}  // namespace hn::roles
