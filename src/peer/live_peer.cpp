// The live viewer. Same transports as the download peer (HTTP to the server, signaller, ICE/SCTP links),
// different goal: chunks arrive in order before a playback deadline, not all of them eventually.
// Chunk i of the channel is ring index i % kLiveRing on the wire and at the signaller (docs/live.md).
#include "hybridnode/live_peer.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <deque>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <unordered_map>

#include "hybridnode/manifest.h"
#include "media/live_manifest.h"
#include "media/sha256.h"
#include "p2p/peer_link.h"
#include "peer/peer_core.h"
#include "media/hls.h"
#include "util/blocking_work.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/rendezvous.h"

namespace hn {

using media::kLiveRing;
using p2p::PeerLink;

namespace {
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}
constexpr size_t kPlayerWindow = 10;   // segments listed in the local HLS playlist
constexpr size_t kPlayerKeep = 16;     // segments the local endpoint still serves (a player may lag the list)
constexpr uint64_t kKeepBehind = 64;   // delivered chunks kept to serve other viewers
// Chunks tracked ahead of the playhead. An edge further ahead (a viewer stalled for minutes, or a server
// announcing thousands of new chunks per poll) is skipped to, not tracked entry by entry: memory and the
// schedule() walk stay bounded.
constexpr uint64_t kAheadWindow = 256;
// Uploads (see serve()): the next chunk starts when the one going out has this much left to leave.
constexpr size_t kUploadLowWater = 64u << 10;
// A request waits for our uplink at most this many chunk-durations (by the measured upload rate);
// later ones are refused at once (busy), so the asker turns to another holder or the server in time.
constexpr double kUploadWaitTargets = 1.5;
constexpr size_t kUploadQueuePerLink = 8, kUploadQueueMax = 64;
// An upload not down to kUploadLowWater within this many chunk-durations (or, once the upload rate is
// measured, twice its expected time plus one) stops holding the uplink: the next one starts beside it, and
// its remote is refused as busy while it still has more than kUploadLowWater of ours unacknowledged. Else a
// remote taking a few bytes every second or two (never long enough idle for the stall rule) would keep our
// uplink for itself and every other asker would be refused (red team s4).
constexpr double kUploadDeadlineTargets = 2;
// A remote that has taken none of our bytes for this long (and kLiveSendStallTargets chunk-durations)
// is dropped with what we queued for it: live data that late is useless to it, and its queue blocks ours.
constexpr double kLiveSendStallS = 4, kLiveSendStallTargets = 4;
// Start-up buffer: chunks cut before we joined are in other viewers' hands. They get this many chunk
// durations (from the first manifest) to come from peers before the player's start counts as due; a
// lookup answered "nobody holds it" sends it to the server at once (the first viewer of a channel).
constexpr double kStartupPeerWait = 1.0;
// A new chunk at the edge: the viewer that ranks first for it among itself and its links (rendezvous
// hashing, so all of them agree without talking) fetches it from the server at once; the others wait this
// many chunk durations for a peer to claim it (the first-ranked one holds it within a tenth of that when
// it is there), then ask the server. Browser tabs (web/src/live.js; ids "web-...", as web/src/link.js
// tells them apart) take no part in the ranking: they wait a random 0.65-1.2 chunk durations once linked,
// expecting a native viewer to have taken the chunk from the server by then.
constexpr double kEdgePeerWait = 1.5;
// While the server refuses, the first-ranked viewer cannot seed the chunk either, so waiting the full
// kEdgePeerWait for it only delays the chunk's entry into the swarm: measured with 8 viewers behind a
// capacity-1 server on 5 Mbit/s uplinks, 13-16 missed deadlines with the long wait against 6-8 with this.
constexpr double kEdgePeerWaitRefused = 0.3;
// A chunk some link claims but cannot give now (busy, or its request slots full) is waited for, but not past
// this many chunk durations: before the player starts its deadlines move with the clock, so "until urgent"
// never came, and one remote claiming every chunk and answering busy starved a viewer's start-up for good
// (red team s5). In steady play the chunk turns urgent well before this.
constexpr double kClaimWaitTargets = kEdgePeerWait + kUploadWaitTargets;
// Past those waits, in steady play a chunk stays with the peers while more than this many chunk durations
// are left before it turns urgent (a deeper --live-buffer): a busy holder (claimed) or the first-ranked
// viewer (not claimed yet) can still bring it, and a chunk one peer failed goes to another holder first.
// Two: a busy holder's queue (up to kUploadWaitTargets) and the chunk itself. Measured on 5 Mbit/s uplinks,
// 8 viewers, --live-buffer=6: 64 -> 72% of the bytes from peers in five before/after pairs, no missed
// deadline (docs/benchmarks.md); with the default buffer there is rarely that much slack.
constexpr double kPeerSlackTargets = 2;
// Whole-request deadlines against a server that stalls or drips a byte a second (which an idle timeout
// never trips): a manifest must be complete within kManifestDeadlineMs (a long poll: its wait plus that),
// else it is retried; a live chunk within kChunkDeadlineTargets chunk-durations (at least kManifestDeadlineMs),
// after which it is late for playback anyway and a peer or a new try may still bring it.
constexpr uint64_t kLongPollWaitMs = 10000;
constexpr long kManifestDeadlineMs = 5000;
constexpr double kChunkDeadlineTargets = 4;
}  // namespace

struct LivePeer::Impl : PeerCore {
  using PeerCore::PeerCore;
  enum class St { missing, server, peer, verifying, have };
  struct Entry {
    media::LiveChunkRef ref;
    St state = St::missing;
    std::shared_ptr<const std::string> data;
    double learned = 0;
    bool startup = false;  // cut before we joined: part of the start-up buffer, held by other viewers
    bool nobody = false;   // the signaller said no viewer holds it
    bool peer_failed = false;
    enum class Why { startup, seed, wait, urgent, peer_failed } why = Why::seed;  // a server fetch's reason (summary: kWhyNames)
    std::string failed_peer;  // the last peer that timed out on it: asked again only when no other holder is
    bool gone = false;  // the server answered 404: it slid out of the server's window
    bool slack_wait = false;  // counted once in slack_waits
  };
  // A segment handed to the player. The local endpoint numbers them itself (`local`), so its playlist
  // keeps counting up across skips and server restarts (whose seqs start again at 0).
  struct Played {
    uint64_t local;
    std::shared_ptr<const std::string> data;
    double duration;
    bool discontinuity;
  };

