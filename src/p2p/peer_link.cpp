#include "p2p/peer_link.h"

#include <algorithm>
#include <optional>

#include "util/log.h"

namespace hn::p2p {

PeerLink::PeerLink(P2pHub& hub, std::string remote, bool controlling, Config cfg, wire::Hello hello, Handlers h)
    : hub_(hub), id_(hub.next_id()), remote_(std::move(remote)), controlling_(controlling), cfg_(std::move(cfg)),
      hello_(std::move(hello)), handlers_(std::move(h)) {}

PeerLink::~PeerLink() {
  handlers_ = {};
  if (sctp_) sctp_->close();
  if (dtls_) dtls_->close();
  if (ice_) ice_->close();
}

void PeerLink::start() {
  std::weak_ptr<PeerLink> weak = weak_from_this();
  auto with = [weak](auto fn) {
    return [weak, fn](auto&&... args) {
      if (auto self = weak.lock()) fn(*self, args...);
    };
  };
  if (!cfg_.dtls) return fail("dtls: no certificate");
  DtlsTransport::Handlers dh;
  dh.on_connected = with([](PeerLink& l) {
    log::debug("link " + l.remote_ + ": dtls up (" + l.dtls_->cipher() + ")");
  });
  dh.on_failed = with([](PeerLink& l, const std::string& why) {
    if (why.find("does not match the a=fingerprint") != std::string::npos) l.fingerprint_mismatch_ = true;
    l.fail(why);
  });
  dtls_ = std::make_shared<DtlsTransport>(hub_, id_, cfg_.dtls, std::move(dh));

  IceTransport::Handlers ih;
  ih.on_local_candidate = with([](PeerLink& l, const std::string& c) {
    log::debug("link " + l.remote_ + ": local candidate " + (c.empty() ? "(end)" : c));
    if (l.handlers_.send_signal) l.handlers_.send_signal("candidate", {{"candidate", c}, {"mid", l.mid_}, {"mline", l.mline_}});
  });
  ih.on_connected = with([](PeerLink& l) { l.on_ice_connected(); });
  ih.on_failed = with([](PeerLink& l, const std::string& why) { l.fail(why); });
  ih.on_selected_pair = with([](PeerLink& l, const std::string& lt, const std::string& rt) { l.pair_ = lt + "/" + rt; });
  ih.on_packet = dtls_->input();
  ice_ = std::make_shared<IceTransport>(hub_, id_, controlling_, cfg_.ice, std::move(ih));
  auto ok = ice_->start();
  if (!ok) return fail(ok.error());
  uv_timer_init(hub_.loop(), timer_.get());
  timer_->data = this;
  uv_timer_start(timer_.get(), [](uv_timer_t* t) {
    auto* self = static_cast<PeerLink*>(t->data);
    if (!self->ready_) self->fail("could not connect within " + std::to_string(self->cfg_.connect_timeout_ms) + " ms");
  }, cfg_.connect_timeout_ms, 0);
  // The dialler offers (JSEP: the offerer is actpass and lets the answerer pick the DTLS client role).
  if (controlling_ && handlers_.send_signal) handlers_.send_signal("offer", {{"sdp", local_sdp("actpass", nullptr)}});
}

std::string PeerLink::local_sdp(const std::string& setup, const JsepRemote* remote) const {
  JsepLocal d;
  auto [ufrag, pwd] = ice_->local_credentials();
  d.ufrag = ufrag;
  d.pwd = pwd;
  d.fingerprint = cfg_.dtls->fingerprint();
  d.setup = setup;
  if (remote) {
    d.mid = remote->mid;
    d.sections = remote->sections;
    d.data_section = remote->data_section;
  }
  d.session_id = id_ * 1000003u + static_cast<uint64_t>(uv_hrtime() % 1000000007u);
  d.candidates = ice_->local_candidates();
  return write_jsep(d);
}

Result<void> PeerLink::begin_transports(bool dtls_client, const JsepRemote& remote) {
  if (remote.max_message_size != 0) {
    if (remote.max_message_size < 1024)
      return make_error("remote a=max-message-size " + std::to_string(remote.max_message_size) + " is too small");
    block_ = std::min<size_t>(wire::kBlockSize, remote.max_message_size - wire::kPieceHeader);
  }
  int sctp_mtu = std::min(cfg_.mtu, kMaxSctpMtuOverDtls) - kDtlsOverhead;
  if (auto ok = dtls_->begin(dtls_client, remote.fingerprint, cfg_.mtu, cfg_.dtls_timeout_ms); !ok) return ok;
  std::weak_ptr<PeerLink> weak = weak_from_this();
  SctpTransport::Handlers sh;
  sh.on_connected = [weak] {
    auto self = weak.lock();
    if (!self) return;
    self->enqueue(wire::encode(self->hello_));
    self->hello_sent_ = true;
  };
  sh.on_message = [weak](std::string_view m) {
    if (auto self = weak.lock()) self->on_wire(m);
  };
  sh.on_writable = [weak] {
    if (auto self = weak.lock()) self->flush();
  };
  sh.on_closed = [weak](const std::string& why) {
    if (auto self = weak.lock()) self->fail(why);
  };
  // Started before any DTLS record can arrive; its first packets wait in the DTLS session.
  sctp_ = std::make_shared<SctpTransport>(hub_, id_, sctp_mtu, controlling_, std::move(sh));
  sctp_->set_dtls_client(dtls_client);
  sctp_->set_remote_max_message(remote.max_message_size);
  return sctp_->start();
}

void PeerLink::on_signal(const nlohmann::json& msg) {
  if (closed_) return;
  const std::string type = msg.value("type", "");
  if (type == "offer" || type == "answer") {
    if ((type == "offer") == controlling_) return fail("unexpected " + type);
    if (remote_desc_) return fail("a second " + type);
    auto r = parse_jsep(msg.contains("sdp") && msg["sdp"].is_string() ? msg["sdp"].get<std::string>() : "");
    if (!r) return fail(r.error());
    // RFC 8842: the offerer is actpass; an answerer "active" is the DTLS client, "passive" the server.
    bool client;
    if (type == "offer") {
      client = r->setup != "active";  // actpass (or passive): we take the client role, as browsers do
    } else {
      if (r->setup == "actpass") return fail("sdp: an answer must be a=setup:active or passive");
      client = r->setup == "passive";
    }
    if (auto ok = begin_transports(client, *r); !ok) return fail(ok.error());
    if (closed_) return;
    auto ok = ice_->set_remote(r->ufrag, r->pwd, r->candidates);
    if (!ok) return fail(ok.error());
    if (r->end_of_candidates) ice_->add_remote_candidate("");
    remote_desc_ = true;
    if (type == "offer") {
      mid_ = r->mid;
      mline_ = static_cast<int>(r->data_section);
      if (handlers_.send_signal) handlers_.send_signal("answer", {{"sdp", local_sdp(client ? "active" : "passive", &*r)}});
    }
    for (auto& c : early_candidates_) ice_->add_remote_candidate(c);
    early_candidates_.clear();
  } else if (type == "candidate") {
    if (!msg.contains("candidate") || !msg["candidate"].is_string()) return;
    std::string c = msg["candidate"].get<std::string>();
    log::debug("link " + remote_ + ": remote candidate " + (c.empty() ? "(end)" : c));
    if (!c.empty()) {
      auto n = normalize_candidate(c);
      if (!n) return log::debug("link " + remote_ + ": " + n.error());
      if (!n->has_value()) return;  // TCP / mDNS / RTCP: not used
      c = **n;
    }
    // libnice's cost per candidate grows with its list: a remote gets kMaxRemoteCandidates in all.
    if (!c.empty() && ++remote_candidates_ > kMaxRemoteCandidates) return;
    if (!remote_desc_) {
      early_candidates_.push_back(c);
      return;
    }
    auto ok = ice_->add_remote_candidate(c);
    if (!ok) log::debug("link " + remote_ + ": " + ok.error());
  }
}

void PeerLink::on_ice_connected() {
  if (closed_) return;
  hub_.mark_ready(id_);
  if (dtls_) dtls_->start_handshake();
}

void PeerLink::on_wire(std::string_view raw) {
  auto decoded = wire::decode(raw);
  if (auto* e = std::get_if<wire::DecodeError>(&decoded)) return fail("protocol error: " + e->message);
  auto& msg = std::get<wire::Message>(decoded);
  if (!got_hello_ && !std::holds_alternative<wire::Hello>(msg)) return fail("protocol error: message before hello");
  if (auto* h = std::get_if<wire::Hello>(&msg)) {
    if (got_hello_) return fail("protocol error: second hello");
    if (h->video != hello_.video || h->chunk_count != hello_.chunk_count)
      return fail("protocol error: peer is in another swarm (" + h->video + ")");
    if (h->peer != remote_) return fail("protocol error: peer calls itself " + h->peer + ", expected " + remote_);
    if (!remote_have_.assign(h->chunk_count, h->bitfield)) return fail("protocol error: bad bitfield");
    got_hello_ = true;
    ready_ = true;
    ready_at_ = uv_hrtime();
    ever_ready_ = true;
    timer_.reset();
    if (handlers_.on_ready) handlers_.on_ready(*this);
  } else if (auto* r = std::get_if<wire::Request>(&msg)) {
    if (r->index >= hello_.chunk_count) return fail("protocol error: request for chunk out of range");
    remote_wants_.insert(r->index);
    if (handlers_.on_request) handlers_.on_request(*this, r->index);
  } else if (auto* p = std::get_if<wire::Piece>(&msg)) {
    if (!requested_.count(p->index)) {
      if (cancelled_.count(p->index)) return;  // sent before our cancel arrived: wasted, not counted as given
      return fail("protocol error: piece of a chunk not requested");
    }
    uint64_t expected = cfg_.chunk_size ? cfg_.chunk_size(p->index) : 0;
    if (p->total != expected) return fail("protocol error: piece with wrong chunk size");
    auto& [buf, got] = assembling_[p->index];
    // Blocks of a chunk come in order on the ordered channel: each starts where the last ended.
    if (p->offset != got) return fail("protocol error: piece out of order");
    if (buf.empty()) buf.assign(p->total, '\0');
    // A live ring index can name a newer chunk of another size mid-assembly: never write past the buffer.
    if (buf.size() != p->total) return fail("protocol error: chunk size changed during assembly");
    buf.replace(p->offset, p->data.size(), p->data);
    got += p->data.size();
    bytes_in_ += p->data.size();
    if (got > p->total) return fail("protocol error: more piece bytes than the chunk holds");
    if (got == p->total) {
      std::string data = std::move(buf);
      uint32_t idx = p->index;
      assembling_.erase(idx);
      // Service time, the link's time per chunk beyond the round trip: timed from one RTT after the
      // request, or from the previous chunk's arrival when this one was queued behind it.
      uint64_t rtt_ns = static_cast<uint64_t>(rtt_ms_ * 1e6);
      auto asked = requested_.find(idx);
      uint64_t now = uv_hrtime(), from = std::max((asked == requested_.end() ? 0 : asked->second) + rtt_ns, last_chunk_at_);
      last_chunk_at_ = now;
      double x = std::max(0.01, static_cast<double>(now - std::min(now, from)) / 1e6);
      service_ms_ = service_ms_ == 0 ? x : 0.75 * service_ms_ + 0.25 * x;
      if (asked != requested_.end()) requested_.erase(asked);
      if (handlers_.on_chunk) handlers_.on_chunk(*this, idx, std::move(data));
    }
  } else if (auto* hv = std::get_if<wire::Have>(&msg)) {
    if (hv->index >= hello_.chunk_count) return fail("protocol error: have out of range");
    remote_have_.set(hv->index);
    if (handlers_.on_have) handlers_.on_have(*this, hv->index);
  } else if (auto* c = std::get_if<wire::Cancel>(&msg)) {
    // The remote has the chunk elsewhere (endgame, a deadline): what is still queued here stays here.
    if (remote_wants_.erase(c->index)) drop_queued_pieces(c->index);
  } else if (auto* rj = std::get_if<wire::Reject>(&msg)) {
    if (!requested_.erase(rj->index)) return;
    assembling_.erase(rj->index);
    if (handlers_.on_reject) handlers_.on_reject(*this, rj->index, rj->reason);
  } else if (auto* pi = std::get_if<wire::Ping>(&msg)) {
    enqueue(wire::encode_ping(pi->nonce, true));
  } else if (auto* po = std::get_if<wire::Pong>(&msg)) {
    // The nonce is our own send time. Only a ping we sent and that is not answered yet counts: a remote
    // echoing made-up times could claim a round trip of zero and draw every request to itself. Pongs
    // come back in order, so older pings still open are lost and go with it.
    auto it = std::find(pings_.begin(), pings_.end(), po->nonce);
    if (it == pings_.end()) return;
    pings_.erase(pings_.begin(), it + 1);
    double x = static_cast<double>(uv_hrtime() - po->nonce) / 1e6;
    rtt_ms_ = rtt_ms_ == 0 ? x : 0.8 * rtt_ms_ + 0.2 * x;
  }
}

void PeerLink::ping() {
  if (!ready_) return;
  uint64_t nonce = uv_hrtime();
  pings_.push_back(nonce);
  if (pings_.size() > kMaxPings) pings_.pop_front();
  enqueue(wire::encode_ping(nonce, false));
}

double PeerLink::overdue_ms() const {
  if (requested_.empty()) return 0;
  uint64_t oldest = UINT64_MAX;
  for (auto& [idx, at] : requested_) oldest = std::min(oldest, at);
  uint64_t now = uv_hrtime(), from = std::max(oldest + static_cast<uint64_t>(rtt_ms_ * 1e6), last_chunk_at_);
  return now > from ? static_cast<double>(now - from) / 1e6 : 0;
}

void PeerLink::request(uint32_t index) {
  if (!ready_ || requested_.count(index)) return;
  requested_[index] = uv_hrtime();
  cancelled_.erase(index);
  enqueue(wire::encode_request(index));
}

void PeerLink::cancel(uint32_t index) {
  if (!requested_.erase(index)) return;
  assembling_.erase(index);
  cancelled_.insert(index);
  enqueue(wire::encode_cancel(index));
}

namespace {
// The chunk index of a piece message (type byte, then the index big-endian); nullopt for other messages.
std::optional<uint32_t> piece_index(const std::string& m) {
  if (m.size() < 13 || static_cast<uint8_t>(m[0]) != static_cast<uint8_t>(wire::Type::piece)) return std::nullopt;
  auto b = [&m](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(m[i])); };
  return b(1) << 24 | b(2) << 16 | b(3) << 8 | b(4);
}
}  // namespace

