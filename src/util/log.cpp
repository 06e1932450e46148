#include "util/log.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace hn::log {
namespace {
Level g_level = [] {
  const char* env = std::getenv("HN_LOG");
  if (env == nullptr) return Level::info;
  std::string s(env);
  if (s == "debug") return Level::debug;
  if (s == "warn") return Level::warn;
  if (s == "error") return Level::error;
  return Level::info;
}();

const char* level_name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "?";
}
}  // namespace

void set_level(Level level) { g_level = level; }

bool set_level(const std::string& name) {
  if (name == "debug") set_level(Level::debug);
  else if (name == "info") set_level(Level::info);
  else if (name == "warn") set_level(Level::warn);
  else if (name == "error") set_level(Level::error);
  else return false;
  return true;
}

bool enabled(Level level) { return level >= g_level; }

void write(Level level, const std::string& msg) {
  if (!enabled(level)) return;
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  int ms = static_cast<int>(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03d %-5s %s\n", ts, ms, level_name(level), msg.c_str());
}

}  // namespace hn::log
