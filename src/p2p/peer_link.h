// One connection to another peer, a standard WebRTC data channel: ICE (libnice) -> DTLS (OpenSSL) ->
// SCTP (usrsctp) -> DCEP channel `hybridnode` -> wire protocol; negotiated with JSEP SDP offers/answers.
// Owns the per-link bookkeeping: what the remote holds, our requests in flight, blocks being assembled,
// the outgoing queue (with SCTP back-pressure), bytes each way, the selected candidate pair.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "p2p/dtls_transport.h"
#include "p2p/ice_transport.h"
#include "p2p/jsep.h"
#include "p2p/sctp_transport.h"
#include "p2p/wire.h"
#include "util/bitfield.h"

namespace hn::p2p {

class PeerLink : public std::enable_shared_from_this<PeerLink> {
 public:
  // Serving stops adding chunks to a link queued past kServeQueueBytes; every other message (pong,
  // reject, have, ...) is small, so a queue past that + the largest chunk we sent + kQueueSlack means
  // the remote is not reading while it makes us answer: the message is dropped and so is the link.
  static constexpr size_t kServeQueueBytes = 8u << 20;
  static constexpr size_t kQueueSlack = 1u << 20;
  size_t queue_cap() const { return kServeQueueBytes + largest_chunk_ + kQueueSlack; }

  struct Handlers {
    std::function<void(PeerLink&)> on_ready;  // hellos exchanged: requests may flow
    std::function<void(PeerLink&, uint32_t index, std::string data)> on_chunk;  // assembled, NOT verified
    std::function<void(PeerLink&, uint32_t index)> on_request;
    std::function<void(PeerLink&, uint32_t index)> on_have;
    std::function<void(PeerLink&, uint32_t index, wire::RejectReason)> on_reject;
    std::function<void(PeerLink&, const std::string& why)> on_closed;
    std::function<void(const std::string& type, nlohmann::json fields)> send_signal;  // to the remote via the signaller
  };
  struct Config {
    IceConfig ice;
    int mtu = 1200;  // DTLS datagram size; SCTP's path MTU is this minus the DTLS overhead
    uint64_t connect_timeout_ms = 15000;
    uint64_t dtls_timeout_ms = 10000;           // DTLS handshake, from the moment the SDPs are exchanged
    std::shared_ptr<DtlsIdentity> dtls;         // the process's certificate
    std::function<uint64_t(uint32_t)> chunk_size;  // expected size of chunk i; 0 = no such chunk
    // TEST ONLY: hold every outgoing message this long (emulates a far region: this kernel has no netem).
    uint64_t test_send_delay_ms = 0;
  };

  PeerLink(P2pHub& hub, std::string remote, bool controlling, Config cfg, wire::Hello hello, Handlers h);
  ~PeerLink();

  void start();
  void on_signal(const nlohmann::json& msg);  // offer / answer / candidate from the remote

  void request(uint32_t index);
  void cancel(uint32_t index);
  // Sends a chunk the remote asked for; false (nothing sent) when it has cancelled the request since.
  bool send_chunk(uint32_t index, const std::string& data);
  void send_have(uint32_t index);
  void reject(uint32_t index, wire::RejectReason why);
  void ping();                   // RTT probe; the pong updates rtt_ms()
  double rtt_ms() const { return rtt_ms_; }  // smoothed round-trip time over the data channel; 0: unknown
  // Smoothed time this link takes per chunk beyond the round trip (its rate): from one RTT after the
  // request, or from the previous chunk's arrival when requests were queued, to the chunk's last piece.
  // 0: no chunk yet.
  double service_ms() const { return service_ms_; }
  // How long the next chunk has been due without arriving: since one RTT after the oldest request in
  // flight, or since the last chunk when that is later. 0 with nothing in flight. A link that sits on
  // requests is at least this slow per chunk, whatever service_ms() it measured before.
  double overdue_ms() const;
  double up_ms() const { return ready_ ? static_cast<double>(uv_hrtime() - ready_at_) / 1e6 : 0; }  // since hellos
  void send_raw(std::string msg) { enqueue(std::move(msg)); }  // tests: arbitrary bytes as one message
  void close(const std::string& why);

