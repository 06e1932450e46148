// Embedding a content server in your own program: ingest a file, then serve it on your loop.
//   embed_server VIDEO_FILE STORE_DIR [PORT]
#include <hybridnode/content_server.h>
#include <hybridnode/ingest.h>
#include <uv.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s VIDEO_FILE STORE_DIR [PORT]\n", argv[0]);
    return 2;
  }
  auto store = hn::open_local_store(argv[2]);
  if (!store) return std::fprintf(stderr, "%s\n", store.error().c_str()), 1;
  hn::IngestOptions io;
  io.file = argv[1];
  auto manifest = hn::ingest_file(**store, io);
  if (!manifest) return std::fprintf(stderr, "%s\n", manifest.error().c_str()), 1;

  hn::ContentServerOptions opts;
  opts.listen = std::string("127.0.0.1:") + (argc > 3 ? argv[3] : "0");
  hn::ContentServer server(uv_default_loop(), opts, std::move(*store), hn::make_connection_cap(4));
  auto ok = server.start();
  if (!ok) return std::fprintf(stderr, "%s\n", ok.error().c_str()), 1;
  std::printf("serving %s at http://127.0.0.1:%d/videos/%s\n", manifest->video_id.c_str(), server.port(),
              manifest->video_id.c_str());
  std::fflush(stdout);
  return uv_run(uv_default_loop(), UV_RUN_DEFAULT);
}
