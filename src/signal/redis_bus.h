// Publish/subscribe over Redis for signallers that share swarms (docs/scaling.md). Two hiredis async
// connections (a subscribed connection can do nothing else) driven by hiredis' libuv adapter, so the
// loop never blocks. Reconnects with back-off; subscriptions are restored after every reconnect.
#pragma once
#include <uv.h>

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "net/uv_handle.h"

struct redisAsyncContext;

namespace hn::signal {

class RedisBus {
 public:
  struct Handlers {
    std::function<void(const std::string& channel, const std::string& payload)> on_message;
    std::function<void()> on_up;                       // both connections ready, subscriptions restored
    std::function<void(const std::string& why)> on_down;
  };
  RedisBus(uv_loop_t* loop, std::string host, int port, Handlers h);
  ~RedisBus();
  RedisBus(const RedisBus&) = delete;
  RedisBus& operator=(const RedisBus&) = delete;

  void start();
  bool up() const { return pub_up_ && sub_up_; }
  bool publish(const std::string& channel, const std::string& payload);  // false while down (dropped)
  void subscribe(const std::string& channel);
  void unsubscribe(const std::string& channel);
  uint64_t published() const { return published_; }
  uint64_t received() const { return received_; }

 private:
  friend struct RedisGlue;
  void connect();
  void on_connected(redisAsyncContext* c, bool ok, const std::string& err);
  void on_disconnected(redisAsyncContext* c, const std::string& why);
  void schedule_reconnect();

  uv_loop_t* loop_;
  std::string host_;
  int port_;
  Handlers handlers_;
  redisAsyncContext* pub_ = nullptr;
  redisAsyncContext* sub_ = nullptr;
  bool pub_up_ = false, sub_up_ = false, was_up_ = false, stopping_ = false;
  std::set<std::string> channels_;
  net::UvHandle<uv_timer_t> retry_;
  uint64_t backoff_ms_ = 200, published_ = 0, received_ = 0, attempt_started_ = 0;
};

}  // namespace hn::signal
