#include "p2p/dtls_transport.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <vector>

#include "p2p/sctp_transport.h"
#include "util/log.h"

namespace hn::p2p {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PKeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using CtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX, SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Deleter<SSL, SSL_free>>;
struct FileClose {
  void operator()(FILE* f) const { std::fclose(f); }
};

// Browser-grade suites, ECDSA certificates (what Chromium, Firefox and aiortc make).
constexpr const char* kCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384";
// A peer that keeps sending datagrams that are not DTLS records before the handshake is done is not a
// WebRTC stack: give up on it instead of waiting for the handshake timeout.
constexpr uint64_t kMaxGarbageBeforeHandshake = 8;

std::string openssl_error(const char* what) {
  unsigned long e = ERR_get_error();
  std::string s = what;
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    s += std::string(": ") + buf;
  }
  ERR_clear_error();
  return s;
}

Result<PKeyPtr> make_key() {
  PKeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return make_error(openssl_error("dtls: cannot make an EC key"));
  return key;
}

Result<X509Ptr> make_cert(EVP_PKEY* key) {
  X509Ptr x(X509_new());
  if (!x) return make_error(openssl_error("dtls: X509_new"));
  X509_set_version(x.get(), 2);
  unsigned char serial[8];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -86400);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 30L * 86400);
  X509_set_pubkey(x.get(), key);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("hybridnode"), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  if (X509_sign(x.get(), key, EVP_sha256()) == 0) return make_error(openssl_error("dtls: cannot sign the certificate"));
  return x;
}

std::string hex_colons(const unsigned char* md, unsigned n) {
  static const char* hex = "0123456789ABCDEF";
  std::string s;
  for (unsigned i = 0; i < n; ++i) {
    if (i) s += ':';
    s += hex[md[i] >> 4];
    s += hex[md[i] & 15];
  }
  return s;
}

std::string cert_fingerprint(X509* x) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(x, EVP_sha256(), md, &n) != 1) return "";
  return hex_colons(md, n);
}

// Accepts self-signed certificates: trust comes from the fingerprint check, not from a CA.
int verify_cb(int, X509_STORE_CTX*) { return 1; }

BIO_METHOD* datagram_method() {
  // One BIO_write = one datagram; the method lives as long as the process.
  static BIO_METHOD* m = [] {
    BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "hybridnode dtls out");
    BIO_meth_set_write(bm, [](BIO* b, const char* d, int n) { return DtlsSession::bio_write_thunk(b, d, n); });
    BIO_meth_set_ctrl(bm, [](BIO* b, int cmd, long num, void* ptr) { return DtlsSession::bio_ctrl_thunk(b, cmd, num, ptr); });
    BIO_meth_set_create(bm, [](BIO* b) {
      BIO_set_init(b, 1);
      return 1;
    });
    return bm;
  }();
  return m;
}

enum class Records { not_dtls, runt, ok };

// One pass over a datagram: is it DTLS 1.0/1.2 record headers that tile it exactly, and does a record of a
// protected epoch (1+) hold fewer bytes than the cipher's nonce + tag (`min_sealed`; 0: not checked)?
// OpenSSL 3.0 fails the whole session on such a runt (SSL_ERROR_SYSCALL, empty error queue) instead of
// dropping it as RFC 6347 4.1.2.7 says for invalid records: one spoofed 14-byte datagram would end a link.
Records scan_records(const uint8_t* d, size_t len, size_t min_sealed) {
  if (len == 0) return Records::not_dtls;
  size_t pos = 0;
  bool runt = false;
  while (pos < len) {
    if (len - pos < 13) return Records::not_dtls;
    uint8_t type = d[pos];
    if (type < 20 || type > 23 || d[pos + 1] != 0xfe || (d[pos + 2] != 0xff && d[pos + 2] != 0xfd)) return Records::not_dtls;
    size_t rlen = (static_cast<size_t>(d[pos + 11]) << 8) | d[pos + 12];
    bool sealed = d[pos + 3] != 0 || d[pos + 4] != 0;  // epoch
    runt = runt || (sealed && rlen < min_sealed);
    pos += 13 + rlen;
  }
  if (pos != len) return Records::not_dtls;
  return runt ? Records::runt : Records::ok;
}

}  // namespace

std::string sha256_fingerprint(const unsigned char* der, size_t len) {
  unsigned char md[32];
  unsigned int n = 0;
  if (EVP_Digest(der, len, md, &n, EVP_sha256(), nullptr) != 1) return "";
  return hex_colons(md, n);
}

// ---------------------------------------------------------------------------------------------------------
// DtlsIdentity

DtlsIdentity::~DtlsIdentity() { SSL_CTX_free(ctx_); }

