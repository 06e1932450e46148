// SCTP with usrsctp over DTLS (RFC 8261; AF_CONN lower layer) carrying one WebRTC data channel (RFC 8831):
// both sides bind and connect port 5000 (simultaneous open, as WebRTC does); the dialling side opens the
// channel `hybridnode` (protocol `hybridnode/1`, reliable, ordered) with DCEP (RFC 8832) on a stream of
// its DTLS role's parity (client even, server odd); the answering side accepts the first such channel and
// resets the stream of any other. Packets come in through input() (decrypted DTLS records) and leave
// through P2pHub::sctp_output (to DTLS).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "hybridnode/result.h"
#include "p2p/p2p_hub.h"

struct socket;

namespace hn::p2p {

inline constexpr size_t kMaxSctpMessage = 256 * 1024;

class SctpTransport : public std::enable_shared_from_this<SctpTransport> {
 public:
  struct Handlers {
    std::function<void()> on_connected;
    std::function<void(std::string_view msg)> on_message;
    std::function<void()> on_writable;  // after send() returned false, there is room again
    std::function<void(const std::string& why)> on_closed;
  };

  // opener: this side opens the channel (the dialler).
  SctpTransport(P2pHub& hub, LinkId id, int mtu, bool opener, Handlers h);
  ~SctpTransport();
  SctpTransport(const SctpTransport&) = delete;
  SctpTransport& operator=(const SctpTransport&) = delete;

  Result<void> start();
  static void input(LinkId id, const uint8_t* data, size_t len);  // one decrypted SCTP packet, any thread
  // Before the association is up: our DTLS role (the channel's stream parity), and the largest message
  // the remote accepts (its a=max-message-size; 0: no limit).
  void set_dtls_client(bool client) { dtls_client_ = client; }
  void set_remote_max_message(uint64_t n) { remote_max_ = n; }  // Queues one binary message on the channel; false when the send buffer is full (wait for on_writable),
  // or the channel is not open.
  bool send(std::string_view msg);
  bool connected() const { return channel_open_; }
  // Bytes sent into the association and not yet acknowledged by the remote (queued or in flight).
  size_t buffered() const;
  void close();

 private:
  friend struct SctpIo;
  void on_io();
  void handle_notification(const char* data, size_t len);
  void on_control(uint16_t sid, std::string_view msg);
  void on_data(uint16_t sid, uint32_t ppid, std::string_view msg);
  bool send_on(uint16_t sid, uint32_t ppid, std::string_view msg);
  void open_channel();
  void reset_stream(uint16_t sid);
  void fail(const std::string& why);

  LinkId id_;
  int mtu_;
  bool opener_;
  bool dtls_client_ = false;
  uint64_t remote_max_ = 0;
  int channel_ = -1;  // our channel's stream id, once opened or accepted
  bool channel_open_ = false;
  Handlers handlers_;
  struct socket* sock_ = nullptr;
  bool connected_ = false;
  bool want_writable_ = false;
  bool closed_ = false;
  uint64_t refused_opens_ = 0;  // DCEP OPENs refused on this link (logged sparingly)
  std::string partial_;  // a message arriving in several reads, until MSG_EOR
  uint16_t partial_sid_ = 0;
  uint32_t partial_ppid_ = 0;
};

}  // namespace hn::p2p
