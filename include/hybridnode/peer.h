/// @file
/// A peer (--role=peer) as an embeddable object: downloads a video with the hybrid policy (content
/// server first, the swarm when the server refuses), verifies every chunk, serves what it holds.
#pragma once
#include "hybridnode/export.h"
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "hybridnode/result.h"

namespace hn {

struct PeerOptions {
  std::string server_url = "http://127.0.0.1:8080";
  std::string video_id;
  std::string output;          ///< the finished file; OUTPUT.part while downloading
  std::string signal_url;      ///< ws://IP:PORT/ws; learnt from the server's 503 when empty
  std::string ca_file;         ///< PEM CAs that https:// servers are verified against; empty: the system store
  std::string peer_id;         ///< random when empty
  std::string stun, turn, turn_user, turn_pass;  ///< "IP:PORT"
  bool host_candidates = true;
  bool relay_only = false;     ///< use only TURN relay candidates
  int mtu = 1200;              ///< link MTU: DTLS datagram bytes (raise for host/LAN pairs; SCTP gets 40 less)
  std::string dtls_cert, dtls_key;  ///< PEM files for the DTLS certificate; empty: a fresh one at start
  uint64_t dtls_timeout_ms = 10000;  ///< a DTLS handshake not done by then closes the link
  int server_slots = 2;        ///< concurrent chunk requests to the server
  int urgent_chunks = 2;       ///< in the swarm, the next N missing chunks (playback order) still go to the server
  int max_links = 8;           ///< peer connections we open
  int requests_per_link = 4;   ///< chunk requests in flight per link
  int upload_slots = 8;        ///< chunk uploads served at once
  uint64_t peer_timeout_ms = 8000;  ///< a peer that has not delivered a requested chunk by then loses it
  std::string peer_select = "rtt";  ///< "rtt": the link where a request completes first (queue included); "random": any holder (baseline)
  bool endgame = true;         ///< at the tail, chunks in flight from a peer are also asked of a second peer
  double seed_for = 0;         ///< seconds to keep serving after completion (\<0: until stopped)
  bool progress = false;       ///< a progress line on stderr
  uint64_t upload_rate = 0;    ///< bytes/s this peer uploads in total (0: unlimited)
  std::string metrics_listen;  ///< "IP:PORT": serve /metrics (Prometheus) and /summary (JSON) there
  /// Live (--live, hybridnode/live_peer.h): `video_id` names the channel; `output` "-" is stdout.
  int live_buffer = 3;         ///< start this many chunks behind the live edge
  std::string player_listen;   ///< "IP:PORT": an HLS playlist + segments for players (/live/ID.m3u8)
  double live_seconds = 0;     ///< stop after this long (0: when the channel ends)
  bool test_corrupt_uploads = false;  ///< TEST ONLY: flip a byte in every chunk served
  bool test_send_garbage = false;     ///< TEST ONLY: send malformed wire messages to every peer it meets
  std::string test_lie;               ///< TEST ONLY: "claim" (holds all, answers nothing), "wrong-video", "flood"
  std::string test_far_prefix;        ///< TEST ONLY: peers whose id starts with this are "far": our messages to
  uint64_t test_far_delay_ms = 0;     ///<   them are held this long (a region latency; no netem in this kernel)
  uint64_t test_near_delay_ms = 0;    ///< TEST ONLY: and messages to every other peer this long
};

class HN_API PeerNode {
 public:
  PeerNode(uv_loop_t* loop, PeerOptions opts);
  ~PeerNode();
  PeerNode(const PeerNode&) = delete;
  PeerNode& operator=(const PeerNode&) = delete;

  /// `done(ok, message)` runs once: when the download and seeding are over or failed.
  void start(std::function<void(bool ok, const std::string& message)> done);
  void stop();
  std::string summary_json() const;
  std::string metrics_text() const;  ///< Prometheus text: bytes by source, links by candidate pair type
  int metrics_port() const;

 private:
  struct HN_LOCAL Impl;  ///< internal: its symbols stay out of the shared library
  std::unique_ptr<Impl> impl_;
};

}  ///< namespace hn
