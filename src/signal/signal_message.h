// The signaller's JSON messages: strict validation of everything a client sends.
// Every type, field and error code is documented in docs/protocol.md.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "signal/swarm_registry.h"
#include "util/token_format.h"

namespace hn::signal {

inline constexpr size_t kMaxLookupChunks = 256;
inline constexpr size_t kMaxHaveChunks = 65536;
// Chunks in a swarm; a member's bitfield is at most kMaxChunkCount / 8 = 32 KiB (the manifest has the same cap).
inline constexpr uint32_t kMaxChunkCount = 1u << 18;
// Peer ids in one lookup reply: 256 chunks x 50 peers x 64-byte ids would be ~850 KB for a 1.3 KB request.
inline constexpr size_t kMaxLookupReplyBytes = 64 * 1024;
// Members one lookup may look at over all its chunks: a chunk most members hold costs about `max`, a rare
// one a walk of the swarm; past this the remaining chunks get [] and "truncated" (a few ms of CPU at most).
inline constexpr size_t kLookupScanBudget = 64 * 1024;
inline constexpr size_t kMaxRelayBytes = 64 * 1024;  // SDP and candidates

struct Message {
  enum class Type { join, renew, have, bitfield, lookup, offer, answer, candidate, load, rtt, ping, leave };
  Type type;
  std::string type_name;
  std::string id;  // optional request id, echoed in the reply
  std::string video, peer, to;
  std::string resume;  // join: the token of an earlier join, to move this peer id from a sibling signaller
  // join: what the swarm shares, the manifest digest (64 hex) or a live run's epoch (16 hex; "" for
  // an old client in open mode); join/renew: the join token of the content server ("" without one).
  std::string content, token;
  uint32_t chunk_count = 0, max = 0, uploads = 0;
  std::vector<uint8_t> bitfield;
  std::vector<uint32_t> chunks;
  std::vector<std::pair<std::string, float>> rtt_ms;
  nlohmann::json relay;  // the message as it will be forwarded (offer/answer/candidate)
};

// `ref`, when given, receives the message's type and id as soon as they are read, so an error about the
// rest of the message can still name them (docs/protocol.md: errors carry "ref" and "id").
struct MessageRef {
  std::string type, id;
};
std::variant<Message, SignalError> parse_message(std::string_view text, MessageRef* ref = nullptr);
using hn::is_peer_id;  // util/token_format.h
// The registry's key of a swarm: video, what it shares and its chunk count, so a member holding another
// manifest (or claiming another chunk count) lands in a swarm of its own and blocks no one.
std::string swarm_key(const std::string& video, const std::string& content, uint32_t chunk_count);
// The inverse, for federation: false if `key` is not one.
bool split_swarm_key(const std::string& key, std::string& video, std::string& content, uint32_t& chunk_count);
std::string error_json(const SignalError& e, const std::string& ref_type = "", const std::string& id = "");

}  // namespace hn::signal
