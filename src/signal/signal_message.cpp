#include "signal/signal_message.h"

#include "hybridnode/ids.h"
#include "util/json_limits.h"
#include "signal/join_token.h"

namespace hn::signal {

using nlohmann::json;

std::string swarm_key(const std::string& video, const std::string& content, uint32_t chunk_count) {
  return video + "/" + content + "/" + std::to_string(chunk_count);
}

bool split_swarm_key(const std::string& key, std::string& video, std::string& content, uint32_t& chunk_count) {
  size_t a = key.find('/'), b = key.rfind('/');
  if (a == std::string::npos || a == b || b + 1 >= key.size() || key.size() - b > 8) return false;
  video = key.substr(0, a);
  content = key.substr(a + 1, b - a - 1);
  std::string n = key.substr(b + 1);
  if (n.find_first_not_of("0123456789") != std::string::npos) return false;
  chunk_count = static_cast<uint32_t>(std::stoul(n));
  return is_video_id(video);
}

static bool is_hex(const std::string& s, size_t n) {
  return s.size() == n && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string error_json(const SignalError& e, const std::string& ref_type, const std::string& id) {
  json j = {{"type", "error"}, {"code", e.code}, {"message", e.message}};
  if (!ref_type.empty()) j["ref"] = ref_type;
  if (!id.empty()) j["id"] = id;
  return j.dump();
}

namespace {

SignalError bad(const std::string& msg) { return {"bad_message", msg}; }

std::optional<SignalError> get_string(const json& j, const char* key, std::string& out, size_t max, bool required = true) {
  auto it = j.find(key);
  if (it == j.end()) return required ? std::optional<SignalError>(bad(std::string("missing field '") + key + "'")) : std::nullopt;
  if (!it->is_string()) return bad(std::string("field '") + key + "' must be a string");
  out = it->get<std::string>();
  if (out.size() > max) return bad(std::string("field '") + key + "' is too long");
  return std::nullopt;
}

std::optional<SignalError> get_uint(const json& j, const char* key, uint32_t& out, uint32_t max, bool required = true) {
  auto it = j.find(key);
  if (it == j.end()) return required ? std::optional<SignalError>(bad(std::string("missing field '") + key + "'")) : std::nullopt;
  if (!it->is_number_unsigned() || it->get<uint64_t>() > max)
    return bad(std::string("field '") + key + "' must be an integer in [0, " + std::to_string(max) + "]");
  out = it->get<uint32_t>();
  return std::nullopt;
}

std::optional<SignalError> get_indices(const json& j, const char* key, std::vector<uint32_t>& out, size_t max_items) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return bad(std::string("field '") + key + "' must be an array of chunk indices");
  if (it->size() > max_items) return bad(std::string("field '") + key + "' has more than " + std::to_string(max_items) + " items");
  out.reserve(it->size());
  for (const auto& v : *it) {
    if (!v.is_number_unsigned() || v.get<uint64_t>() >= kMaxChunkCount)
      return bad(std::string("field '") + key + "' must hold chunk indices (non-negative integers)");
    out.push_back(v.get<uint32_t>());
  }
  return std::nullopt;
}

}  // namespace

std::variant<Message, SignalError> parse_message(std::string_view text, MessageRef* ref) {
  if (!json_depth_within(text)) return SignalError{"bad_json", "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"};
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return SignalError{"bad_json", "message is not valid JSON"};
  if (!j.is_object()) return SignalError{"bad_json", "message must be a JSON object"};
  Message m;
  if (auto e = get_string(j, "id", m.id, 64, false)) return *e;
  if (ref != nullptr) ref->id = m.id;
  if (auto e = get_string(j, "type", m.type_name, 32)) return *e;
  if (ref != nullptr) ref->type = m.type_name;
  const std::string& t = m.type_name;
  std::optional<SignalError> e;
  if (t == "join") {
    m.type = Message::Type::join;
    std::string have;
    if ((e = get_string(j, "video", m.video, 64))) return *e;
    if (!is_video_id(m.video)) return bad("invalid video id");
    if ((e = get_string(j, "peer", m.peer, 64))) return *e;
    if (!is_peer_id(m.peer)) return bad("peer id must be 1-64 of [A-Za-z0-9_-]");
    if ((e = get_uint(j, "chunk_count", m.chunk_count, kMaxChunkCount))) return *e;
    if (m.chunk_count == 0) return bad("chunk_count must be at least 1");
    if ((e = get_string(j, "resume", m.resume, 64, false))) return *e;
    if ((e = get_string(j, "have", have, kMaxChunkCount / 6 + 8, false))) return *e;
    if (!Bitfield::from_base64(have, m.bitfield)) return SignalError{"bad_bitfield", "'have' is not valid base64"};
    std::string digest, epoch;
    if ((e = get_string(j, "manifest_digest", digest, 64, false))) return *e;
    if ((e = get_string(j, "epoch", epoch, 32, false))) return *e;
    if (!digest.empty() && !epoch.empty()) return bad("give 'manifest_digest' (a video) or 'epoch' (a live channel), not both");
    if (!digest.empty() && !is_hex(digest, 64)) return bad("'manifest_digest' must be 64 lowercase hex characters");
    if (!epoch.empty() && !is_hex(epoch, epoch.size())) return bad("'epoch' must be 1-32 lowercase hex characters");
    m.content = digest.empty() ? epoch : digest;
    if ((e = get_string(j, "token", m.token, kMaxTokenBytes, false))) return *e;
  } else if (t == "renew") {
    m.type = Message::Type::renew;
    if ((e = get_string(j, "token", m.token, kMaxTokenBytes))) return *e;
    if (!parse_token(m.token)) return bad("'token' is not a join token");
  } else if (t == "have") {
    m.type = Message::Type::have;
    if ((e = get_indices(j, "chunks", m.chunks, kMaxHaveChunks))) return *e;
  } else if (t == "bitfield") {
    m.type = Message::Type::bitfield;
    std::string have;
    if ((e = get_string(j, "have", have, kMaxChunkCount / 6 + 8))) return *e;
    if (!Bitfield::from_base64(have, m.bitfield)) return SignalError{"bad_bitfield", "'have' is not valid base64"};
  } else if (t == "lookup") {
    m.type = Message::Type::lookup;
    if ((e = get_indices(j, "chunks", m.chunks, kMaxLookupChunks))) return *e;
    m.max = 0;
    if ((e = get_uint(j, "max", m.max, 1000, false))) return *e;
  } else if (t == "offer" || t == "answer" || t == "candidate") {
    m.type = t == "offer" ? Message::Type::offer : t == "answer" ? Message::Type::answer : Message::Type::candidate;
    if ((e = get_string(j, "to", m.to, 64))) return *e;
    if (!is_peer_id(m.to)) return bad("'to' must be a peer id");
    const char* payload = m.type == Message::Type::candidate ? "candidate" : "sdp";
    std::string body;
    if ((e = get_string(j, payload, body, kMaxRelayBytes))) return *e;
    m.relay = std::move(j);
    m.relay.erase("to");
  } else if (t == "load") {
    m.type = Message::Type::load;
    if ((e = get_uint(j, "uploads", m.uploads, 1000000))) return *e;
  } else if (t == "rtt") {
    m.type = Message::Type::rtt;
    auto it = j.find("peers");
    if (it == j.end() || !it->is_object() || it->size() > 64)
      return bad("field 'peers' must be an object of at most 64 peer ids to milliseconds");
    for (auto& [peer, ms] : it->items()) {
      if (!is_peer_id(peer) || !ms.is_number() || ms.get<double>() < 0 || ms.get<double>() > 600000)
        return bad("field 'peers' must map peer ids to milliseconds in [0, 600000]");
      m.rtt_ms.emplace_back(peer, static_cast<float>(ms.get<double>()));
    }
  } else if (t == "ping") {
    m.type = Message::Type::ping;
  } else if (t == "leave") {
    m.type = Message::Type::leave;
  } else {
    return SignalError{"unknown_type", "unknown message type '" + t + "'"};
  }
  return m;
}

}  // namespace hn::signal
