// libFuzzer: datagrams a remote sends where DTLS records belong (after ICE), to a server session (awaiting a
// ClientHello) and to a client session (that has sent one). Input: [u16 length, bytes]... datagrams.
#include <cstddef>
#include <cstdint>
#include <string>

#include "p2p/dtls_transport.h"

namespace {
std::shared_ptr<hn::p2p::DtlsIdentity> identity() {
  static auto id = *hn::p2p::DtlsIdentity::create();
  return id;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (bool client : {false, true}) {
    size_t out_bytes = 0;
    hn::p2p::DtlsSession s(identity(), [&](const uint8_t*, size_t n) { out_bytes += n; },
                           [](const uint8_t*, size_t n) { if (n > 16384 + 2048) __builtin_trap(); },
                           [](hn::p2p::DtlsSession::Event, const std::string&) {});
    if (!s.begin(client, identity()->fingerprint(), 1200)) return 0;
    s.start_handshake();
    size_t pos = 0;
    while (pos + 2 <= size) {
      size_t n = (static_cast<size_t>(data[pos]) << 8 | data[pos + 1]) % 4096;
      pos += 2;
      n = std::min(n, size - pos);
      s.input(data + pos, n);
      pos += n;
      s.on_timer();
    }
    s.close();
  }
  return 0;
}
