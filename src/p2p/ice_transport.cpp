#include "p2p/ice_transport.h"

#include <agent.h>
#include <gio/gio.h>
#include <sys/socket.h>

#include "net/address.h"
#include "p2p/jsep.h"
#include "p2p/sdp_guard.h"
#include "util/log.h"

namespace hn::p2p {

// Handed to libnice as user_data; lives until the agent is torn down on the GLib thread.
struct IceTransport::Token {
  LinkId id;
  P2pHub* hub;
  std::weak_ptr<IceTransport> self;
  std::function<void(const char*, size_t)> on_packet;  // GLib thread
  // Calls fn(transport) on the loop thread if the transport still exists then.
  void post(std::function<void(IceTransport&)> fn) {
    auto weak = self;
    hub->post([weak, fn = std::move(fn)] {
      if (auto t = weak.lock()) fn(*t);
    });
  }
};

namespace {

const char* type_name(NiceCandidateType t) {
  switch (t) {
    case NICE_CANDIDATE_TYPE_HOST: return "host";
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE: return "srflx";
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE: return "prflx";
    case NICE_CANDIDATE_TYPE_RELAYED: return "relay";
  }
  return "?";
}

// ICE packets carry DTLS: hand them on right here on the GLib thread (no copy, no hop).
void on_recv(NiceAgent*, guint, guint, guint len, gchar* buf, gpointer user) {
  auto* token = static_cast<IceTransport::Token*>(user);
  if (token->on_packet) token->on_packet(buf, len);
}

// libnice's "a=candidate:..." as "candidate:..." (lowercase transport, as browsers write it).
std::string trickle_form(const std::string& libnice_line) {
  auto n = normalize_candidate(libnice_line);
  return n && n->has_value() ? **n : "";
}

void on_new_candidate(NiceAgent* a, NiceCandidate* c, gpointer user) {
  auto* token = static_cast<IceTransport::Token*>(user);
  gchar* line = nice_agent_generate_local_candidate_sdp(a, c);
  std::string s = line ? trickle_form(line) : "";
  g_free(line);
  if (s.empty()) return;
  token->post([s](IceTransport& t) { t.local_candidate(s); });
}

void on_gathering_done(NiceAgent*, guint, gpointer user) {
  static_cast<IceTransport::Token*>(user)->post([](IceTransport& t) { t.local_candidate(""); });
}

void on_state_changed(NiceAgent*, guint, guint, guint state, gpointer user) {
  static_cast<IceTransport::Token*>(user)->post([state](IceTransport& t) { t.state_changed(state); });
}

void on_selected_pair(NiceAgent*, guint, guint, NiceCandidate* l, NiceCandidate* r, gpointer user) {
  std::string lt = type_name(l->type), rt = type_name(r->type);
  static_cast<IceTransport::Token*>(user)->post([lt, rt](IceTransport& t) { t.selected_pair(lt, rt); });
}

}  // namespace

void IceTransport::local_candidate(const std::string& c) {
  if (!c.empty() && !cfg_.host_candidates && c.find(" typ host") != std::string::npos) return;
  if (handlers_.on_local_candidate) handlers_.on_local_candidate(c);
}

void IceTransport::state_changed(unsigned state) {
  if (state == NICE_COMPONENT_STATE_READY) {
    // Bursts of SCTP packets overflow the kernel's default 208 KiB UDP buffers: widen them.
    if (agent_ != nullptr) {
      if (GSocket* sock = nice_agent_get_selected_socket(agent_, stream_, 1)) {
        int fd = g_socket_get_fd(sock);
        int size = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        g_object_unref(sock);
      }
    }
    if (handlers_.on_connected) handlers_.on_connected();
  } else if (state == NICE_COMPONENT_STATE_FAILED) {
    if (handlers_.on_failed) handlers_.on_failed("ICE connectivity checks failed");
  }
}

void IceTransport::selected_pair(const std::string& local_type, const std::string& remote_type) {
  if (handlers_.on_selected_pair) handlers_.on_selected_pair(local_type, remote_type);
}

IceTransport::IceTransport(P2pHub& hub, LinkId id, bool controlling, IceConfig cfg, Handlers h)
    : hub_(hub), id_(id), controlling_(controlling), cfg_(std::move(cfg)), handlers_(std::move(h)) {}

IceTransport::~IceTransport() { close(); }

Result<void> IceTransport::start() {
  agent_ = nice_agent_new_full(hub_.glib_context(), NICE_COMPATIBILITY_RFC5245,
                               static_cast<NiceAgentOption>(NICE_AGENT_OPTION_ICE_TRICKLE | NICE_AGENT_OPTION_REGULAR_NOMINATION));
  if (agent_ == nullptr) return make_error("ice: cannot create agent");
  g_object_set(agent_, "controlling-mode", controlling_ ? TRUE : FALSE, "ice-tcp", FALSE, "upnp", FALSE,
               "force-relay", cfg_.relay_only ? TRUE : FALSE, nullptr);
  if (!cfg_.stun.empty()) {
    auto hp = net::parse_host_port(cfg_.stun);
    if (!hp) return make_error("ice: stun: " + hp.error());
    g_object_set(agent_, "stun-server", hp->host.c_str(), "stun-server-port", static_cast<guint>(hp->port), nullptr);
  }
  stream_ = nice_agent_add_stream(agent_, 1);
  if (stream_ == 0) return make_error("ice: cannot add stream");
  nice_agent_set_stream_name(agent_, stream_, "application");
  if (!cfg_.turn.empty()) {
    auto hp = net::parse_host_port(cfg_.turn);
    if (!hp) return make_error("ice: turn: " + hp.error());
    if (!nice_agent_set_relay_info(agent_, stream_, 1, hp->host.c_str(), static_cast<guint>(hp->port),
                                   cfg_.turn_user.c_str(), cfg_.turn_pass.c_str(), NICE_RELAY_TYPE_TURN_UDP))
      return make_error("ice: invalid TURN settings");
  }
  token_ = new Token{id_, &hub_, weak_from_this(), handlers_.on_packet};

  g_signal_connect(agent_, "new-candidate-full", G_CALLBACK(on_new_candidate), token_);
  g_signal_connect(agent_, "candidate-gathering-done", G_CALLBACK(on_gathering_done), token_);
  g_signal_connect(agent_, "component-state-changed", G_CALLBACK(on_state_changed), token_);
  g_signal_connect(agent_, "new-selected-pair-full", G_CALLBACK(on_selected_pair), token_);

  nice_agent_attach_recv(agent_, stream_, 1, hub_.glib_context(), on_recv, token_);
  hub_.set_route(id_, agent_, stream_);
  if (!nice_agent_gather_candidates(agent_, stream_)) return make_error("ice: candidate gathering failed to start");
  return {};
}

std::pair<std::string, std::string> IceTransport::local_credentials() const {
  if (agent_ == nullptr) return {};
  gchar* ufrag = nullptr;
  gchar* pwd = nullptr;
  std::pair<std::string, std::string> out;
  if (nice_agent_get_local_credentials(agent_, stream_, &ufrag, &pwd)) out = {ufrag ? ufrag : "", pwd ? pwd : ""};
  g_free(ufrag);
  g_free(pwd);
  return out;
}

std::vector<std::string> IceTransport::local_candidates() const {
  std::vector<std::string> out;
  if (agent_ == nullptr) return out;
  GSList* list = nice_agent_get_local_candidates(agent_, stream_, 1);
  for (GSList* i = list; i != nullptr; i = i->next) {
    auto* c = static_cast<NiceCandidate*>(i->data);
    if (!cfg_.host_candidates && c->type == NICE_CANDIDATE_TYPE_HOST) continue;
    gchar* line = nice_agent_generate_local_candidate_sdp(agent_, c);
    std::string s = line ? trickle_form(line) : "";
    g_free(line);
    if (!s.empty()) out.push_back(s);
  }
  g_slist_free_full(list, reinterpret_cast<GDestroyNotify>(nice_candidate_free));
  return out;
}

Result<void> IceTransport::set_remote(const std::string& ufrag, const std::string& pwd, const std::vector<std::string>& candidates) {
  if (agent_ == nullptr) return make_error("ice: not started");
  if (!nice_agent_set_remote_credentials(agent_, stream_, ufrag.c_str(), pwd.c_str()))
    return make_error("ice: remote description has no valid ice-ufrag/ice-pwd");
  remote_set_ = true;
  for (const auto& c : candidates) add_remote_candidate(c);
  return {};
}

Result<void> IceTransport::add_remote_candidate(const std::string& line) {
  if (agent_ == nullptr || !remote_set_) return make_error("ice: candidate before description");
  if (line.empty()) {
    nice_agent_peer_candidate_gathering_done(agent_, stream_);
    return {};
  }
  auto l = vet_remote_candidate(line);  // "a=candidate:...", as libnice wants it
  if (!l) return make_error(l.error());
  NiceCandidate* c = nice_agent_parse_remote_candidate_sdp(agent_, stream_, l->c_str());
  if (c == nullptr) return make_error("ice: unparsable candidate");
  GSList* list = g_slist_append(nullptr, c);
  nice_agent_set_remote_candidates(agent_, stream_, 1, list);
  g_slist_free_full(list, reinterpret_cast<GDestroyNotify>(nice_candidate_free));
  return {};
}

void IceTransport::close() {
  if (agent_ == nullptr) return;
  hub_.clear_route(id_);
  NiceAgent* agent = agent_;
  unsigned stream = stream_;
  Token* token = token_;
  GMainContext* ctx = hub_.glib_context();
  agent_ = nullptr;
  token_ = nullptr;
  // Tear down where the agent's callbacks run, so none is in flight when the token goes.
  hub_.run_on_glib([agent, stream, token, ctx] {
    if (token != nullptr) g_signal_handlers_disconnect_by_data(agent, token);
    nice_agent_attach_recv(agent, stream, 1, ctx, nullptr, nullptr);
    nice_agent_remove_stream(agent, stream);
    delete token;
    // close_async releases TURN allocations politely; the agent is dropped when that is done.
    nice_agent_close_async(agent, [](GObject* src, GAsyncResult*, gpointer) { g_object_unref(src); }, nullptr);
  });
}

}  // namespace hn::p2p
