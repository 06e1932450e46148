#include "p2p/p2p_hub.h"

#include <agent.h>
#include <glib.h>
#include <usrsctp.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "p2p/crc32c.h"
#include "util/log.h"

namespace hn::p2p {
namespace {

P2pHub* g_hub = nullptr;

// usrsctp hands every outgoing SCTP packet here, from whichever thread produced it.
int sctp_output(void* addr, void* data, size_t len, uint8_t, uint8_t) {
  if (g_hub == nullptr) return -1;
  g_hub->sctp_output(static_cast<LinkId>(reinterpret_cast<uintptr_t>(addr)), data, len);
  return 0;
}

void init_usrsctp_once() {
  static bool done = false;
  if (done) return;
  done = true;
  usrsctp_init(0, sctp_output, nullptr);
  usrsctp_sysctl_set_sctp_ecn_enable(0);
  usrsctp_sysctl_set_sctp_init_rtx_max_default(5);
  usrsctp_sysctl_set_sctp_path_rtx_max_default(5);
  usrsctp_sysctl_set_sctp_assoc_rtx_max_default(5);
  usrsctp_sysctl_set_sctp_rto_initial_default(1000);
  // A dead peer (killed, unplugged) must be noticed in seconds: heartbeats each second, RTO capped at 2 s.
  usrsctp_sysctl_set_sctp_rto_max_default(2000);
  usrsctp_sysctl_set_sctp_heartbeat_interval_default(1000);
  usrsctp_sysctl_set_sctp_max_chunks_on_queue(64 * 1024);
  usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
  usrsctp_sysctl_set_sctp_sendspace(4 << 20);
  usrsctp_sysctl_set_sctp_recvspace(4 << 20);
  usrsctp_sysctl_set_sctp_default_cc_module(SCTP_CC_HTCP);
  // usrsctp neither computes nor checks CRC32c: received packets come out of DTLS, whose AEAD tag is a
  // far stronger check; outgoing packets get their CRC32c in sctp_output() (hardware CRC32C where the
  // CPU has it), because other WebRTC stacks (Chromium, aiortc) drop packets without a valid one.
  usrsctp_enable_crc32c_offload();
}

}  // namespace

P2pHub::P2pHub(uv_loop_t* loop) : loop_(loop) {
  if (g_hub != nullptr) throw std::logic_error("one P2pHub per process");
  g_hub = this;
  uv_async_init(loop_, async_.get(), on_async);
  async_->data = this;
  ctx_ = g_main_context_new();
  glib_loop_ = g_main_loop_new(ctx_, FALSE);
  glib_thread_ = std::thread([this] {
    g_main_context_push_thread_default(ctx_);
    g_main_loop_run(glib_loop_);
    g_main_context_pop_thread_default(ctx_);
  });
  init_usrsctp_once();
}

P2pHub::~P2pHub() {
  shutdown();
  g_main_loop_unref(glib_loop_);
  g_main_context_unref(ctx_);
  g_hub = nullptr;
}

P2pHub& P2pHub::get() { return *g_hub; }

void P2pHub::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  g_main_loop_quit(glib_loop_);
  if (glib_thread_.joinable()) glib_thread_.join();
  // Run what was handed to the GLib thread after it stopped (agent teardowns), here, to the end.
  if (g_main_context_acquire(ctx_)) {
    while (g_main_context_iteration(ctx_, FALSE)) {
    }
    g_main_context_release(ctx_);
  }
  // usrsctp_finish() fails while any association lingers; after SO_LINGER 0 closes they are gone.
  for (int i = 0; i < 50 && usrsctp_finish() != 0; ++i) g_usleep(20000);
  async_.reset();
}

void P2pHub::post(std::function<void()> fn) {
  if (stopped_) return;  // after shutdown nothing runs on the loop any more
  {
    std::lock_guard<std::mutex> lk(mu_);
    queue_.push_back(std::move(fn));
  }
  uv_async_send(async_.get());
}

void P2pHub::on_async(uv_async_t* a) {
  auto* self = static_cast<P2pHub*>(a->data);
  if (self == nullptr) return;
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lk(self->mu_);
    batch.swap(self->queue_);
  }
  for (auto& fn : batch) fn();
}

void P2pHub::run_on_glib(std::function<void()> fn) {
  auto* heap = new std::function<void()>(std::move(fn));
  g_main_context_invoke_full(
      ctx_, G_PRIORITY_DEFAULT,
      [](gpointer p) -> gboolean {
        (*static_cast<std::function<void()>*>(p))();
        return G_SOURCE_REMOVE;
      },
      heap, [](gpointer p) { delete static_cast<std::function<void()>*>(p); });
}

void P2pHub::set_route(LinkId id, NiceAgent* agent, unsigned stream) {
  std::lock_guard<std::mutex> lk(route_mu_);
  g_object_ref(agent);
  routes_[id] = Route{agent, stream, false, {}};
}

void P2pHub::mark_ready(LinkId id) {
  std::lock_guard<std::mutex> lk(route_mu_);
  auto it = routes_.find(id);
  if (it == routes_.end() || it->second.ready) return;
  it->second.ready = true;
  for (const auto& p : it->second.early)
    nice_agent_send(it->second.agent, it->second.stream, 1, static_cast<guint>(p.size()), p.data());
  it->second.early.clear();
}

void P2pHub::clear_route(LinkId id) {
  NiceAgent* agent = nullptr;
  {
    std::lock_guard<std::mutex> lk(route_mu_);
    auto it = routes_.find(id);
    if (it == routes_.end()) return;
    agent = it->second.agent;
    routes_.erase(it);
  }
  // The last unref must happen on the GLib thread, where the agent's sources live.
  run_on_glib([agent] { g_object_unref(agent); });
}

int P2pHub::send_packet(LinkId id, const void* data, size_t len) {
  // The lock is held across the send so clear_route() cannot release the agent under us.
  std::lock_guard<std::mutex> lk(route_mu_);
  auto it = routes_.find(id);
  if (it == routes_.end()) return -1;
  if (!it->second.ready) {
    if (it->second.early.size() < 16) it->second.early.emplace_back(static_cast<const char*>(data), len);
    return 0;
  }
  int n = nice_agent_send(it->second.agent, it->second.stream, 1, static_cast<guint>(len), static_cast<const gchar*>(data));
  return n < 0 ? -1 : 0;
}

void P2pHub::set_sink(LinkId id, std::shared_ptr<PacketSink> sink) {
  std::lock_guard<std::mutex> lk(sink_mu_);
  sinks_[id] = std::move(sink);
}

void P2pHub::clear_sink(LinkId id) {
  std::shared_ptr<PacketSink> old;  // released outside the lock
  std::lock_guard<std::mutex> lk(sink_mu_);
  auto it = sinks_.find(id);
  if (it == sinks_.end()) return;
  old = std::move(it->second);
  sinks_.erase(it);
}

void P2pHub::sctp_output(LinkId id, void* data, size_t len) {
  std::shared_ptr<PacketSink> sink;
  {
    std::lock_guard<std::mutex> lk(sink_mu_);
    auto it = sinks_.find(id);
    if (it == sinks_.end()) return;
    sink = it->second;
  }
  if (len >= 12) sctp_set_crc32c(static_cast<uint8_t*>(data), len);
  sink->sctp_packet(data, len);
}

}  // namespace hn::p2p
