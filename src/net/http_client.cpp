#include "net/http_client.h"

#include <curl/curl.h>

#include <memory>

namespace hn::net {

namespace {
struct Request {
  HttpClient* client;
  std::function<void(HttpResult)> done;
  std::string body;
  size_t max_body;
  bool too_big = false;
  char errbuf[CURL_ERROR_SIZE] = {};
};

struct SocketCtx {
  HttpClient* client;
  curl_socket_t fd;
  uv_poll_t* poll;
};
}  // namespace

struct CurlGlue {
  static size_t on_write(char* data, size_t size, size_t n, void* user) {
    auto* r = static_cast<Request*>(user);
    size_t len = size * n;
    if (r->body.size() + len > r->max_body) {
      r->too_big = true;
      return 0;  // curl aborts the transfer
    }
    r->body.append(data, len);
    return len;
  }

  static void on_poll(uv_poll_t* h, int status, int events) {
    auto* s = static_cast<SocketCtx*>(h->data);
    int flags = 0;
    if (status < 0) flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    HttpClient* c = s->client;
    int running = 0;
    curl_multi_socket_action(c->multi_, s->fd, flags, &running);
    c->check_done();
  }

  static int on_socket(CURL*, curl_socket_t fd, int what, void* userp, void* socketp) {
    auto* c = static_cast<HttpClient*>(userp);
    auto* s = static_cast<SocketCtx*>(socketp);
    if (what == CURL_POLL_REMOVE) {
      if (s != nullptr) {
        c->sockets_.erase(s);
        uv_close(reinterpret_cast<uv_handle_t*>(s->poll), [](uv_handle_t* h) {
          auto* ctx = static_cast<SocketCtx*>(h->data);
          delete reinterpret_cast<uv_poll_t*>(h);
          delete ctx;
        });
        curl_multi_assign(c->multi_, fd, nullptr);
      }
      return 0;
    }
    if (s == nullptr) {
      s = new SocketCtx{c, fd, new uv_poll_t};
      c->sockets_.insert(s);
      uv_poll_init_socket(c->loop_, s->poll, fd);
      s->poll->data = s;
      curl_multi_assign(c->multi_, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN) events |= UV_READABLE;
    if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
    uv_poll_start(s->poll, events, on_poll);
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* userp) {
    auto* c = static_cast<HttpClient*>(userp);
    if (c->timer_.get() == nullptr) return 0;
    if (timeout_ms < 0) {
      uv_timer_stop(c->timer_.get());
      return 0;
    }
    uv_timer_start(c->timer_.get(), [](uv_timer_t* t) {
      auto* cl = static_cast<HttpClient*>(t->data);
      int running = 0;
      curl_multi_socket_action(cl->multi_, CURL_SOCKET_TIMEOUT, 0, &running);
      cl->check_done();
    }, static_cast<uint64_t>(timeout_ms), 0);
    return 0;
  }
};

HttpClient::HttpClient(uv_loop_t* loop, long timeout_ms) : loop_(loop), timeout_ms_(timeout_ms) {
  static bool inited = (curl_global_init(CURL_GLOBAL_DEFAULT), true);
  (void)inited;
  multi_ = curl_multi_init();
  uv_timer_init(loop_, timer_.get());
  timer_->data = this;
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, CurlGlue::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, CurlGlue::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
}

HttpClient::~HttpClient() { close(); }

void HttpClient::close() {
  if (multi_ == nullptr) return;
  // Remove easy handles first; curl then reports CURL_POLL_REMOVE for their sockets.
  for (void* h : easy_) {
    Request* r = nullptr;
    curl_easy_getinfo(h, CURLINFO_PRIVATE, &r);
    curl_multi_remove_handle(multi_, h);
    curl_easy_cleanup(h);
    delete r;
  }
  easy_.clear();
  curl_multi_cleanup(multi_);
  multi_ = nullptr;
  // Sockets curl did not report removed before cleanup: stop polling them too.
  for (void* p : sockets_) {
    auto* s = static_cast<SocketCtx*>(p);
    uv_close(reinterpret_cast<uv_handle_t*>(s->poll), [](uv_handle_t* h) {
      auto* ctx = static_cast<SocketCtx*>(h->data);
      delete reinterpret_cast<uv_poll_t*>(h);
      delete ctx;
    });
  }
  sockets_.clear();
  timer_.reset();
}

void HttpClient::get(const std::string& url, size_t max_body, std::function<void(HttpResult)> done, long timeout_ms) {
  CURL* e = curl_easy_init();
  auto* r = new Request{this, std::move(done), {}, max_body};
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_PRIVATE, r);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, CurlGlue::on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : timeout_ms_);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  if (!ca_file_.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "hybridnode");
  curl_multi_add_handle(multi_, e);
  easy_.insert(e);
}

void HttpClient::check_done() {
  CURLMsg* msg;
  int left = 0;
  while (multi_ != nullptr && (msg = curl_multi_info_read(multi_, &left))) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* e = msg->easy_handle;
    Request* raw = nullptr;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, &raw);
    std::unique_ptr<Request> r(raw);
    HttpResult res;
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME, &res.seconds);
    if (msg->data.result == CURLE_OK) {
      res.status = static_cast<int>(code);
      res.body = std::move(r->body);
      struct curl_header* h = nullptr;
      if (curl_easy_header(e, "Retry-After", 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h && h->value)
        res.retry_after = std::atoi(h->value);
    } else {
      char* url = nullptr;
      curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &url);
      res.timed_out = msg->data.result == CURLE_OPERATION_TIMEDOUT;
      // Name the URL (so the host) and give curl's detail: "SSL certificate problem: unable to get local issuer".
      res.error = r->too_big ? "response body too large"
                             : std::string(url ? url : "?") + ": " + curl_easy_strerror(msg->data.result) +
                                   (r->errbuf[0] ? std::string(" (") + r->errbuf + ")" : "");
    }
    curl_multi_remove_handle(multi_, e);
    curl_easy_cleanup(e);
    easy_.erase(e);
    r->done(std::move(res));
  }
}

}  // namespace hn::net
