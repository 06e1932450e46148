// An HTTP/1.1 request as parsed, and the response a handler gives back.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hn::net {

struct HttpRequest {
  std::string method;  // "GET", "HEAD", ...
  std::string target;  // as sent: path plus query
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;
  bool keep_alive = true;
  bool upgrade = false;
  std::string remote;  // peer address "ip:port"
  // Set by a handler that parks the request (a long poll): runs if the connection dies before the
  // answer, so the parked state dies with it.
  std::function<void()> on_abandon;

  const std::string* header(std::string_view lowercase_name) const;
  // Value of `key` in the query string (no percent-decoding: ids never need it), or empty.
  std::string query_param(std::string_view key) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // A body shared with other responses (a manifest, a live chunk): sent by reference, never copied.
  // Sent after `body`; HEAD sends neither.
  std::shared_ptr<const std::string> shared_body;
  // A file region sent with sendfile(2) after `body` (which is then normally empty).
  int file_fd = -1;
  uint64_t file_offset = 0;
  uint64_t file_length = 0;
  std::shared_ptr<void> file_owner;
  // A HEAD answered from metadata, with no body at hand: the Content-Length a GET would carry (-1: the
  // length of what is attached, as for any response).
  int64_t head_length = -1;
  bool close = false;  // close the connection after this response
  // Called exactly once: when the last byte is handed to the kernel, or when the connection dies
  // first. body_bytes counts the body (not headers) actually sent.
  std::function<void(uint64_t body_bytes, bool complete)> on_done;

  static HttpResponse json(int status, std::string body);
  static HttpResponse text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  // {"error": message, ...extra fields}
  static HttpResponse error(int status, const std::string& message);
  static HttpResponse shared(int status, std::shared_ptr<const std::string> body, std::string content_type);
};

const char* status_text(int status);

}  // namespace hn::net