  std::string join_token;  // of the live manifest; "" in open mode
  std::map<uint64_t, Entry> chunks;                // by seq
  std::unordered_map<uint32_t, uint64_t> held_idx;  // ring index -> seq held
  std::map<uint64_t, std::pair<std::string, double>> peer_requests;  // seq -> (peer, deadline)
  // A peer request whose link is still bringing bytes gets more time, up to `cap` (see check_deadlines).
  struct Progress {
    uint64_t bytes_in;
    double cap;
    double rescue_at;  // half a chunk before its playback deadline: the server can still make it
    uint64_t start_in;  // the link's bytes_in when asked
  };
  std::map<uint64_t, Progress> request_progress;  // seq -> the link's bytes_in when last looked at
  std::map<std::string, double> link_busy_until;  // remote -> it refused a request as busy: not asked till then
  // Our uploads: one chunk on the uplink at a time, the rest wait in a short queue (see serve()).
  struct Upload {
    std::string remote;
    uint32_t idx;
    uint64_t bytes;
  };
  std::deque<Upload> upload_wait;
  std::string up_remote;  // the link the current upload went to; "" = none
  uint64_t up_bytes = 0;
  double up_started = 0, up_rate = 0;  // up_rate: bytes/s of recent uploads (EWMA), 0 = not measured yet
  void pump_uploads();
  void start_upload(PeerLink& l, uint32_t idx);
  void check_send_stalls();
  net::UvHandle<uv_timer_t> poll_retry;
  std::FILE* out = nullptr;
  std::mt19937 rng{std::random_device{}()};

  bool have_manifest = false, ended = false, server_refusing = false;
  double target = 1, server_retry_at = 0, due = 0, stall_s = 0, poll_backoff = 0.5, joined_at = 0;
  uint64_t play_seq = 0, start_seq = 0, next_seq = 0;
  // The channel run we follow (LiveManifest::epoch); `gen` counts runs so late callbacks of an old run
  // (a fetch, a hash check) never touch the new run's chunk of the same seq.
  std::string epoch;
  uint64_t gen = 0;
  bool next_discontinuity = false;  // the next chunk handed to the player follows a skip or a new run
  int server_in_flight = 0;
  // The player model: it starts once --live-buffer chunks are in hand (start-up buffering), then
  // consumes one chunk per chunk-duration; `due` is when it needs chunk `clock_seq`.
  bool clock_started = false, current_missed = false;
  uint64_t clock_seq = 0, clock_from = 0;
  double stall_now_s = 0, stall_max_s = 0;  // the stall in progress, the longest one
  void run_clock();
  std::vector<double> lags_ms;
  std::deque<Played> delivered;  // recent segments, for the player endpoint
  uint64_t local_seq = 0, discontinuities_dropped = 0;
  struct Counters : Traffic {
    uint64_t missed = 0, skipped = 0, delivered = 0, server_gone = 0, epochs = 0;
    uint64_t busy_refused = 0, peer_busy = 0, stalled_links = 0, not_held_refused = 0, peer_not_held = 0;
    // Bytes from the server by why it was asked (Entry::Why; docs/live.md, Summary).
    std::array<uint64_t, static_cast<size_t>(Entry::Why::peer_failed) + 1> server_by_why{};
    uint64_t slow_uploads = 0;
    uint64_t slack_waits = 0, peer_retries = 0;  // kPeerSlackTargets at work (docs/live.md)
  } n;
  bool first_for(uint64_t seq) const;

  void poll_manifest();
  void on_manifest(const media::LiveManifest& m);
  void join_point(const media::LiveManifest& m);
  void new_epoch(const media::LiveManifest& m);
  void skip_to(uint64_t seq, const std::string& why);
  void schedule();
  PeerLink* best_holder(uint32_t idx, const std::string& avoid);
  void fetch_from_server(uint64_t seq);
  void accept(uint64_t seq, std::string data, const std::string& from_peer);
  void deliver();
  void check_deadlines();
  void join_swarm();
  void discover();
  PeerLinks::Hooks link_hooks();
  void serve(PeerLink& l, uint32_t idx);
  std::string bitfield_b64() const;
  p2p::wire::Hello hello() const;
  void handle_player(net::HttpRequest& r, net::HttpServer::Respond respond);
  void finish(bool ok, const std::string& msg);
  std::string last_poll_error;  // why the manifest could not be had, for the exit message
};

std::string LivePeer::Impl::bitfield_b64() const {
  Bitfield b(kLiveRing);
  for (auto& [idx, seq] : held_idx) b.set(idx);
  return b.to_base64();
}

p2p::wire::Hello LivePeer::Impl::hello() const {
  Bitfield b(kLiveRing);
  for (auto& [idx, seq] : held_idx) b.set(idx);
  // Links are per channel run: a viewer of another run fails the hello, so no ring index ever brings a
  // chunk of another run (it would fail SHA-256 and get an honest peer banned).
  return {opts.peer_id, media::live_swarm_key(opts.video_id, epoch), kLiveRing, b.bytes()};
}

