// Embedding a live viewer in your own program: follow a live channel (the content server for the chunk
// the player needs next, other viewers for the rest, every chunk verified), write the stream to a file,
// offer it to any HLS player, and serve what it holds to other viewers.
//   embed_live_peer SERVER_URL CHANNEL OUTPUT SECONDS [SIGNAL_URL]
#include <hybridnode/live_peer.h>
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s SERVER_URL CHANNEL OUTPUT SECONDS [SIGNAL_URL]\n", argv[0]);
    return 2;
  }
  hn::PeerOptions opts;
  opts.server_url = argv[1];
  opts.video_id = argv[2];                 // the live channel (GET /live on the server lists them)
  opts.output = argv[3];                   // the MPEG-TS stream in playback order
  opts.live_seconds = std::atof(argv[4]);  // 0: until the channel ends
  opts.urgent_chunks = 1;                  // only the next chunk is the server's; peers get time for the rest
  opts.player_listen = "127.0.0.1:0";      // an HLS playlist on a free port, for ffplay, mpv or VLC
  if (argc > 5) opts.signal_url = argv[5];

  hn::LivePeer viewer(uv_default_loop(), opts);
  int rc = 1;
  viewer.start([&](bool ok, const std::string& message) {
    std::fprintf(ok ? stdout : stderr, "%s\n", message.c_str());
    rc = ok ? 0 : 1;
  });
  std::printf("player: http://127.0.0.1:%d/live/%s.m3u8\n", viewer.player_port(), argv[2]);
  std::fflush(stdout);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  std::printf("%s\n", viewer.summary_json().c_str());
  return rc;
}
