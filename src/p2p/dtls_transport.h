// DTLS 1.2 (OpenSSL 3, memory BIOs) between ICE and SCTP, as WebRTC layers it (RFC 8261, RFC 8827):
// datagrams from ICE are demultiplexed by first byte (RFC 7983: 20-63 is DTLS), decrypted and handed to
// SCTP; SCTP packets are encrypted into one DTLS record each. The remote certificate is bound to the
// SHA-256 fingerprint its SDP announced; a mismatch fails the handshake.
//
// Threads: DtlsSession is the record engine and is called from the GLib thread (input), from usrsctp's and
// the loop's threads (SCTP output) and from the loop (timers, close); one mutex guards the SSL object.
// Lock order: usrsctp's locks -> session mutex -> P2pHub's route mutex. Decrypted records go to SCTP after
// the mutex is released (usrsctp may answer synchronously, which re-enters the session).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "hybridnode/result.h"
#include "p2p/p2p_hub.h"
#include "net/uv_handle.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace hn::p2p {

// DTLS 1.2 with AES-GCM (13-byte header, 8-byte explicit nonce, 16-byte tag), rounded up: what a record
// adds to an SCTP packet. SCTP's path MTU is the link MTU minus this.
inline constexpr int kDtlsOverhead = 40;
// A DTLS record carries at most 16 KiB of plaintext, so one SCTP packet cannot be larger.
inline constexpr int kMaxSctpMtuOverDtls = 16384;

// The process's certificate (ECDSA P-256, self-signed, made at start, or PEM files) and the SSL_CTX
// every link uses.
class DtlsIdentity {
 public:
  // Empty paths: a fresh certificate.
  static Result<std::shared_ptr<DtlsIdentity>> create(const std::string& cert_pem = "", const std::string& key_pem = "");
  ~DtlsIdentity();
  const std::string& fingerprint() const { return fingerprint_; }  // "AB:CD:..." (SHA-256 of the DER)
  SSL_CTX* ctx() const { return ctx_; }

 private:
  DtlsIdentity() = default;
  SSL_CTX* ctx_ = nullptr;
  std::string fingerprint_;
};

// "AB:CD:..." SHA-256 of a DER certificate.
std::string sha256_fingerprint(const unsigned char* der, size_t len);

class DtlsSession {
 public:
  using Bytes = std::function<void(const uint8_t* data, size_t len)>;
  enum class Event { connected, failed, closed_by_peer };
  using Notify = std::function<void(Event, const std::string& detail)>;

  // out: one datagram to the network (called with the session locked); plain: one decrypted record
  // (called unlocked); notify: state changes (called unlocked, from whichever thread saw them).
  DtlsSession(std::shared_ptr<DtlsIdentity> id, Bytes out, Bytes plain, Notify notify);
  ~DtlsSession();
  DtlsSession(const DtlsSession&) = delete;
  DtlsSession& operator=(const DtlsSession&) = delete;

  // Role and the remote's announced fingerprint; mtu bounds handshake datagrams.
  Result<void> begin(bool client, const std::string& remote_fingerprint, int mtu);
  void start_handshake();  // the client's first flight (once ICE works); no-op for a server
  void input(const uint8_t* data, size_t len);   // a datagram from ICE
  void send(const uint8_t* data, size_t len);    // an SCTP packet: one record (held until connected)
  // Drives retransmission (DTLSv1_handle_timeout); returns ms until it wants to run again.
  uint64_t on_timer();
  void close();  // close_notify when connected; then inert

  bool connected() const;
  std::string cipher() const;
  std::string remote_fingerprint() const;
  uint64_t ignored_datagrams() const;

 // The datagram BIO's methods (one BIO_write = one datagram out).
  static int bio_write_thunk(BIO* b, const char* data, int len);
  static long bio_ctrl_thunk(BIO* b, int cmd, long num, void* ptr);

 private:
  void handshake_step(std::string& failure);  // locked
  void flush_early();                          // locked

  mutable std::mutex mu_;
  std::shared_ptr<DtlsIdentity> id_;
  Bytes out_, plain_;
  Notify notify_;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // owned by ssl_
  enum class State { idle, handshaking, open, closed } state_ = State::idle;
  std::string expected_fp_, remote_fp_, cipher_;
  std::vector<std::string> early_;  // SCTP packets produced before the handshake finished
  uint64_t ignored_ = 0, garbage_run_ = 0;
  size_t min_sealed_ = 16;  // smallest protected record the negotiated cipher can produce
};

// The loop-side owner of a session: its retransmission/handshake timer and the events, on the loop thread.
class DtlsTransport : public std::enable_shared_from_this<DtlsTransport> {
 public:
  struct Handlers {
    std::function<void()> on_connected;                      // handshake done, fingerprint verified
    std::function<void(const std::string& why)> on_failed;  // handshake failed / timed out / closed by the peer
  };
  DtlsTransport(P2pHub& hub, LinkId id, std::shared_ptr<DtlsIdentity> identity, Handlers h);
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // Makes the session and routes this link's SCTP packets through it.
  Result<void> begin(bool client, const std::string& remote_fingerprint, int mtu, uint64_t handshake_timeout_ms);
  void start_handshake();  // ICE is up
  // For IceTransport: called on the GLib thread with every non-STUN datagram.
  std::function<void(const char*, size_t)> input();
  void close();

  bool connected() const { return session_ && session_->connected(); }
  bool client() const { return client_; }
  std::string cipher() const { return session_ ? session_->cipher() : ""; }
  std::string remote_fingerprint() const { return session_ ? session_->remote_fingerprint() : ""; }

 private:
  void arm(uint64_t ms);
  void event(DtlsSession::Event e, const std::string& detail);

  P2pHub& hub_;
  LinkId id_;
  std::shared_ptr<DtlsIdentity> identity_;
  Handlers handlers_;
  std::shared_ptr<DtlsSession> session_;
  // Input may arrive before begin(): it goes to this slot, which begin() fills.
  std::shared_ptr<std::shared_ptr<DtlsSession>> slot_ = std::make_shared<std::shared_ptr<DtlsSession>>();
  std::shared_ptr<std::mutex> slot_mu_ = std::make_shared<std::mutex>();
  net::UvHandle<uv_timer_t> timer_;
  uint64_t deadline_ = 0;  // loop ms
  uint64_t timeout_ms_ = 0;
  bool client_ = false, done_ = false;
};

}  // namespace hn::p2p
