// The hybrid download: the user's six steps. Catalog/manifest from the server (1-2), chunks from the
// server while it serves (3), the swarm when it refuses (4-5), back to the server when it has room (6).
// Every chunk is verified against its SHA-256 id before it is written, announced or served.
#include "hybridnode/peer.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <deque>
#include <map>
#include <random>
#include <set>

#include "hybridnode/manifest.h"
#include "media/chunk_file.h"
#include "media/live_manifest.h"
#include "media/sha256.h"
#include "p2p/peer_link.h"
#include "peer/chunk_scheduler.h"
#include "peer/peer_core.h"
#include "policy/upload_preference.h"
#include "util/blocking_work.h"
#include "util/clock.h"
#include "util/json_fields.h"
#include "util/log.h"
#include "util/prometheus.h"
#include "util/token_format.h"

namespace hn {

using p2p::PeerLink;
using S = ChunkScheduler::State;

struct PeerNode::Impl : PeerCore {
  using PeerCore::PeerCore;
  std::shared_ptr<ChunkFile> file;
  // Set when the peer stops: a long blocking job (re-verifying a big part file) ends early, so the
  // loop it keeps alive lets SIGTERM win.
  std::shared_ptr<std::atomic<bool>> cancel_blocking = std::make_shared<std::atomic<bool>>(false);
  Manifest manifest;
  std::string manifest_digest;  // SHA-256 of the canonical manifest: the swarm we join (docs/protocol.md)
  std::string join_token;       // from the manifest or a 503 answer; "" in open mode
  double renew_at = 0;          // when to fetch the manifest again for a fresh token
  bool renewing = false;
  void take_token(const std::string& token);
  void renew_token();
  std::unique_ptr<ChunkScheduler> sched;
  std::map<uint32_t, std::pair<std::string, double>> peer_requests;  // chunk -> (peer, deadline)
  static constexpr int kMaxBadServerCopies = 3;
  std::map<uint32_t, int> server_bad_copies;  // chunk -> corrupt copies the server sent
  // Who delivered each of the first kStartChunks chunks (the start of playback): a peer id, "server" or
  // "resumed"; "" while missing. In the summary, to see where a viewer's start came from.
  static constexpr size_t kStartChunks = 16;
  std::vector<std::string> start_from;
  bool started_swarm = false, finished = false;
  double t_first = 0, t_done = 0, server_retry_at = 0, seed_until = 0, last_progress = 0;
  double server_backoff = 1;
  bool server_refusing = false;
  int server_in_flight = 0, uploads = 0;
  int server_slots_now = 1;  // AIMD-like: grows with successes up to --server-slots, shrinks on refusals
  int server_successes = 0;
  uint32_t spread_start = 0;  // where this peer starts asking the server for non-urgent chunks
  struct Counters : Traffic {
    uint64_t server_returns = 0, endgame_requests = 0, upload_chunks = 0, rejected_uploads = 0, unreachable = 0, resumed = 0;
    uint64_t duplicate_requests = 0, peak_link_uploads = 0, stalled_links = 0, dtls_mismatches = 0;
  } n;
  // What a remote's rejects taught us. A `not_held` reject clears its claim on that chunk (until it
  // announces the chunk again); a `busy` one rests the link, longer each time in a row; a remote that
  // rejects kMaxRejectsInRow requests in a row for chunks it claims to hold is banned.
  struct LinkTrust {
    std::set<uint32_t> denied;
    int rejects_in_row = 0;
    double rest_until = 0;
  };
  static constexpr int kMaxRejectsInRow = 16;
  std::map<std::string, LinkTrust> trust;
  bool usable(const PeerLink& l, double now) const {
    auto t = trust.find(l.remote());
    return l.ready() && (t == trust.end() || now >= t->second.rest_until);
  }
  bool claims(const PeerLink& l, uint32_t i, double now) const {
    if (!usable(l, now) || !l.remote_has(i)) return false;
    auto t = trust.find(l.remote());
    return t == trust.end() || !t->second.denied.count(i);
  }
  void on_reject(PeerLink& l, uint32_t idx, p2p::wire::RejectReason why);
  // What each usable link adds to the scheduler's holder counts: the chunks it claims. Kept current on
  // hello, have, reject and close (a resting link counts for nothing until its rest is over), so
  // scheduling never asks every link about every chunk.
  std::map<const PeerLink*, std::vector<bool>> counted;
  std::map<const PeerLink*, double> resting;  // link -> when its claims count again
  void count_link(const PeerLink& l, double now);
  void uncount_link(const PeerLink& l);
  void wake_rested(double now);
  std::vector<std::string> bad_peers;

