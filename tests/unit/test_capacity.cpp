#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "hybridnode/capacity_policy.h"
#include "policy/shared_policy.h"
#include "util/loop_thread.h"

TEST_CASE("connection cap admits up to the cap and frees slots exactly once") {
  auto p = hn::make_connection_cap(2, 3);
  CHECK(p->name() == "connections");
  CHECK(p->limit() == 2);
  CHECK(p->retry_after_seconds() == 3);
  {
    auto a = hn::TransferSlot::try_acquire(*p, 1000);
    auto b = hn::TransferSlot::try_acquire(*p, 1000);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(p->active() == 2);
    CHECK_FALSE(hn::TransferSlot::try_acquire(*p, 1000));
    CHECK(p->active() == 2);  // a refusal does not count as active
    a.reset();
    CHECK(p->active() == 1);
    auto c = hn::TransferSlot::try_acquire(*p, 1000);
    CHECK(c);
  }
  CHECK(p->active() == 0);
}

TEST_CASE("cap 0 means unlimited") {
  auto p = hn::make_connection_cap(0);
  CHECK(p->limit() == -1);
  std::vector<std::unique_ptr<hn::TransferSlot>> slots;
  for (int i = 0; i < 1000; ++i) slots.push_back(hn::TransferSlot::try_acquire(*p, 1000));
  for (auto& s : slots) CHECK(s);
  CHECK(p->active() == 1000);
}

TEST_CASE("bandwidth budget: admits while the bucket holds bytes, refills with time") {
  double now = 0;
  auto p = hn::make_bandwidth_budget(1000000, 500000, 1, [&] { return now; });
  CHECK(p->name() == "bandwidth");
  std::vector<std::unique_ptr<hn::TransferSlot>> held;
  held.push_back(hn::TransferSlot::try_acquire(*p, 262144));  // 500000 -> 237856
  held.push_back(hn::TransferSlot::try_acquire(*p, 262144));  // overdraws once -> -24288
  REQUIRE(held[0]);
  REQUIRE(held[1]);
  CHECK_FALSE(hn::TransferSlot::try_acquire(*p, 262144));  // spent
  CHECK(p->retry_after_seconds() >= 1);
  now = 0.02;  // +20000 bytes: still below zero
  CHECK_FALSE(hn::TransferSlot::try_acquire(*p, 262144));
  now = 0.05;  // +50000 total: positive again
  CHECK(hn::TransferSlot::try_acquire(*p, 262144));
  now = 100;  // refill caps at the burst (slots still held: charged what they were admitted for)
  held.push_back(hn::TransferSlot::try_acquire(*p, 400000));
  held.push_back(hn::TransferSlot::try_acquire(*p, 400000));  // 100000 left -> overdraw allowed once
  CHECK(held[2]);
  CHECK(held[3]);
  CHECK_FALSE(hn::TransferSlot::try_acquire(*p, 1));
}

TEST_CASE("bandwidth budget: charges what was sent; early ends, 404s and store errors are refunded") {
  double now = 0;
  auto p = hn::make_bandwidth_budget(1000000, 1000000, 1, [&] { return now; });
  {
    // An 8 MB transfer admitted on a full bucket, aborted after 1 KB: only the 1 KB stays charged.
    auto big = hn::TransferSlot::try_acquire(*p, 8000000);
    REQUIRE(big);
    CHECK_FALSE(hn::TransferSlot::try_acquire(*p, 1000));  // the bucket is overdrawn meanwhile
    CHECK(p->retry_after_seconds() >= 7);
    big->add_bytes(1000);
  }
  CHECK(p->retry_after_seconds() == 1);
  CHECK(hn::TransferSlot::try_acquire(*p, 1000));  // the next request is served at once (and refunded: sent nothing)
  {
    // A request whose chunk the store could not open (404, store error) sent nothing: not charged.
    auto failed = hn::TransferSlot::try_acquire(*p, 900000);
    REQUIRE(failed);
  }
  auto a = hn::TransferSlot::try_acquire(*p, 900000);
  REQUIRE(a);
  // The store says the chunk is 100000 bytes (the manifest's chunk_size was an upper bound): recharged.
  a->set_size(100000);
  a->add_bytes(100000);
  auto b = hn::TransferSlot::try_acquire(*p, 800000);
  REQUIRE(b);  // 1000000 - 1000 - 100000 left: still positive
  b->add_bytes(800000);
  b.reset();
  a.reset();
  auto c = hn::TransferSlot::try_acquire(*p, 1000000);  // 99000 left: overdraws once
  REQUIRE(c);
  c->add_bytes(1000000);
  c.reset();
  CHECK_FALSE(hn::TransferSlot::try_acquire(*p, 1));
  CHECK(p->retry_after_seconds() == 1);  // 901000 short at 1 MB/s
  now = 1.0;
  CHECK(hn::TransferSlot::try_acquire(*p, 1));
}