Result<std::shared_ptr<DtlsIdentity>> DtlsIdentity::create(const std::string& cert_pem, const std::string& key_pem) {
  PKeyPtr key;
  X509Ptr cert;
  if (cert_pem.empty() != key_pem.empty()) return make_error("dtls: give both --dtls-cert and --dtls-key, or neither");
  if (cert_pem.empty()) {
    auto k = make_key();
    if (!k) return make_error(k.error());
    key = std::move(*k);
    auto c = make_cert(key.get());
    if (!c) return make_error(c.error());
    cert = std::move(*c);
  } else {
    std::unique_ptr<FILE, FileClose> cf(std::fopen(cert_pem.c_str(), "r"));
    if (!cf) return make_error("dtls: cannot open " + cert_pem);
    cert.reset(PEM_read_X509(cf.get(), nullptr, nullptr, nullptr));
    if (!cert) return make_error(openssl_error(("dtls: no PEM certificate in " + cert_pem).c_str()));
    std::unique_ptr<FILE, FileClose> kf(std::fopen(key_pem.c_str(), "r"));
    if (!kf) return make_error("dtls: cannot open " + key_pem);
    key.reset(PEM_read_PrivateKey(kf.get(), nullptr, nullptr, nullptr));
    if (!key) return make_error(openssl_error(("dtls: no PEM private key in " + key_pem).c_str()));
  }
  CtxPtr ctx(SSL_CTX_new(DTLS_method()));
  if (!ctx) return make_error(openssl_error("dtls: SSL_CTX_new"));
  SSL_CTX_set_min_proto_version(ctx.get(), DTLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), DTLS1_2_VERSION);
  if (SSL_CTX_set_cipher_list(ctx.get(), kCiphers) != 1) return make_error(openssl_error("dtls: cipher list"));
  SSL_CTX_set1_groups_list(ctx.get(), "X25519:P-256");
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
  if (SSL_CTX_use_certificate(ctx.get(), cert.get()) != 1 || SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1)
    return make_error(openssl_error("dtls: certificate and key do not match"));
  std::shared_ptr<DtlsIdentity> id(new DtlsIdentity());
  id->fingerprint_ = cert_fingerprint(cert.get());
  if (id->fingerprint_.empty()) return make_error("dtls: cannot hash the certificate");
  id->ctx_ = ctx.release();
  return id;
}

// ---------------------------------------------------------------------------------------------------------
// DtlsSession

DtlsSession::DtlsSession(std::shared_ptr<DtlsIdentity> id, Bytes out, Bytes plain, Notify notify)
    : id_(std::move(id)), out_(std::move(out)), plain_(std::move(plain)), notify_(std::move(notify)) {}

DtlsSession::~DtlsSession() { SSL_free(ssl_); }

int DtlsSession::bio_write_thunk(BIO* b, const char* data, int len) {
  auto* self = static_cast<DtlsSession*>(BIO_get_data(b));
  if (self != nullptr && len > 0 && self->out_) self->out_(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(len));
  return len;
}

long DtlsSession::bio_ctrl_thunk(BIO*, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING:
      return 0;
    default:
      return 0;
  }
}

Result<void> DtlsSession::begin(bool client, const std::string& remote_fingerprint, int mtu) {
  std::lock_guard<std::mutex> lk(mu_);
  if (ssl_ != nullptr) return make_error("dtls: already started");
  SslPtr ssl(SSL_new(id_->ctx()));
  if (!ssl) return make_error(openssl_error("dtls: SSL_new"));
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(datagram_method());
  if (rbio == nullptr || wbio == nullptr) {
    BIO_free(rbio);
    BIO_free(wbio);
    return make_error("dtls: cannot make BIOs");
  }
  BIO_set_mem_eof_return(rbio, -1);
  BIO_set_data(wbio, this);
  SSL_set_bio(ssl.get(), rbio, wbio);
  // Handshake flights fragment to this; application records (SCTP packets) are sized by SCTP's MTU.
  SSL_set_mtu(ssl.get(), static_cast<long>(std::min(mtu, 1200)));
  if (client)
    SSL_set_connect_state(ssl.get());
  else
    SSL_set_accept_state(ssl.get());
  ssl_ = ssl.release();
  rbio_ = rbio;
  expected_fp_ = remote_fingerprint;
  state_ = State::handshaking;
  return {};
}

void DtlsSession::start_handshake() {
  std::string failure;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (state_ == State::handshaking && SSL_in_connect_init(ssl_)) handshake_step(failure);
  }
  if (!failure.empty() && notify_) notify_(Event::failed, failure);
}

