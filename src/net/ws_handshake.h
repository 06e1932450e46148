// RFC 6455 opening handshake on top of a parsed HTTP request (server) or for a client request.
#pragma once
#include <string>

#include "hybridnode/result.h"
#include "net/http_message.h"

namespace hn::net {

// base64(SHA-1(key + RFC 6455 GUID)).
std::string ws_accept_for(const std::string& key);
// Checks method, Upgrade, Connection, version and key; on success returns the 101 response bytes.
Result<std::string> ws_server_handshake(const HttpRequest& req);
// True when the request asks to switch to WebSocket (other Upgrade values, e.g. h2c, may be ignored).
bool ws_upgrade_requested(const HttpRequest& req);
// A fresh random Sec-WebSocket-Key (16 random bytes, base64).
std::string ws_client_key();

}  // namespace hn::net
