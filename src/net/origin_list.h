// Which browser origins may use a service: the content server's CORS (--cors-origin) and the
// signaller's WebSocket handshake (--allowed-origins).
#pragma once
#include <string>
#include <vector>

namespace hn::net {

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

}  // namespace hn::net
