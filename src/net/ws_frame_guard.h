// Watches the incoming WebSocket byte stream for frame headers, so a frame (or a fragmented message)
// that declares more than the limit is refused when its header arrives, not after its payload.
// wslay only checks the length once payload bytes are read, which lets a peer hold a connection
// half-open on a promise of 16 MiB.
#pragma once
#include <cstddef>
#include <cstdint>

namespace hn::net {

class WsFrameGuard {
 public:
  explicit WsFrameGuard(uint64_t max_message_bytes) : max_(max_message_bytes) {}
  // The next bytes of the stream, in order. False once a header declares too much (and from then on).
  bool feed(const uint8_t* p, size_t n);
  // Every byte fed so far forms whole messages: no partial header, payload or fragmented message.
  bool idle() const { return hdr_len_ == 0 && payload_left_ == 0 && !in_message_; }

 private:
  uint64_t max_;
  uint8_t hdr_[14] = {};
  size_t hdr_len_ = 0;
  uint64_t payload_left_ = 0;
  uint64_t msg_len_ = 0;  // data bytes declared so far by the frames of the current message
  bool refused_ = false;
  bool in_message_ = false;  // a data frame without FIN was seen and no final frame yet
};

}  // namespace hn::net
