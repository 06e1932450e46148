// "Down" is never "not found": a real ContentServer on a loop over a scripted store (the part of the GridFS
// behaviour that needs no MongoDB). Chunk requests answer 503 while the catalog is unknown, 503 when the
// store cannot say whether an unlisted chunk exists, 503 + retry when the store holds a chunk this server's
// catalog does not list yet, and 404 only when the store says the chunk is not there.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <set>

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