void LivePeer::Impl::poll_manifest() {
  if (stopping || ended) return;
  std::string url = opts.server_url + "/live/" + opts.video_id;
  long deadline_ms = kManifestDeadlineMs;
  if (have_manifest) {
    url += "?from=" + std::to_string(next_seq) + "&wait_ms=" + std::to_string(kLongPollWaitMs) + "&epoch=" + epoch;
    deadline_ms += static_cast<long>(kLongPollWaitMs);
  }
  http->get(url, kMaxManifestBytes, [this, deadline_ms](net::HttpResult r) {
    if (stopping) return;
    if (r.status == 200) {
      auto m = media::live_manifest_from_json(r.body);
      if (m && m->video_id == opts.video_id) {
        poll_backoff = 0.5;
        on_manifest(*m);
        return poll_manifest();
      }
      log::warn("live: bad manifest from the server: " + (m ? std::string("another channel") : m.error()));
    } else if (r.status == 404 && !have_manifest) {
      return finish(false, "no live channel " + opts.video_id + " on " + opts.server_url);
    } else {
      last_poll_error = r.status ? "HTTP " + std::to_string(r.status) : r.error;
      if (r.timed_out)
        last_poll_error = "no complete manifest from " + opts.server_url + " within " +
                          std::to_string(deadline_ms / 1000) + " s (the server stalls or drips its answer)";
      log::warn("live: manifest: " + last_poll_error + "; retrying");
    }
    // The server is down or confused: retry with back-off; peers keep serving each other meanwhile.
    uv_timer_start(poll_retry.get(), [](uv_timer_t* t) {
      if (auto* self = static_cast<Impl*>(t->data)) self->poll_manifest();
    }, static_cast<uint64_t>(poll_backoff * std::uniform_real_distribution<double>(800, 1200)(rng)), 0);
    // At most 2 s: a restarted server should be found within a few seconds (one small GET per viewer).
    poll_backoff = std::min(2.0, poll_backoff * 2);
  }, deadline_ms);
}

void LivePeer::Impl::join_point(const media::LiveManifest& m) {
  uint64_t edge = m.next_seq();
  uint64_t first = m.chunks.empty() ? 0 : m.chunks.front().seq;
  play_seq = std::max<uint64_t>(first, edge > static_cast<uint64_t>(opts.live_buffer) ? edge - opts.live_buffer : 0);
}

void LivePeer::Impl::on_manifest(const media::LiveManifest& m) {
  target = m.target_duration;
  double now = mono_seconds();
  if (!m.token.empty()) {
    join_token = m.token;
    if (signal && m.epoch == epoch) signal->set_token(m.token);
  }
  if (!have_manifest) {
    have_manifest = true;
    joined_at = now;
    epoch = m.epoch;
    join_point(m);
    start_seq = clock_from = play_seq;
    log::info("live " + opts.video_id + ": joining at chunk " + std::to_string(start_seq) + " (edge " + std::to_string(m.next_seq()) +
              ", epoch " + epoch + ")");
    join_swarm();
  } else if (m.epoch != epoch) {
    new_epoch(m);
    if (stopping) return;
  }
  if (uint64_t edge = m.next_seq(); edge > play_seq + kAheadWindow) {
    skip_to(edge - std::min<uint64_t>(edge, static_cast<uint64_t>(std::max(1, opts.live_buffer))),
            "the edge (" + std::to_string(edge) + ") is " + std::to_string(edge - play_seq) + " chunks ahead of playback");
    if (stopping) return;
  }
  for (const auto& c : m.chunks) {
    if (c.seq < play_seq || c.seq >= play_seq + kAheadWindow || chunks.count(c.seq)) continue;
    Entry e;
    e.ref = c;
    e.learned = now;
    e.startup = now - joined_at < 0.05 && c.seq < m.next_seq();  // listed in the manifest we joined on
    chunks.emplace(c.seq, std::move(e));
  }
  next_seq = std::max(next_seq, m.next_seq());
  if (!m.chunks.empty() && play_seq < m.chunks.front().seq) {
    // Fallen behind the server's window (a stalled or suspended viewer): what slid out is gone, and
    // chasing the window's tail would lose each chunk as it is reached. Rejoin where a new viewer would.
    uint64_t old = play_seq;
    join_point(m);
    std::swap(old, play_seq);
    skip_to(old, "fell behind the server's window");
    if (stopping) return;
  }
  if (m.ended) {
    ended = true;
    log::info("live " + opts.video_id + ": the channel has ended at chunk " + std::to_string(next_seq));
    deliver();  // finishes once everything up to the end is delivered
    if (stopping) return;
  }
  schedule();
}

void LivePeer::Impl::new_epoch(const media::LiveManifest& m) {
  // The server restarted the channel: its seqs start again, and nothing we hold or asked for belongs
  // to this run. Start over at its edge, as a new viewer would; the player sees a discontinuity.
  log::warn("live " + opts.video_id + ": the channel restarted (epoch " + epoch + " -> " + m.epoch + "); rejoining at chunk " +
            std::to_string(m.next_seq() > static_cast<uint64_t>(opts.live_buffer) ? m.next_seq() - opts.live_buffer : 0));
  n.epochs++;
  gen++;
  joined_at = mono_seconds();  // the new run's buffer is a start-up buffer again
  epoch = m.epoch;
  // The new run is another swarm (keyed by the epoch): leave the old one, join the new.
  signal.reset();
  join_swarm();
  // Forget the old run first: closing a link runs on_closed, which schedules over what is left.
  chunks.clear();
  held_idx.clear();
  peer_requests.clear();
  upload_wait.clear();  // asked for by the old run's viewers
  peer_links.close_all("the channel restarted (new epoch)");  // their swarm is the old run's
  server_refusing = false;
  server_retry_at = 0;
  next_seq = 0;
  ended = false;
  join_point(m);
  next_discontinuity = true;
  if (clock_started) clock_seq = play_seq;  // the player waits (a stall) for the new run's first chunk
  else clock_from = play_seq;
}

void LivePeer::Impl::skip_to(uint64_t seq, const std::string& why) {
  if (seq <= play_seq) return;
  log::warn("live " + opts.video_id + ": " + why + "; skipping chunks " + std::to_string(play_seq) + "-" + std::to_string(seq - 1));
  n.skipped += seq - play_seq;
  play_seq = seq;
  next_discontinuity = true;
  // The player jumps too: it stalls (and is counted stalling) until the chunk it jumped to is here.
  if (clock_started) clock_seq = std::max(clock_seq, play_seq);
  else clock_from = play_seq;
  deliver();
}

