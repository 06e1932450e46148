// Cross-origin access for browser pages on other origins (docs/web.md): which origins may read API answers,
// and the preflight answer (which takes no capacity slot).
#pragma once
#include <string>
#include <vector>

#include "net/http_message.h"
#include "net/origin_list.h"

namespace hn::content {

using net::OriginList;

// Adds Access-Control-Allow-Origin / Expose-Headers (Retry-After, Content-Range, ETag) when the origin may read.
// origin: the request's Origin header, nullptr when absent.
void add_cors_headers(const OriginList& cors, const std::string* origin, net::HttpResponse& r);
// OPTIONS: 204 with the allowed methods and headers (GET, HEAD; Range, If-None-Match).
net::HttpResponse cors_preflight(const OriginList& cors, const net::HttpRequest& req);

}  // namespace hn::content
