// SCTP's CRC32c (RFC 4960 appendix B), with the SSE4.2 instruction where the CPU has it: usrsctp's own
// table-driven one halved link throughput, and WebRTC peers drop packets without a valid checksum.
#pragma once
#include <cstddef>
#include <cstdint>

namespace hn::p2p {

uint32_t crc32c(const uint8_t* data, size_t len);  // the standard CRC-32C value
// Zeroes the SCTP common header's checksum field, computes the packet's CRC32c and stores it there.
void sctp_set_crc32c(uint8_t* packet, size_t len);

}  // namespace hn::p2p
