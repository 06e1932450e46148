// Runs a blocking function on the libuv thread pool and its continuation back on the loop.
// Store and MongoDB calls go through here so the loop never waits on disk or network I/O.
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace hn {

template <class T>
void run_blocking(uv_loop_t* loop, std::function<T()> work, std::function<void(T)> done) {
  struct Job {
    uv_work_t req;
    std::function<T()> work;
    std::function<void(T)> done;
    std::optional<T> result;
  };
  auto* job = new Job{{}, std::move(work), std::move(done), std::nullopt};
  job->req.data = job;
  uv_queue_work(
      loop, &job->req, [](uv_work_t* r) { static_cast<Job*>(r->data)->result.emplace(static_cast<Job*>(r->data)->work()); },
      [](uv_work_t* r, int) {
        std::unique_ptr<Job> j(static_cast<Job*>(r->data));
        if (j->result) j->done(std::move(*j->result));
      });
}

// As run_blocking, but when `work` has not finished within timeout_ms, `on_timeout` runs instead of
// `done` (a pool thread may be stuck on a hung disk or network filesystem): the caller answers and
// frees what it reserved. A result arriving later is dropped (its destructor releases what it holds).
template <class T>
void run_blocking_for(uv_loop_t* loop, uint64_t timeout_ms, std::function<T()> work, std::function<void(T)> done,
                      std::function<void()> on_timeout) {
  struct State {
    std::function<void(T)> done;
    std::function<void()> on_timeout;
    uv_timer_t* timer = nullptr;
    bool settled = false;
    static void close_timer(uv_timer_t* t) {
      uv_close(reinterpret_cast<uv_handle_t*>(t), [](uv_handle_t* h) {
        delete static_cast<std::shared_ptr<State>*>(h->data);
        delete reinterpret_cast<uv_timer_t*>(h);
      });
    }
  };
  auto st = std::make_shared<State>();
  st->done = std::move(done);
  st->on_timeout = std::move(on_timeout);
  st->timer = new uv_timer_t;
  uv_timer_init(loop, st->timer);
  st->timer->data = new std::shared_ptr<State>(st);
  uv_timer_start(
      st->timer,
      [](uv_timer_t* t) {
        std::shared_ptr<State> s = *static_cast<std::shared_ptr<State>*>(t->data);
        s->timer = nullptr;
        State::close_timer(t);
        if (s->settled) return;
        s->settled = true;
        auto f = std::move(s->on_timeout);
        f();
      },
      timeout_ms, 0);
  run_blocking<T>(loop, std::move(work), [st](T r) {
    if (st->timer != nullptr) {
      uv_timer_stop(st->timer);
      State::close_timer(st->timer);
      st->timer = nullptr;
    }
    if (st->settled) return;
    st->settled = true;
    auto f = std::move(st->done);
    f(std::move(r));
  });
}

}  // namespace hn