  void fetch_manifest();
  void open_file();
  void begin();
  void schedule();
  // One scheduling pass: the chunks it left waiting for a full link (it was still the soonest: its queue in
  // all but name), and the fastest measured time per chunk over the links (the same for every chunk of the
  // pass; -1 until first needed).
  struct Pass {
    std::map<const p2p::PeerLink*, size_t> waiting;
    double seed = -1;
  };
  p2p::PeerLink* pick_link(uint32_t idx, const p2p::PeerLink* except, Pass& pass);
  void endgame();
  // The peer that owned the request for `idx` let it go: an endgame duplicate on another link takes it
  // over with a fresh deadline (else nothing would time it out, and the chunk would stay stranded).
  bool hand_over(uint32_t idx, const PeerLink& from);
  void fetch_from_server(uint32_t idx);
  void on_server_refusal(uint32_t idx, const net::HttpResult& r);
  void join_swarm();
  void discover();
  PeerLinks::Hooks link_hooks();
  void accept_chunk(uint32_t idx, std::string data, const std::string& from_peer);
  void on_verified(uint32_t idx, const std::string& from_peer, uint64_t size);
  void serve(PeerLink& link, uint32_t idx);
  void upload(std::weak_ptr<PeerLink> weak, uint32_t idx);
  struct PendingUpload {
    double due;
    std::weak_ptr<PeerLink> link;
    uint32_t idx;
  };
  std::deque<PendingUpload> upload_queue;
  struct WaitingUpload {
    std::weak_ptr<PeerLink> link;
    uint32_t idx;
    double since;
  };
  std::vector<WaitingUpload> waiting_uploads;  // requests over --upload-slots, served by preference
  struct SendingUpload {
    std::weak_ptr<PeerLink> link;
    uint32_t idx;
    std::string remote;
  };
  std::vector<SendingUpload> sending_uploads;  // uploads holding a slot until their pieces leave the link
  void release_sent_uploads();
  // Per remote: the chunks it asked for that are waiting, being read or paced out. A duplicate request
  // is answered by the copy already on its way; more than kMaxUploadsPerLink at once is refused (a burst
  // of requests for one 64 MiB chunk queued dozens of copies of it).
  static constexpr size_t kMaxUploadsPerLink = 16;
  static constexpr size_t kMaxQueuedUpload = p2p::PeerLink::kServeQueueBytes;  // queued on a link before `busy`
  std::map<std::string, std::set<uint32_t>> uploads_by_link;
  // Upload slots held per remote (being read, paced or queued on its link): one remote gets at most half of
  // --upload-slots, so a remote that stops taking data cannot hold them all (the rest serve others).
  std::map<std::string, int> slots_by_link;
  int slot_share() const { return std::max(1, opts.upload_slots / 2); }
  void slot_freed(const std::string& remote) {
    uploads--;
    if (auto s = slots_by_link.find(remote); s != slots_by_link.end() && --s->second <= 0) slots_by_link.erase(s);
  }
  bool at_share(const std::string& remote) const {
    auto s = slots_by_link.find(remote);
    return s != slots_by_link.end() && s->second >= slot_share();
  }
  // A link whose remote takes nothing of what waits for it (no message leaves our queue, SCTP's
  // unacknowledged bytes do not shrink) for kSendStallMs is dropped: its slots and queued pieces go.
  static constexpr uint64_t kSendStallMs = 10000;
  void check_send_stalls();
  void upload_over(const std::string& remote, uint32_t idx) {
    if (auto u = uploads_by_link.find(remote); u != uploads_by_link.end()) u->second.erase(idx);
  }
  uint64_t upload_grants = 0;
  void grant_next_upload();
  void start_upload(std::weak_ptr<PeerLink> weak, uint32_t idx);
  double next_upload_at = 0;
  void run_upload_queue();
  void check_peer_deadlines();
  void complete();
  void finish(bool ok, const std::string& msg);
  void progress(bool force);
  std::string bitfield_b64() const;
  bool claims_all() const { return opts.test_lie == "claim" || opts.test_lie == "reject" || opts.test_lie == "busy"; }
  p2p::wire::Hello hello() const;
  void on_tick();
};

std::string PeerNode::Impl::bitfield_b64() const {
  Bitfield b(static_cast<uint32_t>(manifest.chunks.size()));
  for (uint32_t i = 0; sched && i < sched->size(); ++i)
    if (sched->state(i) == S::have || claims_all()) b.set(i);
  return b.to_base64();
}

p2p::wire::Hello PeerNode::Impl::hello() const {
  Bitfield b(static_cast<uint32_t>(manifest.chunks.size()));
  for (uint32_t i = 0; i < sched->size(); ++i)
    if (sched->state(i) == S::have || claims_all()) b.set(i);
  // Links only between holders of the same manifest: the wire hello names the video and its digest.
  std::string video = opts.test_lie == "wrong-video" ? "some-other-video" : media::live_swarm_key(manifest.video_id, manifest_digest);
  return {opts.peer_id, video, static_cast<uint32_t>(manifest.chunks.size()), b.bytes()};
}

void PeerNode::Impl::fetch_manifest() {
  http->get(opts.server_url + "/videos/" + opts.video_id, kMaxManifestBytes, [this](net::HttpResult r) {
    if (r.status != 200) {
      std::string why = r.status == 0 ? r.error : "HTTP " + std::to_string(r.status) + " " + r.body;
      return finish(false, "cannot get the manifest of " + opts.video_id + " from " + opts.server_url + ": " + why);
    }
    auto m = manifest_from_json(r.body);
    if (!m) return finish(false, "the server sent a bad manifest: " + m.error());
    if (m->video_id != opts.video_id) return finish(false, "the server sent the manifest of another video");
    std::string canonical = manifest_to_json(*m);
    manifest_digest = sha256_hex(canonical.data(), canonical.size());
    auto j = jsonf::parse_object(r.body);
    if (j && jsonf::field(*j, "manifest_digest") && jsonf::str_or(*j, "manifest_digest") != manifest_digest)
      return finish(false, "the manifest does not match its manifest_digest");
    if (j && jsonf::str(*j, "token")) take_token(*jsonf::str(*j, "token"));
    manifest = std::move(*m);
    open_file();
  });
}

void PeerNode::Impl::take_token(const std::string& token) {
  auto claims = parse_token(token);
  if (!claims) return;
  join_token = token;
  if (signal) signal->set_token(token);
  // Half the token's life: time to renew before the signaller drops us.
  double left = static_cast<double>(claims->expires - wall_ms() / 1000);
  renew_at = mono_seconds() + std::max(5.0, left / 2);
}

void PeerNode::Impl::renew_token() {
  renewing = true;
  http->get(opts.server_url + "/videos/" + opts.video_id, kMaxManifestBytes, [this](net::HttpResult r) {
    renewing = false;
    auto j = jsonf::parse_object(r.body);
    if (r.status == 200 && j && jsonf::str_or(*j, "manifest_digest") == manifest_digest && jsonf::str(*j, "token"))
      return take_token(*jsonf::str(*j, "token"));
    log::warn("cannot renew the join token (HTTP " + std::to_string(r.status) + "); trying again in 10 s");
    renew_at = mono_seconds() + 10;
  });
}

void PeerNode::Impl::open_file() {
  file = std::make_shared<ChunkFile>(opts.output, manifest);
  auto f = file;
  auto cancel = cancel_blocking;
  run_blocking<Result<std::vector<bool>>>(loop, [f, cancel] { return f->open(cancel.get()); }, [this](Result<std::vector<bool>> have) {
    if (stopping) return;
    if (!have) return finish(false, have.error());
    sched = std::make_unique<ChunkScheduler>(manifest.chunks.size());
    spread_start = static_cast<uint32_t>(std::random_device{}() % std::max<size_t>(1, manifest.chunks.size()));
    size_t resumed = 0;
    for (uint32_t i = 0; i < have->size(); ++i)
      if ((*have)[i]) {
        sched->set(i, S::have);
        resumed++;
      }
    n.resumed = resumed;
    start_from.assign(std::min(kStartChunks, have->size()), "");
    for (uint32_t i = 0; i < start_from.size(); ++i)
      if ((*have)[i]) start_from[i] = "resumed";
    if (resumed > 0)
      log::info("resuming " + opts.video_id + ": " + std::to_string(resumed) + "/" + std::to_string(have->size()) +
                " chunks already verified in " + (file->finished() ? file->output() : file->part_path()));
    begin();
  });
}

void PeerNode::Impl::begin() {
  // A finished file that is not to be seeded has nothing to do in a swarm.
  if (!opts.signal_url.empty() && !(sched->complete() && opts.seed_for == 0)) join_swarm();
  start_tick([this] { on_tick(); });
  schedule();
}

void PeerNode::Impl::on_tick() {  // 20 ms: paces uploads and checks deadlines
  check_peer_deadlines();
  run_upload_queue();
  release_sent_uploads();
  grant_next_upload();
  if (ticks % 50 == 0) {  // once a second: drop links that stopped taking data, renew the token in time
    check_send_stalls();
    if (signal && renew_at > 0 && !renewing && mono_seconds() >= renew_at) renew_token();
  }
  schedule();
  progress(false);
  if (finished && opts.seed_for >= 0 && mono_seconds() >= seed_until) finish(true, "done");
}

void PeerNode::Impl::schedule() {
  if (stopping || !sched) return;
  if (opts.test_lie == "request-flood") return discover();  // TEST ONLY: it only finds victims
  if (sched->complete()) {
    if (!finished) complete();
    return;
  }
  double now = mono_seconds();
  wake_rested(now);
  // Steps 3 and 6: the server, while it serves. After a refusal only one probe goes out at a time,
  // and only once Retry-After has passed; chunks that connected peers hold are left to them.
  bool in_swarm = started_swarm && !links.empty();
  int slots = opts.server_slots == 0 ? 0 : server_refusing ? 1 : server_slots_now;
  while (server_in_flight < slots && now >= server_retry_at) {
    auto idx = in_swarm ? sched->next_for_server_spread(static_cast<size_t>(opts.urgent_chunks), spread_start)
                        : sched->next_for_server();
    if (!idx) break;
    fetch_from_server(*idx);
  }
  // Step 5: peers, rarest first, to the least busy link that holds the chunk.
  bool peers_only = opts.server_slots == 0;
  if (server_refusing || in_swarm || peers_only) {
    Pass pass;
    for (uint32_t idx : sched->rarest_first(256)) {
      PeerLink* best = pick_link(idx, nullptr, pass);
      if (best == nullptr) continue;
      best->request(idx);
      sched->set(idx, S::peer);
      peer_requests[idx] = {best->remote(), now + static_cast<double>(opts.peer_timeout_ms) / 1000.0};
    }
  }
  if (server_refusing || in_swarm || peers_only) endgame();
  if (server_refusing || peers_only) discover();
}

namespace {
// A link is pinged when it comes up. Until its pong is back, its RTT is taken to be at least this (or
// the time waited, when longer): pessimistic, so it gets only chunks that measured links would not
// reach sooner, and a remote that answers no ping is slow in the ranking but not left out.
constexpr double kUnmeasuredMs = 1000;

bool measured(const PeerLink& l) { return l.rtt_ms() > 0 || l.service_ms() > 0; }

// The measured time per chunk, or longer while the link sits on a request past it: a remote that served
// one chunk fast and then answers nothing does not stay the best place for every request.
double service_now(const PeerLink& l) { return l.service_ms() > 0 ? std::max(l.service_ms(), l.overdue_ms()) : 0; }

// When one more request on `l` should complete, in ms, with `queued` requests ahead of it there. A link
// is a pipe: a round trip of latency, then one service time per chunk, for the queued ones and then
// this one. A link with no chunk yet is taken to be as fast as `seed` (the fastest measured link:
// optimistic, so that it gets tried) or, with none, its RTT per chunk.
double expected_ms(const PeerLink& l, size_t queued, double seed) {
  double rtt = measured(l) ? l.rtt_ms() : std::max(kUnmeasuredMs, l.up_ms());
  double service = std::max(l.service_ms() > 0 ? l.service_ms() : seed > 0 ? seed : rtt, l.overdue_ms());
  return std::max(rtt, static_cast<double>(queued) * service) + service;
}
}  // namespace

PeerLink* PeerNode::Impl::pick_link(uint32_t idx, const PeerLink* except, Pass& pass) {
  // "random": any link that holds the chunk and has room (the baseline the benchmark compares against).
  // "rtt": the link where the request is expected to complete first (expected_ms), counting what is in
  // flight there plus the chunks this pass already left waiting for it. If that link is full, the chunk
  // waits for it too (nullptr): a far link's free slots stay empty while a near one, queue included, is
  // sooner, and the far link gets a chunk once it would finish it before the near queue gets to it.
  // While no holder is measured (the first pongs are one round trip away) nothing is asked, so the
  // first chunks do not go to whichever link happened to come up first.
  static thread_local std::mt19937 rng{std::random_device{}()};
  const size_t room = static_cast<size_t>(opts.requests_per_link);
  bool random = opts.peer_select == "random", any_measured = false;
  PeerLink *best = nullptr, *best_full = nullptr;
  double best_cost = 0, best_full_cost = 0, now = mono_seconds();
  if (pass.seed < 0) {
    pass.seed = 0;
    for (auto& [id, l] : links)
      if (double s = service_now(*l); s > 0 && (pass.seed == 0 || s < pass.seed)) pass.seed = s;
  }
  for (auto& [id, l] : links) {
    if (l.get() == except || !claims(*l, idx, now) || l->requested(idx)) continue;
    any_measured = any_measured || measured(*l) || l->up_ms() >= kUnmeasuredMs;
    auto w = pass.waiting.find(l.get());
    size_t queued = l->in_flight() + (w == pass.waiting.end() ? 0 : w->second);
    double cost = random ? std::uniform_real_distribution<double>(0, 1)(rng) : expected_ms(*l, queued, pass.seed);
    if (l->in_flight() >= room) {
      if (!random && (best_full == nullptr || cost < best_full_cost)) {
        best_full = l.get();
        best_full_cost = cost;
      }
    } else if (best == nullptr || cost < best_cost) {
      best = l.get();
      best_cost = cost;
    }
  }
  if (random) return best;
  if (!any_measured) return nullptr;
  if (best_full != nullptr && (best == nullptr || best_full_cost < best_cost)) {
    pass.waiting[best_full]++;
    return nullptr;
  }
  return best;
}

void PeerNode::Impl::endgame() {
  // The tail of a download: nothing is left to assign, so a slow peer holding the last chunks decides
  // the finish time. Ask a second peer for each chunk still in flight (BitTorrent's endgame); the first
  // copy wins and the other request is cancelled.
  if (!opts.endgame || peer_requests.empty() || peer_requests.size() > 8 || sched->missing() > 0) return;
  auto in_flight = peer_requests;  // a send that fails closes a link, whose on_closed edits peer_requests
  Pass pass;
  for (auto& [idx, owner] : in_flight) {
    auto first = links.find(owner.first);
    if (first == links.end()) continue;
    bool asked_twice = false;
    for (auto& [id, l] : links) asked_twice = asked_twice || (l.get() != first->second.get() && l->requested(idx));
    if (asked_twice) continue;
    if (PeerLink* second = pick_link(idx, first->second.get(), pass)) {
      second->request(idx);
      n.endgame_requests++;
    }
  }
}

bool PeerNode::Impl::hand_over(uint32_t idx, const PeerLink& from) {
  auto it = peer_requests.find(idx);
  if (it == peer_requests.end()) return false;
  for (auto& [id, other] : links)
    if (other.get() != &from && other->ready() && other->requested(idx)) {
      it->second = {id, mono_seconds() + static_cast<double>(opts.peer_timeout_ms) / 1000.0};
      return true;
    }
  return false;
}

void PeerNode::Impl::fetch_from_server(uint32_t idx) {
  sched->set(idx, S::server);
  server_in_flight++;
  const ChunkRef& c = manifest.chunks[idx];
  http->get(opts.server_url + "/chunks/" + c.id, c.size, [this, idx](net::HttpResult r) {
    server_in_flight--;
    if (stopping) return;
    if (r.status == 200) {
      if (server_refusing) {
        n.server_returns++;
        log::info("content server has capacity again; fetching from it (step 6)");
      }
      server_refusing = false;
      server_backoff = 1;
      if (++server_successes % 4 == 0 && server_slots_now < opts.server_slots) server_slots_now++;
      accept_chunk(idx, std::move(r.body), "");
    } else {
      sched->set(idx, S::missing);
      if (r.status == 503 && server_in_flight > 0) {
        // Refused while another of our own requests holds a slot: we are at the server's share for
        // us, not shut out. Ask less at once instead of leaving the server.
        n.refusals++;
        server_slots_now = std::max(1, server_in_flight);
      } else {
        on_server_refusal(idx, r);
      }
    }
    schedule();
  });
}

void PeerNode::Impl::on_server_refusal(uint32_t, const net::HttpResult& r) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  double wait;
  if (r.status == 503) {
    n.refusals++;
    if (!server_refusing) log::info("content server over capacity; switching to the swarm (step 4)");
    auto j = jsonf::parse_object(r.body);  // a lying server's {"signal_url":5} is ignored, not thrown
    if (j && jsonf::str_or(*j, "manifest_digest") == manifest_digest && jsonf::str(*j, "token")) take_token(*jsonf::str(*j, "token"));
    if (opts.signal_url.empty() && j && !jsonf::str_or(*j, "signal_url").empty()) {
      opts.signal_url = jsonf::str_or(*j, "signal_url");
      if (const auto* urls = jsonf::array(*j, "signal_urls")) {  // owner first, then the fail-over order
        std::string all;
        for (auto& u : *urls)
          if (u.is_string() && u.get<std::string>().find(',') == std::string::npos) all += (all.empty() ? "" : ",") + u.get<std::string>();
        if (!all.empty()) opts.signal_url = all;
      }
      log::info("swarm for " + opts.video_id + " is at " + opts.signal_url);
    }
    wait = r.retry_after >= 0 ? std::max(0.2, static_cast<double>(r.retry_after)) : 1.0;
  } else {
    n.server_errors++;
    log::warn("content server: " + (r.status ? "HTTP " + std::to_string(r.status) : r.error));
    wait = server_backoff;
    server_backoff = std::min(30.0, server_backoff * 2);
  }
  server_refusing = true;
  // Jitter: refused peers must not come back in lock-step.
  wait *= std::uniform_real_distribution<double>(0.8, 1.3)(rng);
  server_retry_at = std::max(server_retry_at, mono_seconds() + wait);
  join_swarm();
}

