#include "util/rendezvous.h"

#include <algorithm>
#include <cstring>

#include "media/sha256.h"

namespace hn {

std::vector<std::string> rendezvous_order(const std::vector<std::string>& nodes, const std::string& key) {
  std::vector<std::pair<std::string, std::string>> scored;  // (weight as hex, node)
  for (const auto& n : nodes) {
    std::string input = n + '\n' + key;
    scored.emplace_back(sha256_hex(input.data(), input.size()), n);
  }
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> out;
  for (auto& [w, n] : scored) out.push_back(n);
  return out;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace hn
