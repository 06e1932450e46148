#include <doctest/doctest.h>

#include <vector>

#include "hybridnode/capacity_policy.h"

TEST_CASE("connection cap admits up to the cap and frees slots exactly once") {
  auto p = hn::make_connection_cap(2, 3);
  CHECK(p->name() == "connections");
  CHECK(p->limit() == 2);
  CHECK(p->retry_after_seconds() == 3);
  {
    auto a = hn::TransferSlot::try_acquire(*p);
    auto b = hn::TransferSlot::try_acquire(*p);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(p->active() == 2);
    CHECK_FALSE(hn::TransferSlot::try_acquire(*p));
    CHECK(p->active() == 2);  // a refusal does not count as active
    a.reset();
    CHECK(p->active() == 1);
    auto c = hn::TransferSlot::try_acquire(*p);
    CHECK(c);
  }
  CHECK(p->active() == 0);
}

TEST_CASE("cap 0 means unlimited") {
  auto p = hn::make_connection_cap(0);
  CHECK(p->limit() == -1);
  std::vector<std::unique_ptr<hn::TransferSlot>> slots;
  for (int i = 0; i < 1000; ++i) slots.push_back(hn::TransferSlot::try_acquire(*p));
  for (auto& s : slots) CHECK(s);
  CHECK(p->active() == 1000);
}
