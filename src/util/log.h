// One-line structured-ish logs to stderr; level chosen by HN_LOG or --log-level.
#pragma once
#include <string>

namespace hn::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

void set_level(Level level);
bool set_level(const std::string& name);
bool enabled(Level level);
void write(Level level, const std::string& msg);

inline void debug(const std::string& m) { if (enabled(Level::debug)) write(Level::debug, m); }
inline void info(const std::string& m) { write(Level::info, m); }
inline void warn(const std::string& m) { write(Level::warn, m); }
inline void error(const std::string& m) { write(Level::error, m); }

}  // namespace hn::log
