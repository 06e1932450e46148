// "Down" is never "not found": a real ContentServer on a loop over a scripted store (the part of the GridFS
// behaviour that needs no MongoDB). Chunk requests answer 503 while the catalog is unknown, 503 when the
// store cannot say whether an unlisted chunk exists, 503 + retry when the store holds a chunk this server's
// catalog does not list yet, and 404 only when the store says the chunk is not there.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "hybridnode/content_server.h"
#include "hybridnode/ids.h"
#include "media/sha256.h"
#include "net/http_client.h"

using namespace hn;

namespace {

struct Script {
  std::mutex mu;
  bool down = true;                 // every call fails as a MongoDB that is not there
  std::vector<Manifest> manifests;  // what load_manifests returns when up
  std::set<std::string> chunks;     // ids the store holds
  std::atomic<int> opened{0};       // open_chunk calls (HEAD and lookups must not pull bytes)
};

class ScriptedStore final : public ChunkStore {
 public:
  explicit ScriptedStore(std::shared_ptr<Script> s) : s_(std::move(s)) {}
  std::string describe() const override { return "scripted"; }
  Result<void> put_chunk(const std::string&, const void*, size_t) override { return make_error("read-only"); }
  bool has_chunk(const std::string& id) override { return static_cast<bool>(chunk_length(id)); }
  Result<uint64_t> chunk_length(const std::string& id) override {
    std::lock_guard<std::mutex> g(s_->mu);
    if (s_->down) return make_error("mongodb: find " + id + ": No suitable servers found");
    if (!s_->chunks.count(id)) return make_error(std::string(kNotFound) + "chunk " + id);
    return uint64_t{5};
  }
  Result<ChunkSource> open_chunk(const std::string& id) override {
    s_->opened++;
    auto n = chunk_length(id);
    if (!n) return make_error(n.error());
    ChunkSource src;
    src.bytes = "hello";
    src.length = 5;
    return src;
  }
  Result<void> put_manifest(const Manifest&) override { return make_error("read-only"); }
  Result<std::vector<Manifest>> load_manifests() override {
    std::lock_guard<std::mutex> g(s_->mu);
    if (s_->down) return make_error("mongodb: load manifests: No suitable servers found");
    return s_->manifests;
  }

 private:
  std::shared_ptr<Script> s_;
};

// GETs url on the loop and runs the loop until the answer is in.
net::HttpResult fetch(uv_loop_t* loop, net::HttpClient& client, const std::string& url) {
  net::HttpResult out;
  bool done = false;
  client.get(url, 1 << 20, [&](net::HttpResult r) { out = std::move(r); done = true; });
  while (!done) uv_run(loop, UV_RUN_ONCE);
  return out;
}

void wait_ms(uv_loop_t* loop, uint64_t ms) {
  uv_timer_t t;
  uv_timer_init(loop, &t);
  bool done = false;
  t.data = &done;
  uv_timer_start(&t, [](uv_timer_t* h) { *static_cast<bool*>(h->data) = true; }, ms, 0);
  while (!done) uv_run(loop, UV_RUN_ONCE);
  uv_close(reinterpret_cast<uv_handle_t*>(&t), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
}

}  // namespace

TEST_CASE("chunk requests: 503 while the store is down or the catalog unknown, 404 only when the store says so") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  auto script = std::make_shared<Script>();
  std::string listed = sha256_hex("hello", 5);
  std::string unlisted = sha256_hex("other", 5);
  std::string absent = std::string(64, 'b');
  Manifest m;
  m.video_id = "v";
  m.title = "v";
  m.media_type = "video/mp4";
  m.chunk_size = 4096;
  m.total_size = 5;
  m.chunks.push_back({listed, 5});
  script->manifests = {m};
  script->chunks = {listed, unlisted};

  ContentServerOptions o;
  o.listen = "127.0.0.1:0";
  o.catalog_refresh_ms = 50;
  {
    ContentServer server(&loop, o, std::make_unique<ScriptedStore>(script), make_connection_cap(4));
    REQUIRE(server.start());
    net::HttpClient client(&loop, 5000);
    std::string base = "http://127.0.0.1:" + std::to_string(server.port());

    // Down since start: the catalog is unknown, so no chunk can be said to be missing.
    for (const auto& id : {listed, absent}) {
      auto r = fetch(&loop, client, base + "/chunks/" + id);
      CHECK(r.status == 503);
      CHECK(r.retry_after >= 0);
    }
    CHECK(fetch(&loop, client, base + "/videos").status == 503);

    {
      std::lock_guard<std::mutex> g(script->mu);
      script->down = false;
    }
    int status = 0;
    for (int i = 0; i < 100 && status != 200; i++) {
      wait_ms(&loop, 20);
      status = fetch(&loop, client, base + "/videos").status;
    }
    REQUIRE(status == 200);
    auto ok = fetch(&loop, client, base + "/chunks/" + listed);
    CHECK(ok.status == 200);
    CHECK(ok.body == "hello");
    // In the store but in no manifest this server knows yet (another server ingested it): retry, not 404.
    auto later = fetch(&loop, client, base + "/chunks/" + unlisted);
    CHECK(later.status == 503);
    CHECK(later.retry_after >= 0);
    CHECK(fetch(&loop, client, base + "/chunks/" + absent).status == 404);

    // Down again after the catalog was known: an unlisted id is not "not found" either.
    {
      std::lock_guard<std::mutex> g(script->mu);
      script->down = true;
    }
    CHECK(fetch(&loop, client, base + "/chunks/" + absent).status == 503);
    client.close();
    server.stop();
    uv_run(&loop, UV_RUN_DEFAULT);  // store calls still on the pool finish while the server exists
  }
  CHECK(uv_loop_close(&loop) == 0);
}

