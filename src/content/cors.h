// Cross-origin access for browser pages on other origins (docs/web.md): which origins may read API answers,
// and the preflight answer (which takes no capacity slot).
#pragma once
#include <string>
#include <vector>

#include "net/http_message.h"

namespace hn::content {

// "*" (any), "" (off: no CORS headers) or a comma-separated list of origins such as http://a.example:8000.
class OriginList {
 public:
  explicit OriginList(const std::string& spec);
  bool any() const { return any_; }
  bool off() const { return !any_ && list_.empty(); }
  // An absent Origin (curl, native peers) is not a browser cross-origin request: allowed.
  bool allows(const std::string* origin) const;

 private:
  bool any_ = false;
  std::vector<std::string> list_;
};

// Adds Access-Control-Allow-Origin / Expose-Headers (Retry-After, Content-Range, ETag) when the origin may read.
// origin: the request's Origin header, nullptr when absent.
void add_cors_headers(const OriginList& cors, const std::string* origin, net::HttpResponse& r);
// OPTIONS: 204 with the allowed methods and headers (GET, HEAD; Range, If-None-Match).
net::HttpResponse cors_preflight(const OriginList& cors, const net::HttpRequest& req);

}  // namespace hn::content
