// Runs a role's loop until SIGINT/SIGTERM, then lets the role stop and drains the loop.
#pragma once
#include <uv.h>

#include <functional>
#include <iostream>
#include <string>

#include "roles/port_file.h"

namespace hn::roles {

// `stop` must close the role's handles; the loop then runs out and this returns.
int run_until_signalled(uv_loop_t* loop, const std::function<void()>& stop);

// start() a server object (ContentServer, SignalServer), announce its port, serve until a signal, stop.
template <class Server>
int serve_until_signalled(uv_loop_t* loop, Server& server, const std::string& port_file) {
  auto started = server.start();
  if (!started) {
    std::cerr << "error: " << started.error() << "\n";
    server.stop();
    return 1;
  }
  write_port_file(port_file, server.port());
  run_until_signalled(loop, [&] { server.stop(); });
  server.stop();
  uv_run(loop, UV_RUN_DEFAULT);
  return 0;
}

}  // namespace hn::roles
