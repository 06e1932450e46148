// Routes of the content server: catalog (step 1), manifest (step 2), chunk bytes (step 3) or a
// refusal that points to the swarm (step 4), plus /metrics and /healthz.
#include "hybridnode/content_server.h"

#include <sys/resource.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_set>

#include "content/catalog.h"
#include "content/chunk_cache.h"
#include "content/cors.h"
#include "content/live_channel.h"
#include "content/live_source.h"
#include "content/store_errors.h"
#include "content/vod_pages.h"
#include "content/web_root.h"
#include "media/hls.h"
#include "hybridnode/ids.h"
#include "net/byte_range.h"
#include "net/http_server.h"
#include "policy/shared_policy.h"
#include "signal/join_token.h"
#include "util/blocking_work.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/loop_thread.h"
#include "util/prometheus.h"
#include "util/rendezvous.h"

namespace hn {

using net::HttpRequest;
using net::HttpResponse;

// One Impl per loop. With --workers=N the caller's loop runs the first (the primary: it also refreshes
// the catalog and reads the live source) and N-1 more run on their own threads, each with its own
// listening socket on the same address (SO_REUSEPORT), connections, open-file cache, catalog snapshot
// and live-channel copy; the store, the capacity policy, the TLS context, the uplink budget and the
// counters are the process's (docs/scaling.md).
struct ContentServer::Impl {
  uv_loop_t* loop;
  ContentServerOptions opts;
  std::shared_ptr<ChunkStore> store;
  std::shared_ptr<CapacityPolicy> policy;
  // What every worker of the process sees: the workers themselves (for /metrics; fixed while they
  // run) and the long polls parked on all of them (--max-long-polls is per process).
  struct Shared {
    std::vector<Impl*> workers;
    std::atomic<size_t> long_polls_waiting{0};
  };
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  size_t index = 0;  // this loop's worker number; 0: the primary
  struct Worker;     // another loop on its own thread (primary only)
  std::vector<std::unique_ptr<Worker>> extra;
  net::UvHandle<uv_timer_t> live_expiry;  // workers: expires the long polls parked on their channel copy
  std::atomic<size_t> cache_capacity{0};   // mirrors cache.capacity() for /metrics on another loop
  std::atomic<size_t> long_polls_here{0};  // parked on this loop (a part of shared->long_polls_waiting)
  std::shared_ptr<content::Catalog> catalog = std::make_shared<content::Catalog>();
  std::vector<std::string> signallers;  // --signal-url split at commas
  content::ChunkCache cache;
  std::unique_ptr<net::HttpServer> http;
  net::UvHandle<uv_timer_t> refresh_timer;
  std::shared_ptr<content::LiveChannel> live;
  std::unique_ptr<content::LiveSource> live_source;
  content::OriginList cors{opts.cors_origin};
  std::unique_ptr<content::WebRoot> web_root;
  bool refreshing = false;
  uint64_t refresh_started_ms = 0;
  std::string catalog_version;   // the store's token for the catalog we hold ("" : it cannot tell)
  std::unordered_map<std::string, std::string> manifest_stamps;  // the store's stamp of each manifest held
  bool catalog_loaded = false;   // false until the store has answered once (e.g. MongoDB down at start)
  std::string store_error;       // the last catalog refresh failure, "" when the store answers
  size_t unknown_lookups = 0;    // store lookups in flight for chunk ids the catalog does not list

  // Atomic: /metrics, answered on any worker, sums every worker's.
  struct Counters {
    using C = std::atomic<uint64_t>;
    C chunks_served{0}, chunk_bytes{0}, transfers_aborted{0}, refusals{0}, not_found{0};
    C store_errors{0}, not_modified{0}, live_chunks_served{0}, long_polls{0};
    C long_polls_refused{0}, store_timeouts{0}, catalog_reloads{0}, manifests_loaded{0};
    C preflights{0}, playlists{0};
  } n;

  Impl(uv_loop_t* l, ContentServerOptions o, std::shared_ptr<ChunkStore> s, std::shared_ptr<CapacityPolicy> p)
      : loop(l), opts(std::move(o)), store(std::move(s)), policy(std::move(p)), cache(opts.open_chunk_cache) {}
  ~Impl();

  Result<void> start_http(const net::HostPort& where, std::shared_ptr<net::HttpShared> http_shared);
  Result<void> start_workers(const net::HostPort& where);
  void stop_workers();
  void stop();
  // Primary: hands the catalog (and whether the store answers) to every other worker.
  void share_catalog();
  // Sum of a counter over every worker.
  template <class F>
  uint64_t total(F f) const {
    uint64_t sum = 0;
    for (const Impl* w : shared->workers) sum += f(*w);
    return sum;
  }

