// The peer wire protocol carried in SCTP messages (one message = one wire message; big-endian).
// Documented in docs/protocol.md section 3. Decoding is strict: any size or field out of bounds is an error.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hn::p2p::wire {

inline constexpr uint8_t kVersion = 1;
// A chunk travels as blocks of at most this size, in order (a piece's offset is what came before it);
// smaller blocks when the remote's a=max-message-size asks for them.
inline constexpr size_t kBlockSize = 64 * 1024;
inline constexpr size_t kPieceHeader = 13;  // type, index, offset, chunk size
inline constexpr size_t kMaxWireMessage = kBlockSize + 64;

enum class Type : uint8_t { hello = 0, request = 1, piece = 2, have = 3, cancel = 4, reject = 5, ping = 6, pong = 7 };
enum class RejectReason : uint8_t { not_held = 1, busy = 2 };

struct Hello {
  std::string peer, video;
  uint32_t chunk_count = 0;
  std::vector<uint8_t> bitfield;
};
struct Request { uint32_t index; };
struct Piece {
  uint32_t index, offset, total;
  std::string_view data;  // points into the decoded buffer
};
struct Have { uint32_t index; };
struct Cancel { uint32_t index; };
struct Reject { uint32_t index; RejectReason reason; };
struct Ping { uint64_t nonce; };
struct Pong { uint64_t nonce; };
struct DecodeError { std::string message; };

using Message = std::variant<Hello, Request, Piece, Have, Cancel, Reject, Ping, Pong>;

std::string encode(const Hello& m);
std::string encode_request(uint32_t index);
std::string encode_piece_header(uint32_t index, uint32_t offset, uint32_t total);  // data follows
std::string encode_have(uint32_t index);
std::string encode_cancel(uint32_t index);
std::string encode_reject(uint32_t index, RejectReason r);
std::string encode_ping(uint64_t nonce, bool pong);

std::variant<Message, DecodeError> decode(std::string_view msg);

}  // namespace hn::p2p::wire
