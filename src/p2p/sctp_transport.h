// SCTP with usrsctp over an ICE component (AF_CONN lower layer): reliable, ordered messages.
// Both sides bind and connect port 5000 (simultaneous open, as WebRTC data channels do). A DTLS layer
// for browser interop would sit between ICE and this class: packets in through usrsctp_conninput,
// out through P2pHub::send_packet.
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

  SctpTransport(P2pHub& hub, LinkId id, int mtu, Handlers h);
  ~SctpTransport();
  SctpTransport(const SctpTransport&) = delete;
  SctpTransport& operator=(const SctpTransport&) = delete;

  Result<void> start();
  // Queues one message; false when the send buffer is full (wait for on_writable) or closed.
  bool send(std::string_view msg);
  bool connected() const { return connected_; }
  void close();

 private:
  friend struct SctpIo;
  void on_io();
  void handle_notification(const char* data, size_t len);
  void fail(const std::string& why);

  LinkId id_;
  int mtu_;
  Handlers handlers_;
  struct socket* sock_ = nullptr;
  bool connected_ = false;
  bool want_writable_ = false;
  bool closed_ = false;
  std::string partial_;  // a message arriving in several reads, until MSG_EOR
};

}  // namespace hn::p2p
