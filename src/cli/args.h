// A small command-line parser: --name value, --name=value, boolean flags and
// repeatable options, with generated --help text.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace cli {

struct Option {
  std::string name;         // without the leading "--"
  std::string value_name;   // empty for a boolean flag
  std::string help;
  bool repeatable = false;
};

class Args {
 public:
  Args(std::string command, std::string usage, std::vector<Option> options);

  // Parses argv[first..]; positional arguments are kept in order. Returns
  // false with `error` set on a mistake.
  bool parse(int argc, char** argv, int first, std::string* error);

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  const std::vector<std::string>& all(const std::string& name) const;
  // Numeric values; set `error` and return false when malformed.
  bool get_int(const std::string& name, long long fallback, long long* out, std::string* error) const;
  bool get_float(const std::string& name, double fallback, double* out, std::string* error) const;
  const std::vector<std::string>& positional() const { return positional_; }
  bool help_requested() const { return has("help"); }
  std::string help() const;

 private:
  const Option* find(const std::string& name) const;

  std::string command_, usage_;
  std::vector<Option> options_;
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

}  // namespace cli
