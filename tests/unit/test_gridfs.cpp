// What of the GridFS store can be checked without a MongoDB server: URI handling, the error a client
// sees, and that a down server fails fast with a clear message (the driver really tries to connect).
#include <doctest/doctest.h>

#include <chrono>

#include "content/store_errors.h"
#include "hybridnode/chunk_store.h"
#include "store/mongo_uri.h"

using namespace hn;

TEST_CASE("mongodb URIs: database, defaults, description without credentials") {
  CHECK(store::is_mongo_uri("mongodb://h:27017/db"));
  CHECK(store::is_mongo_uri("mongodb+srv://cluster.example/db"));
  CHECK_FALSE(store::is_mongo_uri("./store"));
  CHECK_FALSE(store::is_mongo_uri("mongodb:/x"));
  auto t = store::parse_mongo_uri("mongodb://alice:secret@db1:27017,db2:27018/videos?replicaSet=rs0");
  REQUIRE(t);
  CHECK(t->database == "videos");
  CHECK(t->describe == "mongodb:db1:27017,db2:27018/videos");
  CHECK(t->describe.find("secret") == std::string::npos);
  CHECK(t->server_selection_timeout_ms == 2000);
  CHECK(t->connect_timeout_ms == 2000);
  auto keep = store::parse_mongo_uri("mongodb://h/?serverSelectionTimeoutMS=500");
  REQUIRE(keep);
  CHECK(keep->database == "hybridnode");
  CHECK(keep->server_selection_timeout_ms == 500);
  CHECK_FALSE(store::parse_mongo_uri("mongodb://"));
  CHECK_FALSE(store::parse_mongo_uri("mongodb://h:99999999/db"));
  CHECK_FALSE(store::parse_mongo_uri("mongodb://h/bad.name"));
}

TEST_CASE("store failures reach clients as 503, or 504 on a timeout, with the store's words") {
  auto a = content::store_failure("mongodb: load manifests: No suitable servers found: `serverSelectionTimeoutMS` expired");
  CHECK(a.status == 503);
  CHECK(a.body.find("No suitable servers") != std::string::npos);
  auto b = content::store_failure("mongodb: read x: socket timed out");
  CHECK(b.status == 504);
  bool retry = false;
  for (auto& [k, v] : b.headers) retry = retry || k == "Retry-After";
  CHECK(retry);
}

TEST_CASE("a MongoDB that is not there: opening is instant, calls fail fast and clearly") {
  auto t0 = std::chrono::steady_clock::now();
  auto s = open_store("mongodb://127.0.0.1:1/hn?serverSelectionTimeoutMS=300&connectTimeoutMS=300");
  REQUIRE(s);
  CHECK((*s)->describe() == "mongodb:127.0.0.1:1/hn");
  auto m = (*s)->load_manifests();
  REQUIRE_FALSE(m);
  CHECK(m.error().rfind("mongodb: ", 0) == 0);
  auto c = (*s)->open_chunk(std::string(64, 'a'));
  REQUIRE_FALSE(c);
  CHECK(c.error().rfind(kNotFound, 0) != 0);  // down is not "missing": the server must not answer 404
  CHECK_FALSE((*s)->put_chunk(std::string(64, 'a'), "x", 1));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(secs < 10);  // three calls at a 300 ms server-selection timeout, not the driver's 30 s default
  auto local = open_store("/tmp");
  REQUIRE(local);
  CHECK((*local)->describe().rfind("local:", 0) == 0);
}

TEST_CASE("mongodb+srv: opening does no DNS; the lookup happens (and fails) in calls, on the caller's thread") {
  auto s = open_store("mongodb+srv://cluster0.no-such-domain.invalid/hn?serverSelectionTimeoutMS=300&connectTimeoutMS=300");
  REQUIRE(s);  // start-up never fails on DNS: the server answers 503 and retries
  CHECK((*s)->remote());
  auto m = (*s)->load_manifests();
  REQUIRE_FALSE(m);
  CHECK(m.error().rfind("mongodb: ", 0) == 0);
  auto n = (*s)->chunk_length(std::string(64, 'a'));
  REQUIRE_FALSE(n);
  CHECK(n.error().rfind(kNotFound, 0) != 0);  // down is not "missing"
}
