// --web-root=DIR: static files (the browser client, docs/web.md) served by the content server.
// Paths are decoded and checked before any file system call; files are opened one component at a time
// with O_NOFOLLOW under a directory fd held since start, so no path, encoding or symlink leaves the root.
#pragma once
#include <uv.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hybridnode/result.h"
#include "net/http_server.h"
#include "util/unique_fd.h"

namespace hn::content {

struct WebPath {
  int status = 0;                  // 0: usable; 400 (bad encoding, dot segments, NUL) or 404 (hidden names)
  std::vector<std::string> parts;  // decoded path segments, none empty, "." or ".."
  bool trailing_slash = false;     // "/" or "/dir/": a directory's index.html
};
// Pure: the fuzz target's entry point. `raw` is the request path as sent (no query).
WebPath parse_web_path(std::string_view raw);

// Content-Type for a file name (by extension); application/octet-stream when unknown.
const char* mime_type_for(std::string_view name);

class WebRoot {
 public:
  static Result<std::unique_ptr<WebRoot>> open(const std::string& dir);
  // GET/HEAD of a path outside the API. Opens and stats on the thread pool; the answer comes on the loop.
  void serve(uv_loop_t* loop, const net::HttpRequest& req, net::HttpServer::Respond respond) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::shared_ptr<UniqueFd> root_;
};

}  // namespace hn::content