void DtlsSession::handshake_step(std::string& failure) {
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    X509* peer = SSL_get0_peer_certificate(ssl_);
    remote_fp_ = peer ? cert_fingerprint(peer) : "";
    if (remote_fp_.empty() || remote_fp_ != expected_fp_) {
      failure = "dtls: remote certificate fingerprint " + (remote_fp_.empty() ? "(none)" : remote_fp_) +
                " does not match the a=fingerprint the signaller relayed (" + expected_fp_ + ")";
      SSL_shutdown(ssl_);
      state_ = State::closed;
      return;
    }
    cipher_ = SSL_get_cipher_name(ssl_);
    // AES-GCM: 8-byte explicit nonce + 16-byte tag; ChaCha20-Poly1305: the tag only.
    min_sealed_ = cipher_.find("CHACHA20") != std::string::npos ? 16 : 24;
    state_ = State::open;
    flush_early();
    return;
  }
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
  failure = openssl_error("dtls: handshake failed");
  state_ = State::closed;
}

void DtlsSession::flush_early() {
  for (auto& p : early_) SSL_write(ssl_, p.data(), static_cast<int>(p.size()));
  early_.clear();
  early_.shrink_to_fit();
}

void DtlsSession::input(const uint8_t* data, size_t len) {
  if (len == 0) return;
  // Records decrypted under the lock, handed on after it (SCTP may re-enter send()).
  static thread_local std::vector<std::string> plain;
  static thread_local char buf[kMaxSctpMtuOverDtls + 2048];
  plain.clear();
  std::string failure;
  Event ev = Event::failed;
  bool connected_now = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (state_ != State::handshaking && state_ != State::open) return;
    // RFC 7983: 20-63 is DTLS; STUN (0-3) never gets here (libnice keeps it); anything else is dropped.
    Records rec = scan_records(data, len, state_ == State::open ? min_sealed_ : 0);
    if (rec == Records::runt) {
      ++ignored_;  // could not be ours: dropped, like any record that fails to authenticate
    } else if (rec == Records::not_dtls) {
      ++ignored_;
      if (state_ == State::handshaking && ++garbage_run_ >= kMaxGarbageBeforeHandshake) {
        failure = "dtls: " + std::to_string(garbage_run_) + " datagrams that are not DTLS records before the handshake";
        state_ = State::closed;
      }
    } else {
      garbage_run_ = 0;
      BIO_write(rbio_, data, static_cast<int>(len));
      if (state_ == State::handshaking) {
        handshake_step(failure);
        connected_now = state_ == State::open;
      }
      while (state_ == State::open) {
        ERR_clear_error();
        int n = SSL_read(ssl_, buf, sizeof buf);
        if (n > 0) {
          plain.emplace_back(buf, static_cast<size_t>(n));
          continue;
        }
        int e = SSL_get_error(ssl_, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
        if (e == SSL_ERROR_ZERO_RETURN) {
          failure = "dtls: the remote closed the link (close_notify)";
          ev = Event::closed_by_peer;
        } else {
          failure = openssl_error("dtls: fatal error");
        }
        state_ = State::closed;
      }
      (void)BIO_reset(rbio_);  // a datagram's leftovers never prefix the next one
    }
  }
  if (connected_now && notify_) notify_(Event::connected, "");
  for (auto& p : plain)
    if (plain_) plain_(reinterpret_cast<const uint8_t*>(p.data()), p.size());
  if (!failure.empty() && notify_) notify_(ev, failure);
}

void DtlsSession::send(const uint8_t* data, size_t len) {
  std::lock_guard<std::mutex> lk(mu_);
  if (state_ == State::open) {
    ERR_clear_error();
    if (SSL_write(ssl_, data, static_cast<int>(len)) <= 0) ERR_clear_error();  // a lost packet: SCTP resends
  } else if (state_ == State::idle || state_ == State::handshaking) {
    if (early_.size() < 16) early_.emplace_back(reinterpret_cast<const char*>(data), len);
  }
}

uint64_t DtlsSession::on_timer() {
  std::string failure;
  uint64_t next = 0;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (state_ != State::handshaking) return 0;
    ERR_clear_error();
    if (DTLSv1_handle_timeout(ssl_) < 0) {
      failure = openssl_error("dtls: handshake retransmissions exhausted");
      state_ = State::closed;
    } else {
      struct timeval tv{};
      next = DTLSv1_get_timeout(ssl_, &tv) == 1
                 ? static_cast<uint64_t>(tv.tv_sec) * 1000 + static_cast<uint64_t>(tv.tv_usec) / 1000 + 1
                 : 200;
    }
  }
  if (!failure.empty() && notify_) notify_(Event::failed, failure);
  return next;
}

void DtlsSession::close() {
  std::lock_guard<std::mutex> lk(mu_);
  if (state_ == State::open) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // close_notify
    ERR_clear_error();
  }
  state_ = State::closed;
  early_.clear();
}

