#include "p2p/sctp_transport.h"

#include <usrsctp.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "p2p/dcep.h"
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
constexpr uint16_t kPort = 5000;  // a=sctp-port, both sides
}  // namespace

// The hub is process-wide (upcalls reach it through P2pHub::get()); taking it here documents the dependency.
SctpTransport::SctpTransport(P2pHub&, LinkId id, int mtu, bool opener, Handlers h)
    : id_(id), mtu_(mtu), opener_(opener), handlers_(std::move(h)) {}

void SctpTransport::input(LinkId id, const uint8_t* data, size_t len) {
  usrsctp_conninput(addr_of(id), data, len, 0);
}

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
  for (uint16_t type : {SCTP_ASSOC_CHANGE, SCTP_SENDER_DRY_EVENT, SCTP_STREAM_RESET_EVENT}) {
    ev.se_type = type;
    usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev);
  }
  struct sctp_initmsg init{};
  init.sinit_num_ostreams = 1024;  // browsers number channels from 0/1 up; room for a few refused ones
  init.sinit_max_instreams = 1024;
  usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init);
  // Channels are closed (and refused) by resetting their streams (RFC 8831 section 6.7).
  struct sctp_assoc_value av{};
  av.assoc_id = SCTP_ALL_ASSOC;
  av.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ;
  usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &av, sizeof av);
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

size_t SctpTransport::buffered() const {
  if (sock_ == nullptr || closed_) return 0;
  // usrsctp's read-only SCTP_GET_SNDBUF_USE (netinet/sctp.h, struct sctp_sockstat in sctp_uio.h; not in
  // usrsctp.h): the association's total_output_queue_size, i.e. what the remote has not acknowledged.
  constexpr int kGetSndbufUse = 0x00001101;
  struct {
    sctp_assoc_t ss_assoc_id;
    uint32_t ss_total_sndbuf;
    uint32_t ss_total_recv_buf;
  } ss{};
  socklen_t len = sizeof ss;
  if (usrsctp_getsockopt(sock_, IPPROTO_SCTP, kGetSndbufUse, &ss, &len) != 0) return 0;
  return ss.ss_total_sndbuf;
}

bool SctpTransport::send(std::string_view msg) {
  if (!channel_open_ || closed_) return false;
  if (remote_max_ != 0 && msg.size() > remote_max_) {
    fail("sctp: a message of " + std::to_string(msg.size()) + " bytes is over the remote's a=max-message-size " +
         std::to_string(remote_max_));
    return false;
  }
  // RFC 8831: an empty message travels as one zero byte with the "empty" PPID.
  if (msg.empty()) return send_on(static_cast<uint16_t>(channel_), dcep::kPpidBinaryEmpty, std::string_view("\0", 1));
  return send_on(static_cast<uint16_t>(channel_), dcep::kPpidBinary, msg);
}

bool SctpTransport::send_on(uint16_t sid, uint32_t ppid, std::string_view msg) {
  struct sctp_sendv_spa spa{};
  spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
  spa.sendv_sndinfo.snd_sid = sid;
  spa.sendv_sndinfo.snd_ppid = htonl(ppid);
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

void SctpTransport::open_channel() {
  // Stream ids by DTLS role (RFC 8832 section 6): the client takes even ones, the server odd ones.
  channel_ = dtls_client_ ? 0 : 1;
  dcep::Open o;
  o.label = std::string(dcep::kLabel);
  o.protocol = std::string(dcep::kProtocol);
  // DATA_CHANNEL_OPEN and what follows share an ordered stream, so data may follow before the ACK.
  if (!send_on(static_cast<uint16_t>(channel_), dcep::kPpidControl, dcep::encode_open(o))) {
    if (!closed_) fail("sctp: cannot send DATA_CHANNEL_OPEN");
    return;
  }
  channel_open_ = true;
  if (handlers_.on_connected) handlers_.on_connected();
}

void SctpTransport::reset_stream(uint16_t sid) {
  char buf[sizeof(struct sctp_reset_streams) + sizeof(uint16_t)] = {};
  auto* rs = reinterpret_cast<struct sctp_reset_streams*>(buf);
  rs->srs_assoc_id = SCTP_ALL_ASSOC;
  rs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
  rs->srs_number_streams = 1;
  rs->srs_stream_list[0] = sid;
  usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_RESET_STREAMS, rs, sizeof buf);
}