  void handle_with_cors(HttpRequest& req, net::HttpServer::Respond respond);
  void handle(HttpRequest& req, net::HttpServer::Respond respond);
  void handle_page(HttpRequest& req, net::HttpServer::Respond respond);
  void handle_live(HttpRequest& req, const std::string& rest, net::HttpServer::Respond respond);
  // Range and If-Range as sent (copied: a store answer arrives after the request is gone).
  struct RangeAsk {
    std::optional<std::string> range, if_range;
  };
  static RangeAsk range_ask(const HttpRequest& req);
  // A Range no byte of a `size`-byte chunk satisfies: the 416 to answer, before any capacity check
  // (a bad request is the client's error whatever the load).
  static std::optional<HttpResponse> unsatisfiable(const RangeAsk& ask, const std::string& id, uint64_t size);
  void serve_live_chunk(const content::LiveChunk& c, const HttpRequest& req, net::HttpServer::Respond respond) {
    serve_live_chunk(c, req.method == "HEAD", range_ask(req), std::move(respond));
  }
  void serve_live_chunk(const content::LiveChunk& c, bool head, const RangeAsk& ask, net::HttpServer::Respond respond);
  void serve_chunk(HttpRequest& req, const std::string& id, net::HttpServer::Respond respond);
  void serve_unknown_chunk(const HttpRequest& req, const std::string& id, net::HttpServer::Respond respond);
  // What the catalog says of a listed chunk, copied: a store answer arrives after the catalog may be swapped.
  struct Listed {
    uint64_t size;  // exact, from the manifest
    bool ts;        // an HLS segment (video/mp2t)
  };
  using SharedSlot = std::shared_ptr<std::unique_ptr<TransferSlot>>;
  void open_chunk(const std::string& id, Listed listed, const RangeAsk& ask, net::HttpServer::Respond respond, SharedSlot slot,
                  bool may_retry);
  // HEAD of a listed chunk: its length from the store's metadata (GridFS: fs.files), never its bytes.
  void head_chunk(const std::string& id, Listed listed, const RangeAsk& ask, net::HttpServer::Respond respond);
  // vid: the video that lists the chunk (nullptr: none known).
  HttpResponse refusal(const std::string& chunk_id, const std::string* vid) const;
  // A chunk answer from an open file region, or from a shared in-memory buffer (`mem`) when given, or
  // (HEAD from metadata) from a source with neither fd nor bytes, only its length.
  HttpResponse chunk_response(const ChunkSource& src, const std::string& id, bool ts, std::unique_ptr<TransferSlot> slot,
                              const RangeAsk& ask, std::shared_ptr<const std::string> mem = nullptr);
  std::string metrics() const;
  void refresh_catalog();
  // A JSON object (as text) with the swarm fields appended: manifest_digest (videos) and, with a
  // swarm secret, the join token for (video, content) bound to `viewer`.
  std::string with_swarm_fields(const std::string& obj, const std::string& video, const std::string& content,
                                const char* content_field, const std::string& viewer) const;
  std::string token_for(const std::string& video, const std::string& content, const std::string& viewer) const;
  // ?viewer=V&sig=S on a manifest URL: the viewer id to bind, "" without one; nullopt for a bad signature.
  std::optional<std::string> viewer_of(const HttpRequest& req, const std::string& video) const;
};

namespace {
bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// If-None-Match (RFC 9110 13.1.2): "*" or a list of entity tags, compared weakly. A chunk's tag is its id.
bool etag_matches(const std::string& header, const std::string& id) {
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t comma = header.find(',', pos);
    std::string tag = header.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    tag.erase(0, tag.find_first_not_of(" \t"));
    tag.erase(tag.find_last_not_of(" \t") + 1);
    if (tag.rfind("W/", 0) == 0) tag.erase(0, 2);
    if (tag == "*" || tag == "\"" + id + "\"" || tag == id) return true;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return false;
}

HttpResponse method_not_allowed(const char* allow) {
  auto r = HttpResponse::error(405, "method not allowed");
  r.headers.emplace_back("Allow", allow);
  return r;
}
}  // namespace

// Every answer carries the CORS headers; a preflight is answered here, before any route or slot.
void ContentServer::Impl::handle_with_cors(HttpRequest& req, net::HttpServer::Respond respond) {
  if (req.method == "OPTIONS") {
    n.preflights++;
    return respond(content::cors_preflight(cors, req));
  }
  if (cors.off()) return handle(req, std::move(respond));
  const std::string* o = req.header("origin");
  std::shared_ptr<std::string> origin = o ? std::make_shared<std::string>(*o) : nullptr;
  handle(req, [this, origin, respond](HttpResponse r) {
    content::add_cors_headers(cors, origin.get(), r);
    respond(std::move(r));
  });
}

// Outside the API: the web root's files, or a small HTML catalog at /.
void ContentServer::Impl::handle_page(HttpRequest& req, net::HttpServer::Respond respond) {
  // The player is one page for every video: /watch/{id} is served as watch.html, which reads the id from
  // its own URL (docs/web.md); any other path under /watch/ stays a plain file path.
  if (web_root && req.path.rfind("/watch/", 0) == 0 && req.path.size() > 7 &&
      req.path.find('/', 7) == std::string::npos)
    req.path = "/watch.html";
  if (web_root) return web_root->serve(loop, req, std::move(respond));
  if (req.path != "/" && req.path != "/index.html") return respond(HttpResponse::error(404, "no such resource"));
  auto r = HttpResponse::text(200, content::catalog_html(*catalog->catalog_json()), "text/html; charset=utf-8");
  r.headers.emplace_back("Cache-Control", "no-cache");
  respond(std::move(r));
}

void ContentServer::Impl::handle(HttpRequest& req, net::HttpServer::Respond respond) {
  const std::string& path = req.path;
  bool get = req.method == "GET" || req.method == "HEAD";
  if (starts_with(path, "/chunks/")) {
    if (!get) return respond(method_not_allowed("GET, HEAD"));
    std::string id = path.substr(8);
    // HLS playlists name segments ID.ts (players that look at extensions); the bytes are the chunk's.
    if (id.size() == 67 && id.compare(64, 3, ".ts") == 0) id.resize(64);
    if (!is_chunk_id(id)) return respond(HttpResponse::error(400, "chunk id must be 64 lowercase hex characters"));
    return serve_chunk(req, id, std::move(respond));
  }
  if (!get) return respond(method_not_allowed("GET, HEAD"));
  if (path == "/live" || starts_with(path, "/live/")) return handle_live(req, path.size() > 6 ? path.substr(6) : "", std::move(respond));
  if (!catalog_loaded && (starts_with(path, "/videos"))) {
    // The store has never answered: say so (503 + Retry-After), rather than claim there are no videos.
    return respond(content::store_failure(store_error.empty() ? "catalog not loaded yet" : store_error));
  }
  if (path == "/videos" || path == "/videos/") {
    auto r = HttpResponse::shared(200, catalog->catalog_json(), "application/json");
    r.headers.emplace_back("Cache-Control", "no-cache");
    return respond(std::move(r));
  }
  if (starts_with(path, "/videos/") && path.size() > 13 && path.compare(path.size() - 5, 5, ".m3u8") == 0 &&
      catalog->video(path.substr(8, path.size() - 13)) != nullptr) {
    const Manifest* m = catalog->video(path.substr(8, path.size() - 13));
    if (!m->is_hls())
      return respond(HttpResponse::error(404, "video " + m->video_id + " was ingested as bytes; it has no HLS playlist (re-ingest with --hls)"));
    n.playlists++;
    auto r = HttpResponse::text(200, content::vod_playlist(*m), "application/vnd.apple.mpegurl");
    r.headers.emplace_back("Cache-Control", "no-cache");
    return respond(std::move(r));
  }
  if (starts_with(path, "/videos/")) {
    std::string id = path.substr(8);
    if (!is_video_id(id)) return respond(HttpResponse::error(400, "invalid video id"));
    if (catalog->video(id) == nullptr) return respond(HttpResponse::error(404, "no video with id " + id));
    auto viewer = viewer_of(req, id);
    if (!viewer) return respond(HttpResponse::error(403, "the viewer signature does not match"));
    // One buffer per manifest, shared by every response: 100 clients not reading a 4 MB manifest pin 4 MB.
    if (opts.swarm_secret.empty()) return respond(HttpResponse::shared(200, catalog->manifest_json(id), "application/json"));
    auto r = HttpResponse::json(200, with_swarm_fields(*catalog->manifest_json(id), id, catalog->digest(id), nullptr, *viewer));
    r.headers.emplace_back("Cache-Control", "no-store");  // the token is per request
    return respond(std::move(r));
  }
  if (path == "/healthz") {
    nlohmann::json j = {{"status", store_error.empty() ? "ok" : "degraded"}, {"videos", catalog->size()},
                        {"store", store->describe()}};
    if (!store_error.empty()) j["store_error"] = store_error;
    if (catalog_loaded && catalog->size() == 0) j["warning"] = "the store holds no videos";
    return respond(HttpResponse::json(store_error.empty() ? 200 : 503, j.dump() + "\n"));
  }
  if (path == "/metrics") return respond(HttpResponse::text(200, metrics(), "text/plain; version=0.0.4"));
  handle_page(req, std::move(respond));
}

// /live: channels; /live/ID: manifest (long poll with ?from=SEQ&wait_ms=N); /live/ID.m3u8: HLS
// playlist; /live/ID/SEQ.ts: a segment for HLS players. Peers fetch live chunks by id at /chunks/.
void ContentServer::Impl::handle_live(HttpRequest& req, const std::string& rest, net::HttpServer::Respond respond) {
  if (rest.empty()) {
    nlohmann::json list = nlohmann::json::array();
    if (live) list.push_back({{"video_id", live->id()}, {"epoch", live->epoch()}, {"next_seq", live->next_seq()}, {"ended", live->ended()}});
    return respond(HttpResponse::json(200, nlohmann::json({{"channels", list}}).dump() + "\n"));
  }
  auto slash = rest.find('/');
  std::string id = rest.substr(0, slash);
  bool m3u8 = slash == std::string::npos && id.size() > 5 && id.compare(id.size() - 5, 5, ".m3u8") == 0;
  if (m3u8) id.resize(id.size() - 5);
  if (!is_video_id(id)) return respond(HttpResponse::error(400, "invalid live channel id"));
  if (!live || live->id() != id) return respond(HttpResponse::error(404, "no live channel " + id));
  if (m3u8) {
    auto r = HttpResponse::shared(200, live->playlist_shared(), "application/vnd.apple.mpegurl");
    r.headers.emplace_back("Cache-Control", "no-cache");
    return respond(std::move(r));
  }
  if (slash != std::string::npos) {
    std::string seg = rest.substr(slash + 1);
    auto seq = media::parse_segment_name(seg);
    if (!seq) return respond(HttpResponse::error(400, "segment names are SEQ.ts"));
    const content::LiveChunk* c = live->by_seq(*seq);
    if (c == nullptr) return respond(HttpResponse::error(404, "segment " + seg + " is not in the live window"));
    return serve_live_chunk(*c, req, std::move(respond));
  }
  auto viewer = viewer_of(req, id);
  if (!viewer) return respond(HttpResponse::error(403, "the viewer signature does not match"));
  // Every waiter woken by one publish shares the one serialised manifest (with a secret: plus its token).
  auto answer = [this, respond, v = *viewer] {
    auto r = opts.swarm_secret.empty()
                 ? HttpResponse::shared(200, live->manifest(), "application/json")
                 : HttpResponse::json(200, with_swarm_fields(live->manifest_json(), live->id(), live->epoch(), nullptr, v));
    r.headers.emplace_back("Cache-Control", "no-cache");
    respond(std::move(r));
  };
  std::string from = req.query_param("from"), wait = req.query_param("wait_ms"), epoch = req.query_param("epoch");
  if (from.empty()) return answer();
  if (from.size() > 19 || from.find_first_not_of("0123456789") != std::string::npos ||
      wait.size() > 19 || wait.find_first_not_of("0123456789") != std::string::npos)
    return respond(HttpResponse::error(400, "from and wait_ms must be non-negative integers"));
  // Long poll: the answer waits (at most 30 s) until chunk `from` exists, so peers learn of new
  // chunks the moment they are cut instead of polling.
  double wait_s = std::min(30.0, wait.empty() ? 10.0 : wait.size() > 6 ? 30.0 : std::stod(wait) / 1000.0);  // longer: clamped
  n.long_polls++;
  uint64_t from_seq = std::stoull(from);
  // A viewer of the channel's previous run (this server restarted): its seqs mean nothing here, so it
  // hears of the new epoch now rather than after waiting for a seq this run may reach much later.
  if (live->other_run(from_seq, epoch)) return answer();
  if (live->ended() || from_seq < live->next_seq()) return answer();
  if (shared->long_polls_waiting.load() >= opts.max_long_polls) {
    n.long_polls_refused++;
    auto r = HttpResponse::error(503, "too many long polls waiting; poll again later");
    r.headers.emplace_back("Retry-After", "1");
    return respond(std::move(r));
  }
  // Counted for the whole process (every worker parks its own): released when it runs or is cancelled.
  std::shared_ptr<Shared> sh = shared;
  std::atomic<size_t>* here = &long_polls_here;  // the Impl outlives its loop's waiters
  sh->long_polls_waiting++;
  (*here)++;
  uint64_t token = live->wait(from_seq, static_cast<double>(uv_now(loop)) / 1000.0 + wait_s, [sh, here, answer] {
    sh->long_polls_waiting--;
    (*here)--;
    answer();
  });
  // The waiter dies with its connection: a client that resets leaves nothing behind.
  std::weak_ptr<content::LiveChannel> weak = live;
  req.on_abandon = [weak, token, sh, here] {
    if (auto l = weak.lock(); l && l->cancel(token)) {
      sh->long_polls_waiting--;
      (*here)--;
    }
  };
}

std::optional<HttpResponse> ContentServer::Impl::unsatisfiable(const RangeAsk& ask, const std::string& id, uint64_t size) {
  if (!ask.range || !net::if_range_allows(ask.if_range ? &*ask.if_range : nullptr, "\"" + id + "\"")) return std::nullopt;
  net::ByteRange range = net::parse_byte_range(&*ask.range, size);
  if (range.kind != net::ByteRange::Kind::unsatisfiable) return std::nullopt;
  auto r = HttpResponse::error(416, "range not satisfiable: the chunk has " + std::to_string(size) + " bytes");
  r.headers.emplace_back("Content-Range", net::content_range(range, size));
  return r;
}

ContentServer::Impl::RangeAsk ContentServer::Impl::range_ask(const HttpRequest& req) {
  RangeAsk a;
  // RFC 9110 14.2: ranges are defined for GET only. HEAD answers as for the whole body, and so never copies a
  // live chunk's range only to drop it (up to 8 MiB per pipelined HEAD, no transfer slot).
  if (req.method != "GET") return a;
  if (const std::string* r = req.header("range")) a.range = *r;
  if (const std::string* r = req.header("if-range")) a.if_range = *r;
  return a;
}

void ContentServer::Impl::serve_live_chunk(const content::LiveChunk& c, bool head, const RangeAsk& ask,
                                           net::HttpServer::Respond respond) {
  if (auto bad = unsatisfiable(ask, c.ref.id, c.ref.size)) return respond(std::move(*bad));
  std::unique_ptr<TransferSlot> slot;
  if (!head) slot = TransferSlot::try_acquire(*policy, c.ref.size);
  if (!head && !slot) {
    n.refusals++;
    return respond(refusal(c.ref.id, &live->id()));
  }
  if (!head) n.live_chunks_served++;
  // By reference: 40 slow readers of an 8 MiB chunk hold 8 MiB, and HEAD copies nothing.
  auto r = chunk_response(ChunkSource{}, c.ref.id, true, std::move(slot), ask, c.bytes);
  respond(std::move(r));
}

std::string ContentServer::Impl::token_for(const std::string& video, const std::string& content, const std::string& viewer) const {
  return signal::mint_token(opts.swarm_secret, video, content, wall_ms() / 1000 + opts.token_ttl_seconds, viewer);
}

std::string ContentServer::Impl::with_swarm_fields(const std::string& obj, const std::string& video, const std::string& content,
                                                   const char* content_field, const std::string& viewer) const {
  size_t end = obj.rfind('}');
  if (end == std::string::npos) return obj;
  std::string out = obj.substr(0, end);
  if (content_field != nullptr) out += ",\"" + std::string(content_field) + "\":\"" + content + "\"";
  if (!opts.swarm_secret.empty()) out += ",\"token\":\"" + token_for(video, content, viewer) + "\"";
  return out + "}\n";
}

std::optional<std::string> ContentServer::Impl::viewer_of(const HttpRequest& req, const std::string& video) const {
  std::string viewer = req.query_param("viewer"), sig = req.query_param("sig");
  if (opts.swarm_secret.empty() || (viewer.empty() && sig.empty())) return std::string();
  if (!signal::viewer_signature_ok(opts.swarm_secret, video, viewer, sig)) return std::nullopt;
  return viewer;
}

HttpResponse ContentServer::Impl::refusal(const std::string& chunk_id, const std::string* vid) const {
  nlohmann::json j = {{"error", "content server over capacity; fetch this chunk from the swarm"},
                      {"status", 503},
                      {"chunk_id", chunk_id},
                      {"video_id", vid ? *vid : ""},
                      {"signal_url", opts.signal_url},
                      {"retry_after", policy->retry_after_seconds()},
                      {"policy", policy->name()}};
  // The swarm to join: the video's manifest digest (or the live run's epoch) and a join token for it.
  if (vid != nullptr && catalog->video(*vid) != nullptr) {
    j["manifest_digest"] = catalog->digest(*vid);
    if (!opts.swarm_secret.empty()) j["token"] = token_for(*vid, catalog->digest(*vid), "");
  } else if (vid != nullptr && live && *vid == live->id()) {
    j["epoch"] = live->epoch();
    if (!opts.swarm_secret.empty()) j["token"] = token_for(*vid, live->epoch(), "");
  }
  // Several signallers: the video's swarm lives on its rendezvous owner; the rest of the ranking is the
  // order to fail over in, the same for every peer of the video.
  if (signallers.size() > 1) {
    auto order = rendezvous_order(signallers, vid ? *vid : "");
    j["signal_url"] = order.front();
    j["signal_urls"] = std::move(order);
  }
  auto r = HttpResponse::json(503, j.dump() + "\n");
  r.headers.emplace_back("Retry-After", std::to_string(policy->retry_after_seconds()));
  return r;
}

HttpResponse ContentServer::Impl::chunk_response(const ChunkSource& src, const std::string& id, bool ts,
                                                 std::unique_ptr<TransferSlot> slot, const RangeAsk& ask,
                                                 std::shared_ptr<const std::string> mem) {
  std::string etag = "\"" + id + "\"";
  if (!mem && src.fd < 0 && src.shared_bytes) mem = src.shared_bytes;  // a store's shared buffer: by reference
  bool metadata_only = src.fd < 0 && !mem && src.bytes.empty() && src.length > 0;
  uint64_t size = src.fd >= 0 || metadata_only ? src.length : mem ? mem->size() : src.bytes.size();
  if (auto bad = unsatisfiable(ask, id, size)) {  // the store's size differs from the manifest's
    // Given back now: a by-value parameter would live until the caller's respond() returns, and that
    // may already dispatch the next pipelined request.
    slot.reset();
    return std::move(*bad);
  }
  net::ByteRange range;
  if (ask.range && net::if_range_allows(ask.if_range ? &*ask.if_range : nullptr, etag))
    range = net::parse_byte_range(&*ask.range, size);
  bool partial = range.kind == net::ByteRange::Kind::partial;
  uint64_t first = partial ? range.first : 0;
  uint64_t expected = partial ? range.length : size;
  HttpResponse r;
  r.status = partial ? 206 : 200;
  r.headers.emplace_back("Content-Type", ts ? "video/mp2t" : "application/octet-stream");
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
  r.headers.emplace_back("Accept-Ranges", "bytes");
  if (partial) r.headers.emplace_back("Content-Range", net::content_range(range, size));
  if (metadata_only) {
    r.head_length = static_cast<int64_t>(expected);
  } else if (src.fd >= 0) {
    r.file_fd = src.fd;
    r.file_offset = src.offset + first;
    r.file_length = expected;
    r.file_owner = src.owner;
  } else if (mem && !partial) {
    r.shared_body = std::move(mem);
  } else if (mem) {
    r.body = mem->substr(first, expected);  // a range copies only its own bytes
  } else {
    r.body = src.bytes.substr(first, expected);
  }
  if (slot) slot->set_size(expected);  // charged what the store holds, not the manifest's nominal size
  std::shared_ptr<TransferSlot> held(std::move(slot));
  r.on_done = [this, held, expected](uint64_t sent, bool complete) {
    if (held) held->add_bytes(sent);
    n.chunk_bytes += sent;
    if (complete && sent == expected) n.chunks_served++;
    else if (!complete) n.transfers_aborted++;
  };
  return r;
}

void ContentServer::Impl::serve_chunk(HttpRequest& req, const std::string& id, net::HttpServer::Respond respond) {
  if (const content::LiveChunk* c = live ? live->by_id(id) : nullptr) {
    return serve_live_chunk(*c, req, std::move(respond));
  }
  // The one catalog lookup of this request: video, exact size and media kind.
  const content::Catalog::ChunkEntry* entry = catalog->chunk(id);
  if (entry == nullptr) return serve_unknown_chunk(req, id, std::move(respond));
  const std::string* inm = req.header("if-none-match");
  if (inm != nullptr && etag_matches(*inm, id)) {
    n.not_modified++;
    HttpResponse r;
    r.status = 304;
    r.headers.emplace_back("ETag", "\"" + id + "\"");
    return respond(std::move(r));
  }
  Listed listed{entry->size, entry->video->is_hls()};
  bool head = req.method == "HEAD";
  RangeAsk ask = range_ask(req);
  if (auto bad = unsatisfiable(ask, id, listed.size)) return respond(std::move(*bad));
  // HEAD moves no body bytes, so it does not take a transfer slot.
  std::unique_ptr<TransferSlot> slot;
  if (!head) {
    // Charged the chunk's exact size (a last chunk is shorter than chunk_size), not the nominal one.
    slot = TransferSlot::try_acquire(*policy, listed.size);
    if (!slot) {
      n.refusals++;
      return respond(refusal(id, &entry->video->video_id));
    }
  }
  if (const ChunkSource* hit = cache.get(id)) return respond(chunk_response(*hit, id, listed.ts, std::move(slot), ask));
  if (head) return head_chunk(id, listed, ask, std::move(respond));
  open_chunk(id, listed, ask, std::move(respond), std::make_shared<std::unique_ptr<TransferSlot>>(std::move(slot)), true);
}

void ContentServer::Impl::head_chunk(const std::string& id, Listed listed, const RangeAsk& ask, net::HttpServer::Respond respond) {
  std::shared_ptr<ChunkStore> st = store;
  run_blocking_for<Result<uint64_t>>(
      loop, opts.store_timeout_ms, [st, id]() { return st->chunk_length(id); },
      [this, id, listed, ask, respond](Result<uint64_t> len) {
        if (!len) {
          bool missing = starts_with(len.error(), kNotFound);
          if (!missing) {
            n.store_errors++;
            log::error("store: " + len.error());
          }
          return respond(missing ? HttpResponse::error(404, "chunk " + id + " is listed but not in the store")
                                 : content::store_failure(len.error()));
        }
        if (*len != listed.size) {
          n.store_errors++;
          log::error("store: chunk " + id + " has " + std::to_string(*len) + " bytes, its manifest lists " +
                     std::to_string(listed.size));
          return respond(HttpResponse::error(500, "chunk " + id + " in the store does not match its manifest"));
        }
        ChunkSource meta;
        meta.length = *len;
        respond(chunk_response(meta, id, listed.ts, nullptr, ask));
      },
      [this, id, respond] {
        n.store_errors++;
        n.store_timeouts++;
        log::error("store: looking up chunk " + id + " timed out after " + std::to_string(opts.store_timeout_ms) + " ms");
        respond(content::store_failure("looking up chunk " + id + " timed out"));
      });
}

namespace {
bool out_of_fds(const std::string& error) {
  return error.find(std::strerror(EMFILE)) != std::string::npos || error.find(std::strerror(ENFILE)) != std::string::npos;
}
}  // namespace

void ContentServer::Impl::open_chunk(const std::string& id, Listed listed, const RangeAsk& ask, net::HttpServer::Respond respond,
                                     SharedSlot slot, bool may_retry) {
  std::shared_ptr<ChunkStore> st = store;
  run_blocking_for<Result<ChunkSource>>(
      loop, opts.store_timeout_ms, [st, id]() { return st->open_chunk(id); },
      [this, id, listed, ask, respond, slot, may_retry](Result<ChunkSource> src) {
        uint64_t expected = listed.size;
        if (!src && may_retry && out_of_fds(src.error()) && cache.size() > 0) {
          // Our own open-file cache holds the fds: give half of them back and try once more.
          log::warn("store: out of file descriptors; closing " + std::to_string(cache.size() / 2 + 1) + " cached chunk files");
          cache.set_capacity(std::max<size_t>(16, cache.size() / 2));
          cache_capacity = cache.capacity();
          cache.evict(cache.size() / 2 + 1);
          return open_chunk(id, listed, ask, respond, slot, false);
        }
        if (!src) {
          bool missing = starts_with(src.error(), kNotFound);
          if (!missing) {
            n.store_errors++;
            log::error("store: " + src.error());
          }
          respond(missing ? HttpResponse::error(404, "chunk " + id + " is listed but not in the store")
                          : content::store_failure(src.error()));
          return;
        }
        uint64_t have = src->fd >= 0 ? src->length : src->shared_bytes ? src->shared_bytes->size() : src->bytes.size();
        if (expected != 0 && have != expected) {
          // Never send what the manifest does not promise (a truncated or replaced file).
          n.store_errors++;
          log::error("store: chunk " + id + " has " + std::to_string(have) + " bytes, its manifest lists " +
                     std::to_string(expected));
          respond(HttpResponse::error(500, "chunk " + id + " in the store does not match its manifest"));
          return;
        }
        cache.put(id, *src);
        respond(chunk_response(*src, id, listed.ts, std::move(*slot), ask));
      },
      [this, id, respond, slot] {
        // The pool thread may stay stuck; the client gets an answer and the transfer slot is freed now.
        slot->reset();
        n.store_errors++;
        n.store_timeouts++;
        log::error("store: opening chunk " + id + " timed out after " + std::to_string(opts.store_timeout_ms) + " ms");
        respond(content::store_failure("opening chunk " + id + " timed out"));
      });
}

// A chunk id no manifest of this server's catalog lists. "Not found" only when the store says so: while the
// catalog is unknown (store down since start) or the store cannot answer, it is a 503; a chunk the store
// holds but this server's catalog does not list yet (another server ingested it) is a 503 to retry.
void ContentServer::Impl::serve_unknown_chunk(const HttpRequest& req, const std::string& id, net::HttpServer::Respond respond) {
  auto unavailable = [](const std::string& why) {
    auto r = content::store_failure(why);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  };
  if (!catalog_loaded) return respond(unavailable(store_error.empty() ? "catalog not loaded yet" : store_error));
  if (!is_chunk_id(id)) {
    n.not_found++;
    return respond(HttpResponse::error(404, "no video lists chunk " + id));
  }
  // Bounded so that a flood of made-up ids cannot queue unbounded store round trips.
  constexpr size_t kMaxUnknownLookups = 16;
  if (unknown_lookups >= kMaxUnknownLookups) return respond(unavailable("too many lookups of unlisted chunks"));
  unknown_lookups++;
  std::shared_ptr<ChunkStore> st = store;
  bool head = req.method == "HEAD";
  RangeAsk ask = range_ask(req);
  run_blocking<Result<uint64_t>>(
      loop, [st, id]() { return st->chunk_length(id); },
      [this, id, respond, unavailable, head, ask](Result<uint64_t> len) {
        unknown_lookups--;
        // With --workers, a live chunk cut on the first loop reaches this loop's copy of the channel a
        // moment later: a client that heard of it elsewhere may ask here first. It has arrived by now.
        if (const content::LiveChunk* c = live ? live->by_id(id) : nullptr) return serve_live_chunk(*c, head, ask, respond);
        if (len) {
          auto r = HttpResponse::error(503, "chunk " + id + " is in the store but not yet in this server's catalog");
          r.headers.emplace_back("Retry-After", "1");
          r.headers.emplace_back("Cache-Control", "no-store");
          return respond(std::move(r));
        }
        if (starts_with(len.error(), kNotFound)) {
          n.not_found++;
          return respond(HttpResponse::error(404, "no video lists chunk " + id));
        }
        n.store_errors++;
        respond(unavailable(len.error()));
      });
}

std::string ContentServer::Impl::metrics() const {
  PrometheusText p;
  // Counters are the process's: the sum over every worker loop, whichever one answers.
#define HN_SUM(field) static_cast<double>(total([](const Impl& w) { return w.n.field.load(); }))
#define HN_HTTP(field) static_cast<double>(total([](const Impl& w) { return w.http->stats().field.load(); }))
  p.counter("hybridnode_chunks_served_total", "Chunk transfers completed.", HN_SUM(chunks_served));
  p.counter("hybridnode_chunk_bytes_served_total", "Chunk body bytes handed to the kernel.", HN_SUM(chunk_bytes));
  p.counter("hybridnode_chunk_transfers_aborted_total", "Chunk transfers cut short by the client.", HN_SUM(transfers_aborted));
  p.counter("hybridnode_refusals_total", "Chunk requests refused by the capacity policy (503).", HN_SUM(refusals));
  p.counter("hybridnode_chunk_not_found_total", "Chunk requests for ids no manifest lists.", HN_SUM(not_found));
  p.counter("hybridnode_store_errors_total", "Store failures while opening a chunk.", HN_SUM(store_errors));
  p.counter("hybridnode_live_chunks_served_total", "Live chunks sent (to peers and HLS players).", HN_SUM(live_chunks_served));
  p.counter("hybridnode_live_long_polls_total", "Live manifest long polls received.", HN_SUM(long_polls));
  p.counter("hybridnode_live_long_polls_refused_total", "Long polls refused over --max-long-polls (503).",
            HN_SUM(long_polls_refused));
  p.gauge("hybridnode_live_long_polls_waiting", "Long polls parked now.", static_cast<double>(shared->long_polls_waiting.load()));
  p.gauge("hybridnode_live_window_bytes", "Bytes of live chunks held in memory.", live ? static_cast<double>(live->bytes()) : 0);
  p.counter("hybridnode_store_timeouts_total", "Store calls answered as timed out (--store-timeout-ms).", HN_SUM(store_timeouts));
  p.counter("hybridnode_catalog_reloads_total", "Catalog rebuilds (refreshes that found the store changed).",
            HN_SUM(catalog_reloads));
  p.counter("hybridnode_catalog_manifests_loaded_total",
            "Manifests read from the store (a refresh reads only new or changed ones).", HN_SUM(manifests_loaded));
  p.gauge("hybridnode_open_chunk_cache_capacity", "Chunk files kept open at most (all workers).",
          static_cast<double>(total([](const Impl& w) { return w.cache_capacity.load(); })));
  p.counter("hybridnode_cors_preflights_total", "OPTIONS preflights answered (they take no transfer slot).", HN_SUM(preflights));
  p.counter("hybridnode_vod_playlists_served_total", "VOD HLS playlists served.", HN_SUM(playlists));
  p.gauge("hybridnode_live_chunks_published", "Live chunks cut so far.", live ? static_cast<double>(live->next_seq()) : 0);
  p.gauge("hybridnode_active_transfers", "Chunk transfers in progress.", static_cast<double>(policy->active()));
  p.gauge("hybridnode_capacity_limit", "Current cap on concurrent transfers (-1: unlimited).",
          static_cast<double>(policy->limit()));
  p.gauge("hybridnode_videos", "Videos in the catalog.", static_cast<double>(catalog->size()));
  p.gauge("hybridnode_http_connections_open", "Open HTTP connections.", HN_HTTP(connections_open));
  p.counter("hybridnode_http_connections_total", "HTTP connections accepted.", HN_HTTP(connections_total));
  p.counter("hybridnode_http_connections_rejected_total", "Connections closed at once over max-connections.",
            HN_HTTP(connections_rejected));
  p.counter("hybridnode_http_requests_total", "HTTP requests parsed.", HN_HTTP(requests_total));
  p.counter("hybridnode_http_bad_requests_total", "Requests rejected as malformed, too large or too slow.",
            HN_HTTP(bad_requests));
  p.counter("hybridnode_http_timeouts_total", "Connections timed out (header, idle or send).", HN_HTTP(timeouts));
  net::add_tls_metrics(p, {HN_HTTP(tls_handshake_failures), HN_HTTP(tls_handshakes_displaced), HN_HTTP(tls_handshakes_refused)});
#undef HN_SUM
#undef HN_HTTP
  p.family("hybridnode_http_responses_total", "counter", "HTTP responses by status code.");
  for (size_t code = 100; code < 600; ++code) {
    uint64_t count = total([code](const Impl& w) { return w.http->stats().responses_by_status[code].load(); });
    if (count != 0) p.sample("hybridnode_http_responses_total", static_cast<double>(count), "code=\"" + std::to_string(code) + "\"");
  }
  // Per worker loop (--workers): how the kernel spread the connections.
  p.gauge("hybridnode_workers", "Event loops serving (--workers).", static_cast<double>(shared->workers.size()));
  p.family("hybridnode_worker_connections_total", "counter", "HTTP connections accepted, by worker loop.");
  for (const Impl* w : shared->workers)
    p.sample("hybridnode_worker_connections_total", static_cast<double>(w->http->stats().connections_total.load()),
             "worker=\"" + std::to_string(w->index) + "\"");
  p.family("hybridnode_worker_requests_total", "counter", "HTTP requests parsed, by worker loop.");
  for (const Impl* w : shared->workers)
    p.sample("hybridnode_worker_requests_total", static_cast<double>(w->http->stats().requests_total.load()),
             "worker=\"" + std::to_string(w->index) + "\"");
  p.family("hybridnode_worker_long_polls_waiting", "gauge", "Live long polls parked now, by worker loop.");
  for (const Impl* w : shared->workers)
    p.sample("hybridnode_worker_long_polls_waiting", static_cast<double>(w->long_polls_here.load()),
             "worker=\"" + std::to_string(w->index) + "\"");
  return p.str();
}

namespace {
using Stamps = std::unordered_map<std::string, std::string>;  // video id -> the store's stamp of its manifest

// What a catalog refresh hands back to the loop: parsed and indexed on the pool, only swapped on the loop.
struct Refreshed {
  std::string error;    // the store failed
  std::string version;  // the store's catalog token
  std::shared_ptr<content::Catalog> catalog;  // null: unchanged since `last`
  Stamps stamps;        // of the manifests in `catalog`
  uint64_t loaded = 0;  // manifests read from the store
};

// Catalog by change: nothing is read while the store's token is unchanged; when it changed, the store
// lists its videos with stamps (no manifest read), manifests whose stamp is unchanged are taken from the
// catalog held (`held`), and only new or changed ones are read. Stores that cannot list re-read them all.
Refreshed load_catalog(ChunkStore& st, const std::string& last, std::shared_ptr<const content::Catalog> held,
                       const Stamps& held_stamps, const std::vector<std::string>& signallers) {
  Refreshed out;
  auto v = st.catalog_version();
  if (!v) {
    out.error = v.error();
    return out;
  }
  out.version = *v;
  if (!v->empty() && *v == last) return out;  // nothing changed: no listing, no read, no rebuild
  auto listed = st.list_manifests();
  if (!listed) {
    out.error = listed.error();
    return out;
  }
  std::vector<Manifest> manifests;
  if (!listed->has_value()) {
    auto r = st.load_manifests();
    if (!r) {
      out.error = r.error();
      return out;
    }
    out.loaded = r->size();
    out.catalog = std::make_shared<content::Catalog>(std::move(*r), signallers);
    return out;
  }
  std::vector<std::string> to_read;
  std::unordered_set<std::string> unchanged;  // kept from `held` as they are
  Stamps listed_stamps;
  bool removed = false;
  for (const auto& e : **listed) {
    listed_stamps[e.video_id] = e.stamp;
    auto was = held_stamps.find(e.video_id);
    const Manifest* kept = held ? held->video(e.video_id) : nullptr;
    if (kept != nullptr && was != held_stamps.end() && !e.stamp.empty() && was->second == e.stamp) {
      manifests.push_back(*kept);
      out.stamps[e.video_id] = e.stamp;
      unchanged.insert(e.video_id);
    } else {
      to_read.push_back(e.video_id);
    }
  }
  if (held)
    for (const auto& [id, m] : held->videos()) removed = removed || !listed_stamps.count(id);
  if (to_read.empty() && !removed && held && held->size() == manifests.size()) return out;  // same videos, same stamps
  if (!to_read.empty()) {
    // Nothing held yet (a first load): one bulk read instead of one query per video.
    auto r = manifests.empty() ? st.load_manifests() : st.load_manifests(to_read);
    if (!r) {
      out.error = r.error();
      return out;
    }
    out.loaded = r->size();
    for (auto& m : *r) {
      auto stamp = listed_stamps.find(m.video_id);
      if (stamp == listed_stamps.end() || out.stamps.count(m.video_id)) continue;  // not listed, or kept
      out.stamps[m.video_id] = stamp->second;
      manifests.push_back(std::move(m));
    }
  }
  out.catalog = held ? std::make_shared<content::Catalog>(std::move(manifests), signallers, *held, unchanged)
                     : std::make_shared<content::Catalog>(std::move(manifests), signallers);
  return out;
}
}  // namespace

void ContentServer::Impl::refresh_catalog() {
  if (refreshing) {
    // A refresh stuck on the pool (a hung store): say so in /healthz; do not queue another behind it.
    uint64_t stuck = uv_now(loop) - refresh_started_ms;
    if (stuck > opts.store_timeout_ms && store_error.empty()) {
      store_error = "catalog refresh has not finished after " + std::to_string(stuck) + " ms";
      log::error("store: " + store_error);
      share_catalog();
    }
    return;
  }
  refreshing = true;
  refresh_started_ms = uv_now(loop);
  std::shared_ptr<ChunkStore> st = store;
  std::string last = catalog_loaded ? catalog_version : std::string();
  std::vector<std::string> sig = signallers;
  // The catalog held is immutable once built: the pool reads it while the loop keeps serving from it.
  std::shared_ptr<const content::Catalog> held = catalog;
  run_blocking<Refreshed>(
      loop,
      [st, last, held, stamps = manifest_stamps, sig]() mutable {
        auto r = load_catalog(*st, last, held, stamps, sig);
        held.reset();  // dropped here, so a catalog swapped out meanwhile is never freed on the loop
        return r;
      },
      [this](Refreshed r) {
        refreshing = false;
        if (!r.error.empty()) {
          if (store_error.empty()) log::error("store unavailable: " + r.error + " (serving the last catalog; retrying)");
          store_error = r.error;
          share_catalog();
          return;
        }
        if (!store_error.empty()) log::info("store is back: " + store->describe());
        store_error.clear();
        catalog_loaded = true;
        n.manifests_loaded += r.loaded;
        catalog_version = r.version;
        if (!r.catalog) return share_catalog();
        manifest_stamps = std::move(r.stamps);
        n.catalog_reloads++;
        if (r.catalog->size() != catalog->size()) log::info("catalog: " + std::to_string(r.catalog->size()) + " videos");
        std::shared_ptr<content::Catalog> old = std::move(catalog);
        catalog = std::move(r.catalog);
        // Freeing a million chunk ids takes a while too: not on the loop.
        run_blocking<int>(loop, [old]() mutable { old.reset(); return 0; }, [](int) {});
        share_catalog();
      });
}

// Another worker loop: its thread and its Impl (which lives until every worker's thread has ended, so
// that /metrics on one never reads a worker already gone).
struct ContentServer::Impl::Worker {
  LoopThread thread;
  std::unique_ptr<Impl> impl;
};

ContentServer::Impl::~Impl() { stop_workers(); }

void ContentServer::Impl::share_catalog() {
  for (auto& w : extra) {
    w->thread.post([i = w->impl.get(), cat = catalog, loaded = catalog_loaded, err = store_error] {
      std::shared_ptr<content::Catalog> old = std::move(i->catalog);
      i->catalog = cat;
      i->catalog_loaded = loaded;
      i->store_error = err;
      if (old != cat) run_blocking<int>(i->loop, [old]() mutable { old.reset(); return 0; }, [](int) {});
    });
  }
}

// Each worker: the same routes and limits on its own loop, its listening socket bound to the primary's
// address and port with SO_REUSEPORT (the kernel spreads connections by their addresses), the
// primary's TLS context, catalog and live channel (a copy it is told of every change).
Result<void> ContentServer::Impl::start_workers(const net::HostPort& where) {
  net::HostPort bound = where;
  bound.port = http->port();  // port 0 was asked: the workers join the one chosen
  for (size_t i = 1; i < opts.workers; ++i) {
    auto w = std::make_unique<Worker>();
    w->impl = std::make_unique<Impl>(w->thread.loop(), opts, store, policy);
    Impl& W = *w->impl;
    W.index = i;
    W.shared = shared;
    W.signallers = signallers;
    W.catalog = catalog;
    W.catalog_version = catalog_version;
    W.catalog_loaded = catalog_loaded;
    W.store_error = store_error;
    W.cache.set_capacity(cache.capacity());
    W.cache_capacity = cache.capacity();
    // Set up from this thread: the worker's loop does not run until thread.start().
    if (auto ok = W.start_http(bound, http->shared()); !ok) {
      extra.push_back(std::move(w));  // stopped and drained with the others
      return make_error("worker " + std::to_string(i) + ": " + ok.error());
    }
    if (live) {
      W.live = live->replica();
      uv_timer_init(W.loop, W.live_expiry.get());
      W.live_expiry->data = &W;
      uv_timer_start(W.live_expiry.get(), [](uv_timer_t* t) {
        auto* self = static_cast<Impl*>(t->data);
        if (self != nullptr) self->live->expire(static_cast<double>(uv_now(t->loop)) / 1000.0);
      }, 100, 100);
    }
    shared->workers.push_back(&W);
    extra.push_back(std::move(w));
  }
  if (live) {
    live->set_on_change([this](const content::LiveChunk* c) {
      for (auto& w : extra) {
        Impl* W = w->impl.get();
        if (c != nullptr) w->thread.post([W, chunk = *c] { W->live->add(chunk); });
        else w->thread.post([W] { W->live->end(); });
      }
    });
  }
  for (auto& w : extra) w->thread.start();
  return {};
}

void ContentServer::Impl::stop_workers() {
  if (extra.empty()) return;
  if (live) live->set_on_change(nullptr);
  // All stop first (each closes its listener and connections), then all are joined: until every thread
  // has ended, any of them may still be answering /metrics over the others' counters.
  for (auto& w : extra) w->thread.stop([W = w->impl.get()] { W->stop(); });
  for (auto& w : extra) w->thread.join();
  shared->workers.resize(1);
  for (auto& w : extra) {
    w->impl.reset();      // on this thread now: the worker's thread has ended
    w->thread.drain();    // the close callbacks of its handles
  }
  extra.clear();
}

void ContentServer::Impl::stop() {
  stop_workers();
  refresh_timer.reset();
  live_expiry.reset();
  live_source.reset();
  if (live) live->end();  // answers pending long polls before the connections close
  if (http) http->close();
}

ContentServer::ContentServer(uv_loop_t* loop, ContentServerOptions opts, std::unique_ptr<ChunkStore> store,
                             std::unique_ptr<CapacityPolicy> policy)
    : impl_(std::make_unique<Impl>(loop, std::move(opts), std::move(store), std::move(policy))) {}

ContentServer::~ContentServer() { stop(); }

Result<void> ContentServer::start() {
  auto& I = *impl_;
  auto where = net::parse_host_port(I.opts.listen);
  if (!where) return make_error("--listen: " + where.error());
  I.signallers = split_list(I.opts.signal_url);
  if (I.store->remote() && I.opts.catalog_refresh_ms > 0) {
    // Over the network the first load may wait a whole server-selection timeout (or a DNS lookup): load
    // it on the pool, answering 503 until it is known, so start() never blocks the caller's loop.
    I.refresh_catalog();
  } else if (auto initial = load_catalog(*I.store, "", nullptr, {}, I.signallers); initial.error.empty()) {  // before serving
    I.catalog = std::move(initial.catalog);
    I.catalog_version = initial.version;
    I.manifest_stamps = std::move(initial.stamps);
    I.n.manifests_loaded += initial.loaded;
    I.catalog_loaded = true;
    // A misspelt --store serves an empty catalog without a word otherwise.
    if (I.catalog->size() == 0 && I.opts.live_id.empty())
      log::warn("store " + I.store->describe() + " holds no videos (is --store right? add some with: hybridnode ingest FILE --store ...)");
  } else {
    // A shared store (MongoDB) may be down while this server starts: serve 503s and retry on the timer.
    I.store_error = initial.error;
    log::error("store unavailable at start: " + initial.error + " (answering 503 until it returns)");
    if (I.opts.catalog_refresh_ms == 0) return make_error("store: " + initial.error);
  }
  // A quarter of the fd limit for cached chunk files, split between the workers; the rest is for
  // connections and the store.
  size_t workers = std::max<size_t>(1, I.opts.workers);
  struct rlimit nofile {};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY)
    I.cache.set_capacity(std::min<size_t>(I.opts.open_chunk_cache, static_cast<size_t>(nofile.rlim_cur / 4) / workers));
  I.cache_capacity = I.cache.capacity();
  if (workers > 1) I.policy = make_shared_policy(std::move(I.policy));  // one policy, every loop asks it
  if (auto ok = I.start_http(*where, nullptr); !ok) return ok;
  I.shared->workers.push_back(&I);
  if (!I.opts.live_id.empty()) {
    if (!is_video_id(I.opts.live_id)) return make_error("--live: invalid channel id " + I.opts.live_id);
    I.live = std::make_shared<content::LiveChannel>(I.opts.live_id, I.opts.live_window, I.opts.live_chunk_seconds);
    I.live_source = std::make_unique<content::LiveSource>(I.loop, I.opts.live_source, I.live, I.opts.live_chunk_seconds);
    if (auto s = I.live_source->start(); !s) return s;
    log::info("live channel " + I.opts.live_id + " from " + I.opts.live_source);
  }
  if (workers > 1) {
    if (auto ok = I.start_workers(*where); !ok) return ok;
  }
  uv_timer_init(I.loop, I.refresh_timer.get());
  I.refresh_timer->data = &I;
  if (I.opts.catalog_refresh_ms > 0)
    uv_timer_start(I.refresh_timer.get(), [](uv_timer_t* t) { static_cast<Impl*>(t->data)->refresh_catalog(); },
                   I.opts.catalog_refresh_ms, I.opts.catalog_refresh_ms);
  log::info(std::string("content server on ") + (I.http->tls() ? "https://" : "http://") + where->host + ":" + std::to_string(I.http->port()) + ", store " +
            I.store->describe() + ", " + std::to_string(I.catalog->size()) + " videos, policy " + I.policy->name() +
            " (limit " + std::to_string(I.policy->limit()) + ")" +
            (workers > 1 ? ", " + std::to_string(workers) + " worker loops" : std::string()));
  return {};
}