bool DtlsSession::connected() const {
  std::lock_guard<std::mutex> lk(mu_);
  return state_ == State::open;
}
std::string DtlsSession::cipher() const {
  std::lock_guard<std::mutex> lk(mu_);
  return cipher_;
}
std::string DtlsSession::remote_fingerprint() const {
  std::lock_guard<std::mutex> lk(mu_);
  return remote_fp_;
}
uint64_t DtlsSession::ignored_datagrams() const {
  std::lock_guard<std::mutex> lk(mu_);
  return ignored_;
}

// ---------------------------------------------------------------------------------------------------------
// DtlsTransport

namespace {
// usrsctp's output, routed by the hub to the link's DTLS session.
class SessionSink : public PacketSink {
 public:
  explicit SessionSink(std::shared_ptr<DtlsSession> s) : s_(std::move(s)) {}
  void sctp_packet(void* data, size_t len) override { s_->send(static_cast<const uint8_t*>(data), len); }

 private:
  std::shared_ptr<DtlsSession> s_;
};
}  // namespace

DtlsTransport::DtlsTransport(P2pHub& hub, LinkId id, std::shared_ptr<DtlsIdentity> identity, Handlers h)
    : hub_(hub), id_(id), identity_(std::move(identity)), handlers_(std::move(h)) {}

DtlsTransport::~DtlsTransport() { close(); }

std::function<void(const char*, size_t)> DtlsTransport::input() {
  auto slot = slot_;
  auto mu = slot_mu_;
  return [slot, mu](const char* data, size_t len) {
    std::shared_ptr<DtlsSession> s;
    {
      std::lock_guard<std::mutex> lk(*mu);
      s = *slot;
    }
    if (s) s->input(reinterpret_cast<const uint8_t*>(data), len);
  };
}

Result<void> DtlsTransport::begin(bool client, const std::string& remote_fingerprint, int mtu, uint64_t handshake_timeout_ms) {
  if (session_) return make_error("dtls: already started");
  client_ = client;
  timeout_ms_ = handshake_timeout_ms;
  P2pHub* hub = &hub_;
  LinkId id = id_;
  std::weak_ptr<DtlsTransport> weak = weak_from_this();
  auto out = [hub, id](const uint8_t* d, size_t n) { hub->send_packet(id, d, n); };
  auto plain = [id](const uint8_t* d, size_t n) { SctpTransport::input(id, d, n); };
  auto notify = [hub, weak](DtlsSession::Event e, const std::string& detail) {
    hub->post([weak, e, detail] {
      if (auto t = weak.lock()) t->event(e, detail);
    });
  };
  session_ = std::make_shared<DtlsSession>(identity_, out, plain, notify);
  auto ok = session_->begin(client, remote_fingerprint, mtu);
  if (!ok) return ok;
  {
    std::lock_guard<std::mutex> lk(*slot_mu_);
    *slot_ = session_;
  }
  hub_.set_sink(id_, std::make_shared<SessionSink>(session_));
  uv_timer_init(hub_.loop(), timer_.get());
  timer_->data = this;
  deadline_ = uv_now(hub_.loop()) + timeout_ms_;
  arm(200);
  return {};
}

void DtlsTransport::arm(uint64_t ms) {
  if (timer_.get() == nullptr || timer_->loop == nullptr) return;
  uv_timer_start(timer_.get(), [](uv_timer_t* t) {
    auto* self = static_cast<DtlsTransport*>(t->data);
    if (self == nullptr || self->done_) return;
    auto keep = self->shared_from_this();
    if (uv_now(self->hub_.loop()) >= self->deadline_ && !self->session_->connected()) {
      self->done_ = true;
      self->session_->close();
      auto cb = self->handlers_.on_failed;  // the handler may close (and clear) us
      if (cb) cb("dtls: handshake timed out after " + std::to_string(self->timeout_ms_) + " ms");
      return;
    }
    uint64_t next = self->session_->on_timer();
    if (self->done_) return;
    if (next == 0 && self->session_->connected()) return;  // nothing more to time
    self->arm(std::min<uint64_t>(next == 0 ? 200 : next, 200));
  }, ms, 0);
}

void DtlsTransport::start_handshake() {
  if (session_ && !done_) session_->start_handshake();
}

void DtlsTransport::event(DtlsSession::Event e, const std::string& detail) {
  if (done_) return;
  auto keep = shared_from_this();
  if (e == DtlsSession::Event::connected) {
    timer_.reset();
    auto cb = handlers_.on_connected;
    if (cb) cb();
    return;
  }
  done_ = true;
  timer_.reset();
  auto cb = handlers_.on_failed;  // the handler may close (and clear) us
  if (cb) cb(detail);
}

void DtlsTransport::close() {
  if (session_) session_->close();
  hub_.clear_sink(id_);
  done_ = true;
  timer_.reset();
  handlers_ = {};
}

}  // namespace hn::p2p