void PeerNode::Impl::join_swarm() {
  if (started_swarm || opts.signal_url.empty()) return;
  started_swarm = true;
  auto joined = [this] {
    log::info("joined the swarm of " + manifest.video_id + " as " + opts.peer_id);
    next_lookup_at = 0;
    schedule();
  };
  PeerCore::join_swarm(manifest.video_id, static_cast<uint32_t>(manifest.chunks.size()), manifest_digest, false, join_token,
                       joined, [this] { return bitfield_b64(); });
}

void PeerNode::Impl::discover() {
  if (can_look_up()) look_up(sched->missing_list(256));  // the holders of the most of what we miss
}

namespace {
// Links refused for what the remote sent (a bad description, a protocol error, an offer that replaced
// ours), as opposed to links ICE could not establish: only the latter earn the NAT advice.
bool remote_fault(const std::string& why) {
  for (const char* p : {"dtls:", "sdp:", "sctp:", "ice: remote description", "ice: candidate", "remote a=max-message-size",
                        "protocol error", "unexpected ", "a second ", "replaced by the remote's offer", "half-open inbound link"})
    if (why.rfind(p, 0) == 0) return true;
  return false;
}
}  // namespace

PeerLinks::Hooks PeerNode::Impl::link_hooks() {
  PeerLinks::Hooks k;
  k.hello = [this] { return hello(); };
  k.chunk_size = [this](uint32_t i) -> uint64_t { return i < manifest.chunks.size() ? manifest.chunks[i].size : 0; };
  PeerLink::Handlers& h = k.link;
  h.on_ready = [this](PeerLink& l) {
    log::info("link to " + l.remote() + " ready (" + (l.pair_type().empty() ? "?" : l.pair_type()) + ")");
    record(l, "");
    if (sched) count_link(l, mono_seconds());
    if (opts.test_send_garbage) {
      // TEST ONLY: a message of an unknown type; the remote must drop the link and carry on.
      l.send_raw(std::string("\x63garbage"));
      return;
    }
    if (opts.test_lie == "request-flood") {
      // TEST ONLY: 5000 requests for chunk 0 at once; the copies that come back are dropped unread
      // (a cancelled chunk's pieces are discarded quietly).
      l.request(0);
      l.cancel(0);
      for (int k = 0; k < 5000; ++k) l.send_raw(p2p::wire::encode_request(0));
      return;
    }
    if (opts.test_lie == "flood") {
      // TEST ONLY: pieces nobody asked for, as fast as the link takes them.
      for (uint32_t k = 0; k < 64; ++k)
        l.send_raw(p2p::wire::encode_piece_header(k % sched->size(), 0, 65536) + std::string(65536, 'x'));
      return;
    }
    schedule();
  };
  h.on_chunk = [this](PeerLink& l, uint32_t idx, std::string data) {
    if (auto t = trust.find(l.remote()); t != trust.end()) t->second.rejects_in_row = 0;
    peer_requests.erase(idx);
    for (auto& other : peer_links.snapshot())  // an endgame duplicate still in flight elsewhere is no longer needed
      if (other.get() != &l && other->requested(idx)) other->cancel(idx);
    accept_chunk(idx, std::move(data), l.remote());
  };
  h.on_request = [this](PeerLink& l, uint32_t idx) { serve(l, idx); };
  h.on_have = [this](PeerLink& l, uint32_t idx) {
    if (auto t = trust.find(l.remote()); t != trust.end()) t->second.denied.erase(idx);
    if (auto c = counted.find(&l); c != counted.end() && !c->second[idx]) {
      c->second[idx] = true;
      sched->add_holder(idx);
    }
    schedule();
  };
  h.on_reject = [this](PeerLink& l, uint32_t idx, p2p::wire::RejectReason why) { on_reject(l, idx, why); };
  h.on_closed = [this](PeerLink& l, const std::string& why) {
    if (l.fingerprint_mismatch()) {
      n.dtls_mismatches++;
      log::warn("link to " + l.remote() + " refused: " + why);
    } else {
      log::info("link to " + l.remote() + " closed: " + why);
    }
    if (!l.ever_ready()) {
      n.unreachable++;
      bool any_ready = false;
      for (auto& [id, other] : links) any_ready = any_ready || other->ready();
      // The NAT advice is for links ICE could not establish, not for remotes refused at DTLS/SDP level.
      if (!any_ready && !remote_fault(why))
        log::warn("cannot reach peer " + l.remote() + " (" + why + "): no direct route and no working STUN/TURN " +
                  "(set --stun/--turn, see docs/nat.md); continuing with the content server");
    }
    uncount_link(l);
    trust.erase(l.remote());
    uploads_by_link.erase(l.remote());
    for (auto it = peer_requests.begin(); it != peer_requests.end();) {
      if (it->second.first == l.remote() && hand_over(it->first, l)) {
        ++it;
      } else if (it->second.first == l.remote()) {
        if (sched->state(it->first) == S::peer) sched->set(it->first, S::missing);
        it = peer_requests.erase(it);
      } else {
        ++it;
      }
    }
    if (!stopping) schedule();
  };
  return k;
}

