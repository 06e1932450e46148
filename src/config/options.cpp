#include "config/options.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "net/address.h"

namespace hn::config {
namespace {

const OptionSpec* find(const ParseSpec& spec, std::string name) {
  for (auto& c : name)
    if (c == '_') c = '-';
  for (const auto& o : spec.options)
    if (o.name == name) return &o;
  return nullptr;
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
        if (d < static_cast<double>(o.min) || d > static_cast<double>(o.max))
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
      if (o == nullptr || o->name != name) return make_error(spec.command + ": unknown flag --" + name);
      if (!has_value) {
        if (o->type == Type::boolean) value = "true";
        else if (i + 1 < args.size()) value = args[++i];
        else return make_error("--" + name + " needs a value");
      }
      auto ok = check_value(*o, value);
      if (!ok) return make_error(ok.error());
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
    auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    if (j.is_discarded()) return make_error("config " + path + ": not valid JSON");
    if (!j.is_object()) return make_error("config " + path + ": must be a JSON object");
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "role" || it.key().rfind("//", 0) == 0) continue;  // role picked by main; "//" keys are comments
      const OptionSpec* o = find(spec, it.key());
      if (o == nullptr) return make_error("config " + path + ": unknown key '" + it.key() + "'");
      std::string value;
      const auto& v = it.value();
      bool type_ok = true;
      switch (o->type) {
        case Type::integer: type_ok = v.is_number_integer(); break;
        case Type::number: type_ok = v.is_number(); break;
        case Type::boolean: type_ok = v.is_boolean(); break;
        default: type_ok = v.is_string(); break;
      }
      if (!type_ok) return make_error("config " + path + ": key '" + it.key() + "' has the wrong type");
      value = v.is_string() ? v.get<std::string>() : v.dump();
      auto ok = check_value(*o, value);
      if (!ok) return make_error("config " + path + ": " + ok.error());
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

std::string help_text(const ParseSpec& spec) {
  std::ostringstream o;
  o << "usage: " << spec.command << " [--config FILE] [--flag=value ...]\n\noptions:\n";
  for (const auto& opt : spec.options) {
    std::string flag = "  --" + opt.name;
    if (opt.type != Type::boolean) flag += "=" + std::string(opt.type == Type::host_port ? "HOST:PORT" : "V");
    o << flag;
    o << std::string(flag.size() < 30 ? 30 - flag.size() : 1, ' ') << opt.help;
    if (!opt.default_value.empty()) o << " (default " << opt.default_value << ")";
    o << "\n";
  }
  o << "  --config=FILE                 JSON object with the same keys (flags override it)\n";
  return o.str();
}

}  // namespace hn::config
