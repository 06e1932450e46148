#include "net/origin_list.h"

namespace hn::net {

OriginList::OriginList(const std::string& spec) {
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    std::string item = spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    while (!item.empty() && item.back() == '/') item.pop_back();  // "http://a/" names the origin http://a
    if (item == "*") any_ = true;
    else if (!item.empty()) list_.push_back(item);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
}

bool OriginList::allows(const std::string* origin) const {
  if (origin == nullptr || any_) return true;
  for (const auto& o : list_)
    if (o == *origin) return true;
  return false;
}

}  // namespace hn::net
