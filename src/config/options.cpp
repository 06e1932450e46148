#include "config/options.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "net/address.h"
#include "util/json_limits.h"

namespace hn::config {
namespace {

const OptionSpec* find(const ParseSpec& spec, std::string name) {
  for (auto& c : name)
    if (c == '_') c = '-';
  for (const auto& o : spec.options)
    if (o.name == name) return &o;
  return nullptr;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      bool same = a[i - 1] == b[j - 1];
      // A swap of two neighbours ("vidoe") counts as one edit, like a substitution.
      bool swapped = i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
      if (swapped && !same) row[j] = std::min(row[j], diag);
      diag = up;
    }
  }
  return row[b.size()];
}

// "; did you mean --max-transfers?" for a misspelt flag, "--endgame=false" for "--no-endgame".
std::string suggestion(const ParseSpec& spec, const std::string& name) {
  if (name.size() > 64) return "";  // no option is that long; and the distance costs length x length
  std::string n = name;
  for (auto& c : n)
    if (c == '_') c = '-';
  if (n.rfind("no-", 0) == 0) {
    const OptionSpec* o = find(spec, n.substr(3));
    if (o != nullptr && o->type == Type::boolean) return "; did you mean --" + o->name + "=false?";
  }
  const OptionSpec* best = nullptr;
  size_t best_d = 0;
  for (const auto& o : spec.options) {
    size_t d = edit_distance(n, o.name);
    if (best == nullptr || d < best_d) {
      best = &o;
      best_d = d;
    }
  }
  // Close enough to be a typo: at most a third of the name wrong (and at most 3 edits).
  if (best == nullptr || best_d > std::min<size_t>(3, std::max<size_t>(1, n.size() / 3))) return "";
  return "; did you mean --" + best->name + (best->type == Type::boolean && n.rfind("no-", 0) == 0 ? "=false" : "") + "?";
}

// "line 3, column 7" of a byte offset (1-based) in text.
std::string line_col(const std::string& text, size_t byte) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

// Where a top-level key is written, for messages about its value.
std::string key_position(const std::string& text, const std::string& key) {
  std::string quoted = nlohmann::json(key).dump();
  size_t at = text.find(quoted);
  return at == std::string::npos ? "" : " (" + line_col(text, at) + ")";
}

bool parse_int(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  size_t pos = 0;
  try {
    out = std::stoll(s, &pos, 10);
  } catch (...) {
    return false;
  }
  return pos == s.size();
}

}  // namespace

Result<void> check_value(const OptionSpec& o, const std::string& v) {
  switch (o.type) {
    case Type::string: return {};
    case Type::integer: {
      int64_t n;
      if (!parse_int(v, n)) return make_error("--" + o.name + ": expected an integer, got '" + v + "'");
      if (n < o.min || n > o.max)
        return make_error("--" + o.name + ": " + v + " is out of range [" + std::to_string(o.min) + ", " +
                          std::to_string(o.max) + "]");
      return {};
    }
    case Type::number: {
      try {
        size_t pos = 0;
        double d = std::stod(v, &pos);
        if (pos != v.size()) throw 0;
        // nan compares false with every bound, so it must be refused by name (inf too).
        if (!std::isfinite(d) || d < static_cast<double>(o.min) || d > static_cast<double>(o.max))
          return make_error("--" + o.name + ": " + v + " is out of range");
      } catch (...) {
        return make_error("--" + o.name + ": expected a number, got '" + v + "'");
      }
      return {};
    }
    case Type::boolean:
      if (v == "true" || v == "false") return {};
      return make_error("--" + o.name + ": expected true or false, got '" + v + "'");
    case Type::host_port: {
      auto hp = net::parse_host_port(v);
      if (!hp) return make_error("--" + o.name + ": " + hp.error());
      return {};
    }
  }
  return {};
}

