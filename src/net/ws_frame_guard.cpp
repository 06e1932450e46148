#include "net/ws_frame_guard.h"

namespace hn::net {

bool WsFrameGuard::feed(const uint8_t* p, size_t n) {
  while (n > 0 && !refused_) {
    if (payload_left_ > 0) {
      uint64_t skip = payload_left_ < n ? payload_left_ : n;
      payload_left_ -= skip;
      p += skip;
      n -= static_cast<size_t>(skip);
      continue;
    }
    hdr_[hdr_len_++] = *p++;
    --n;
    if (hdr_len_ < 2) continue;
    uint8_t len7 = hdr_[1] & 0x7f;
    size_t need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((hdr_[1] & 0x80) ? 4 : 0);
    if (hdr_len_ < need) continue;
    uint64_t len = len7;
    if (len7 == 126) len = (uint64_t{hdr_[2]} << 8) | hdr_[3];
    if (len7 == 127) {
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | hdr_[2 + i];
    }
    uint8_t opcode = hdr_[0] & 0x0f;
    if ((opcode & 0x08) == 0) {  // data frame: control frames are capped at 125 bytes by wslay itself
      msg_len_ = opcode == 0 ? msg_len_ + (len > max_ ? max_ + 1 : len) : len;
      if (msg_len_ > max_) refused_ = true;
      in_message_ = (hdr_[0] & 0x80) == 0;
    }
    payload_left_ = len;
    hdr_len_ = 0;
  }
  return !refused_;
}

}  // namespace hn::net
