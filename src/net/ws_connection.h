// A WebSocket connection after its handshake: frames by wslay (Debian's libwslay), I/O by uv_poll.
// Text messages in and out; pings are answered by wslay; close codes follow RFC 6455.
// wslay's event context is ~9.4 KiB (two fixed 4 KiB buffers), most of what an idle signaller member
// costs, so a connection holds one only while a message is in flight: it is freed whenever the stream
// sits between messages with nothing queued (then it equals a fresh one) and made again on the next
// byte in or message out.
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "net/uv_handle.h"
#include "net/tls_stream.h"
#include "net/ws_frame_guard.h"
#include "util/unique_fd.h"

struct wslay_event_context;

namespace hn::net {

// Outgoing bytes queued by every connection that shares it (one per server, not a global: embedders may
// run several). Past `cap`, a connection that is already behind is dropped instead of queueing more.
struct WsMemoryBudget {
  size_t cap = 64 << 20;
  size_t used = 0;
  size_t peak = 0;  // highest `used` seen
};

struct WsLimits {
  uint64_t max_message_bytes = 1 << 20;   // larger frames/messages: closed with 1009
  size_t max_queued_bytes = 8 << 20;      // a reader this far behind is dropped
  // Socket bytes read per loop wakeup: a flood from the remote is taken in slices, so timers, signals
  // and other sockets run in between (the rest is read on the next turn; polling is level-triggered).
  size_t read_budget_bytes = 64 << 10;
  std::shared_ptr<WsMemoryBudget> budget; // optional process-wide cap on outgoing bytes
};

// RFC 6455 close codes used here.
enum WsCode : uint16_t {
  kWsNormal = 1000,
  kWsGoingAway = 1001,
  kWsUnsupportedData = 1003,
  kWsPolicyViolation = 1008,
  kWsTooBig = 1009,
  kWsInternalError = 1011,
};

class WsConnection : public std::enable_shared_from_this<WsConnection> {
 public:
  struct Handlers {
    std::function<void(std::string_view text)> on_text;
    // Called once when the connection is finished (closed by either side or failed).
    std::function<void(uint16_t code, const std::string& reason)> on_closed;
  };

  // `leftover`: bytes already read after the handshake. `client`: masks frames (RFC 6455 client side).
  // `tls`: an established TLS stream over `fd` (wss); null for plain ws.
  WsConnection(uv_loop_t* loop, UniqueFd fd, std::string leftover, bool client, WsLimits limits,
               std::unique_ptr<TlsStream> tls = nullptr);
  ~WsConnection();
  WsConnection(const WsConnection&) = delete;
  WsConnection& operator=(const WsConnection&) = delete;

  void start(Handlers h);
  bool send_text(std::string_view text);         // false when closing or over the queue limit
  void close(uint16_t code, std::string_view reason);  // graceful: close frame, then the socket
  void abort();                                  // immediately, no close frame
  bool open() const { return started_ && !finished_; }
  size_t queued_bytes() const;
  bool holds_context() const { return ctx_ != nullptr; }
  // wslay contexts alive in this process (all connections): those with a message in flight.
  static size_t live_contexts();

 private:
  static void on_poll(uv_poll_t* h, int status, int events);
  static void on_close_timer(uv_timer_t* t);
  void pump(bool readable, bool writable);
  void pump_ctx(bool readable, bool writable);
  void update_poll();
  void watch(int events);  // uv_poll_start, only when the events change
  void finish(uint16_t code, const std::string& reason);
  void account();  // brings limits_.budget->used up to date with our queue
  void refuse_too_big();
  void drain();
  bool ensure_ctx();
  bool idle() const;       // between messages, nothing queued, not closing: the context holds no state
  void release_if_idle();
  void free_ctx();

  friend struct WsCallbacks;
  uv_loop_t* loop_;
  UniqueFd fd_;
  std::string pending_in_;
  size_t pending_off_ = 0;
  size_t read_this_wakeup_ = 0;
  bool client_;
  WsLimits limits_;
  Handlers handlers_;
  wslay_event_context* ctx_ = nullptr;
  UvHandle<uv_poll_t> poll_;
  UvHandle<uv_timer_t> close_timer_;
  bool finished_ = false;
  bool peer_eof_ = false;
  size_t accounted_ = 0;   // our share of limits_.budget->used
  WsFrameGuard guard_;
  std::unique_ptr<TlsStream> tls_;
  bool too_big_ = false;  // a frame header declared more than max_message_bytes
  bool draining_ = false;  // 1009 sent; reading and discarding until EOF or the close timer
  bool started_ = false;
  bool closing_ = false;   // close() ran: its close frame is queued and the close timer runs (the context stays)
  int watched_ = -1;       // events last given to uv_poll_start
  int depth_ = 0;          // nested pumps (a handler may send mid-parse): the context is freed at depth 0 only
};

}  // namespace hn::net