TEST_CASE("adaptive cap: shrinks when transfers are slow, grows back when fast and clients are refused") {
  double now = 0;
  auto p = hn::make_adaptive_cap(0.5, 8, 1, [&] { return now; });
  CHECK(p->limit() == 8);
  // A second of slow transfers (2 s each, target 0.5 s): the cap drops to 8 * 0.7 = 5.
  for (int i = 0; i < 8; ++i) CHECK(p->try_admit(1));
  for (int i = 0; i < 8; ++i) p->finish(1, 2.0);
  now = 1.1;
  CHECK_FALSE(p->try_admit(1) == false);  // adjusts, then admits (1 of 5)
  CHECK(p->limit() == 5);
  for (int i = 0; i < 2; ++i) CHECK(p->try_admit(1));
  for (int i = 0; i < 3; ++i) p->finish(1, 2.0);
  now = 2.2;
  CHECK(p->try_admit(1));
  CHECK(p->limit() == 3);  // 5 * 0.7
  p->finish(1, 0.1);
  // Fast transfers while refusing: +1 per window.
  for (int i = 0; i < 3; ++i) CHECK(p->try_admit(1));
  CHECK_FALSE(p->try_admit(1));  // refused at the cap
  for (int i = 0; i < 3; ++i) p->finish(1, 0.1);
  now = 3.3;
  CHECK(p->try_admit(1));
  CHECK(p->limit() == 4);
  // Never below 1 (one slow transfer per window: the window waits 4 s for more samples, then adjusts).
  for (int w = 0; w < 10; ++w) {
    p->finish(1, 9.0);
    now += 4.1;
    CHECK(p->try_admit(1));
  }
  CHECK(p->limit() == 1);
}

TEST_CASE("adaptive cap: errored transfers, idle spells and lone samples do not move the cap") {
  double now = 0;
  auto p = hn::make_adaptive_cap(0.5, 4, 1, [&] { return now; });
  // Transfers that sent nothing (404, store error) are not transfer times, however long they took.
  for (int i = 0; i < 4; ++i) CHECK(p->try_admit(1));
  for (int i = 0; i < 4; ++i) p->finish(0, 5.0);
  now = 1.5;
  CHECK(p->try_admit(1));
  CHECK(p->limit() == 4);
  p->finish(1, 0.1);
  // Refusals in a window where nothing finished are forgotten with it: they do not raise the cap later.
  auto q = hn::make_adaptive_cap(0.5, 4, 1, [&] { return now; });
  now = 10;
  for (int i = 0; i < 3; ++i) CHECK(q->try_admit(1));  // nothing finishes in this window
  for (int i = 0; i < 3; ++i) q->finish(1, 2.0);       // ... until here: slow, so 4 -> 2
  now = 11.1;
  CHECK(q->try_admit(1));
  CHECK(q->limit() == 2);
  CHECK(q->try_admit(1));
  CHECK_FALSE(q->try_admit(1));  // refused at the cap, in a window where nothing finishes
  now = 12.2;
  q->finish(1, 0.1);
  q->finish(1, 0.1);
  CHECK(q->try_admit(1));
  q->finish(1, 0.1);
  now = 13.3;
  CHECK(q->try_admit(1));  // fast transfers, but nobody refused since 12.2: no reason to grow
  CHECK(q->limit() == 2);
  CHECK(q->try_admit(1));
  CHECK_FALSE(q->try_admit(1));  // refused now
  for (int i = 0; i < 2; ++i) q->finish(1, 0.1);
  for (int i = 0; i < 2; ++i) CHECK(q->try_admit(1));
  for (int i = 0; i < 2; ++i) q->finish(1, 0.1);
  now = 14.4;
  CHECK(q->try_admit(1));  // fast, with a refusal in this window: +1
  CHECK(q->limit() == 3);
  q->finish(1, 0.1);
  // After an idle minute, one slow transfer is not enough to cut the cap.
  now = 80;
  CHECK(q->try_admit(1));
  now = 81.5;
  q->finish(1, 3.0);
  CHECK(q->try_admit(1));
  CHECK(q->limit() == 3);
  q->finish(1, 0.1);
}

