// A libuv loop on its own thread, with a mailbox: closures posted from any thread run on that loop.
// The content server's extra worker loops (--workers) are these. The loop's handles may be set up from
// the creating thread before start() (the loop is not running yet); after start() only posted closures
// touch them.
#pragma once
#include <uv.h>

#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hn {

class LoopThread {
 public:
  LoopThread();
  ~LoopThread();  // join()s; the loop must have run out (stop() first)
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  uv_loop_t* loop() { return &loop_; }
  void start();  // runs the loop on a new thread until it has nothing left to do
  // Runs `fn` on the loop's thread, in posting order. Dropped after stop().
  void post(std::function<void()> fn);
  // `last` runs on the loop's thread (it closes what keeps the loop alive), then the mailbox closes
  // and the loop runs out. Returns at once; join() waits for the thread.
  void stop(std::function<void()> last);
  void join();
  // After join(), on the caller's thread: runs the loop once more to completion (close callbacks of
  // handles released since) and closes it.
  void drain();

 private:
  static void on_async(uv_async_t* a);
  uv_loop_t loop_{};
  uv_async_t* async_;  // freed by its close callback
  std::mutex mu_;
  std::vector<std::function<void()>> queue_;
  bool closed_ = false;
  bool drained_ = false;
  bool async_closing_ = false;
  std::thread thread_;
};

}  // namespace hn
