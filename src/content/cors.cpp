#include "content/cors.h"

namespace hn::content {

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

void add_cors_headers(const OriginList& cors, const std::string* origin, net::HttpResponse& r) {
  if (cors.off()) return;
  if (cors.any()) {
    r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  } else {
    // The answer depends on Origin: caches must keep one copy per origin.
    r.headers.emplace_back("Vary", "Origin");
    if (origin == nullptr || !cors.allows(origin)) return;
    r.headers.emplace_back("Access-Control-Allow-Origin", *origin);
  }
  r.headers.emplace_back("Access-Control-Expose-Headers", "Retry-After, Content-Range, Content-Length, ETag");
}

net::HttpResponse cors_preflight(const OriginList& cors, const net::HttpRequest& req) {
  net::HttpResponse r;
  r.status = 204;
  r.headers.emplace_back("Allow", "GET, HEAD, OPTIONS");
  add_cors_headers(cors, req.header("origin"), r);
  if (!cors.off() && cors.allows(req.header("origin"))) {
    r.headers.emplace_back("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
    r.headers.emplace_back("Access-Control-Allow-Headers", "Range, If-None-Match, Cache-Control");
    r.headers.emplace_back("Access-Control-Max-Age", "600");
  }
  return r;
}

}  // namespace hn::content
