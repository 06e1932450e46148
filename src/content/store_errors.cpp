#include "content/store_errors.h"

#include <algorithm>
#include <cctype>

namespace hn::content {

net::HttpResponse store_failure(const std::string& error) {
  std::string lower = error;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  // "No suitable servers found: serverSelectionTimeoutMS expired" means unreachable (503); a store that
  // answered too slowly ("socket timed out") is a gateway timeout (504).
  bool timeout = lower.find("timed out") != std::string::npos && lower.find("no suitable servers") == std::string::npos;
  auto r = net::HttpResponse::error(timeout ? 504 : 503, "store unavailable: " + error);
  r.headers.emplace_back("Retry-After", "2");
  return r;
}

}  // namespace hn::content
