// HOST:PORT parsing and socket address helpers.
#pragma once
#include <sys/socket.h>

#include <string>

#include "hybridnode/result.h"

namespace hn::net {

struct HostPort {
  std::string host;
  int port = 0;
  std::string str() const;
};

// "127.0.0.1:8080", "[::1]:8080", "localhost:0". Port 0..65535.
Result<HostPort> parse_host_port(const std::string& s);
// Resolves numeric addresses and "localhost" only: a listener never does DNS on the loop.
Result<sockaddr_storage> to_sockaddr(const HostPort& hp);
std::string sockaddr_to_string(const sockaddr* sa);

}  // namespace hn::net
