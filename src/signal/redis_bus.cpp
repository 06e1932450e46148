#include "signal/redis_bus.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "util/log.h"

namespace hn::signal {

// hiredis' C callbacks; the bus is found through the context's `data`.
struct RedisGlue {
  static RedisBus* bus(const redisAsyncContext* c) { return static_cast<RedisBus*>(c->data); }
  static void connected(const redisAsyncContext* c, int status) {
    if (auto* b = bus(c)) b->on_connected(const_cast<redisAsyncContext*>(c), status == REDIS_OK, c->errstr);
  }
  static void disconnected(const redisAsyncContext* c, int) {
    if (auto* b = bus(c)) b->on_disconnected(const_cast<redisAsyncContext*>(c), c->err ? c->errstr : "closed");
  }
  static void message(redisAsyncContext* c, void* r, void*) {
    auto* reply = static_cast<redisReply*>(r);
    auto* b = bus(c);
    if (b == nullptr || reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) return;
    redisReply** e = reply->element;
    if (e[0]->type != REDIS_REPLY_STRING || std::string(e[0]->str, e[0]->len) != "message") return;
    b->received_++;
    if (b->handlers_.on_message) b->handlers_.on_message(std::string(e[1]->str, e[1]->len), std::string(e[2]->str, e[2]->len));
  }
};

RedisBus::RedisBus(uv_loop_t* loop, std::string host, int port, Handlers h)
    : loop_(loop), host_(std::move(host)), port_(port), handlers_(std::move(h)) {}

RedisBus::~RedisBus() {
  stopping_ = true;
  retry_.reset();
  // redisAsyncFree runs pending callbacks with null replies; detach first so none reaches us.
  for (redisAsyncContext* c : {pub_, sub_})
    if (c != nullptr) {
      c->data = nullptr;
      redisAsyncFree(c);
    }
}

void RedisBus::start() {
  uv_timer_init(loop_, retry_.get());
  retry_->data = this;
  connect();
}

void RedisBus::connect() {
  // hiredis' libuv adapter drops poll errors (a refused connect is never reported), so a connection
  // not up when the retry timer fires is abandoned and made again.
  bool stale = uv_now(loop_) - attempt_started_ >= 1000;
  for (redisAsyncContext** slot : {&pub_, &sub_})
    if (stale && *slot != nullptr && !(slot == &pub_ ? pub_up_ : sub_up_)) {
      (*slot)->data = nullptr;
      redisAsyncFree(*slot);
      *slot = nullptr;
    }
  for (redisAsyncContext** slot : {&pub_, &sub_}) {
    if (*slot != nullptr) continue;
    attempt_started_ = uv_now(loop_);
    redisAsyncContext* c = redisAsyncConnect(host_.c_str(), port_);
    if (c == nullptr || c->err) {
      std::string why = c ? c->errstr : "out of memory";
      if (c) redisAsyncFree(c);
      log::warn("redis " + host_ + ":" + std::to_string(port_) + ": " + why);
      schedule_reconnect();
      return;
    }
    c->data = this;
    redisLibuvAttach(c, loop_);
    redisAsyncSetConnectCallback(c, RedisGlue::connected);
    redisAsyncSetDisconnectCallback(c, RedisGlue::disconnected);
    *slot = c;
  }
  if (!up()) schedule_reconnect();  // the watchdog for this attempt
}

void RedisBus::on_connected(redisAsyncContext* c, bool ok, const std::string& err) {
  if (!ok) {
    // hiredis frees the context after this callback.
    (c == pub_ ? pub_ : sub_) = nullptr;
    if (was_up_ || backoff_ms_ == 200) log::warn("redis " + host_ + ":" + std::to_string(port_) + ": cannot connect: " + err);
    schedule_reconnect();
    return;
  }
  if (c == pub_) pub_up_ = true;
  if (c == sub_) {
    sub_up_ = true;
    for (const auto& ch : channels_) redisAsyncCommand(sub_, RedisGlue::message, nullptr, "SUBSCRIBE %b", ch.data(), ch.size());
  }
  if (up()) {
    backoff_ms_ = 200;
    if (was_up_) log::info("redis " + host_ + ":" + std::to_string(port_) + " is back: swarms are shared again");
    else log::info("redis " + host_ + ":" + std::to_string(port_) + " connected");
    was_up_ = true;
    if (handlers_.on_up) handlers_.on_up();
  }
}

void RedisBus::on_disconnected(redisAsyncContext* c, const std::string& why) {
  bool was = up();
  if (c == pub_) {
    pub_ = nullptr;
    pub_up_ = false;
  }
  if (c == sub_) {
    sub_ = nullptr;
    sub_up_ = false;
  }
  if (stopping_) return;
  // The other connection is most likely dead too; drop it so both come back together.
  for (redisAsyncContext** other : {&pub_, &sub_})
    if (*other != nullptr) {
      redisAsyncContext* o = *other;
      *other = nullptr;
      o->data = nullptr;
      redisAsyncFree(o);
    }
  pub_up_ = sub_up_ = false;
  if (was) {
    log::error("redis " + host_ + ":" + std::to_string(port_) + " lost (" + why +
               "): swarms are per-instance until it returns");
    if (handlers_.on_down) handlers_.on_down(why);
  }
  schedule_reconnect();
}

void RedisBus::schedule_reconnect() {
  if (stopping_ || retry_->loop == nullptr || uv_is_active(retry_.handle())) return;
  uv_timer_start(retry_.get(), [](uv_timer_t* t) {
    if (auto* b = static_cast<RedisBus*>(t->data)) b->connect();
  }, backoff_ms_, 0);
  backoff_ms_ = std::min<uint64_t>(backoff_ms_ * 2, 2000);
}

bool RedisBus::publish(const std::string& channel, const std::string& payload) {
  if (!pub_up_) return false;
  published_++;
  return redisAsyncCommand(pub_, nullptr, nullptr, "PUBLISH %b %b", channel.data(), channel.size(), payload.data(),
                           payload.size()) == REDIS_OK;
}

void RedisBus::subscribe(const std::string& channel) {
  if (!channels_.insert(channel).second) return;
  if (sub_up_) redisAsyncCommand(sub_, RedisGlue::message, nullptr, "SUBSCRIBE %b", channel.data(), channel.size());
}

void RedisBus::unsubscribe(const std::string& channel) {
  if (!channels_.erase(channel)) return;
  if (sub_up_) redisAsyncCommand(sub_, nullptr, nullptr, "UNSUBSCRIBE %b", channel.data(), channel.size());
}

}  // namespace hn::signal
