#include "args.h"

#include <cerrno>
#include <cstdlib>
#include <sstream>

namespace cli {

Args::Args(std::string command, std::string usage, std::vector<Option> options)
    : command_(std::move(command)), usage_(std::move(usage)), options_(std::move(options)) {
  options_.push_back({"help", "", "show this help"});
}

const Option* Args::find(const std::string& name) const {
  for (const Option& o : options_) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

bool Args::parse(int argc, char** argv, int first, std::string* error) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    bool inline_value = false;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    const Option* option = find(name);
    if (option == nullptr) {
      *error = "unknown option --" + name + " for '" + command_ + "'";
      return false;
    }
    if (option->value_name.empty()) {
      if (inline_value) {
        *error = "--" + name + " takes no value";
        return false;
      }
      values_[name].push_back("1");
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argc) {
        *error = "--" + name + " needs a value (" + option->value_name + ")";
        return false;
      }
      value = argv[++i];
    }
    if (!option->repeatable && values_.count(name)) {
      *error = "--" + name + " given twice";
      return false;
    }
    values_[name].push_back(value);
  }
  return true;
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  const auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second.front();
}

const std::vector<std::string>& Args::all(const std::string& name) const {
  static const std::vector<std::string> none;
  const auto it = values_.find(name);
  return it == values_.end() ? none : it->second;
}

bool Args::get_int(const std::string& name, long long fallback, long long* out, std::string* error) const {
  if (!has(name)) {
    *out = fallback;
    return true;
  }
  const std::string text = get(name);
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0) {
    *error = "--" + name + " expects an integer, not '" + text + "'";
    return false;
  }
  *out = value;
  return true;
}

bool Args::get_float(const std::string& name, double fallback, double* out, std::string* error) const {
  if (!has(name)) {
    *out = fallback;
    return true;
  }
  const std::string text = get(name);
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0) {
    *error = "--" + name + " expects a number, not '" + text + "'";
    return false;
  }
  *out = value;
  return true;
}

std::string Args::help() const {
  std::ostringstream out;
  out << "usage: gptq " << command_ << " " << usage_ << "\n\noptions:\n";
  for (const Option& o : options_) {
    std::string left = "  --" + o.name + (o.value_name.empty() ? "" : " " + o.value_name);
    if (left.size() < 28) left.resize(28, ' ');
    else left += "  ";
    out << left << o.help << (o.repeatable ? " (repeatable)" : "") << "\n";
  }
  return out.str();
}

}  // namespace cli
