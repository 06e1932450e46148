#include "roles/run_loop.h"

#include <csignal>

#include "net/uv_handle.h"
#include "util/log.h"

namespace hn::roles {

int run_until_signalled(uv_loop_t* loop, const std::function<void()>& stop) {
  std::signal(SIGPIPE, SIG_IGN);
  struct Ctx {
    const std::function<void()>* stop;
    net::UvHandle<uv_signal_t>* sigint;
    net::UvHandle<uv_signal_t>* sigterm;
  };
  net::UvHandle<uv_signal_t> sigint, sigterm;
  Ctx ctx{&stop, &sigint, &sigterm};
  auto on_signal = [](uv_signal_t* h, int signum) {
    auto* c = static_cast<Ctx*>(h->data);
    log::info(std::string("received ") + (signum == SIGINT ? "SIGINT" : "SIGTERM") + ", shutting down");
    c->sigint->reset();
    c->sigterm->reset();
    (*c->stop)();
  };
  uv_signal_init(loop, sigint.get());
  uv_signal_init(loop, sigterm.get());
  sigint->data = &ctx;
  sigterm->data = &ctx;
  uv_signal_start(sigint.get(), on_signal, SIGINT);
  uv_signal_start(sigterm.get(), on_signal, SIGTERM);
  // Signal watchers alone must not keep the loop running: a role that finishes by itself exits.
  uv_unref(sigint.handle());
  uv_unref(sigterm.handle());
  uv_run(loop, UV_RUN_DEFAULT);
  sigint.reset();
  sigterm.reset();
  uv_run(loop, UV_RUN_DEFAULT);  // let close callbacks run
  return 0;
}

}  // namespace hn::roles