#include "policy/upload_preference.h"

TEST_CASE("upload preference: reciprocating peers, then low RTT, then longest waiting; optimistic slot") {
  std::vector<hn::UploadCandidate> w = {
      {0, 5.0, 1.0},    // fast, but gives nothing back
      {1000, 80.0, 3.0},  // uploads to us, slow
      {0, 0, 0.5},      // unknown RTT, waiting longest
      {2000, 20.0, 4.0},  // uploads to us, faster
  };
  CHECK(hn::pick_upload(w, 0, 0) == 3);
  w[3].bytes_from_them = 0;
  CHECK(hn::pick_upload(w, 0, 0) == 1);
  w[1].bytes_from_them = 0;  // nobody reciprocates: lowest known RTT
  CHECK(hn::pick_upload(w, 0, 0) == 0);
  w = {{0, 0, 2.0}, {0, 0, 1.0}};  // nothing known: oldest first
  CHECK(hn::pick_upload(w, 1, 0) == 1);
  // Every 4th grant is optimistic: the random draw decides.
  w = {{500, 1.0, 0}, {0, 0, 9}, {0, 0, 10}};
  CHECK(hn::pick_upload(w, 3, 2) == 2);
  CHECK(hn::pick_upload(w, 7, 1) == 1);
  CHECK(hn::pick_upload(w, 4, 2) == 0);
}

TEST_CASE("shared policy: one cap for several threads (--workers); admissions never exceed it") {
  auto p = hn::make_shared_policy(hn::make_connection_cap(3));
  std::atomic<int> inside{0}, most{0}, admitted{0}, refused{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto slot = hn::TransferSlot::try_acquire(*p, 1000);
        if (!slot) {
          refused++;
          continue;
        }
        admitted++;
        int now = ++inside;
        int m = most.load();
        while (now > m && !most.compare_exchange_weak(m, now)) {}
        slot->add_bytes(1000);
        --inside;
      }
    });
  for (auto& t : ts) t.join();
  CHECK(most.load() <= 3);
  CHECK(admitted.load() + refused.load() == 8000);
  CHECK(p->active() == 0);
  CHECK(p->limit() == 3);
  CHECK(p->name() == "connections");
}

TEST_CASE("loop thread: posted closures run on its loop in order; stop runs the last one and ends the thread") {
  hn::LoopThread lt;
  std::vector<int> seen;
  std::thread::id loop_thread;
  lt.start();
  for (int i = 0; i < 100; ++i) lt.post([&, i] { seen.push_back(i); loop_thread = std::this_thread::get_id(); });
  bool last = false;
  lt.stop([&] { last = true; });
  lt.post([&] { seen.push_back(-1); });  // after stop: dropped
  lt.join();
  CHECK(last);
  REQUIRE(seen.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(seen[static_cast<size_t>(i)] == i);
  CHECK((loop_thread != std::this_thread::get_id()));
}
