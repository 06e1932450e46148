#include "p2p/sctp_transport.h"

#include <usrsctp.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "util/log.h"

namespace hn::p2p {

// Upcalls arrive on usrsctp's threads; they only mark a link "has I/O" and wake the loop once.
struct SctpIo {
  static std::mutex mu;
  static std::unordered_set<LinkId> dirty;
  static std::unordered_map<LinkId, std::weak_ptr<SctpTransport>> live;  // loop thread only

  static void upcall(struct socket*, void* arg, int) {
    auto id = static_cast<LinkId>(reinterpret_cast<uintptr_t>(arg));
    bool first;
    {
      std::lock_guard<std::mutex> lk(mu);
      first = dirty.empty();
      dirty.insert(id);
    }
    if (first) P2pHub::get().post(drain);
  }

  static void drain() {
    std::unordered_set<LinkId> batch;
    {
      std::lock_guard<std::mutex> lk(mu);
      batch.swap(dirty);
    }
    for (LinkId id : batch) {
      auto it = live.find(id);
      if (it == live.end()) continue;
      if (auto t = it->second.lock()) t->on_io();
    }
  }
};
std::mutex SctpIo::mu;
std::unordered_set<LinkId> SctpIo::dirty;
std::unordered_map<LinkId, std::weak_ptr<SctpTransport>> SctpIo::live;

namespace {
void* addr_of(LinkId id) { return reinterpret_cast<void*>(static_cast<uintptr_t>(id)); }
constexpr uint16_t kPort = 5000;
constexpr uint32_t kPpidBinary = 53;  // WebRTC "binary" PPID, so a browser data channel could carry it
}  // namespace

// The hub is process-wide (upcalls reach it through P2pHub::get()); taking it here documents the dependency.
SctpTransport::SctpTransport(P2pHub&, LinkId id, int mtu, Handlers h) : id_(id), mtu_(mtu), handlers_(std::move(h)) {}

SctpTransport::~SctpTransport() { close(); }

Result<void> SctpTransport::start() {
  usrsctp_register_address(addr_of(id_));
  sock_ = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, nullptr, nullptr, 0, nullptr);
  if (sock_ == nullptr) return make_error(std::string("sctp: socket: ") + std::strerror(errno));
  SctpIo::live[id_] = weak_from_this();
  usrsctp_set_upcall(sock_, SctpIo::upcall, addr_of(id_));
  usrsctp_set_non_blocking(sock_, 1);

  struct linger lg = {1, 0};  // close = abort: no lingering association after a link is dropped
  usrsctp_setsockopt(sock_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  int bufsize = 4 << 20;
  usrsctp_setsockopt(sock_, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
  usrsctp_setsockopt(sock_, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
  int on = 1;
  usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on);
  usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on);
  struct sctp_event ev{};
  ev.se_assoc_id = SCTP_ALL_ASSOC;
  ev.se_on = 1;
  for (uint16_t type : {SCTP_ASSOC_CHANGE, SCTP_SENDER_DRY_EVENT}) {
    ev.se_type = type;
    usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev);
  }
  struct sctp_initmsg init{};
  init.sinit_num_ostreams = 16;
  init.sinit_max_instreams = 16;
  usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init);
  // A fixed path MTU: SCTP's PMTU discovery cannot see through ICE, and on host/LAN pairs a large one
  // is the main throughput lever (docs/decisions.md).
  struct sctp_paddrparams spp{};
  spp.spp_address.ss_family = AF_CONN;
  spp.spp_flags = SPP_PMTUD_DISABLE;
  spp.spp_pathmtu = static_cast<uint32_t>(mtu_);
  usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &spp, sizeof spp);

  struct sockaddr_conn sconn{};
  sconn.sconn_family = AF_CONN;
  sconn.sconn_port = htons(kPort);
  sconn.sconn_addr = addr_of(id_);
  if (usrsctp_bind(sock_, reinterpret_cast<sockaddr*>(&sconn), sizeof sconn) != 0)
    return make_error(std::string("sctp: bind: ") + std::strerror(errno));
  if (usrsctp_connect(sock_, reinterpret_cast<sockaddr*>(&sconn), sizeof sconn) != 0 && errno != EINPROGRESS)
    return make_error(std::string("sctp: connect: ") + std::strerror(errno));
  return {};
}

