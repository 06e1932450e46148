#include "util/loop_thread.h"

namespace hn {

LoopThread::LoopThread() : async_(new uv_async_t{}) {
  uv_loop_init(&loop_);
  uv_async_init(&loop_, async_, on_async);
  async_->data = this;
}

LoopThread::~LoopThread() {
  join();
  drain();
}

void LoopThread::start() {
  thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
}

void LoopThread::post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (closed_) return;
    queue_.push_back(std::move(fn));
  }
  uv_async_send(async_);
}

void LoopThread::stop(std::function<void()> last) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (closed_) return;
    queue_.push_back(std::move(last));
    closed_ = true;
  }
  uv_async_send(async_);
}

void LoopThread::on_async(uv_async_t* a) {
  auto* self = static_cast<LoopThread*>(a->data);
  std::vector<std::function<void()>> batch;
  bool closed;
  {
    std::lock_guard<std::mutex> g(self->mu_);
    batch.swap(self->queue_);
    closed = self->closed_;
  }
  for (auto& f : batch) f();
  // Closed: nothing more can be queued (post() drops), and what was queued has run.
  if (closed && !self->async_closing_) {
    self->async_closing_ = true;
    uv_close(reinterpret_cast<uv_handle_t*>(a), [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
  }
}

void LoopThread::join() {
  if (thread_.joinable()) thread_.join();
}

void LoopThread::drain() {
  if (drained_) return;
  drained_ = true;
  if (!async_closing_) {  // set on the loop's thread, which has ended (joined) or never ran
    // Never started or never stopped: the mailbox is the handle that keeps the loop alive.
    {
      std::lock_guard<std::mutex> g(mu_);
      closed_ = true;
      queue_.clear();
    }
    async_closing_ = true;
    uv_close(reinterpret_cast<uv_handle_t*>(async_), [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

}  // namespace hn
