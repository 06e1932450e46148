#include <doctest/doctest.h>

#include <map>
#include <string>

#include "util/rendezvous.h"

using namespace hn;

TEST_CASE("rendezvous hashing: stable owner, even spread, only the lost node's keys move") {
  std::vector<std::string> three = {"ws://a/ws", "ws://b/ws", "ws://c/ws"};
  std::vector<std::string> shuffled = {"ws://c/ws", "ws://a/ws", "ws://b/ws"};
  std::map<std::string, int> owners;
  int moved = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string video = "video-" + std::to_string(i);
    auto order = rendezvous_order(three, video);
    REQUIRE(order.size() == 3);
    CHECK(order == rendezvous_order(shuffled, video));  // every server agrees, whatever its list order
    owners[order[0]]++;
    // Losing "b": videos owned by a or c keep their owner; b's go to their second choice.
    auto without_b = rendezvous_order({"ws://a/ws", "ws://c/ws"}, video);
    if (order[0] != "ws://b/ws") CHECK(without_b[0] == order[0]);
    else {
      CHECK(without_b[0] == order[1]);
      moved++;
    }
  }
  for (auto& [n, count] : owners) CHECK(count > 850);  // ~1000 each
  CHECK(moved == owners["ws://b/ws"]);
  CHECK(split_list("x,,y,") == std::vector<std::string>{"x", "y"});
  CHECK(split_list("") .empty());
}