void PeerLink::piece_left(const std::string& msg) {
  auto idx = piece_index(msg);
  if (!idx) return;
  auto it = pieces_queued_.find(*idx);
  if (it != pieces_queued_.end() && --it->second == 0) {
    pieces_queued_.erase(it);
    remote_wants_.erase(*idx);  // answered in full: a cancel now comes too late to matter
  }
}

void PeerLink::drop_queued_pieces(uint32_t index) {
  auto is_piece_of = [index](const std::string& m) { return piece_index(m) == index; };
  // Whole messages only: SCTP takes a message entirely or not at all, so nothing in out_ is half sent.
  for (auto it = out_.begin(); it != out_.end();) {
    if (is_piece_of(*it)) {
      queued_bytes_ -= it->size();
      bytes_out_ -= std::min<uint64_t>(bytes_out_, it->size() - 13);  // 13: the piece header
      piece_left(*it);
      it = out_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = delayed_.begin(); it != delayed_.end();) {
    if (is_piece_of(it->second)) {
      queued_bytes_ -= it->second.size();
      bytes_out_ -= std::min<uint64_t>(bytes_out_, it->second.size() - 13);
      piece_left(it->second);
      it = delayed_.erase(it);
    } else {
      ++it;
    }
  }
}

bool PeerLink::send_chunk(uint32_t index, const std::string& data) {
  if (!remote_wants_.count(index)) return false;  // cancelled (or never asked for)
  largest_chunk_ = std::max(largest_chunk_, data.size());
  for (size_t off = 0; off < data.size(); off += block_) {
    size_t n = std::min(block_, data.size() - off);
    std::string m = wire::encode_piece_header(index, static_cast<uint32_t>(off), static_cast<uint32_t>(data.size()));
    m.append(data, off, n);
    bytes_out_ += n;
    pieces_queued_[index]++;
    enqueue(std::move(m));
  }
  return true;
}

void PeerLink::send_have(uint32_t index) {
  if (ready_) enqueue(wire::encode_have(index));
}

void PeerLink::reject(uint32_t index, wire::RejectReason why) {
  remote_wants_.erase(index);
  enqueue(wire::encode_reject(index, why));
}

void PeerLink::enqueue(std::string msg) {
  if (closed_ || overrun_) return;
  if (queued_bytes_ + msg.size() > queue_cap()) {
    // Dropped on the next turn of the loop, not here: callers may be iterating over the links.
    overrun_ = true;
    log::warn("link " + remote_ + ": outgoing queue over " + std::to_string(queue_cap() >> 20) + " MiB; the peer is not reading");
    std::weak_ptr<PeerLink> weak = weak_from_this();
    hub_.post([weak] {
      if (auto self = weak.lock()) self->fail("outgoing queue full: peer not reading");
    });
    return;
  }
  if (cfg_.test_send_delay_ms == 0) return send_now(std::move(msg));
  uint64_t now = uv_now(hub_.loop());
  queued_bytes_ += msg.size();
  delayed_.emplace_back(now + cfg_.test_send_delay_ms, std::move(msg));
  if (delayed_.size() == 1) {
    if (delay_timer_->loop == nullptr) {
      uv_timer_init(hub_.loop(), delay_timer_.get());
      delay_timer_->data = this;
    }
    uv_timer_start(delay_timer_.get(), [](uv_timer_t* t) {
      if (auto* self = static_cast<PeerLink*>(t->data)) self->release_delayed();
    }, cfg_.test_send_delay_ms, 0);
  }
}

void PeerLink::release_delayed() {
  uint64_t now = uv_now(hub_.loop());
  while (!delayed_.empty() && delayed_.front().first <= now) {
    queued_bytes_ -= delayed_.front().second.size();
    std::string m = std::move(delayed_.front().second);
    delayed_.pop_front();
    send_now(std::move(m));
    if (closed_) return;
  }
  if (!delayed_.empty())
    uv_timer_start(delay_timer_.get(), [](uv_timer_t* t) {
      if (auto* self = static_cast<PeerLink*>(t->data)) self->release_delayed();
    }, delayed_.front().first - now, 0);
}

void PeerLink::send_now(std::string msg) {
  queued_bytes_ += msg.size();
  out_.push_back(std::move(msg));
  flush();
}

void PeerLink::flush() {
  while (!out_.empty() && sctp_ && sctp_->connected()) {
    if (!sctp_->send(out_.front())) return;  // on_writable will call again
    queued_bytes_ -= out_.front().size();
    handed_to_sctp_ += out_.front().size();
    piece_left(out_.front());
    out_.pop_front();
  }
}

uint64_t PeerLink::send_stalled_ms() {
  uint64_t now = uv_now(hub_.loop());
  size_t buffered = sctp_ && !closed_ ? sctp_->buffered() : 0;
  // What the remote has acknowledged: handed to SCTP minus what SCTP still holds. Only that is progress;
  // SCTP taking more (a live viewer's small `have`s into a buffer with room) says nothing of the remote.
  int64_t acked = static_cast<int64_t>(handed_to_sctp_) - static_cast<int64_t>(buffered);
  if ((out_.empty() && buffered == 0) || acked > acked_seen_ || send_progress_at_ == 0) send_progress_at_ = now;
  acked_seen_ = acked;
  return now - send_progress_at_;
}

void PeerLink::fail(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  ready_ = false;
  timer_.reset();
  delay_timer_.reset();
  auto keep = shared_from_this();
  if (sctp_) sctp_->close();
  if (dtls_) dtls_->close();  // close_notify, while ICE still carries it
  if (ice_) ice_->close();
  auto cb = handlers_.on_closed;
  if (cb) cb(*this, why);
}

void PeerLink::close(const std::string& why) { fail(why); }

}  // namespace hn::p2p