bool SctpTransport::send(std::string_view msg) {
  if (!connected_ || closed_) return false;
  struct sctp_sendv_spa spa{};
  spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
  spa.sendv_sndinfo.snd_sid = 0;
  spa.sendv_sndinfo.snd_ppid = htonl(kPpidBinary);
  spa.sendv_sndinfo.snd_flags = SCTP_EOR;
  ssize_t n = usrsctp_sendv(sock_, msg.data(), msg.size(), nullptr, 0, &spa, sizeof spa, SCTP_SENDV_SPA, 0);
  if (n >= 0) return true;
  if (errno == EWOULDBLOCK || errno == EAGAIN || errno == ENOBUFS) {
    want_writable_ = true;
    return false;
  }
  fail(std::string("sctp: send: ") + std::strerror(errno));
  return false;
}

void SctpTransport::on_io() {
  if (closed_) return;
  auto keep = shared_from_this();
  static thread_local char buf[kMaxSctpMessage + 4096];
  for (;;) {
    struct sockaddr_conn from{};
    socklen_t fromlen = sizeof from;
    struct sctp_rcvinfo info{};
    socklen_t infolen = sizeof info;
    unsigned int infotype = 0;
    int flags = 0;
    ssize_t n = usrsctp_recvv(sock_, buf, sizeof buf, reinterpret_cast<sockaddr*>(&from), &fromlen, &info, &infolen,
                              &infotype, &flags);
    if (n < 0) {
      if (errno == EWOULDBLOCK || errno == EAGAIN) break;
      if (errno == ENOTCONN && !connected_) break;
      fail(std::string("sctp: recv: ") + std::strerror(errno));
      return;
    }
    if (n == 0) {
      fail("sctp: association closed by peer");
      return;
    }
    if (flags & MSG_NOTIFICATION) {
      handle_notification(buf, static_cast<size_t>(n));
      if (closed_) return;
      continue;
    }
    if (partial_.size() + static_cast<size_t>(n) > kMaxSctpMessage) {
      fail("sctp: peer sent a message over " + std::to_string(kMaxSctpMessage) + " bytes");
      return;
    }
    if (!(flags & MSG_EOR)) {
      partial_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (partial_.empty()) {
      if (handlers_.on_message) handlers_.on_message(std::string_view(buf, static_cast<size_t>(n)));
    } else {
      partial_.append(buf, static_cast<size_t>(n));
      std::string msg = std::move(partial_);
      partial_.clear();
      if (handlers_.on_message) handlers_.on_message(msg);
    }
    if (closed_) return;
  }
  if (want_writable_ && (usrsctp_get_events(sock_) & SCTP_EVENT_WRITE)) {
    want_writable_ = false;
    if (handlers_.on_writable) handlers_.on_writable();
  }
}

void SctpTransport::handle_notification(const char* data, size_t len) {
  auto* n = reinterpret_cast<const union sctp_notification*>(data);
  if (len < sizeof(n->sn_header)) return;
  if (n->sn_header.sn_type == SCTP_ASSOC_CHANGE && len >= sizeof(struct sctp_assoc_change)) {
    switch (n->sn_assoc_change.sac_state) {
      case SCTP_COMM_UP:
        if (!connected_) {
          connected_ = true;
          if (handlers_.on_connected) handlers_.on_connected();
        }
        break;
      case SCTP_COMM_LOST:
      case SCTP_SHUTDOWN_COMP:
      case SCTP_CANT_STR_ASSOC:
        fail("sctp: association lost");
        break;
      default:
        break;
    }
  } else if (n->sn_header.sn_type == SCTP_SENDER_DRY_EVENT) {
    if (want_writable_) {
      want_writable_ = false;
      if (handlers_.on_writable) handlers_.on_writable();
    }
  }
}

void SctpTransport::fail(const std::string& why) {
  if (closed_) return;
  auto cb = handlers_.on_closed;
  close();
  if (cb) cb(why);
}

void SctpTransport::close() {
  if (closed_) return;
  closed_ = true;
  SctpIo::live.erase(id_);
  handlers_ = {};
  struct socket* sock = sock_;
  sock_ = nullptr;
  void* addr = addr_of(id_);
  // Close on the GLib thread, the thread that feeds this association's packets to usrsctp: closing
  // from the loop while that thread is still processing, say, the peer's ABORT is a use-after-free
  // inside usrsctp (seen once as a crash; cf. usrsctp issues #383/#405).
  P2pHub::get().run_on_glib([sock, addr] {
    if (sock != nullptr) {
      usrsctp_set_upcall(sock, nullptr, nullptr);
      usrsctp_close(sock);  // SO_LINGER 0: aborts the association if it is still up
    }
    usrsctp_deregister_address(addr);
  });
}

}  // namespace hn::p2p
