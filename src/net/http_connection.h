// One accepted HTTP/1.1 connection: parse (http-parser), hand the request to the server's handler,
// write the response (headers + body, or headers + sendfile region), then the next request.
#pragma once
#include <http_parser.h>
#include <uv.h>

#include <list>
#include <memory>
#include <string>

#include "net/http_server.h"
#include "net/send_drain.h"
#include "net/tls_stream.h"
#include "net/uv_handle.h"

namespace hn::net {

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  HttpConnection(HttpServer& server, UniqueFd fd, std::string remote);
  ~HttpConnection();
  void start();
  void close();

 private:
  enum class State { reading, waiting, writing, closed };

  static const http_parser_settings& parser_settings();
  static int on_message_begin(http_parser* p);
  static int on_url(http_parser* p, const char* at, size_t len);
  static int on_header_field(http_parser* p, const char* at, size_t len);
  static int on_header_value(http_parser* p, const char* at, size_t len);
  static int on_headers_complete(http_parser* p);
  static int on_body(http_parser* p, const char* at, size_t len);
  static int on_message_complete(http_parser* p);
  static void on_poll(uv_poll_t* h, int status, int events);
  static void on_timer(uv_timer_t* t);

  bool grow_headers(size_t len);
  void read_socket();
  void parse_input();
  void dispatch();
  void reject(int status, const std::string& message);  // answer and close
  void respond(HttpResponse resp);
  void write_pending();
  bool paced() const { return server_.limits_.limit_rate != 0 || server_.limits_.uplink_rate != 0; }
  uint64_t pace(uint64_t want);
  void unpace(uint64_t granted, ssize_t sent);
  void finish_response(bool complete);
  void update_poll();
  void arm_timer(uint64_t ms);
  void continue_handshake();

  HttpServer& server_;
  UniqueFd fd_;
  std::string remote_;
  UvHandle<uv_poll_t> poll_;
  UvHandle<uv_timer_t> timer_;
  http_parser parser_{};
  State state_ = State::reading;
  bool message_started_ = false;
  bool peer_eof_ = false;
  int parse_error_status_ = 0;
  std::string parse_error_message_;

  std::string in_;
  HttpRequest req_;
  size_t header_bytes_ = 0;
  bool last_was_value_ = false;

  std::string out_;
  size_t out_off_ = 0;
  std::shared_ptr<const std::string> body_;  // the body, shared or moved in, never copied per connection
  size_t body_off_ = 0;
  HttpResponse resp_;
  uint64_t file_sent_ = 0;
  bool close_after_ = false;
  uint64_t resp_started_ns_ = 0;
  bool rate_paused_ = false;
  uint64_t last_progress_ns_ = 0;  // pacing keeps the send timeout: no progress past it (plus one pause) closes
  uint64_t pause_ms_ = 0;
  bool parsing_ = false;  // parse_input() is on the stack: a nested call leaves the work to its loop
  std::unique_ptr<TlsStream> tls_;  // HTTPS: all bytes go through it instead of the socket
  std::list<HttpConnection*>::iterator handshake_;  // our entry in server_.handshakes_ while handshaking
  bool handshaking_ = false;
  void handshake_over();
  SendDrain drain_;  // last: destroyed first, while fd_ is still open
};

}  // namespace hn::net