class Parser {
 public:
  static Result<Options> run(const ParseSpec& spec, const std::vector<std::string>& args) {
    Options out;
    for (const auto& o : spec.options) out.values_[o.name] = o.default_value;

    // Pass 1: the config file, so flags given anywhere on the line override it.
    for (size_t i = 0; i < args.size(); ++i) {
      std::string path;
      if (args[i] == "--config" && i + 1 < args.size()) path = args[i + 1];
      else if (args[i].rfind("--config=", 0) == 0) path = args[i].substr(9);
      else if (args[i] == "--config") return make_error("--config needs a file path");
      else continue;
      auto r = load_file(spec, path, out);
      if (!r) return make_error(r.error());
    }
    // Pass 2: flags.
    std::map<std::string, std::string> given;
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a == "--config") {
        ++i;
        continue;
      }
      if (a.rfind("--config=", 0) == 0) continue;
      if (a.rfind("--", 0) != 0 || a == "--") {
        if (out.positional_.size() >= spec.max_positional)
          return make_error(spec.command + ": unexpected argument '" + a + "'");
        out.positional_.push_back(a);
        continue;
      }
      std::string name = a.substr(2), value;
      bool has_value = false;
      auto eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
      const OptionSpec* o = find(spec, name);
      if (o == nullptr || o->name != name) return make_error(spec.command + ": unknown flag --" + name + suggestion(spec, name));
      if (!has_value) {
        if (o->type == Type::boolean) value = "true";
        else if (i + 1 < args.size()) value = args[++i];
        else return make_error("--" + name + " needs a value");
      }
      auto ok = check_value(*o, value);
      if (!ok) return make_error(ok.error());
      // A flag given twice is a mistake (two --live= channels, say), not "the last one wins".
      if (given.count(o->name) && given[o->name] != value)
        return make_error("--" + name + " given twice ('" + given[o->name] + "' and '" + value + "'); give it once");
      given[o->name] = value;
      out.values_[o->name] = value;
      out.explicit_[o->name] = true;
    }
    return out;
  }

  static Result<void> load_file(const ParseSpec& spec, const std::string& path, Options& out) {
    std::ifstream in(path);
    if (!in) return make_error("cannot read config file " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    if (!json_depth_within(text))
      return make_error("config " + path + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      // e.byte is 1-based: the byte at which parsing failed.
      std::string why = e.what();  // "[json.exception.parse_error.101] parse error at line L, column C: WHY"
      auto col = why.find("column ");
      auto colon = col == std::string::npos ? std::string::npos : why.find(": ", col);
      if (colon != std::string::npos) why = why.substr(colon + 2);
      return make_error("config " + path + ": not valid JSON at " + line_col(text, e.byte > 0 ? e.byte - 1 : 0) + ": " + why);
    } catch (const nlohmann::json::out_of_range& e) {
      // A number too large for a double ("1e999"): nlohmann reports it as out_of_range.406, not a parse error.
      std::string why = e.what();  // "[json.exception.out_of_range.406] number overflow parsing '...'"
      auto close = why.find("] ");
      return make_error("config " + path + ": " + (close == std::string::npos ? why : why.substr(close + 2)));
    }
    if (!j.is_object()) return make_error("config " + path + ": must be a JSON object");
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "role" || it.key().rfind("//", 0) == 0) continue;  // role picked by main; "//" keys are comments
      const OptionSpec* o = find(spec, it.key());
      std::string where = " at key /" + it.key() + key_position(text, it.key());
      if (o == nullptr) return make_error("config " + path + ": unknown key '" + it.key() + "'" + where + suggestion(spec, it.key()));
      std::string value;
      const auto& v = it.value();
      bool type_ok = true;
      switch (o->type) {
        case Type::integer: type_ok = v.is_number_integer(); break;
        case Type::number: type_ok = v.is_number(); break;
        case Type::boolean: type_ok = v.is_boolean(); break;
        default: type_ok = v.is_string(); break;
      }
      static const char* kTypeNames[] = {"a string", "an integer", "true or false", "a \"HOST:PORT\" string", "a number"};
      if (!type_ok)
        return make_error("config " + path + ": key '" + it.key() + "' has the wrong type" + where + ": expected " +
                          kTypeNames[static_cast<int>(o->type)] + ", got " + v.type_name());
      value = v.is_string() ? v.get<std::string>() : v.dump();
      auto ok = check_value(*o, value);
      if (!ok) return make_error("config " + path + where + ": " + ok.error());
      out.values_[o->name] = value;
      out.explicit_[o->name] = true;
    }
    return {};
  }
};

Result<Options> parse(const ParseSpec& spec, const std::vector<std::string>& args) { return Parser::run(spec, args); }

std::string Options::str(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? "" : it->second;
}
int64_t Options::integer(const std::string& name) const {
  int64_t n = 0;
  parse_int(str(name), n);
  return n;
}
double Options::number(const std::string& name) const {
  try {
    return std::stod(str(name));
  } catch (...) {
    return 0;
  }
}
bool Options::boolean(const std::string& name) const { return str(name) == "true"; }
bool Options::is_set(const std::string& name) const { return explicit_.count(name) > 0; }

std::string help_text(const ParseSpec& spec, bool test_only) {
  std::ostringstream o;
  o << "usage: " << spec.command << " [--config FILE] [--flag=value ...]\n\n";
  o << (test_only ? "TEST ONLY switches (the project's tests and benchmarks; never for real use):\n" : "options:\n");
  for (const auto& opt : spec.options) {
    if (opt.test_only != test_only) continue;
    std::string flag = "  --" + opt.name;
    if (opt.type != Type::boolean) flag += "=" + std::string(opt.type == Type::host_port ? "HOST:PORT" : "V");
    o << flag;
    o << std::string(flag.size() < 30 ? 30 - flag.size() : 1, ' ') << opt.help;
    if (!opt.default_value.empty()) o << " (default " << opt.default_value << ")";
    o << "\n";
  }
  if (test_only) return o.str();
  o << "  --config=FILE                 JSON object with the same keys (flags override it)\n";
  return o.str();
}

}  // namespace hn::config
