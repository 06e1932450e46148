// Issue 15: a WebSocket connection holds wslay's ~9.4 KiB context only while a message is in flight. Frames
// arrive through a real socket pair in pieces; messages split across those pieces must come out whole.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <uv.h>

#include <string>
#include <vector>

#include "net/ws_connection.h"

namespace {

std::string masked(uint8_t first, const std::string& payload) {
  std::string f(1, static_cast<char>(first));
  const uint8_t key[4] = {0x11, 0x22, 0x33, 0x44};
  if (payload.size() < 126) {
    f += static_cast<char>(0x80 | payload.size());
  } else {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>(payload.size() >> 8);
    f += static_cast<char>(payload.size() & 0xff);
  }
  f.append(reinterpret_cast<const char*>(key), 4);
  for (size_t i = 0; i < payload.size(); ++i) f += static_cast<char>(payload[i] ^ key[i % 4]);
  return f;
}

struct Pair {
  uv_loop_t loop;
  int peer = -1;
  std::shared_ptr<hn::net::WsConnection> ws;
  std::vector<std::string> got;
  std::string from_server;
  Pair() {
    uv_loop_init(&loop);
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    peer = sv[1];
    ws = std::make_shared<hn::net::WsConnection>(&loop, hn::UniqueFd(sv[0]), std::string(), false, hn::net::WsLimits{});
    ws->start({[this](std::string_view t) {
                 got.emplace_back(t);
                 ws->send_text("echo:" + std::string(t));  // a reply while wslay is parsing
               },
               [](uint16_t, const std::string&) {}});
  }
  ~Pair() {
    ws->abort();
    ws.reset();
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
    ::close(peer);
  }
  void put(const std::string& bytes) {
    REQUIRE(::send(peer, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
    for (int i = 0; i < 4; ++i) uv_run(&loop, UV_RUN_NOWAIT);
    char buf[4096];
    for (ssize_t n; (n = ::recv(peer, buf, sizeof buf, 0)) > 0;) from_server.append(buf, static_cast<size_t>(n));
  }
};

}  // namespace

TEST_CASE("issue 15: a WebSocket holds wslay's context only while a message is in flight") {
  size_t before = hn::net::WsConnection::live_contexts();
  Pair p;
  CHECK_FALSE(p.ws->holds_context());  // connected, nothing said yet
  CHECK(hn::net::WsConnection::live_contexts() == before);

  p.put(masked(0x81, "one"));
  REQUIRE(p.got.size() == 1);
  CHECK(p.got[0] == "one");
  CHECK_FALSE(p.ws->holds_context());  // message handled and echo written: nothing in flight

  // A frame cut in its header, then in its payload: the context (and the parse) survives between pieces.
  std::string two = masked(0x81, std::string(300, 'x'));
  p.put(two.substr(0, 3));
  CHECK(p.ws->holds_context());
  p.put(two.substr(3, 100));
  CHECK(p.ws->holds_context());
  p.put(two.substr(103));
  REQUIRE(p.got.size() == 2);
  CHECK(p.got[1] == std::string(300, 'x'));
  CHECK_FALSE(p.ws->holds_context());

  // A fragmented message with a ping between its frames: whole frames, but a message still open.
  p.put(masked(0x01, "fra"));
  CHECK(p.ws->holds_context());
  p.put(masked(0x89, "hi"));  // ping: answered at once
  CHECK(p.ws->holds_context());
  p.put(masked(0x80, "gment"));
  REQUIRE(p.got.size() == 3);
  CHECK(p.got[2] == "fragment");
  CHECK_FALSE(p.ws->holds_context());
  CHECK(p.from_server.find("echo:fragment") != std::string::npos);
  CHECK(p.from_server.find(std::string("\x8a\x02hi", 4)) != std::string::npos);  // the pong

  // Sending from idle: the context is made for the write and released once the socket took it.
  CHECK(p.ws->send_text("server says"));
  CHECK_FALSE(p.ws->holds_context());
  p.put("");
  CHECK(p.from_server.find("server says") != std::string::npos);

  // Closing keeps it: the close handshake is state.
  p.ws->close(hn::net::kWsNormal, "bye");
  CHECK(p.ws->holds_context());
}

TEST_CASE("issue 15: a message cut before its end is not lost when the stream sits between reads") {
  Pair p;
  std::string a = masked(0x81, "first"), b = masked(0x81, "second");
  std::string both = a + b;
  for (size_t i = 0; i < both.size(); ++i) p.put(both.substr(i, 1));  // one byte per loop turn
  REQUIRE(p.got.size() == 2);
  CHECK(p.got[0] == "first");
  CHECK(p.got[1] == "second");
  CHECK_FALSE(p.ws->holds_context());
}
