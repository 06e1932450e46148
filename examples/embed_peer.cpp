// Embedding a peer in your own program: download a video with the hybrid policy (the content server
// first, the swarm when it refuses), every chunk verified, into a file.
//   embed_peer SERVER_URL VIDEO_ID OUTPUT [SIGNAL_URL]
#include <hybridnode/peer.h>
#include <uv.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s SERVER_URL VIDEO_ID OUTPUT [SIGNAL_URL]\n", argv[0]);
    return 2;
  }
  hn::PeerOptions opts;
  opts.server_url = argv[1];
  opts.video_id = argv[2];
  opts.output = argv[3];             // written as OUTPUT.part, renamed when every chunk is verified
  if (argc > 4) opts.signal_url = argv[4];
  opts.seed_for = 0;                 // leave as soon as the file is complete

  hn::PeerNode peer(uv_default_loop(), opts);
  int rc = 1;
  peer.start([&](bool ok, const std::string& message) {
    std::fprintf(ok ? stdout : stderr, "%s\n", message.c_str());
    rc = ok ? 0 : 1;
  });
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  std::printf("%s\n", peer.summary_json().c_str());
  return rc;
}
