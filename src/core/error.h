// Internal error handling. Library code throws gptq::Error; the C API layer
// (src/api/) catches everything at the boundary and turns it into a status
// plus the thread-local message, so no exception ever reaches a caller.
#pragma once

#include <exception>
#include <sstream>
#include <string>
#include <utility>

#include "gptq.h"

namespace gptq {

class Error : public std::exception {
 public:
  Error(gptq_status status, std::string message) : status_(status), message_(std::move(message)) {}
  gptq_status status() const noexcept { return status_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  gptq_status status_;
  std::string message_;
};

// Concatenates anything streamable: str_cat("tensor '", name, "' has ", n, " dims").
template <typename... Parts>
std::string str_cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

template <typename... Parts>
[[noreturn]] void fail(gptq_status status, const Parts&... parts) {
  throw Error(status, str_cat(parts...));
}

}  // namespace gptq
