// Process-wide plumbing for peer links, so the libuv loop never blocks on GLib or usrsctp:
//  - libnice agents live on one GLib main context driven by its own thread (documented choice:
//    "own thread + uv_async hand-off", see docs/decisions.md);
//  - usrsctp is initialised once; its threads and the GLib thread hand work to the loop via post().
// Links are named by a numeric id everywhere a foreign thread can see them (usrsctp's sconn_addr,
// libnice's user_data), never by pointer: a late callback for a closed link finds no id and is dropped.
#pragma once
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "net/uv_handle.h"

typedef struct _GMainContext GMainContext;
typedef struct _GMainLoop GMainLoop;
typedef struct _NiceAgent NiceAgent;

namespace hn::p2p {

using LinkId = uint64_t;

// Where usrsctp's packets of a link go before ICE: the link's DTLS session (called from any thread).
class PacketSink {
 public:
  virtual ~PacketSink() = default;
  virtual void sctp_packet(void* data, size_t len) = 0;
};

class P2pHub {
 public:
  explicit P2pHub(uv_loop_t* loop);
  ~P2pHub();
  P2pHub(const P2pHub&) = delete;
  P2pHub& operator=(const P2pHub&) = delete;

  static P2pHub& get();  // the one hub of this process (created by the peer role)
  uv_loop_t* loop() const { return loop_; }
  GMainContext* glib_context() const { return ctx_; }
  LinkId next_id() { return ++last_id_; }

  // Runs fn on the loop thread soon. Safe from any thread.
  void post(std::function<void()> fn);
  // Runs fn on the GLib thread (and waits for nothing).
  void run_on_glib(std::function<void()> fn);

  // The SCTP output path: which ICE agent carries packets of a link. Guarded by a mutex because
  // usrsctp calls the output callback from its own threads.
  void set_route(LinkId id, NiceAgent* agent, unsigned stream);
  // Until ICE has a working pair, SCTP's first packets (INIT, INIT-ACK) are held here instead of
  // being lost, so the association comes up the moment ICE does (no wait for a retransmission).
  void mark_ready(LinkId id);
  void clear_route(LinkId id);
  int send_packet(LinkId id, const void* data, size_t len);
  // usrsctp's output of a link goes through its sink (DTLS); without one it is dropped: no plaintext.
  void set_sink(LinkId id, std::shared_ptr<PacketSink> sink);
  void clear_sink(LinkId id);
  void sctp_output(LinkId id, void* data, size_t len);

  void shutdown();  // stops the GLib thread; waits for it

 private:
  static void on_async(uv_async_t* a);
  uv_loop_t* loop_;
  net::UvHandle<uv_async_t> async_;
  std::mutex mu_;
  std::vector<std::function<void()>> queue_;
  GMainContext* ctx_ = nullptr;
  GMainLoop* glib_loop_ = nullptr;
  std::thread glib_thread_;
  std::mutex route_mu_;
  struct Route {
    NiceAgent* agent;
    unsigned stream;
    bool ready = false;
    std::vector<std::string> early;
  };
  std::unordered_map<LinkId, Route> routes_;
  std::mutex sink_mu_;  // not route_mu_: a sink's send ends in send_packet()
  std::unordered_map<LinkId, std::shared_ptr<PacketSink>> sinks_;
  LinkId last_id_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace hn::p2p