namespace {

// A store that, like GridFS, has a catalog version token and lists its videos with stamps; it counts what
// the server asks of it (the MongoDB calls a real GridFS store would make), and can be taken down.
struct Catalogue {
  std::mutex mu;
  bool down = false;
  int64_t version = 1;
  std::map<std::string, std::pair<std::string, Manifest>> videos;  // id -> (stamp, manifest)
  std::map<std::string, std::string> chunks;                       // id -> bytes
  std::atomic<int> versions_read{0}, listings{0}, manifests_read{0}, opened{0}, lengths{0};
};

class VersionedStore final : public ChunkStore {
 public:
  explicit VersionedStore(std::shared_ptr<Catalogue> c) : c_(std::move(c)) {}
  std::string describe() const override { return "versioned"; }
  bool remote() const override { return true; }
  Result<void> put_chunk(const std::string&, const void*, size_t) override { return make_error("read-only"); }
  bool has_chunk(const std::string& id) override { return static_cast<bool>(chunk_length(id)); }
  Result<uint64_t> chunk_length(const std::string& id) override {
    c_->lengths++;
    std::lock_guard<std::mutex> g(c_->mu);
    if (c_->down) return make_error("mongodb: find " + id + ": No suitable servers found");
    auto it = c_->chunks.find(id);
    if (it == c_->chunks.end()) return make_error(std::string(kNotFound) + "chunk " + id);
    return static_cast<uint64_t>(it->second.size());
  }
  Result<ChunkSource> open_chunk(const std::string& id) override {
    c_->opened++;
    std::lock_guard<std::mutex> g(c_->mu);
    if (c_->down) return make_error("mongodb: download " + id + ": No suitable servers found");
    auto it = c_->chunks.find(id);
    if (it == c_->chunks.end()) return make_error(std::string(kNotFound) + "chunk " + id);
    ChunkSource src;  // as GridFS answers: a buffer shared with its memory cache
    src.shared_bytes = std::make_shared<const std::string>(it->second);
    src.length = it->second.size();
    return src;
  }
  Result<void> put_manifest(const Manifest&) override { return make_error("read-only"); }
  Result<std::string> catalog_version() override {
    c_->versions_read++;
    std::lock_guard<std::mutex> g(c_->mu);
    if (c_->down) return make_error("mongodb: read the catalog version: No suitable servers found");
    return "v" + std::to_string(c_->version);
  }
  Result<std::optional<std::vector<ManifestStamp>>> list_manifests() override {
    c_->listings++;
    std::lock_guard<std::mutex> g(c_->mu);
    if (c_->down) return make_error("mongodb: list videos: No suitable servers found");
    std::vector<ManifestStamp> out;
    for (const auto& [id, v] : c_->videos) out.push_back({id, v.first});
    return std::optional<std::vector<ManifestStamp>>(std::move(out));
  }
  Result<std::vector<Manifest>> load_manifests() override {
    std::vector<std::string> all;
    {
      std::lock_guard<std::mutex> g(c_->mu);
      for (const auto& [id, v] : c_->videos) all.push_back(id);
    }
    return load_manifests(all);
  }
  Result<std::vector<Manifest>> load_manifests(const std::vector<std::string>& ids) override {
    std::lock_guard<std::mutex> g(c_->mu);
    if (c_->down) return make_error("mongodb: load manifests: No suitable servers found");
    std::vector<Manifest> out;
    for (const auto& id : ids) {
      auto it = c_->videos.find(id);
      if (it == c_->videos.end()) continue;
      c_->manifests_read++;
      out.push_back(it->second.second);
    }
    return out;
  }

