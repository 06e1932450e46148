#include "util/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/unique_fd.h"

extern char** environ;

namespace hn {

Result<ChildExit> run_child(const std::vector<std::string>& argv,
                            const std::function<bool(const char*, size_t)>& on_stdout) {
  if (argv.empty()) return make_error("run_child: empty command");
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return make_error(std::string("pipe: ") + std::strerror(errno));
  UniqueFd out_r(out[0]), out_w(out[1]);
  // stderr goes to an unlinked temporary file: reading it after exit cannot deadlock against stdout.
  char tmpl[] = "/tmp/hybridnode-child-XXXXXX";
  UniqueFd err_fd(::mkostemp(tmpl, O_CLOEXEC));
  if (!err_fd.valid()) return make_error(std::string("temporary file: ") + std::strerror(errno));
  ::unlink(tmpl);
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, devnull.get(), 0);
  posix_spawn_file_actions_adddup2(&fa, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, err_fd.get(), 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    if (rc == ENOENT) return make_error(argv[0] + " not found in PATH (install ffmpeg)");
    return make_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  out_w.reset();
  std::vector<char> buf(1 << 16);
  bool stopped = false;
  for (;;) {
    ssize_t n = ::read(out_r.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (!on_stdout(buf.data(), static_cast<size_t>(n))) {
      stopped = true;
      ::kill(pid, SIGKILL);
      break;
    }
  }
  out_r.reset();
  int ws = 0;
  while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
  }
  ChildExit ex;
  ex.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
  if (stopped) ex.status = -1;
  off_t size = ::lseek(err_fd.get(), 0, SEEK_END);
  off_t from = size > 4096 ? size - 4096 : 0;
  ex.stderr_tail.resize(static_cast<size_t>(size - from));
  ssize_t got = ::pread(err_fd.get(), ex.stderr_tail.data(), ex.stderr_tail.size(), from);
  ex.stderr_tail.resize(got > 0 ? static_cast<size_t>(got) : 0);
  while (!ex.stderr_tail.empty() && (ex.stderr_tail.back() == '\n' || ex.stderr_tail.back() == '\r'))
    ex.stderr_tail.pop_back();
  return ex;
}

}  // namespace hn
