#include "net/tls_stream.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hn::net {
namespace {

constexpr size_t kFileSlice = 64 * 1024;  // bytes read from the file per pass (four full TLS records)

std::string openssl_error(const std::string& what) {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return what + ": " + (e ? buf : "unknown error");
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* sel = nullptr;
  if (SSL_select_next_proto(&sel, outlen, kHttp11, sizeof kHttp11, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;  // no http/1.1 offered: go on without ALPN rather than fail
  *out = sel;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

Result<SslCtxPtr> make_server_tls_context(const std::string& cert_pem, const std::string& key_pem) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) return make_error(openssl_error("TLS context"));
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_pem.c_str()) != 1)
    return make_error(openssl_error("--tls-cert " + cert_pem));
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key_pem.c_str(), SSL_FILETYPE_PEM) != 1)
    return make_error(openssl_error("--tls-key " + key_pem));
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return make_error(openssl_error("--tls-key " + key_pem + " does not match --tls-cert " + cert_pem));
  SSL_CTX_set_alpn_select_cb(ctx.get(), select_alpn, nullptr);
  return ctx;
}

Result<SslCtxPtr> make_client_tls_context(const std::string& ca_pem) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) return make_error(openssl_error("TLS context"));
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  int ok = ca_pem.empty() ? SSL_CTX_set_default_verify_paths(ctx.get())
                          : SSL_CTX_load_verify_locations(ctx.get(), ca_pem.c_str(), nullptr);
  if (ok != 1) return make_error(openssl_error("--ca " + (ca_pem.empty() ? std::string("(system store)") : ca_pem)));
  return ctx;
}

TlsStream::TlsStream(SSL_CTX* ctx, int fd, const std::string& verify_host) : ssl_(SSL_new(ctx)) {
  if (ssl_ == nullptr) return;
  SSL_set_fd(ssl_, fd);
  SSL_set_connect_state(ssl_);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
  if (X509_VERIFY_PARAM_set1_ip_asc(param, verify_host.c_str()) != 1) {  // not an IP: a DNS name
    SSL_set_tlsext_host_name(ssl_, verify_host.c_str());
    SSL_set1_host(ssl_, verify_host.c_str());
  }
}

TlsStream::TlsStream(SSL_CTX* ctx, int fd) : ssl_(SSL_new(ctx)) {
  if (ssl_ != nullptr) {
    SSL_set_fd(ssl_, fd);
    SSL_set_accept_state(ssl_);
  }
}

TlsStream::~TlsStream() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

ssize_t TlsStream::result(int rc) {
  want_write_ = false;
  int e = SSL_get_error(ssl_, rc);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    want_write_ = e == SSL_ERROR_WANT_WRITE;
    errno = EAGAIN;
    return -1;
  }
  if (e == SSL_ERROR_ZERO_RETURN) return 0;
  if (e == SSL_ERROR_SYSCALL && errno == 0) errno = ECONNRESET;  // EOF without close_notify
  if (e == SSL_ERROR_SSL) {
    error_ = openssl_error("TLS");
    errno = EPROTO;
  }
  return -1;
}

TlsStream::Step TlsStream::handshake() {
  if (ssl_ == nullptr) return Step::failed;
  if (established_) return Step::done;
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    established_ = true;
    return Step::done;
  }
  int e = SSL_get_error(ssl_, rc);
  if (e == SSL_ERROR_WANT_READ) return Step::want_read;
  if (e == SSL_ERROR_WANT_WRITE) return Step::want_write;
  long verify = SSL_get_verify_result(ssl_);
  if (e == SSL_ERROR_SSL && verify != X509_V_OK) {
    ERR_clear_error();
    error_ = std::string("TLS handshake: certificate not trusted: ") + X509_verify_cert_error_string(verify);
  } else {
    error_ = e == SSL_ERROR_SSL ? openssl_error("TLS handshake") : "TLS handshake: connection closed";
  }
  return Step::failed;
}

ssize_t TlsStream::read(void* buf, size_t len) {
  ERR_clear_error();
  size_t n = 0;
  int rc = SSL_read_ex(ssl_, buf, len, &n);
  if (rc == 1) {
    want_write_ = false;  // whatever write was wanted has happened: a stale flag polls for writable forever
    return static_cast<ssize_t>(n);
  }
  return result(rc);
}

ssize_t TlsStream::write(const void* buf, size_t len) {
  // After WANT_WRITE OpenSSL must see the same bytes again, at least as many: the caller retries from
  // the same position, so only the length can have shrunk (e.g. a rate limit); restore it.
  if (len < pending_write_) len = pending_write_;
  ERR_clear_error();
  size_t n = 0;
  int rc = SSL_write_ex(ssl_, buf, len, &n);
  if (rc == 1) {
    pending_write_ = 0;
    want_write_ = false;
    return static_cast<ssize_t>(n);
  }
  ssize_t r = result(rc);
  if (r < 0 && errno == EAGAIN) pending_write_ = len;
  return r;
}

ssize_t TlsStream::send_file(int fd, off_t off, size_t len) {
  if (fd != buf_fd_ || off < buf_off_ || off >= buf_off_ + static_cast<off_t>(buf_len_)) {
    buf_.resize(kFileSlice);
    size_t want = len < kFileSlice ? len : kFileSlice;
    if (want < pending_write_) want = pending_write_;
    ssize_t r;
    do {
      r = ::pread(fd, buf_.data(), want, off);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return -1;
    if (r == 0) return 0;  // the file shrank
    buf_fd_ = fd;
    buf_off_ = off;
    buf_len_ = static_cast<size_t>(r);
  }
  size_t at = static_cast<size_t>(off - buf_off_);
  size_t n = buf_len_ - at < len ? buf_len_ - at : len;
  return write(buf_.data() + at, n);
}

void TlsStream::shutdown() {
  if (ssl_ != nullptr && established_) {
    ERR_clear_error();
    SSL_shutdown(ssl_);
  }
}

}  // namespace hn::net