PeerLink* LivePeer::Impl::best_holder(uint32_t idx, const std::string& avoid) {
  PeerLink* best = nullptr;
  double best_cost = 0;
  double now = mono_seconds();
  for (auto& [id, l] : links) {
    if (!l->ready() || !l->remote_has(idx) || l->in_flight() >= static_cast<size_t>(opts.requests_per_link)) continue;
    if (auto b = link_busy_until.find(id); b != link_busy_until.end() && now < b->second) continue;
    // The peer that just timed out on this chunk, only when nobody else has it.
    double cost = static_cast<double>(l->in_flight() + 1) * std::max(0.5, l->rtt_ms()) * (id == avoid ? 1000 : 1);
    if (best == nullptr || cost < best_cost) {
      best = l.get();
      best_cost = cost;
    }
  }
  return best;
}

void LivePeer::Impl::schedule() {
  if (stopping || !have_manifest) return;
  double now = mono_seconds();
  int slots = server_refusing ? 1 : std::max(1, opts.server_slots);
  bool server_ok = opts.server_slots > 0 && now >= server_retry_at;
  // Urgency is time to the playback deadline: the player needs clock_seq at `due`, and each later chunk
  // one chunk-duration after the one before it. Before it starts, it starts when the start-up buffer is in
  // hand: not before the buffer's last chunk is even cut (a viewer that joined near the channel's start),
  // and peers get kStartupPeerWait chunk durations first to give a buffer they hold.
  double deadline = due;
  if (!clock_started) {
    uint64_t last = clock_from + static_cast<uint64_t>(std::max(1, opts.live_buffer)) - 1;  // the buffer's last chunk
    double start = std::max(now, joined_at + (kStartupPeerWait + opts.urgent_chunks) * target);
    if (last >= next_seq) start = std::max(start, now + static_cast<double>(last + 1 - next_seq) * target);
    deadline = start + static_cast<double>(play_seq > clock_from ? play_seq - clock_from : 0) * target;
  }
  uint64_t gone_at_play = 0;
  for (auto& [seq, e] : chunks) {
    if (seq < (clock_started ? clock_seq : play_seq)) continue;
    double my_deadline = deadline;
    deadline += e.ref.duration;
    if (e.state != St::missing) continue;
    uint32_t idx = static_cast<uint32_t>(seq % kLiveRing);
    bool urgent = my_deadline - now < static_cast<double>(opts.urgent_chunks) * target;
    PeerLink* holder = best_holder(idx, e.failed_peer);
    // Gone from the server: only a peer can still give it; when none can and the player needs it, skip it.
    if (e.gone && holder == nullptr && seq == play_seq) gone_at_play = seq + 1;
    // Not urgent and nobody to take it from: a start-up chunk goes to the server once the signaller says no
    // viewer holds it (or the wait is over); a new chunk goes at once to the viewer that ranks first for it
    // among its links, the others wait for that one to hold it.
    // A chunk some link claims (its holder busy for now) is worth waiting for until it is urgent (or kClaimWaitTargets).
    bool claimed = holder != nullptr || std::any_of(links.begin(), links.end(), [idx](const auto& kv) {
                     return kv.second->ready() && kv.second->remote_has(idx);
                   });
    bool seed_now = !claimed && (e.startup ? e.nobody : first_for(seq));
    double edge_wait = server_refusing ? kEdgePeerWaitRefused : kEdgePeerWait;
    bool waited = now >= e.learned + (claimed ? kClaimWaitTargets : e.startup ? kStartupPeerWait : edge_wait) * target;
    // Slack: chunk durations left before the chunk turns urgent. In steady play (the player's deadlines no
    // longer move with the clock) a viewer with slack to spare, from a deeper --live-buffer, keeps waiting
    // past the fixed waits above, and a chunk one peer failed goes to another holder first.
    double slack = (my_deadline - now) / target - static_cast<double>(opts.urgent_chunks);
    bool steady = clock_started && !server_refusing && !e.startup;
    if (waited && steady && slack > kPeerSlackTargets) {
      waited = false;
      if (!e.slack_wait) n.slack_waits++;
      e.slack_wait = true;
    }
    bool retry_peer = e.peer_failed && steady && slack > kPeerSlackTargets && holder != nullptr && holder->remote() != e.failed_peer;
    // After a peer failed it, the server gets it when it can take it (unless another holder has time to);
    // while the server refuses, another peer.
    bool server_first = urgent || (e.peer_failed && !retry_peer);
    bool server_now = !e.gone && server_ok && server_in_flight < slots && (server_first || seed_now || waited);
    if (holder != nullptr && !(server_first && server_now)) {
      holder->request(idx);
      e.state = St::peer;
      if (retry_peer) n.peer_retries++;
      // A peer gets until half a chunk before the deadline (the server can still make it), but never
      // less than a busy peer needs: its turn on its uplink (up to kUploadWaitTargets chunk-durations) and
      // the chunk's own time there. Shorter, and a viewer that is already late (deadline passed) cancels
      // every peer request before it can arrive, then wastes the uploads it cancelled (their bytes are in
      // SCTP by then) and turns to a server that refuses: measured on 5 Mbit/s uplinks, lag only grew.
      double limit = std::min(static_cast<double>(opts.peer_timeout_ms) / 1000.0, 2 * target);
      double floor = std::min(limit, (kUploadWaitTargets + 0.5) * target);
      double by = std::max(now + std::max(0.3, floor), std::min(now + limit, my_deadline - 0.5 * target));
      peer_requests[seq] = {holder->remote(), by};
      request_progress[seq] = {holder->bytes_in(), now + std::max(limit, 4 * target), my_deadline - 0.5 * target, holder->bytes_in()};
    } else if (server_now) {  // no holder, or the server first
      e.why = e.peer_failed ? Entry::Why::peer_failed
              : urgent      ? Entry::Why::urgent
              : e.startup   ? Entry::Why::startup
              : seed_now    ? Entry::Why::seed
                            : Entry::Why::wait;
      fetch_from_server(seq);
    }
  }
  if (gone_at_play > 0) {
    skip_to(gone_at_play, "chunk " + std::to_string(gone_at_play - 1) + " is gone from the server and no peer holds it");
    if (stopping) return;
  }
  discover();
}