  const std::string& remote() const { return remote_; }
  bool ready() const { return ready_; }
  bool outbound() const { return controlling_; }  // we dialled (sent the offer)
  bool ever_ready() const { return ever_ready_; }
  bool closed() const { return closed_; }
  bool remote_has(uint32_t index) const { return remote_have_.get(index); }
  // The remote turned down a request for `index` as not held: its claim is gone until it announces it again.
  void forget_remote_has(uint32_t index) { remote_have_.clear(index); }
  size_t in_flight() const { return requested_.size(); }
  bool requested(uint32_t index) const { return requested_.count(index) > 0; }
  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }
  const std::string& pair_type() const { return pair_; }  // e.g. "host/host", "srflx/srflx", "relay/..."
  size_t queued_bytes() const { return queued_bytes_; }
  // Queued here plus what SCTP holds unacknowledged: what the remote has yet to take from us.
  size_t backlog() const { return queued_bytes_ + (sctp_ ? sctp_->buffered() : 0); }
  // How long the remote has had data of ours waiting without acknowledging any of it (SCTP's buffer did
  // not shrink beyond what it took from our queue). 0 while nothing waits. Sampled by the caller.
  uint64_t send_stalled_ms();
  // Pieces of chunk `index` still queued here (not yet taken by SCTP): an upload in progress.
  bool sending(uint32_t index) const { return !closed_ && pieces_queued_.count(index) > 0; }
  bool dtls_up() const { return !dtls_cipher().empty(); }  // the handshake completed (cipher kept after close)
  std::string dtls_cipher() const { return dtls_ ? dtls_->cipher() : ""; }
  std::string remote_fingerprint() const { return dtls_ ? dtls_->remote_fingerprint() : ""; }
  bool fingerprint_mismatch() const { return fingerprint_mismatch_; }

 private:
  void on_ice_connected();
  Result<void> begin_transports(bool dtls_client, const JsepRemote& remote);
  // Our description: an offer (remote == nullptr) or the answer mirroring the remote offer's sections.
  std::string local_sdp(const std::string& setup, const JsepRemote* remote) const;
  void on_wire(std::string_view msg);
  void enqueue(std::string msg);
  void send_now(std::string msg);
  void release_delayed();
  void flush();
  void fail(const std::string& why);

  P2pHub& hub_;
  LinkId id_;
  std::string remote_;
  bool controlling_;
  Config cfg_;
  wire::Hello hello_;
  Handlers handlers_;
  std::shared_ptr<IceTransport> ice_;
  std::shared_ptr<DtlsTransport> dtls_;
  std::shared_ptr<SctpTransport> sctp_;
  net::UvHandle<uv_timer_t> timer_;
  bool ready_ = false, ever_ready_ = false, closed_ = false, hello_sent_ = false, got_hello_ = false, remote_desc_ = false;
  std::vector<std::string> early_candidates_;
  // Where our trickled candidates belong: the data section's mid and m-line index in the offer.
  std::string mid_ = "0";
  int mline_ = 0;
  static constexpr size_t kMaxRemoteCandidates = 64;
  size_t remote_candidates_ = 0;
  Bitfield remote_have_;
  std::map<uint32_t, uint64_t> requested_;  // index -> when we asked (uv_hrtime)
  uint64_t last_chunk_at_ = 0;               // uv_hrtime of the last chunk assembled
  std::set<uint32_t> cancelled_;  // pieces of these may still arrive (sent before our cancel): dropped quietly
  std::set<uint32_t> remote_wants_;  // the remote's requests not answered in full yet (at most chunk_count)
  void drop_queued_pieces(uint32_t index);
  std::map<uint32_t, size_t> pieces_queued_;  // chunk -> its pieces in delayed_ + out_
  void piece_left(const std::string& msg);     // a queued message was sent or dropped
  std::map<uint32_t, std::pair<std::string, uint64_t>> assembling_;  // index -> (buffer, bytes received)
  std::deque<std::string> out_;
  std::deque<std::pair<uint64_t, std::string>> delayed_;  // (due ms on the loop clock, message): test delay
  net::UvHandle<uv_timer_t> delay_timer_;
  size_t queued_bytes_ = 0;
  size_t largest_chunk_ = 0;
  bool overrun_ = false;  // queue cap hit: the link is being dropped
  uint64_t send_progress_at_ = 0;  // loop ms: last time the remote took data (or nothing was waiting)
  uint64_t handed_to_sctp_ = 0;  // bytes SCTP took from out_
  int64_t acked_seen_ = 0;       // handed_to_sctp_ - SCTP's buffered bytes, when send_stalled_ms() last looked
  uint64_t bytes_in_ = 0, bytes_out_ = 0;
  std::string pair_;
  size_t block_ = wire::kBlockSize;  // piece data per message, within the remote's a=max-message-size
  bool fingerprint_mismatch_ = false;
  double rtt_ms_ = 0;
  static constexpr size_t kMaxPings = 8;  // one a second: a pong up to 8 s late still counts
  std::deque<uint64_t> pings_;            // nonces of our pings not answered yet, oldest first
  double service_ms_ = 0;
  uint64_t ready_at_ = 0;  // uv_hrtime when the hellos were exchanged
};

}  // namespace hn::p2p
