// WebRTC data channels (RFC 8831) and their establishment protocol, DCEP (RFC 8832): the control messages
// that open a channel on an SCTP stream, and the PPIDs that mark what a message carries.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace hn::p2p::dcep {

inline constexpr uint32_t kPpidControl = 50;
inline constexpr uint32_t kPpidString = 51;
inline constexpr uint32_t kPpidBinary = 53;
inline constexpr uint32_t kPpidStringEmpty = 56;
inline constexpr uint32_t kPpidBinaryEmpty = 57;

inline constexpr uint8_t kReliableOrdered = 0x00;  // channel type of DATA_CHANNEL_OPEN

// The one channel hybridnode speaks its wire protocol on.
inline constexpr std::string_view kLabel = "hybridnode";
inline constexpr std::string_view kProtocol = "hybridnode/1";

struct Open {
  uint8_t channel_type = kReliableOrdered;
  uint16_t priority = 256;
  uint32_t reliability = 0;
  std::string label, protocol;
};
struct Ack {};
struct Bad {
  std::string why;
};
using Message = std::variant<Open, Ack, Bad>;

std::string encode_open(const Open& o);
std::string encode_ack();
Message decode(std::string_view msg);  // a PPID 50 message

}  // namespace hn::p2p::dcep
