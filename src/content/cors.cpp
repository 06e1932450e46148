#include "content/cors.h"

namespace hn::content {

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