void PeerNode::Impl::on_reject(PeerLink& l, uint32_t idx, p2p::wire::RejectReason why) {
  // What the reject says about the remote: not re-asked at once (that was a livelock against a remote
  // that claims everything and rejects everything).
  auto& t = trust[l.remote()];
  ++t.rejects_in_row;
  if (why == p2p::wire::RejectReason::not_held) {
    t.denied.insert(idx);
    if (auto c = counted.find(&l); c != counted.end() && c->second[idx]) {
      c->second[idx] = false;
      sched->remove_holder(idx);
    }
  } else {
    t.rest_until = mono_seconds() + std::min(5.0, 0.1 * std::pow(2.0, std::min(t.rejects_in_row, 10) - 1));
    uncount_link(l);
    resting[&l] = t.rest_until;
  }
  bool ban = t.rejects_in_row >= kMaxRejectsInRow && why == p2p::wire::RejectReason::not_held;
  auto it = peer_requests.find(idx);
  if (it != peer_requests.end() && it->second.first != l.remote()) {
    // An endgame duplicate refused: the first request still runs under its own deadline.
  } else if (!hand_over(idx, l)) {
    peer_requests.erase(idx);
    if (sched->state(idx) == S::peer) sched->set(idx, S::missing);
    sched->set_server_first(idx, true);  // the server gets first go at it
  }
  if (ban) {
    bad_peers.push_back(l.remote());
    return peer_links.ban(l.remote(), "rejected " + std::to_string(t.rejects_in_row) + " requests in a row for chunks it claimed");
  }
  schedule();
}