// The HTTP side of one worker: limits, routes, web root, TLS (the primary loads it; the others share
// its context through `http_shared`) and the listening socket.
Result<void> ContentServer::Impl::start_http(const net::HostPort& where, std::shared_ptr<net::HttpShared> http_shared) {
  net::HttpLimits limits;
  limits.max_connections = opts.max_connections;
  limits.max_header_bytes = opts.max_header_bytes;
  limits.header_timeout_ms = opts.header_timeout_ms;
  limits.idle_timeout_ms = opts.idle_timeout_ms;
  limits.send_timeout_ms = opts.send_timeout_ms;
  limits.max_body_bytes = 0;
  // Bounded so pacing arithmetic cannot overflow (1 TB/s is "unpaced" on any link).
  limits.limit_rate = std::min<uint64_t>(opts.limit_rate, 1000000000000ull);
  limits.uplink_rate = std::min<uint64_t>(opts.uplink_rate, 1000000000000ull);
  limits.tls_handshakes_per_ip = opts.tls_handshakes_per_ip;
  bool primary = http_shared == nullptr;
  http = std::make_unique<net::HttpServer>(loop, limits, [this](HttpRequest& req, net::HttpServer::Respond r) { handle_with_cors(req, std::move(r)); },
                                           std::move(http_shared));
  // Answers the HTTP layer gives itself (400 malformed, 408, 413, 431, 505) carry the CORS headers too:
  // a page must be able to read why its request failed.
  http->set_error_decorator([this](const HttpRequest& req, HttpResponse& r) { content::add_cors_headers(cors, req.header("origin"), r); });
  if (!opts.web_root.empty()) {
    auto w = content::WebRoot::open(opts.web_root);
    if (!w) return make_error(w.error());
    web_root = std::move(*w);
  }
  if (primary && (!opts.tls_cert.empty() || !opts.tls_key.empty())) {
    if (opts.tls_cert.empty() || opts.tls_key.empty()) return make_error("--tls-cert and --tls-key go together");
    if (auto tls = http->enable_tls(opts.tls_cert, opts.tls_key); !tls) return make_error(tls.error());
  }
  return http->listen(where, opts.workers > 1);
}

void ContentServer::stop() {
  if (impl_) impl_->stop();
}

int ContentServer::port() const { return impl_->http ? impl_->http->port() : 0; }

}  // namespace hn
