// Runs a role's loop until SIGINT/SIGTERM, then lets the role stop and drains the loop.
#pragma once
#include <uv.h>

#include <functional>

namespace hn::roles {

// `stop` must close the role's handles; the loop then runs out and this returns.
int run_until_signalled(uv_loop_t* loop, const std::function<void()>& stop);

}  // namespace hn::roles
