#include "content/web_root.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/blocking_work.h"

namespace hn::content {

namespace {
constexpr size_t kMaxPath = 2048, kMaxParts = 32;

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct Opened {
  int status = 500;
  std::shared_ptr<UniqueFd> fd;
  uint64_t size = 0;
  std::string etag, type, location;
};

// Opens `name` under `dir` without following a symlink; a directory only when `want_dir`.
int open_beneath(int dir, const std::string& name, bool want_dir) {
  return ::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (want_dir ? O_DIRECTORY : 0));
}

int errno_status(int e) { return e == EACCES || e == EPERM ? 403 : 404; }

Opened open_file(int root, const WebPath& p, const std::string& raw_path) {
  Opened o;
  UniqueFd dir(::dup(root));
  if (!dir.valid()) return o;
  size_t dirs = p.trailing_slash ? p.parts.size() : (p.parts.empty() ? 0 : p.parts.size() - 1);
  for (size_t i = 0; i < dirs; ++i) {
    UniqueFd next(open_beneath(dir.get(), p.parts[i], true));
    if (!next.valid()) {
      o.status = errno_status(errno);
      return o;
    }
    dir = std::move(next);
  }
  std::string name = p.trailing_slash || p.parts.empty() ? "index.html" : p.parts.back();
  UniqueFd f(open_beneath(dir.get(), name, false));
  if (!f.valid()) {
    o.status = errno_status(errno);
    return o;
  }
  struct stat st;
  if (::fstat(f.get(), &st) != 0) return o;
  if (S_ISDIR(st.st_mode)) {  // "/docs" names a directory: its index lives at "/docs/"
    o.status = 301;
    // One leading slash: "//docs" would send the browser to the host "docs" (a protocol-relative URL).
    o.location = "/" + raw_path.substr(raw_path.find_first_not_of('/')) + "/";
    return o;
  }
  if (!S_ISREG(st.st_mode)) {  // FIFOs, devices, sockets: never
    o.status = 404;
    return o;
  }
  // Back to blocking reads for sendfile.
  int fl = ::fcntl(f.get(), F_GETFL);
  if (fl >= 0) ::fcntl(f.get(), F_SETFL, fl & ~O_NONBLOCK);
  char tag[96];
  std::snprintf(tag, sizeof tag, "\"%llx-%llx-%llx\"", static_cast<unsigned long long>(st.st_ino),
                static_cast<unsigned long long>(st.st_size),
                static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ull +
                    static_cast<unsigned long long>(st.st_mtim.tv_nsec));
  o.status = 200;
  o.etag = tag;
  o.size = static_cast<uint64_t>(st.st_size);
  o.type = mime_type_for(name);
  o.fd = std::make_shared<UniqueFd>(std::move(f));
  return o;
}

bool tag_listed(const std::string& header, const std::string& tag) {
  if (header.find('*') != std::string::npos) return true;
  // Weak comparison: W/"x" matches "x".
  return header.find(tag) != std::string::npos;
}
}  // namespace

WebPath parse_web_path(std::string_view raw) {
  WebPath w;
  if (raw.empty() || raw[0] != '/' || raw.size() > kMaxPath) {
    w.status = 400;
    return w;
  }
  std::string seg;
  auto close_segment = [&]() -> bool {
    if (seg.empty()) return true;  // "//": ignored, as servers usually do
    if (seg == "." || seg == "..") {
      w.status = 400;
      return false;
    }
    if (seg[0] == '.') {  // hidden files (.git, .env) are never served
      w.status = 404;
      return false;
    }
    if (w.parts.size() == kMaxParts) {
      w.status = 400;
      return false;
    }
    w.parts.push_back(std::move(seg));
    seg.clear();
    return true;
  };
  for (size_t i = 1; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '/') {
      if (!close_segment()) return w;
      continue;
    }
    if (c == '%') {
      int hi = i + 2 < raw.size() ? hex(raw[i + 1]) : -1, lo = hi >= 0 ? hex(raw[i + 2]) : -1;
      if (lo < 0) {
        w.status = 400;
        return w;
      }
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
      // An encoded separator would hide a ".." from the check above: refuse it outright.
      if (c == '/') {
        w.status = 400;
        return w;
      }
    }
    if (c == '\0' || c == '\\') {
      w.status = 400;
      return w;
    }
    seg += c;
  }
  w.trailing_slash = raw.back() == '/';
  if (!close_segment()) return w;
  if (w.parts.empty()) w.trailing_slash = true;
  return w;
}

const char* mime_type_for(std::string_view name) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"}, {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"}, {".json", "application/json"}, {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
      {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"}, {".gif", "image/gif"}, {".ico", "image/x-icon"},
      {".webp", "image/webp"}, {".wasm", "application/wasm"}, {".woff2", "font/woff2"},
      {".m3u8", "application/vnd.apple.mpegurl"}, {".ts", "video/mp2t"}, {".mp4", "video/mp4"},
      {".webm", "video/webm"}, {".vtt", "text/vtt; charset=utf-8"}};
  for (const auto& [ext, type] : kTypes) {
    size_t n = std::strlen(ext);
    if (name.size() > n && name.compare(name.size() - n, n, ext) == 0) return type;
  }
  return "application/octet-stream";
}

Result<std::unique_ptr<WebRoot>> WebRoot::open(const std::string& dir) {
  auto w = std::make_unique<WebRoot>();
  w->dir_ = dir;
  w->root_ = std::make_shared<UniqueFd>(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!w->root_->valid()) return make_error("--web-root " + dir + ": " + std::strerror(errno));
  return w;
}

void WebRoot::serve(uv_loop_t* loop, const net::HttpRequest& req, net::HttpServer::Respond respond) const {
  WebPath p = parse_web_path(req.path);
  if (p.status != 0)
    return respond(net::HttpResponse::error(p.status, p.status == 400 ? "bad path" : "no such file"));
  std::string inm = req.header("if-none-match") ? *req.header("if-none-match") : "";
  auto root = root_;
  std::string raw = req.path;
  run_blocking<Opened>(
      loop, [root, p, raw]() { return open_file(root->get(), p, raw); },
      [respond, inm](Opened o) {
        if (o.status == 301) {
          auto r = net::HttpResponse::text(301, "moved to " + o.location + "\n");
          r.headers.emplace_back("Location", o.location);
          return respond(std::move(r));
        }
        if (o.status != 200)
          return respond(net::HttpResponse::error(o.status, o.status == 403 ? "forbidden" : "no such file"));
        net::HttpResponse r;
        r.headers.emplace_back("ETag", o.etag);
        r.headers.emplace_back("Cache-Control", "no-cache");  // revalidate with the ETag: pages change on deploy
        if (!inm.empty() && tag_listed(inm, o.etag)) {
          r.status = 304;
          return respond(std::move(r));
        }
        r.status = 200;
        r.headers.insert(r.headers.begin(), {"Content-Type", o.type});
        r.headers.emplace_back("X-Content-Type-Options", "nosniff");
        r.file_fd = o.fd->get();
        r.file_offset = 0;
        r.file_length = o.size;
        r.file_owner = o.fd;
        respond(std::move(r));
      });
}

}  // namespace hn::content
