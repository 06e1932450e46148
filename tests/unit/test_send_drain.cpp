#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

#include <chrono>
#include <fcntl.h>
#include <functional>
#include <string>
#include <thread>

#include "net/send_drain.h"

namespace {

struct TcpPair {
  hn::UniqueFd server, client;
};

// A loopback TCP connection whose client side has a tiny receive buffer, so what the server writes stays
// queued on the server's side until the client reads.
TcpPair tcp_pair() {
  hn::UniqueFd lst(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(lst.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(lst.get(), 1) == 0);
  REQUIRE(::getsockname(lst.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
  TcpPair p;
  p.client.reset(::socket(AF_INET, SOCK_STREAM, 0));
  int small = 4096;
  ::setsockopt(p.client.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  REQUIRE(::connect(p.client.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  p.server.reset(::accept(lst.get(), nullptr, nullptr));
  REQUIRE(p.server.valid());
  ::fcntl(p.server.get(), F_SETFL, O_NONBLOCK);
  return p;
}

size_t fill(int fd, size_t max) {
  std::string buf(16384, 'x');
  size_t sent = 0;
  while (sent < max) {
    ssize_t n = ::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  return sent;
}

void run_for(uv_loop_t* loop, int ms, const std::function<bool()>& stop = [] { return false; }) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!stop() && std::chrono::steady_clock::now() < end) {
    uv_run(loop, UV_RUN_NOWAIT);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

struct Loop {
  uv_loop_t loop;
  Loop() { uv_loop_init(&loop); }
  ~Loop() {
    uv_run(&loop, UV_RUN_NOWAIT);  // let closed handles finish
    uv_loop_close(&loop);
  }
};

}  // namespace

TEST_CASE("send drain: released when the client has acknowledged every byte, not when the kernel has them") {
  Loop l;
  auto p = tcp_pair();
  {
    hn::net::SendDrain drain(&l.loop, p.server, 5000, [] {});
    drain.start();
    size_t sent = fill(p.server.get(), 256 * 1024);
    REQUIRE(sent > 0);
    int calls = 0;
    bool complete = false;
    uint64_t reported = 0;
    drain.hold(
        [&](uint64_t bytes, bool ok) {
          calls++;
          complete = ok;
          reported = bytes;
        },
        7, true);
    run_for(&l.loop, 100);
    CHECK(calls == 0);  // the bytes wait in the server's send queue: the slot is still held
    CHECK(drain.busy());
    std::string buf(65536, '\0');
    size_t got = 0;
    run_for(&l.loop, 5000, [&] {
      ssize_t n = ::recv(p.client.get(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n > 0) got += static_cast<size_t>(n);
      return calls > 0;
    });
    CHECK(calls == 1);
    CHECK(complete);
    CHECK(reported == 7);
    CHECK(got == sent);
    CHECK_FALSE(drain.busy());
  }
}

TEST_CASE("send drain: an empty queue releases at once; a client that resets frees the slot at once") {
  Loop l;
  auto p = tcp_pair();
  hn::net::SendDrain drain(&l.loop, p.server, 5000, [] {});
  drain.start();
  int calls = 0;
  bool first_ok = false;
  drain.hold(
      [&](uint64_t, bool ok) {
        calls++;
        first_ok = ok;
      },
      0, true);
  CHECK(calls == 1);
  CHECK(first_ok);  // nothing was written: nothing to wait for

  REQUIRE(fill(p.server.get(), 256 * 1024) > 0);
  bool complete = true;
  drain.hold(
      [&](uint64_t, bool ok) {
        calls++;
        complete = ok;
      },
      1, true);
  linger lg{1, 0};
  ::setsockopt(p.client.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  p.client.reset();  // RST
  run_for(&l.loop, 1000, [&] { return calls == 2; });
  CHECK(calls == 2);
  CHECK_FALSE(complete);
}

TEST_CASE("send drain: no acknowledgement for the stall time releases as incomplete and tells the owner") {
  Loop l;
  auto p = tcp_pair();
  bool stalled = false;
  hn::net::SendDrain drain(&l.loop, p.server, 150, [&] { stalled = true; });
  drain.start();
  REQUIRE(fill(p.server.get(), 256 * 1024) > 0);
  int calls = 0;
  bool complete = true;
  drain.hold(
      [&](uint64_t, bool ok) {
        calls++;
        complete = ok;
      },
      1, true);
  run_for(&l.loop, 2000, [&] { return stalled; });  // the client never reads
  CHECK(stalled);
  CHECK(calls == 1);
  CHECK_FALSE(complete);
}
