#include <doctest/doctest.h>

#include <fstream>

#include "config/options.h"
#include "net/address.h"
#include "temp_dir.h"

using hn::config::Type;

namespace {
hn::config::ParseSpec spec() {
  return {"test",
          {{"listen", Type::host_port, "127.0.0.1:8080", ""},
           {"max-transfers", Type::integer, "8", "", 0, 100},
           {"store", Type::string, "./store", ""},
           {"verbose", Type::boolean, "false", ""}},
          0};
}
}  // namespace

TEST_CASE("defaults, flags and both flag spellings") {
  auto o = hn::config::parse(spec(), {"--max-transfers=3", "--store", "/tmp/s", "--verbose"});
  REQUIRE(o);
  CHECK(o->integer("max-transfers") == 3);
  CHECK(o->str("store") == "/tmp/s");
  CHECK(o->boolean("verbose"));
  CHECK(o->str("listen") == "127.0.0.1:8080");
  CHECK_FALSE(o->is_set("listen"));
}

TEST_CASE("unknown flags and bad values are refused by name") {
  auto r = hn::config::parse(spec(), {"--max-transfer=3"});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("--max-transfer") != std::string::npos);
  r = hn::config::parse(spec(), {"--max-transfers=many"});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("max-transfers") != std::string::npos);
  CHECK_FALSE(hn::config::parse(spec(), {"--max-transfers=101"}));
  CHECK_FALSE(hn::config::parse(spec(), {"--listen=nohost"}));
  CHECK_FALSE(hn::config::parse(spec(), {"--listen=1.2.3.4:70000"}));
  CHECK_FALSE(hn::config::parse(spec(), {"stray"}));
  CHECK_FALSE(hn::config::parse(spec(), {"--store"}));
}

TEST_CASE("config file values, overridden by flags; bad config refused") {
  TempDir d;
  std::ofstream(d.file("c.json")) << R"({"role":"server","max_transfers":5,"store":"/data","listen":"0.0.0.0:9000"})";
  auto o = hn::config::parse(spec(), {"--config", d.file("c.json"), "--store=/other"});
  REQUIRE(o);
  CHECK(o->integer("max-transfers") == 5);
  CHECK(o->str("listen") == "0.0.0.0:9000");
  CHECK(o->str("store") == "/other");

  std::ofstream(d.file("bad1.json")) << R"({"max-transfers":"5"})";
  auto r = hn::config::parse(spec(), {"--config=" + d.file("bad1.json")});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("max-transfers") != std::string::npos);
  std::ofstream(d.file("bad2.json")) << R"({"colour":"blue"})";
  r = hn::config::parse(spec(), {"--config=" + d.file("bad2.json")});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("colour") != std::string::npos);
  std::ofstream(d.file("bad3.json")) << R"({"max-transfers": 5)";
  CHECK_FALSE(hn::config::parse(spec(), {"--config=" + d.file("bad3.json")}));
  CHECK_FALSE(hn::config::parse(spec(), {"--config=" + d.file("missing.json")}));
}

TEST_CASE("host:port parsing") {
  auto hp = hn::net::parse_host_port("[::1]:80");
  REQUIRE(hp);
  CHECK(hp->host == "::1");
  CHECK(hp->port == 80);
  CHECK(hn::net::to_sockaddr(*hp));
  CHECK_FALSE(hn::net::parse_host_port(":80"));
  CHECK_FALSE(hn::net::parse_host_port("h:"));
  CHECK_FALSE(hn::net::parse_host_port("h:8a"));
  CHECK_FALSE(hn::net::to_sockaddr({"example.com", 80}));  // listeners never resolve names
}

TEST_CASE("unknown flags suggest the nearest name and the --flag=false form") {
  auto r = hn::config::parse(spec(), {"--max_transfers=3"});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("did you mean --max-transfers?") != std::string::npos);
  r = hn::config::parse(spec(), {"--stroe=/x"});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("did you mean --store?") != std::string::npos);
  r = hn::config::parse(spec(), {"--no-verbose"});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("did you mean --verbose=false?") != std::string::npos);
  r = hn::config::parse(spec(), {"--colour=blue"});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("did you mean") == std::string::npos);  // nothing close: no guess
}

TEST_CASE("a flag given twice with two values is refused") {
  auto r = hn::config::parse(spec(), {"--store=/a", "--store=/b"});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("--store given twice") != std::string::npos);
  CHECK(hn::config::parse(spec(), {"--store=/a", "--store=/a"}));
}

TEST_CASE("config errors give the JSON line and column, and the key") {
  TempDir d;
  std::ofstream(d.file("syntax.json")) << "{\n  \"store\": \"/data\",\n  \"max-transfers\": 5,,\n}\n";
  auto r = hn::config::parse(spec(), {"--config=" + d.file("syntax.json")});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("line 3, column 22: syntax error") != std::string::npos);  // the second comma
  std::ofstream(d.file("type.json")) << "{\n  \"store\": \"/data\",\n  \"max-transfers\": \"5\"\n}\n";
  r = hn::config::parse(spec(), {"--config=" + d.file("type.json")});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("key /max-transfers (line 3, column 3)") != std::string::npos);
  CHECK(r.error().find("expected an integer, got string") != std::string::npos);
  std::ofstream(d.file("range.json")) << "{\"max-transfers\": 500}";
  r = hn::config::parse(spec(), {"--config=" + d.file("range.json")});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("key /max-transfers (line 1, column 2)") != std::string::npos);
  std::ofstream(d.file("typo.json")) << "{\"stor\": \"/x\"}";
  r = hn::config::parse(spec(), {"--config=" + d.file("typo.json")});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("did you mean --store?") != std::string::npos);
  std::ofstream(d.file("overflow.json")) << "{\"max-transfers\": 88888e888888}";  // found by fuzz_options
  r = hn::config::parse(spec(), {"--config=" + d.file("overflow.json")});
  REQUIRE_FALSE(r);
  CHECK(r.error().find("number overflow") != std::string::npos);
}

TEST_CASE("options: TEST ONLY switches are listed by --help-test, not by --help") {
  auto s = spec();
  s.options.push_back({"test-lie", Type::string, "", "lies", INT64_MIN, INT64_MAX, true});
  std::string user = hn::config::help_text(s), test = hn::config::help_text(s, true);
  CHECK(user.find("--max-transfers") != std::string::npos);
  CHECK(user.find("--test-lie") == std::string::npos);
  CHECK(test.find("--test-lie") != std::string::npos);
  CHECK(test.find("--max-transfers") == std::string::npos);
  auto o = hn::config::parse(s, {"--test-lie=claim"});  // still a flag like any other
  REQUIRE(o);
  CHECK(o->str("test-lie") == "claim");
}