void PeerNode::Impl::count_link(const PeerLink& l, double now) {
  uncount_link(l);
  if (!l.ready()) return;
  auto t = trust.find(l.remote());
  if (t != trust.end() && now < t->second.rest_until) {
    resting[&l] = t->second.rest_until;
    return;
  }
  auto& c = counted[&l];
  c.assign(sched->size(), false);
  for (uint32_t i = 0; i < sched->size(); ++i)
    if (l.remote_has(i) && (t == trust.end() || !t->second.denied.count(i))) {
      c[i] = true;
      sched->add_holder(i);
    }
}

void PeerNode::Impl::uncount_link(const PeerLink& l) {
  resting.erase(&l);
  auto c = counted.find(&l);
  if (c == counted.end()) return;
  for (uint32_t i = 0; i < c->second.size(); ++i)
    if (c->second[i]) sched->remove_holder(i);
  counted.erase(c);
}

void PeerNode::Impl::wake_rested(double now) {
  for (auto it = resting.begin(); it != resting.end();) {
    const PeerLink* p = it->first;
    double until = it->second;
    ++it;
    if (now < until) continue;
    for (auto& [id, l] : links)
      if (l.get() == p) {
        count_link(*l, now);  // edits `resting` (this entry only)
        break;
      }
  }
}