void SctpTransport::on_control(uint16_t sid, std::string_view msg) {
  auto m = dcep::decode(msg);
  if (std::holds_alternative<dcep::Ack>(m)) return;
  if (auto* bad = std::get_if<dcep::Bad>(&m)) {
    log::debug("sctp: link " + std::to_string(id_) + ": " + bad->why);
    return;
  }
  auto& o = std::get<dcep::Open>(m);
  bool ours = o.label == dcep::kLabel && o.protocol == dcep::kProtocol && o.channel_type == dcep::kReliableOrdered;
  if (opener_ || channel_ >= 0 || !ours) {
    // One line per refusal let a remote write hundreds per link: the first at info, then every power of two.
    ++refused_opens_;
    auto line = (refused_opens_ & (refused_opens_ - 1)) == 0 ? log::info : log::debug;
    line("sctp: link " + std::to_string(id_) + ": refused data channel '" + o.label.substr(0, 64) + "' protocol '" +
         o.protocol.substr(0, 64) + "' on stream " + std::to_string(sid) + " (only one reliable ordered '" +
         std::string(dcep::kLabel) + "' / '" + std::string(dcep::kProtocol) + "' channel per link; " +
         std::to_string(refused_opens_) + " refused on this link)");
    reset_stream(sid);
    return;
  }
  channel_ = sid;
  if (!send_on(sid, dcep::kPpidControl, dcep::encode_ack())) {
    if (!closed_) fail("sctp: cannot send DATA_CHANNEL_ACK");
    return;
  }
  channel_open_ = true;
  if (handlers_.on_connected) handlers_.on_connected();
}

void SctpTransport::on_data(uint16_t sid, uint32_t ppid, std::string_view msg) {
  if (ppid == dcep::kPpidControl) return on_control(sid, msg);
  if (!channel_open_ || static_cast<int>(sid) != channel_) return;  // a refused or unknown channel
  if (ppid == dcep::kPpidBinaryEmpty || ppid == dcep::kPpidStringEmpty) msg = {};
  else if (ppid != dcep::kPpidBinary && ppid != dcep::kPpidString) return;  // deprecated/unknown PPIDs
  if (handlers_.on_message) handlers_.on_message(msg);
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
      fail("sctp: peer sent a message over " + std::to_string(kMaxSctpMessage) + " bytes (our a=max-message-size)");
      return;
    }
    uint16_t sid = info.rcv_sid;
    uint32_t ppid = ntohl(info.rcv_ppid);
    if (!(flags & MSG_EOR)) {
      if (partial_.empty()) {
        partial_sid_ = sid;
        partial_ppid_ = ppid;
      }
      partial_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (partial_.empty()) {
      on_data(sid, ppid, std::string_view(buf, static_cast<size_t>(n)));
    } else {
      partial_.append(buf, static_cast<size_t>(n));
      std::string msg = std::move(partial_);
      partial_.clear();
      on_data(partial_sid_, partial_ppid_, msg);
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
          if (opener_) open_channel();
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
  } else if (n->sn_header.sn_type == SCTP_STREAM_RESET_EVENT && len >= sizeof(struct sctp_stream_reset_event)) {
    const auto& ev = n->sn_strreset_event;
    if (!(ev.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) || channel_ < 0) return;
    size_t total = std::min<size_t>(ev.strreset_length, len);
    if (total < sizeof(struct sctp_stream_reset_event)) return;
    size_t count = (total - sizeof(struct sctp_stream_reset_event)) / sizeof(uint16_t);
    for (size_t i = 0; i < count; ++i)
      if (ev.strreset_stream_list[i] == channel_) return fail("sctp: the remote closed the data channel");
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
