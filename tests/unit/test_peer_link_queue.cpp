// A remote that makes us answer (pong, reject, have) but never reads must not grow our queue without
// bound (issue 22: 35 -> 512 MB in 30 s from pings): past the cap the link goes, on the next loop turn.
#include <doctest/doctest.h>
#include <uv.h>

#include <memory>
#include <string>

#include "p2p/p2p_hub.h"
#include "p2p/peer_link.h"

TEST_CASE("a link whose remote never reads is dropped at its queue cap, outside the caller's stack") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    hn::p2p::P2pHub hub(&loop);
    bool closed = false;
    std::string why;
    hn::p2p::PeerLink::Handlers h;
    h.on_closed = [&](hn::p2p::PeerLink&, const std::string& w) {
      closed = true;
      why = w;
    };
    hn::p2p::wire::Hello hello{"me", "vid", 4, {0}};
    // Not started: no transport drains the queue, exactly as when the remote stops reading.
    auto link = std::make_shared<hn::p2p::PeerLink>(hub, "remote", true, hn::p2p::PeerLink::Config{}, hello, h);
    const std::string pong(16, 'p');
    for (int i = 0; i < 1000000; ++i) link->send_raw(pong);  // 16 MB of answers
    CHECK(link->queued_bytes() <= (10u << 20));
    CHECK_FALSE(closed);  // never inside the caller's own iteration over links
    for (int i = 0; i < 100 && !closed; ++i) uv_run(&loop, UV_RUN_NOWAIT);
    CHECK(closed);
    CHECK(why.find("queue") != std::string::npos);
    link.reset();
    hub.shutdown();
  }
  uv_run(&loop, UV_RUN_NOWAIT);
  CHECK(uv_loop_close(&loop) == 0);
}