void LivePeer::Impl::fetch_from_server(uint64_t seq) {
  Entry& e = chunks[seq];
  e.state = St::server;
  server_in_flight++;
  http->get(opts.server_url + "/chunks/" + e.ref.id, e.ref.size, [this, seq, run = gen](net::HttpResult r) {
    server_in_flight--;
    if (stopping || run != gen) return;
    auto it = chunks.find(seq);
    if (it == chunks.end()) return;
    if (r.status == 200) {
      server_refusing = false;
      return accept(seq, std::move(r.body), "");
    }
    it->second.state = St::missing;
    if (r.status == 404) {
      // Not a refusal: the chunk slid out of the server's window (we are behind) or the server restarted.
      // The server stays usable for the chunks it has; this one comes from a peer or is skipped.
      n.server_gone++;
      it->second.gone = true;
      return schedule();
    }
    double wait;
    if (r.status == 503) {
      n.refusals++;
      wait = r.retry_after >= 0 ? std::max(0.2, static_cast<double>(r.retry_after)) : 1.0;
    } else {
      n.server_errors++;
      wait = 1.0;
    }
    server_refusing = true;
    server_retry_at = mono_seconds() + wait * std::uniform_real_distribution<double>(0.8, 1.3)(rng);
    schedule();
  }, std::max(kManifestDeadlineMs, static_cast<long>(kChunkDeadlineTargets * target * 1000)));
}

void LivePeer::Impl::accept(uint64_t seq, std::string data, const std::string& from_peer) {
  auto it = chunks.find(seq);
  if (it == chunks.end() || it->second.state == St::have || it->second.state == St::verifying) return;
  it->second.state = St::verifying;
  auto shared = std::make_shared<std::string>(std::move(data));
  std::string expect = it->second.ref.id;
  run_blocking<bool>(loop, [shared, expect] { return sha256_hex(shared->data(), shared->size()) == expect; },
                     [this, seq, shared, from_peer, run = gen](bool ok) {
    if (stopping || run != gen) return;
    auto it = chunks.find(seq);
    if (it == chunks.end()) return;
    Entry& e = it->second;
    if (!ok) {
      n.bad_chunks++;
      e.state = St::missing;
      e.peer_failed = true;
      log::warn("live chunk " + std::to_string(seq) + " from " + (from_peer.empty() ? "the server" : "peer " + from_peer) +
                " failed SHA-256 verification; discarded");
      if (!from_peer.empty()) peer_links.ban(from_peer, "sent a corrupt chunk");
      return schedule();
    }
    e.state = St::have;
    e.data = shared;
    (from_peer.empty() ? n.from_server : n.from_peers) += shared->size();
    if (from_peer.empty()) n.server_by_why[static_cast<size_t>(e.why)] += shared->size();
    uint32_t idx = static_cast<uint32_t>(seq % kLiveRing);
    held_idx[idx] = seq;
    announce(idx);
    deliver();
    schedule();
  });
}

void LivePeer::Impl::deliver() {
  for (auto it = chunks.find(play_seq); it != chunks.end() && it->second.state == St::have; it = chunks.find(play_seq)) {
    Entry& e = it->second;
    lags_ms.push_back(static_cast<double>(wall_ms() - e.ref.published_ms));
    if (out != nullptr) {
      std::fwrite(e.data->data(), 1, e.data->size(), out);
      std::fflush(out);
    }
    delivered.push_back({local_seq++, e.data, e.ref.duration, e.ref.discontinuity || next_discontinuity});
    next_discontinuity = false;
    while (delivered.size() > kPlayerKeep) {
      if (delivered.front().discontinuity) discontinuities_dropped++;
      delivered.pop_front();
    }
    n.delivered++;
    play_seq++;
  }
  // Forget what is far behind playback (it stays servable for a while for slower viewers).
  while (!chunks.empty() && chunks.begin()->first + kKeepBehind < play_seq) {
    uint32_t idx = static_cast<uint32_t>(chunks.begin()->first % kLiveRing);
    if (auto h = held_idx.find(idx); h != held_idx.end() && h->second == chunks.begin()->first) held_idx.erase(h);
    chunks.erase(chunks.begin());
  }
  if (ended && play_seq >= next_seq) finish(true, "the live channel ended");
}

void LivePeer::Impl::run_clock() {
  double now = mono_seconds();
  if (!clock_started) {
    if (play_seq < clock_from + static_cast<uint64_t>(std::max(1, opts.live_buffer)) && !(ended && play_seq >= next_seq)) return;
    clock_started = true;
    clock_seq = clock_from;
    due = now;
  }
  while (now >= due) {
    auto it = chunks.find(clock_seq);
    if (clock_seq < play_seq && it != chunks.end()) {  // delivered: the player plays it
      due += it->second.ref.duration;
      clock_seq++;
      current_missed = false;
      stall_now_s = 0;
      continue;
    }
    if (clock_seq < play_seq) {  // delivered and already forgotten: play it at the target duration
      due += target;
      clock_seq++;
      continue;
    }
    if (ended && clock_seq >= next_seq) return;
    // Needed now and not here: the player stalls (a missed deadline, counted once per chunk).
    if (!current_missed) {
      current_missed = true;
      n.missed++;
    }
    stall_s += now - due;
    stall_now_s += now - due;
    stall_max_s = std::max(stall_max_s, stall_now_s);
    due = now;
    return;
  }
}

