// Flags and JSON config files over one schema per role: unknown names and bad values are refused
// with a message naming them. Precedence: built-in default < --config FILE < --flag=value.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hybridnode/result.h"

namespace hn::config {

enum class Type { string, integer, boolean, host_port, number };

struct OptionSpec {
  std::string name;  // flag name without dashes, e.g. "max-transfers"; config key alike ("max_transfers" also accepted)
  Type type = Type::string;
  std::string default_value;  // textual, parsed like a flag; empty string = unset for strings
  std::string help;
  int64_t min = INT64_MIN;
  int64_t max = INT64_MAX;
  bool test_only = false;  // a TEST ONLY switch: listed by --help-test, not by --help
};

class Options {
 public:
  std::string str(const std::string& name) const;
  int64_t integer(const std::string& name) const;
  double number(const std::string& name) const;
  bool boolean(const std::string& name) const;
  bool is_set(const std::string& name) const;  // given by config or flag, not the default
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  friend class Parser;
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> explicit_;
  std::vector<std::string> positional_;
};

struct ParseSpec {
  std::string command;  // for messages: "hybridnode --role=server"
  std::vector<OptionSpec> options;
  size_t max_positional = 0;
};

// args excludes argv[0] and the role selector. "--config FILE" / "--config=FILE" load a JSON object.
Result<Options> parse(const ParseSpec& spec, const std::vector<std::string>& args);
Result<void> check_value(const OptionSpec& spec, const std::string& value);
// --help: the user's options; with `test_only`, --help-test: only the TEST ONLY switches.
std::string help_text(const ParseSpec& spec, bool test_only = false);

}  // namespace hn::config
