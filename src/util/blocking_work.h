// Runs a blocking function on the libuv thread pool and its continuation back on the loop.
// Store and MongoDB calls go through here so the loop never waits on disk or network I/O.
#pragma once
#include <uv.h>

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

}  // namespace hn