void LivePeer::Impl::check_deadlines() {
  double now = mono_seconds();
  run_clock();
  for (auto it = request_progress.begin(); it != request_progress.end();)
    it = peer_requests.count(it->first) ? std::next(it) : request_progress.erase(it);
  for (auto it = peer_requests.begin(); it != peer_requests.end();) {
    auto c = chunks.find(it->first);
    if (c == chunks.end() || c->second.state != St::peer) {
      it = peer_requests.erase(it);
      continue;
    }
    auto pr = request_progress.find(it->first);
    auto pl = links.find(it->second.first);
    if (now >= it->second.second && pr != request_progress.end() && pl != links.end() && now < pr->second.cap &&
        pl->second->bytes_in() > pr->second.bytes_in) {
      // Bytes still coming on that link (most likely this chunk): the server would have to start over.
      pr->second.bytes_in = pl->second->bytes_in();
      it->second.second = std::min(pr->second.cap, now + std::max(0.25, 0.25 * target));
    }
    // Close to its playback deadline and still not here: the server gets it while it can still make it.
    // Unless most of it has come already: cancelled, the rest would still cross the sender's uplink.
    bool rescue = pr != request_progress.end() && now >= pr->second.rescue_at && !c->second.gone && opts.server_slots > 0 &&
                  now >= server_retry_at && !server_refusing &&
                  !(pl != links.end() && pl->second->bytes_in() - pr->second.start_in >= c->second.ref.size * 2 / 3 &&
                    now < pr->second.rescue_at + 0.35 * target);
    if (now < it->second.second && !rescue) {
      ++it;
      continue;
    }
    n.peer_timeouts++;
    c->second.state = St::missing;
    c->second.peer_failed = true;  // the server gets it next
    c->second.failed_peer = it->second.first;
    auto l = links.find(it->second.first);
    auto link = l == links.end() ? nullptr : l->second;
    uint32_t idx = static_cast<uint32_t>(it->first % kLiveRing);
    it = peer_requests.erase(it);
    if (link) {
      link->cancel(idx);  // a failed send closes the link, whose on_closed edits peer_requests
      it = peer_requests.begin();
    }
  }
}

void LivePeer::Impl::join_swarm() {
  if (signal || opts.signal_url.empty()) return;
  PeerCore::join_swarm(opts.video_id, kLiveRing, epoch, true, join_token,
                       [this] { log::info("joined the live swarm of " + opts.video_id + " as " + opts.peer_id); },
                       [this] { return bitfield_b64(); });
}

bool LivePeer::Impl::first_for(uint64_t seq) const {
  std::vector<std::string> ids{opts.peer_id};
  for (auto& [id, l] : links)
    if (!l->closed() && id.rfind("web-", 0) != 0) ids.push_back(id);
  if (ids.size() == 1) return true;
  return rendezvous_order(ids, epoch + "/" + std::to_string(seq)).front() == opts.peer_id;
}

void LivePeer::Impl::discover() {
  if (!can_look_up()) return;
  std::vector<uint32_t> want;
  for (auto& [seq, e] : chunks)
    if (seq >= play_seq && e.state != St::have && want.size() < 64) want.push_back(static_cast<uint32_t>(seq % kLiveRing));
  // Nothing missing right now: ask for what we hold, to meet the viewers around us before the next chunk.
  if (want.empty())
    for (auto& [idx, seq] : held_idx)
      if (want.size() < 8) want.push_back(idx);
  look_up(want, [this, want, run = gen](const p2p::SignalClient::Holders& holders) {
    if (run != gen) return;
    // A start-up chunk no other viewer holds can only come from the server: no point waiting for peers.
    for (uint32_t idx : want) {
      if (holders.count(idx)) continue;
      for (auto& [seq, e] : chunks)
        if (seq % kLiveRing == idx && e.startup) e.nobody = true;
    }
    // No schedule() here: it may finish the viewer, which stops the signal client inside its own callback.
    // The next 20 ms tick acts on it.
  });
}

PeerLinks::Hooks LivePeer::Impl::link_hooks() {
  PeerLinks::Hooks k;
  k.hello = [this] { return hello(); };
  k.chunk_size = [this](uint32_t idx) -> uint64_t {
    // The chunk we would ask for at this index: the newest known seq that maps to it.
    for (auto it = chunks.rbegin(); it != chunks.rend(); ++it)
      if (it->first % kLiveRing == idx) return it->second.ref.size;
    return 0;
  };
  PeerLink::Handlers& h = k.link;
  h.on_ready = [this](PeerLink& l) {
    log::info("live link to " + l.remote() + " ready (" + l.pair_type() + ")");
    schedule();
  };
  h.on_chunk = [this](PeerLink& l, uint32_t idx, std::string data) {
    for (auto it = peer_requests.begin(); it != peer_requests.end(); ++it)
      if (it->first % kLiveRing == idx && it->second.first == l.remote()) {
        uint64_t seq = it->first;
        peer_requests.erase(it);
        return accept(seq, std::move(data), l.remote());
      }
  };
  h.on_request = [this](PeerLink& l, uint32_t idx) { serve(l, idx); };
  h.on_have = [this](PeerLink&, uint32_t) { schedule(); };
  h.on_reject = [this](PeerLink& l, uint32_t idx, p2p::wire::RejectReason why) {
    if (why == p2p::wire::RejectReason::busy) {
      // Its uplink is full: leave it alone for a while rather than asking again at the next tick.
      n.peer_busy++;
      link_busy_until[l.remote()] = mono_seconds() + std::max(0.2, 0.5 * target);
    } else {
      // It does not hold that chunk (evicted, or its claim was never true): not asked for it again until it
      // announces it anew. Left set, the next schedule() asked the same remote again at once, round after round.
      n.peer_not_held++;
      l.forget_remote_has(idx);
    }
    for (auto it = peer_requests.begin(); it != peer_requests.end(); ++it)
      if (it->first % kLiveRing == idx && it->second.first == l.remote()) {
        if (auto c = chunks.find(it->first); c != chunks.end() && c->second.state == St::peer) c->second.state = St::missing;
        peer_requests.erase(it);
        break;
      }
    schedule();
  };
  h.on_closed = [this](PeerLink& l, const std::string& why) {
    log::info("live link to " + l.remote() + " closed: " + why);
    link_busy_until.erase(l.remote());
    for (auto it = peer_requests.begin(); it != peer_requests.end();) {
      if (it->second.first == l.remote()) {
        if (auto c = chunks.find(it->first); c != chunks.end() && c->second.state == St::peer) c->second.state = St::missing;
        it = peer_requests.erase(it);
      } else {
        ++it;
      }
    }
    if (!stopping) schedule();
  };
  return k;
}