void PeerNode::Impl::accept_chunk(uint32_t idx, std::string data, const std::string& from_peer) {
  if (sched->state(idx) == S::have || sched->state(idx) == S::verifying) return;
  sched->set(idx, S::verifying);
  auto f = file;
  std::string expect = manifest.chunks[idx].id;
  uint64_t size = data.size();
  auto shared = std::make_shared<std::string>(std::move(data));
  run_blocking<std::string>(
      loop,
      [f, idx, shared, expect]() -> std::string {
        if (sha256_hex(shared->data(), shared->size()) != expect) return "bad";
        auto w = f->write(idx, *shared);
        return w ? "" : w.error();
      },
      [this, idx, from_peer, size](std::string err) {
        if (stopping) return;
        if (err == "bad") {
          n.bad_chunks++;
          sched->set(idx, S::missing);
          std::string who = from_peer.empty() ? "the content server" : "peer " + from_peer;
          log::warn("chunk " + std::to_string(idx) + " from " + who + " failed SHA-256 verification; discarded");
          if (from_peer.empty()) {
            // A server that sends bad bytes is asked again only after a pause (1 s, 2 s, ...), and
            // after kMaxBadServerCopies bad copies of one chunk the download stops with a clear error.
            int bad = ++server_bad_copies[idx];
            if (bad >= kMaxBadServerCopies)
              return finish(false, "the content server sent " + std::to_string(bad) + " corrupt copies of chunk " +
                                       std::to_string(idx) + " (SHA-256 mismatch); giving up");
            server_retry_at = std::max(server_retry_at, mono_seconds() + static_cast<double>(1 << (bad - 1)));
          } else {
            bad_peers.push_back(from_peer);
            peer_links.ban(from_peer, "sent a corrupt chunk");
          }
        } else if (!err.empty()) {
          sched->set(idx, S::missing);
          return finish(false, "cannot write the output: " + err + " (the partial download is kept)");
        } else {
          on_verified(idx, from_peer, size);
        }
        schedule();
      });
}

void PeerNode::Impl::on_verified(uint32_t idx, const std::string& from_peer, uint64_t size) {
  if (t_first == 0) t_first = mono_seconds();
  sched->set(idx, S::have);
  sched->set_server_first(idx, false);
  if (idx < start_from.size()) start_from[idx] = from_peer.empty() ? "server" : from_peer;
  if (from_peer.empty()) n.from_server += size;
  else n.from_peers += size;
  announce(idx);  // serve it from now on
}

void PeerNode::Impl::serve(PeerLink& link, uint32_t idx) {
  if (opts.test_lie == "claim") return;  // TEST ONLY: a peer that never answers
  if (opts.test_lie == "reject" || opts.test_lie == "busy")  // TEST ONLY: claims all, rejects every request
    return link.reject(idx, opts.test_lie == "busy" ? p2p::wire::RejectReason::busy : p2p::wire::RejectReason::not_held);
  if (idx >= sched->size() || sched->state(idx) != S::have) {
    link.reject(idx, p2p::wire::RejectReason::not_held);
    return;
  }
  auto& mine = uploads_by_link[link.remote()];
  if (mine.count(idx)) {  // a duplicate: the copy already on its way answers it
    n.duplicate_requests++;
    return;
  }
  if (mine.size() >= kMaxUploadsPerLink || link.backlog() > kMaxQueuedUpload ||
      ((uploads >= opts.upload_slots || at_share(link.remote())) && waiting_uploads.size() >= 64)) {
    n.rejected_uploads++;
    link.reject(idx, p2p::wire::RejectReason::busy);
    return;
  }
  mine.insert(idx);
  n.peak_link_uploads = std::max<uint64_t>(n.peak_link_uploads, mine.size());
  if (uploads >= opts.upload_slots || at_share(link.remote())) {
    // All slots busy (or this remote holds its share): wait for one; the preference list decides who gets
    // it (grant_next_upload).
    waiting_uploads.push_back({link.shared_from_this(), idx, mono_seconds()});
    return;
  }
  start_upload(link.shared_from_this(), idx);
}

void PeerNode::Impl::start_upload(std::weak_ptr<PeerLink> weak, uint32_t idx) {
  uploads++;
  if (auto l = weak.lock()) slots_by_link[l->remote()]++;
  else slots_by_link[""]++;
  if (signal) signal->load(static_cast<uint32_t>(uploads));
  if (opts.upload_rate == 0) return upload(weak, idx);
  // --upload-rate: each chunk leaves when the budget allows, in request order.
  double now = mono_seconds();
  next_upload_at = std::max(next_upload_at, now);
  upload_queue.push_back({next_upload_at, weak, idx});
  next_upload_at += static_cast<double>(manifest.chunks[idx].size) / static_cast<double>(opts.upload_rate);
  run_upload_queue();
}

