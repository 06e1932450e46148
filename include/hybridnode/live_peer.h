/// @file
/// A live viewer (--role=peer --live=ID) as an embeddable object: joins a live channel at the edge
/// minus a buffer, fetches chunks in order against a playback deadline (the next --urgent-chunks from
/// the content server while it serves, the rest from peers), hands them to a player (stdout/file and a
/// local HLS endpoint) and serves what it holds to other viewers.
#pragma once
#include "hybridnode/export.h"
#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "hybridnode/peer.h"

namespace hn {

class HN_API LivePeer {
 public:
  LivePeer(uv_loop_t* loop, PeerOptions opts);
  ~LivePeer();
  LivePeer(const LivePeer&) = delete;
  LivePeer& operator=(const LivePeer&) = delete;

  void start(std::function<void(bool ok, const std::string& message)> done);
  void stop();
  std::string summary_json() const;
  int player_port() const;

 private:
  struct HN_LOCAL Impl;  ///< internal: its symbols stay out of the shared library
  std::unique_ptr<Impl> impl_;
};

}  ///< namespace hn