void LivePeer::Impl::serve(PeerLink& l, uint32_t idx) {
  auto h = held_idx.find(idx);
  auto c = h == held_idx.end() ? chunks.end() : chunks.find(h->second);
  // Only a chunk near our edge: an old one at the same ring index is another chunk for the asker.
  if (c == chunks.end() || c->second.state != St::have || c->first + kLiveRing / 2 < next_seq) {
    n.not_held_refused++;
    l.reject(idx, p2p::wire::RejectReason::not_held);
    return;
  }
  if (opts.upload_slots == 0) {
    l.reject(idx, p2p::wire::RejectReason::busy);
    return;
  }
  // One uplink serves every link. Handed to all askers at once, N chunks would share it and each arrive
  // N times later than one would, past most askers' deadlines (they cancel, but the bytes already in SCTP
  // still go: measured on 5 Mbit/s uplinks, 90% of uploaded bytes were wasted that way). So one chunk goes
  // out at a time and the others wait their turn; a request whose turn would come too late is refused
  // now, while the asker still has time to get it elsewhere.
  uint64_t ahead = up_remote.empty() ? 0 : [&] {
    auto u = links.find(up_remote);
    return u == links.end() ? uint64_t{0} : static_cast<uint64_t>(u->second->backlog());
  }();
  size_t mine = 0;
  for (const auto& w : upload_wait) {
    ahead += w.bytes;
    mine += w.remote == l.remote() ? 1 : 0;
  }
  uint64_t size = c->second.data->size();
  bool too_late = up_rate > 0 ? static_cast<double>(ahead + size) / up_rate > kUploadWaitTargets * target
                              : upload_wait.size() >= 2;  // not measured yet: a short queue
  if (up_remote.empty() && upload_wait.empty()) too_late = false;  // an idle uplink takes anything
  // A link still taking an upload that stopped holding the uplink (too slow): nothing more until it drains.
  bool slow = l.remote() != up_remote && l.backlog() > kUploadLowWater;
  if (too_late || slow || mine >= kUploadQueuePerLink || upload_wait.size() >= kUploadQueueMax) {
    n.busy_refused++;
    l.reject(idx, p2p::wire::RejectReason::busy);
    return;
  }
  upload_wait.push_back({l.remote(), idx, size});
  pump_uploads();
}

void LivePeer::Impl::pump_uploads() {
  double now = mono_seconds();
  if (!up_remote.empty()) {
    auto u = links.find(up_remote);
    bool gone = u == links.end() || u->second->closed();
    size_t left = gone ? 0 : u->second->backlog();
    double took = now - up_started;
    // Not done, and not so slow that it is better to let the next one start beside it.
    double deadline = up_rate > 0 ? 2 * static_cast<double>(up_bytes) / up_rate + target : kUploadDeadlineTargets * target;
    if (left > kUploadLowWater && took <= deadline) return;
    if (left > kUploadLowWater) n.slow_uploads++;
    if (!gone && left <= kUploadLowWater && up_bytes >= 4 * kUploadLowWater && took > 0) {
      double r = static_cast<double>(up_bytes - left) / took;
      up_rate = up_rate > 0 ? 0.7 * up_rate + 0.3 * r : r;
    }
    up_remote.clear();
  }
  while (up_remote.empty() && !upload_wait.empty()) {
    Upload w = upload_wait.front();
    upload_wait.pop_front();
    auto l = links.find(w.remote);
    if (l == links.end() || !l->second->ready()) continue;
    auto link = l->second;  // a failed send closes the link and erases it from `links`
    if (link->backlog() > kUploadLowWater) {  // an earlier upload to it was too slow and is still going
      n.busy_refused++;
      link->reject(w.idx, p2p::wire::RejectReason::busy);
      continue;
    }
    start_upload(*link, w.idx);
  }
}

void LivePeer::Impl::start_upload(PeerLink& l, uint32_t idx) {
  auto h = held_idx.find(idx);
  auto c = h == held_idx.end() ? chunks.end() : chunks.find(h->second);
  if (c == chunks.end() || c->second.state != St::have) return l.reject(idx, p2p::wire::RejectReason::not_held);
  const std::string& bytes = *c->second.data;
  std::string bad;
  if (opts.test_corrupt_uploads && !bytes.empty()) {  // TEST ONLY
    bad = bytes;
    bad[bad.size() / 2] ^= 0x5a;
  }
  if (!l.send_chunk(idx, bad.empty() ? bytes : bad)) return;  // the asker cancelled while it waited
  n.uploaded += bytes.size();
  if (l.closed()) return;
  up_remote = l.remote();
  up_bytes = bytes.size();
  up_started = mono_seconds();
}

void LivePeer::Impl::check_send_stalls() {
  uint64_t limit = static_cast<uint64_t>(1000 * std::max(kLiveSendStallS, kLiveSendStallTargets * target));
  n.stalled_links += drop_stalled_links(limit, "live link");
  pump_uploads();
}

