// How a store failure reaches an HTTP client: 504 when the store timed out, 503 otherwise, both with
// Retry-After and the store's own words, so an operator sees "mongodb: No suitable servers..." in the body.
#pragma once
#include <string>

#include "net/http_message.h"

namespace hn::content {

net::HttpResponse store_failure(const std::string& error);

}  // namespace hn::content
