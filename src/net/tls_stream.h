// TLS for the HTTP server (OpenSSL 3): a server context that can be reloaded (SIGHUP) without touching
// open connections, and a non-blocking stream over an accepted socket that HttpConnection reads and
// writes instead of the socket. Bodies go through SSL_write from a bounded buffer filled with pread(2):
// this kernel has no `tls` ULP (no kTLS), so there is no SSL_sendfile path.
#pragma once
#include <openssl/ssl.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "hybridnode/result.h"

namespace hn::net {

using SslCtxPtr = std::shared_ptr<SSL_CTX>;

// TLS 1.2 and 1.3, ALPN http/1.1, certificate chain and key from PEM files.
Result<SslCtxPtr> make_server_tls_context(const std::string& cert_pem, const std::string& key_pem);
// Clients (wss://): verify the server against `ca_pem`, or the system store when empty.
Result<SslCtxPtr> make_client_tls_context(const std::string& ca_pem);

class TlsStream {
 public:
  enum class Step { done, want_read, want_write, failed };
  // Does not own `fd`. Server side; with `verify_host`, the client side checking that name or IP.
  TlsStream(SSL_CTX* ctx, int fd);
  TlsStream(SSL_CTX* ctx, int fd, const std::string& verify_host);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  bool established() const { return established_; }
  Step handshake();
  // Like recv/send: > 0 bytes, 0 on a clean close (read), -1 with errno EAGAIN (retry when the socket
  // is readable, or writable if wants_write()) or another errno (the connection is broken).
  ssize_t read(void* buf, size_t len);
  ssize_t write(const void* buf, size_t len);
  // Up to `len` bytes of `fd` at `off`, through a bounded buffer; same returns as write().
  ssize_t send_file(int fd, off_t off, size_t len);
  // A new response body starts: bytes buffered from an earlier file are stale (fds are reused).
  void reset_file() { buf_len_ = 0; buf_fd_ = -1; }
  bool wants_write() const { return want_write_; }
  // Decrypted bytes waiting in OpenSSL: the socket will not become readable for them.
  size_t pending() const { return ssl_ != nullptr ? static_cast<size_t>(SSL_pending(ssl_)) : 0; }
  void shutdown();  // close_notify, best effort
  const std::string& error() const { return error_; }

 private:
  ssize_t result(int rc);
  SSL* ssl_;
  bool established_ = false;
  bool want_write_ = false;
  size_t pending_write_ = 0;  // length of a write that must be retried with the same bytes
  std::vector<char> buf_;     // file bytes: [buf_off_, buf_off_ + buf_len_) of buf_fd_
  int buf_fd_ = -1;
  off_t buf_off_ = 0;
  size_t buf_len_ = 0;
  std::string error_;
};

}  // namespace hn::net