void LivePeer::Impl::handle_player(net::HttpRequest& r, net::HttpServer::Respond respond) {
  std::string base = "/live/" + opts.video_id;
  if (r.path == "/summary") return respond(net::HttpResponse::json(200, "{}"));
  if (r.path == base + ".m3u8") {
    std::vector<media::HlsSegment> segs;
    uint64_t disc_seq = discontinuities_dropped;
    size_t first = delivered.size() > kPlayerWindow ? delivered.size() - kPlayerWindow : 0;
    for (size_t i = 0; i < delivered.size(); ++i) {
      if (i < first) disc_seq += delivered[i].discontinuity ? 1 : 0;
      else segs.push_back({delivered[i].local, delivered[i].duration, delivered[i].discontinuity});
    }
    auto resp = net::HttpResponse::text(
        200, media::hls_playlist(segs, target, opts.video_id + "/", ended && play_seq >= next_seq, disc_seq),
        "application/vnd.apple.mpegurl");
    resp.headers.emplace_back("Cache-Control", "no-cache");
    return respond(std::move(resp));
  }
  if (r.path.rfind(base + "/", 0) == 0) {
    auto seq = media::parse_segment_name(std::string_view(r.path).substr(base.size() + 1));
    if (!seq) return respond(net::HttpResponse::error(400, "segment names are SEQ.ts"));
    for (const auto& p : delivered)
      if (p.local == *seq) return respond(net::HttpResponse::text(200, *p.data, "video/mp2t"));
    return respond(net::HttpResponse::error(404, "segment not delivered yet or gone"));
  }
  respond(net::HttpResponse::error(404, "this player endpoint serves " + base + ".m3u8"));
}

void LivePeer::Impl::finish(bool ok, const std::string& why) {
  if (!shut_down()) return;
  std::string msg = why;
  if (ok && !have_manifest) {  // stopped or timed out without ever reaching the channel: not a success
    ok = false;
    msg = why + " before any manifest of " + opts.video_id + " came from " + opts.server_url +
          (last_poll_error.empty() ? "" : " (" + last_poll_error + ")");
  }
  poll_retry.reset();
  if (out != nullptr && out != stdout) std::fclose(out);
  out = nullptr;
  log::info("live " + opts.video_id + ": delivered " + std::to_string(n.delivered) + " chunks, " + std::to_string(n.from_server) +
            " bytes from the server, " + std::to_string(n.from_peers) + " from peers, " + std::to_string(n.missed) +
            " missed deadlines");
  report(ok, msg);
}

LivePeer::LivePeer(uv_loop_t* loop, PeerOptions opts) : impl_(std::make_unique<Impl>(loop, std::move(opts))) {}

LivePeer::~LivePeer() { stop(); }

void LivePeer::start(std::function<void(bool, const std::string&)> done) {
  auto& I = *impl_;
  if (auto ok = I.open(std::move(done), I.link_hooks()); !ok) return I.finish(false, ok.error());
  if (I.opts.output == "-") {
    I.out = stdout;
  } else if (!I.opts.output.empty()) {
    I.out = std::fopen(I.opts.output.c_str(), "wb");
    if (I.out == nullptr) return I.finish(false, "cannot open " + I.opts.output + " for writing");
  }
  if (!I.opts.player_listen.empty()) {
    auto ok = I.serve_http("--player-listen", I.opts.player_listen, [this] { return summary_json(); },
                           [this](net::HttpRequest& r, net::HttpServer::Respond re) { impl_->handle_player(r, std::move(re)); });
    if (!ok) return I.finish(false, ok.error());
  }
  uv_timer_init(I.loop, I.poll_retry.get());
  I.poll_retry->data = &I;
  I.start_tick([self = &I] {
    self->check_deadlines();
    if (self->stopping) return;
    self->pump_uploads();
    if (self->ticks % 10 == 0) self->check_send_stalls();
    if (self->opts.live_seconds > 0 && mono_seconds() - self->t0 >= self->opts.live_seconds)
      return self->finish(true, "watched for " + std::to_string(self->opts.live_seconds) + " s");
    self->schedule();
  });
  I.poll_manifest();
}

void LivePeer::stop() { impl_->finish(true, "stopped"); }

int LivePeer::player_port() const { return impl_->http_port(); }

std::string LivePeer::summary_json() const {
  auto& I = *impl_;
  static constexpr const char* kWhyNames[] = {"startup", "seed", "wait", "urgent", "peer_failed"};  // Entry::Why order
  static_assert(std::size(kWhyNames) == static_cast<size_t>(Impl::Entry::Why::peer_failed) + 1);
  nlohmann::json by_why = nlohmann::json::object();
  for (size_t w = 0; w < I.n.server_by_why.size(); ++w) by_why[kWhyNames[w]] = I.n.server_by_why[w];
  nlohmann::json j = {{"live", true},
                      {"start_seq", I.start_seq},
                      {"next_seq", I.play_seq},
                      {"edge_seq", I.next_seq},
                      {"chunks_delivered", I.n.delivered},
                      {"missed_deadlines", I.n.missed},
                      {"stall_seconds", I.stall_s},
                      {"longest_stall_seconds", I.stall_max_s},
                      {"skipped_chunks", I.n.skipped},
                      {"server_gone", I.n.server_gone},
                      {"epoch", I.epoch},
                      {"epoch_changes", I.n.epochs},
                      {"tracked_chunks", I.chunks.size()},
                      {"peer_busy", I.n.peer_busy},
                      {"slack_waits", I.n.slack_waits},
                      {"peer_retries", I.n.peer_retries},
                      {"uploads_refused_busy", I.n.busy_refused},
                      {"stalled_links", I.n.stalled_links},
                      {"uploads_refused_not_held", I.n.not_held_refused},
                      {"peer_not_held", I.n.peer_not_held},
                      {"server_bytes_by_reason", by_why},
                      {"slow_uploads", I.n.slow_uploads},
                      {"upload_rate_bytes_per_sec", I.up_rate},
                      {"lag_ms_p50", percentile(I.lags_ms, 0.5)},
                      {"lag_ms_p95", percentile(I.lags_ms, 0.95)},
                      {"lag_ms_max", percentile(I.lags_ms, 1.0)},
                      {"seconds", mono_seconds() - I.t0}};
  return I.PeerCore::summary_json(std::move(j), I.n);
}

}  // namespace hn