void PeerNode::Impl::run_upload_queue() {
  double now = mono_seconds();
  while (!upload_queue.empty() && upload_queue.front().due <= now) {
    auto u = upload_queue.front();
    upload_queue.pop_front();
    upload(u.link, u.idx);
  }
}

void PeerNode::Impl::upload(std::weak_ptr<PeerLink> weak, uint32_t idx) {
  auto f = file;
  bool corrupt = opts.test_corrupt_uploads;
  auto held = weak.lock();
  std::string remote = held ? held->remote() : "";
  held.reset();
  run_blocking<Result<std::string>>(loop, [f, idx] { return f->read(idx); }, [this, weak, idx, corrupt, remote](Result<std::string> data) {
    auto l = weak.lock();
    bool sent = false;
    if (l && !l->closed() && !stopping) {
      // Checked again now that the bytes are here: a request granted from the waiting list must not pile
      // a chunk onto a link whose queue filled up meanwhile.
      if (!data || l->backlog() > kMaxQueuedUpload) {
        if (data) n.rejected_uploads++;
        l->reject(idx, p2p::wire::RejectReason::busy);
      } else {
        if (corrupt && !data->empty()) (*data)[data->size() / 2] ^= 0x5a;
        sent = l->send_chunk(idx, *data);  // false: the remote cancelled while we read it
        if (sent) {
          n.uploaded += data->size();
          n.upload_chunks++;
        }
      }
    }
    // The slot is held until the link has handed the chunk to SCTP (release_sent_uploads), so
    // --upload-slots bounds uploads, not disk reads, and a slow link keeps its slot busy.
    if (sent && l->sending(idx)) {
      sending_uploads.push_back({weak, idx, remote});
      return;
    }
    upload_over(remote, idx);
    slot_freed(remote);
    grant_next_upload();
  });
}

void PeerNode::Impl::release_sent_uploads() {
  for (auto it = sending_uploads.begin(); it != sending_uploads.end();) {
    auto l = it->link.lock();
    if (l && l->sending(it->idx)) {
      ++it;
      continue;
    }
    upload_over(it->remote, it->idx);
    slot_freed(it->remote);
    it = sending_uploads.erase(it);
  }
}

void PeerNode::Impl::grant_next_upload() {
  double now = mono_seconds();
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  while (uploads < opts.upload_slots && !waiting_uploads.empty()) {
    // Drop requests whose link is gone, and tell those that waited too long to look elsewhere.
    std::vector<UploadCandidate> cands;
    std::vector<size_t> index;
    for (size_t i = 0; i < waiting_uploads.size();) {
      auto l = waiting_uploads[i].link.lock();
      double waited_ms = (now - waiting_uploads[i].since) * 1000.0;
      if (!l || l->closed() || waited_ms > static_cast<double>(opts.peer_timeout_ms) / 2 ||
          l->backlog() > kMaxQueuedUpload) {
        if (l) upload_over(l->remote(), waiting_uploads[i].idx);
        if (l && !l->closed()) l->reject(waiting_uploads[i].idx, p2p::wire::RejectReason::busy);
        waiting_uploads.erase(waiting_uploads.begin() + static_cast<long>(i));
        continue;
      }
      if (!at_share(l->remote())) {  // a remote at its share waits for one of its own slots
        cands.push_back({l->bytes_in(), l->rtt_ms(), waiting_uploads[i].since});
        index.push_back(i);
      }
      ++i;
    }
    if (cands.empty()) return;
    size_t k = index[pick_upload(cands, upload_grants++, rng())];
    auto w = waiting_uploads[k];
    waiting_uploads.erase(waiting_uploads.begin() + static_cast<long>(k));
    start_upload(w.link, w.idx);
  }
}

void PeerNode::Impl::check_send_stalls() { n.stalled_links += drop_stalled_links(kSendStallMs, "link"); }

void PeerNode::Impl::check_peer_deadlines() {
  double now = mono_seconds();
  for (auto it = peer_requests.begin(); it != peer_requests.end();) {
    if (now < it->second.second) {
      ++it;
      continue;
    }
    // Too slow: take the chunk back; the server gets first go at it (step 6).
    uint32_t idx = it->first;
    auto l = links.find(it->second.first);
    n.peer_timeouts++;
    if (l != links.end()) {
      // A peer that cannot deliver one chunk in time is dead or overloaded: drop it (its other
      // requests are re-queued by on_closed); a lookup may bring it back later.
      auto link = l->second;
      peer_requests.erase(it);  // before sending: a failed send closes the link and edits the map
      link->cancel(idx);
      if (sched->state(idx) == S::peer) sched->set(idx, S::missing);
      sched->set_server_first(idx, true);
      link->close("did not deliver chunk " + std::to_string(idx) + " within " + std::to_string(opts.peer_timeout_ms) + " ms");
      it = peer_requests.begin();  // on_closed edited the map
      continue;
    }
    if (sched->state(idx) == S::peer) sched->set(idx, S::missing);
    sched->set_server_first(idx, true);
    it = peer_requests.erase(it);
  }
}

void PeerNode::Impl::complete() {
  finished = true;
  t_done = mono_seconds();
  seed_until = INFINITY;  // set for real once the output is renamed; the tick must not stop us before that
  auto f = file;
  run_blocking<Result<void>>(loop, [f] { return f->finish(); }, [this](Result<void> r) {
    if (!r) return finish(false, r.error());
    progress(true);
    log::info("complete: " + opts.output + " (" + std::to_string(manifest.total_size) + " bytes, " +
              std::to_string(n.from_server) + " from the server, " + std::to_string(n.from_peers) + " from peers)");
    seed_until = opts.seed_for < 0 ? INFINITY : mono_seconds() + opts.seed_for;
    if (opts.seed_for == 0) finish(true, "done");
  });
}

