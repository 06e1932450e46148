#include <doctest/doctest.h>

#include <string>

#include "p2p/sdp_guard.h"

using namespace hn::p2p;

TEST_CASE("remote description: bounded size, no NUL") {
  std::string good = "m=application 9 ICE/SDP\nc=IN IP4 10.0.0.1\na=ice-ufrag:abcd\na=ice-pwd:0123456789abcdefghijkl\n";
  CHECK(vet_remote_description(good));
  CHECK_FALSE(vet_remote_description(std::string(kMaxRemoteDescription + 1, 'a')));
  CHECK_FALSE(vet_remote_description(good + std::string(1, '\0')));
}

TEST_CASE("remote candidate: one bounded line, a= added") {
  auto c = vet_remote_candidate("candidate:1 1 UDP 2015363327 127.0.0.1 40001 typ host");
  REQUIRE(c);
  CHECK(*c == "a=candidate:1 1 UDP 2015363327 127.0.0.1 40001 typ host");
  auto same = vet_remote_candidate("a=candidate:1 1 UDP 1 127.0.0.1 1 typ host");
  REQUIRE(same);
  CHECK(same->rfind("a=a=", 0) == std::string::npos);
  CHECK_FALSE(vet_remote_candidate("candidate:1 1 UDP 1 127.0.0.1 1 typ host\na=ice-ufrag:x"));
  CHECK_FALSE(vet_remote_candidate(std::string(kMaxRemoteCandidate + 1, 'c')));
}
