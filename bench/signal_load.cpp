// Load generator for the signaller: N simulated peers on one loop join one swarm, send haves, and relay
// offers to peers a lookup named to them (the signaller relays only between introduced members); prints
// relay latency p50/p99 and messages/s as CSV-friendly lines.
//   signal_load URL[,URL...] N SECONDS RELAYS_PER_SEC   (several URLs: member i joins URL i % count)
// Connections are spread over source addresses 127.0.0.2..127.0.0.254 to pass ~28k ports per address.
#include <uv.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "net/uv_handle.h"
#include "net/ws_client.h"
#include "util/rendezvous.h"

namespace {
struct Peer {
  std::shared_ptr<hn::net::WsConnection> ws;
  bool joined = false, looked_up = false;
  std::vector<uint32_t> known;  // peers a lookup named: the only ones this member may signal
};
uv_loop_t* loop;
std::vector<Peer> peers;
std::vector<double> latencies_ms;
size_t connected = 0, joined = 0, failed = 0, received = 0, sent = 0, answered = 0;
std::vector<std::string> urls;
int target = 0;
}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s ws://IP:PORT/ws N SECONDS RELAYS_PER_SEC\n", argv[0]);
    return 2;
  }
  urls = hn::split_list(argv[1]);
  target = std::atoi(argv[2]);
  double seconds = std::atof(argv[3]);
  double rate = std::atof(argv[4]);
  loop = uv_default_loop();
  peers.resize(static_cast<size_t>(target));
  int in_flight = 0, next = 0;
  uint64_t t_start = uv_hrtime();
  // Connect in waves of 256 so the listen backlog is never the bottleneck.
  hn::net::UvHandle<uv_timer_t> dial;
  uv_timer_init(loop, dial.get());
  struct Ctx { int* in_flight; int* next; } ctx{&in_flight, &next};
  dial->data = &ctx;
  uv_timer_start(dial.get(), [](uv_timer_t* t) {
    auto* c = static_cast<Ctx*>(t->data);
    while (*c->in_flight < 256 && *c->next < target) {
      int i = (*c->next)++;
      (*c->in_flight)++;
      std::string src = "127.0.0." + std::to_string(2 + i % 253);
      hn::net::ws_connect(loop, urls[static_cast<size_t>(i) % urls.size()], hn::net::WsLimits{}, [i, c](hn::Result<std::shared_ptr<hn::net::WsConnection>> r) {
        (*c->in_flight)--;
        if (!r) {
          if (failed++ < 5) std::fprintf(stderr, "connect: %s\n", r.error().c_str());
          return;
        }
        connected++;
        peers[i].ws = *r;
        peers[i].ws->start({[i](std::string_view text) {
                              auto j = nlohmann::json::parse(text, nullptr, false);
                              if (!j.is_object()) return;
                              std::string type = j.value("type", "");
                              if (type == "joined") {
                                peers[i].joined = true;
                                joined++;
                              } else if (type == "peers" && !peers[i].looked_up) {
                                peers[i].looked_up = true;
                                answered++;
                                for (auto& [chunk, ids] : j["chunks"].items())
                                  for (auto& id : ids)
                                    peers[i].known.push_back(static_cast<uint32_t>(std::strtoul(id.get<std::string>().c_str() + 1, nullptr, 10)));
                              } else if (type == "offer") {
                                received++;
                                uint64_t sent_at = std::strtoull(j.value("sdp", "0").c_str(), nullptr, 10);
                                latencies_ms.push_back(static_cast<double>(uv_hrtime() - sent_at) / 1e6);
                              }
                            },
                            [](uint16_t, const std::string&) {}});
        peers[i].ws->send_text(nlohmann::json{{"type", "join"}, {"video", "bench"}, {"peer", "p" + std::to_string(i)},
                                              {"chunk_count", 64}}.dump());
        peers[i].ws->send_text(R"({"type":"have","chunks":[1,2,3]})");
      }, src);
    }
    if (*c->next >= target && *c->in_flight == 0) uv_timer_stop(t);
  }, 0, 5);
  // Wait for the joins, then relay at `rate` for `seconds`.
  while (uv_run(loop, UV_RUN_ONCE)) {
    if (joined + failed >= static_cast<size_t>(target) || (next >= target && in_flight == 0 && connected == joined)) break;
  }
  double join_s = static_cast<double>(uv_hrtime() - t_start) / 1e9;
  std::printf("members,%zu\nfailed,%zu\njoin_seconds,%.2f\n", joined, failed, join_s);
  std::fflush(stdout);
  for (auto& p : peers)
    if (p.joined) p.ws->send_text(R"({"type":"lookup","chunks":[1],"max":8})");
  uint64_t lookup_deadline = uv_hrtime() + 90000000000ull;
  while (answered < joined && uv_hrtime() < lookup_deadline && uv_run(loop, UV_RUN_ONCE)) {
  }
  std::printf("looked_up,%zu\n", answered);
  std::fflush(stdout);
  std::mt19937 rng(42);
  hn::net::UvHandle<uv_timer_t> tick;
  uv_timer_init(loop, tick.get());
  struct Load { double rate; std::mt19937* rng; } load{rate, &rng};
  tick->data = &load;
  uint64_t relay_start = uv_hrtime();
  uv_timer_start(tick.get(), [](uv_timer_t* t) {
    auto* l = static_cast<Load*>(t->data);
    int per_tick = std::max(1, static_cast<int>(l->rate / 100));
    std::uniform_int_distribution<size_t> pick(0, peers.size() - 1);
    for (int k = 0; k < per_tick; ++k) {
      size_t a = pick(*l->rng);
      if (!peers[a].joined || peers[a].known.empty()) continue;
      size_t b = peers[a].known[(*l->rng)() % peers[a].known.size()];
      if (b >= peers.size() || !peers[b].joined) continue;
      peers[a].ws->send_text(nlohmann::json{{"type", "offer"}, {"to", "p" + std::to_string(b)},
                                            {"sdp", std::to_string(uv_hrtime())}}.dump());
      sent++;
    }
  }, 10, 10);
  hn::net::UvHandle<uv_timer_t> stop;
  uv_timer_init(loop, stop.get());
  uv_timer_start(stop.get(), [](uv_timer_t* t) { uv_stop(t->loop); }, static_cast<uint64_t>(seconds * 1000), 0);
  uv_run(loop, UV_RUN_DEFAULT);
  double relay_s = static_cast<double>(uv_hrtime() - relay_start) / 1e9;
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [](double p) { return latencies_ms.empty() ? 0.0 : latencies_ms[static_cast<size_t>(p * static_cast<double>(latencies_ms.size() - 1))]; };
  std::printf("relays_sent,%zu\nrelays_received,%zu\nrelays_per_s,%.0f\nrelay_p50_ms,%.3f\nrelay_p99_ms,%.3f\n", sent,
              received, static_cast<double>(received) / relay_s, pct(0.5), pct(0.99));
  std::fflush(stdout);
  std::_Exit(0);  // tens of thousands of sockets: let the kernel close them
}
