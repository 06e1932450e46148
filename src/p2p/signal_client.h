// A peer's session with the signaller: join (and rejoin after a reconnect), have, lookup, relay.
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "net/uv_handle.h"
#include "net/ws_connection.h"

namespace hn::p2p {

class SignalClient {
 public:
  using Holders = std::map<uint32_t, std::vector<std::string>>;
  struct Handlers {
    std::function<void()> on_joined;
    std::function<void(const nlohmann::json& msg)> on_relay;  // offer, answer, candidate (with "from")
    std::function<void(const std::string& why)> on_down;      // disconnected; it reconnects by itself
  };
  struct Identity {
    std::string url;  // one ws:// URL, or several comma-separated: tried in order, the next after 2 failures
    std::string video, peer;
    uint32_t chunk_count = 0;
    std::string ca_file;  // wss://: PEM CAs to verify the signaller with; empty: the system store
    // The swarm's identity (docs/protocol.md): the manifest digest of a video, or the epoch of a live
    // run (live = true); and the content server's join token ("" in open mode).
    std::string content;
    bool live = false;
    std::string token;
  };

  SignalClient(uv_loop_t* loop, Identity id, Handlers h);
  ~SignalClient();

  // bitfield(): the current holdings as base64, sent on every (re)join.
  void start(std::function<std::string()> bitfield);
  void stop();
  bool joined() const { return joined_; }

  // A fresh join token (from a manifest or 503 answer): sent as `renew` when it outlives the current one.
  void set_token(const std::string& token);
  void have(uint32_t index);
  void load(uint32_t uploads);
  void rtt(const std::map<std::string, double>& rtt_ms);  // so lookups rank peers by our RTT to them
  // Calls back once, with empty results if the signaller is unreachable.
  void lookup(const std::vector<uint32_t>& chunks, std::function<void(Holders)> cb);
  bool relay(const std::string& type, const std::string& to, nlohmann::json fields);

 private:
  void connect();
  void on_message(std::string_view text);
  void on_closed(const std::string& why);
  void schedule_reconnect();
  bool send(const nlohmann::json& j);

  uv_loop_t* loop_;
  Identity id_;
  Handlers handlers_;
  std::function<std::string()> bitfield_;
  std::shared_ptr<net::WsConnection> ws_;
  net::UvHandle<uv_timer_t> timer_;      // reconnect back-off
  net::UvHandle<uv_timer_t> heartbeat_;
  bool joined_ = false, stopped_ = false, connecting_ = false;
  std::string resume_;  // from the last `joined`: shown on the next join to move our id between signallers
  uint64_t backoff_ms_ = 500, next_lookup_ = 0;
  std::vector<std::string> urls_;
  size_t url_index_ = 0;
  int failures_ = 0;  // consecutive failures on the current URL
  void failed();
  std::map<std::string, std::function<void(Holders)>> pending_;
  int64_t token_expires_ = 0;  // of the token the signaller last accepted
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace hn::p2p
