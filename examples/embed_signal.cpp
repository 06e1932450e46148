// Embedding a signaller in your own program: swarms, chunk lookup and SDP/ICE relay on your loop.
//   embed_signal [PORT]        (prints the ws:// URL peers and content servers use)
#include <hybridnode/signal_server.h>
#include <hybridnode/version.h>
#include <uv.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  hn::SignalServerOptions opts;
  opts.listen = std::string("127.0.0.1:") + (argc > 1 ? argv[1] : "0");
  hn::SignalServer signaller(uv_default_loop(), opts);
  auto ok = signaller.start();
  if (!ok) return std::fprintf(stderr, "%s\n", ok.error().c_str()), 1;
  std::printf("hybridnode %s signaller at ws://127.0.0.1:%d/ws\n", hn::library_version(), signaller.port());
  std::fflush(stdout);
  return uv_run(uv_default_loop(), UV_RUN_DEFAULT);
}
