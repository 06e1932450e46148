// ICE with libnice: one agent, one stream, one component per peer link. Candidates are trickled;
// every event reaches the owner on the libuv loop thread (see P2pHub).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "hybridnode/result.h"
#include "p2p/p2p_hub.h"

namespace hn::p2p {

struct IceConfig {
  std::string stun;       // "IP:PORT", empty: none
  std::string turn;       // "IP:PORT", empty: none (TURN over UDP)
  std::string turn_user, turn_pass;
  bool host_candidates = true;  // false: only server-reflexive/relay are offered (tests of NAT paths)
  bool relay_only = false;      // WebRTC's iceTransportPolicy "relay": hide the address, always use TURN
};

class IceTransport : public std::enable_shared_from_this<IceTransport> {
 public:
  struct Handlers {
    std::function<void(const std::string& candidate)> on_local_candidate;  // "" once gathering is done
    std::function<void()> on_connected;
    std::function<void(const std::string& why)> on_failed;
    std::function<void(const std::string& local_type, const std::string& remote_type)> on_selected_pair;
    // Every datagram that is not STUN, on the GLib thread (no hop: DTLS decrypts it right there).
    std::function<void(const char* data, size_t len)> on_packet;
  };

  IceTransport(P2pHub& hub, LinkId id, bool controlling, IceConfig cfg, Handlers h);
  ~IceTransport();
  IceTransport(const IceTransport&) = delete;
  IceTransport& operator=(const IceTransport&) = delete;

  Result<void> start();  // creates the agent and starts gathering
  // Our ICE credentials and the candidates gathered so far ("candidate:..." lines), for the JSEP SDP.
  std::pair<std::string, std::string> local_credentials() const;
  std::vector<std::string> local_candidates() const;
  // The remote's credentials and the candidates of its SDP (normalized by jsep.h).
  Result<void> set_remote(const std::string& ufrag, const std::string& pwd, const std::vector<std::string>& candidates);
  // One normalized "candidate:..." line; "" means the remote side has no more candidates.
  Result<void> add_remote_candidate(const std::string& line);
  void close();

  // Called on the loop thread by the libnice signal trampolines.
  void local_candidate(const std::string& c);
  void state_changed(unsigned state);
  void selected_pair(const std::string& local_type, const std::string& remote_type);

  struct Token;  // libnice user_data; defined in the .cpp

 private:
  P2pHub& hub_;
  LinkId id_;
  bool controlling_;
  IceConfig cfg_;
  Handlers handlers_;
  NiceAgent* agent_ = nullptr;
  unsigned stream_ = 0;
  Token* token_ = nullptr;
  bool remote_set_ = false;
};

}  // namespace hn::p2p
