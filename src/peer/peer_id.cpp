#include "peer/peer_id.h"

#include <random>

namespace hn {
std::string random_peer_id() {
  static const char* hex = "0123456789abcdef";
  std::random_device rd;
  std::string s = "p";
  for (int i = 0; i < 12; ++i) s += hex[rd() % 16];
  return s;
}
}  // namespace hn