void PeerNode::Impl::progress(bool force) {
  if (!opts.progress || !sched) return;
  double now = mono_seconds();
  if (!force && now - last_progress < 0.5) return;
  last_progress = now;
  double secs = std::max(0.001, (finished ? t_done : now) - t0);
  std::fprintf(stderr, "\r%s: %zu/%zu chunks  server %.1f MB  peers %.1f MB  %.1f MB/s  links %zu%s", opts.video_id.c_str(),
               sched->held(), sched->size(), static_cast<double>(n.from_server) / 1e6, static_cast<double>(n.from_peers) / 1e6,
               static_cast<double>(n.from_server + n.from_peers) / 1e6 / secs, links.size(), force ? "\n" : "   ");
}

void PeerNode::Impl::finish(bool ok, const std::string& msg) {
  cancel_blocking->store(true);
  if (shut_down()) report(ok, msg);  // the message goes to `done` only: the role prints it once
}

PeerNode::PeerNode(uv_loop_t* loop, PeerOptions opts) : impl_(std::make_unique<Impl>(loop, std::move(opts))) {}

PeerNode::~PeerNode() { stop(); }

void PeerNode::start(std::function<void(bool, const std::string&)> done) {
  auto& I = *impl_;
  I.server_slots_now = std::max(1, I.opts.server_slots / 2);
  if (auto ok = I.open(std::move(done), I.link_hooks()); !ok) return I.finish(false, ok.error());
  if (I.opts.server_slots == 0 && I.opts.signal_url.empty())
    return I.finish(false, "--server-slots=0 (peers only) needs --signal-url");
  if (!I.opts.metrics_listen.empty()) {
    auto ok = I.serve_http("--metrics-listen", I.opts.metrics_listen, [this] { return summary_json(); },
                           [this](net::HttpRequest& r, net::HttpServer::Respond re) {
      if (r.path == "/metrics") return re(net::HttpResponse::text(200, metrics_text(), "text/plain; version=0.0.4"));
      re(net::HttpResponse::error(404, "only /metrics and /summary here"));
    });
    if (!ok) return I.finish(false, ok.error());
  }
  I.fetch_manifest();
}

void PeerNode::stop() {
  auto& I = *impl_;
  if (I.finished) return I.finish(true, "done");
  std::string msg = "stopped before completion";
  if (I.sched && I.file)
    msg += ": " + std::to_string(I.sched->held()) + "/" + std::to_string(I.sched->size()) + " chunks verified in " +
           I.file->part_path() + "; run the same command again to resume";
  I.finish(false, msg);
}

int PeerNode::metrics_port() const { return impl_->http_port(); }

std::string PeerNode::metrics_text() const {
  auto& I = *impl_;
  PrometheusText p;
  p.counter("hybridnode_peer_bytes_from_server_total", "Verified chunk bytes from the content server.", static_cast<double>(I.n.from_server));
  p.counter("hybridnode_peer_bytes_from_peers_total", "Verified chunk bytes from peers.", static_cast<double>(I.n.from_peers));
  p.counter("hybridnode_peer_bytes_uploaded_total", "Chunk bytes served to peers.", static_cast<double>(I.n.uploaded));
  p.counter("hybridnode_peer_server_refusals_total", "503 answers from the content server.", static_cast<double>(I.n.refusals));
  p.counter("hybridnode_peer_bad_chunks_total", "Chunks that failed SHA-256 verification.", static_cast<double>(I.n.bad_chunks));
  p.counter("hybridnode_peer_unreachable_total", "Peer links that never came up.", static_cast<double>(I.n.unreachable));
  p.counter("hybridnode_peer_stalled_links_total", "Peer links dropped: the remote took none of the data waiting for it for 10 s.",
            static_cast<double>(I.n.stalled_links));
  p.counter("hybridnode_peer_dtls_fingerprint_mismatches_total",
            "Peer links refused: the remote's DTLS certificate did not match the fingerprint its SDP announced.",
            static_cast<double>(I.n.dtls_mismatches));
  p.gauge("hybridnode_peer_chunks_held", "Verified chunks held.", I.sched ? static_cast<double>(I.sched->held()) : 0);
  p.gauge("hybridnode_peer_chunks_total", "Chunks in the video.", static_cast<double>(I.manifest.chunks.size()));
  std::map<std::string, int> pairs;
  for (auto& [id, l] : I.links)
    if (l->ready()) pairs[l->pair_type().empty() ? "unknown" : l->pair_type()]++;
  p.family("hybridnode_peer_links", "gauge", "Ready peer links by selected ICE candidate pair (local/remote type).");
  for (auto& [pair, count] : pairs) {
    auto slash = pair.find('/');
    std::string lt = slash == std::string::npos ? pair : pair.substr(0, slash);
    std::string rt = slash == std::string::npos ? "" : pair.substr(slash + 1);
    p.sample("hybridnode_peer_links", count, "local=\"" + lt + "\",remote=\"" + rt + "\"");
  }
  return p.str();
}

std::string PeerNode::summary_json() const {
  auto& I = *impl_;
  double secs = I.finished ? I.t_done - I.t0 : mono_seconds() - I.t0;
  nlohmann::json j = {{"complete", I.finished},
                      {"chunks", I.manifest.chunks.size()},
                      {"chunks_held", I.sched ? I.sched->held() : 0},
                      {"total_size", I.manifest.total_size},
                      {"chunks_uploaded", I.n.upload_chunks},
                      {"seconds", secs},
                      {"first_chunk_seconds", I.t_first > 0 ? I.t_first - I.t0 : -1.0},
                      {"first_chunks_from", I.start_from},
                      {"server_returns", I.n.server_returns},
                      {"bad_peers", I.bad_peers},
                      {"endgame_requests", I.n.endgame_requests},
                      {"unreachable_peers", I.n.unreachable},
                      {"resumed_chunks", I.n.resumed},
                      {"uploads_refused_busy", I.n.rejected_uploads},
                      {"upload_requests_duplicate", I.n.duplicate_requests},
                      {"upload_requests_peak_per_link", I.n.peak_link_uploads},
                      {"upload_links_stalled", I.n.stalled_links}};
  return I.PeerCore::summary_json(std::move(j), I.n);
}

}  // namespace hn