 private:
  std::shared_ptr<Catalogue> c_;
};

Manifest one_chunk_video(const std::string& id, const std::string& bytes) {
  Manifest m;
  m.video_id = id;
  m.title = id;
  m.media_type = "video/mp4";
  m.chunk_size = 4096;
  m.total_size = bytes.size();
  m.chunks.push_back({sha256_hex(bytes.data(), bytes.size()), bytes.size()});
  return m;
}

// Runs the loop until pred() holds (at most ~5 s); a 5 ms timer keeps the loop turning.
bool run_until(uv_loop_t* loop, const std::function<bool()>& pred) {
  uv_timer_t t;
  uv_timer_init(loop, &t);
  uv_timer_start(&t, [](uv_timer_t*) {}, 5, 5);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!pred() && std::chrono::steady_clock::now() < until) uv_run(loop, UV_RUN_ONCE);
  uv_close(reinterpret_cast<uv_handle_t*>(&t), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
  return pred();
}

// A HEAD over a plain blocking socket on another thread (the client in src/net only GETs) while the
// loop serves it: the status line and the Content-Length the server announced.
std::pair<int, long> head(uv_loop_t* loop, int port, const std::string& path) {
  std::atomic<bool> done{false};
  std::string answer;
  std::thread th([&] {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      std::string req = "HEAD " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
      (void)!::write(fd, req.data(), req.size());
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) answer.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    done = true;
  });
  run_until(loop, [&] { return done.load(); });
  th.join();
  int status = answer.size() > 12 ? std::atoi(answer.c_str() + 9) : 0;
  long length = -1;
  auto at = answer.find("Content-Length: ");
  if (at != std::string::npos) length = std::atol(answer.c_str() + at + 16);
  return {status, length};
}

}  // namespace

TEST_CASE("catalog by change, HEAD from metadata, and the store coming back (a versioned store like GridFS)") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  auto cat = std::make_shared<Catalogue>();
  std::string a_bytes(3000, 'a'), b_bytes(2000, 'b'), c_bytes(1000, 'c');
  Manifest a = one_chunk_video("a", a_bytes), b = one_chunk_video("b", b_bytes), c = one_chunk_video("c", c_bytes);
  cat->videos["a"] = {"sa", a};
  cat->videos["b"] = {"sb", b};
  for (const auto& s : {a_bytes, b_bytes, c_bytes}) cat->chunks[sha256_hex(s.data(), s.size())] = s;

  ContentServerOptions o;
  o.listen = "127.0.0.1:0";
  o.catalog_refresh_ms = 20;
  {
    ContentServer server(&loop, o, std::make_unique<VersionedStore>(cat), make_connection_cap(4));
    REQUIRE(server.start());
    net::HttpClient client(&loop, 5000);
    std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    auto listed = [&](const std::string& id) { return fetch(&loop, client, base + "/videos/" + id).status == 200; };
    REQUIRE(run_until(&loop, [&] { return listed("a") && listed("b"); }));
    CHECK(cat->manifests_read == 2);

    // Unchanged version: refreshes read the token only (no listing, no manifest).
    int listings = cat->listings, versions = cat->versions_read;
    wait_ms(&loop, 200);
    CHECK(cat->versions_read > versions + 3);
    CHECK(cat->listings == listings);
    CHECK(cat->manifests_read == 2);

    // A new video (an ingest bumps the version): only its manifest is read.
    {
      std::lock_guard<std::mutex> g(cat->mu);
      cat->videos["c"] = {"sc", c};
      cat->version++;
    }
    REQUIRE(run_until(&loop, [&] { return listed("c"); }));
    CHECK(cat->manifests_read == 3);
    // A removed video leaves the catalog with no manifest read; a changed one (new stamp) is read again.
    {
      std::lock_guard<std::mutex> g(cat->mu);
      cat->videos.erase("a");
      cat->videos["b"].first = "sb2";
      cat->videos["b"].second.title = "b, retitled";
      cat->version++;
    }
    REQUIRE(run_until(&loop, [&] { return !listed("a"); }));
    CHECK(fetch(&loop, client, base + "/videos/b").body.find("b, retitled") != std::string::npos);
    CHECK(cat->manifests_read == 4);
    auto metrics = fetch(&loop, client, base + "/metrics").body;
    CHECK(metrics.find("hybridnode_catalog_manifests_loaded_total 4") != std::string::npos);

    // HEAD of a listed chunk: the length from metadata, no chunk bytes pulled from the store.
    std::string cid = c.chunks[0].id;
    int opened = cat->opened;
    auto [status, length] = head(&loop, server.port(), "/chunks/" + cid);
    CHECK(status == 200);
    CHECK(length == 1000);
    CHECK(cat->opened == opened);
    CHECK(cat->lengths > 0);

    // The store goes down: a listed chunk is a 503 (never a 404), and served again once the store is back.
    {
      std::lock_guard<std::mutex> g(cat->mu);
      cat->down = true;
    }
    auto during = fetch(&loop, client, base + "/chunks/" + cid);
    CHECK(during.status == 503);
    CHECK(during.retry_after >= 0);
    CHECK(head(&loop, server.port(), "/chunks/" + cid).first == 503);
    REQUIRE(run_until(&loop, [&] { return fetch(&loop, client, base + "/healthz").status == 503; }));
    {
      std::lock_guard<std::mutex> g(cat->mu);
      cat->down = false;
    }
    REQUIRE(run_until(&loop, [&] { return fetch(&loop, client, base + "/healthz").status == 200; }));
    auto after = fetch(&loop, client, base + "/chunks/" + cid);
    CHECK(after.status == 200);
    CHECK(after.body == c_bytes);
    CHECK(cat->manifests_read == 4);  // the outage changed nothing in the catalog: nothing re-read
    client.close();
    server.stop();
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  CHECK(uv_loop_close(&loop) == 0);
}
