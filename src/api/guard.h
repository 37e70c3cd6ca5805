// The C boundary: every exported function runs its body through guarded(),
// which turns any exception into a status and the thread's last-error
// message, and reads caller structs through their struct_size so that
// callers built against an older header keep working.
#pragma once

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include "core/error.h"
#include "gptq.h"

namespace gptq::api {

void set_last_error(const std::string& message);
void clear_last_error();

template <typename Body>
gptq_status guarded(Body&& body) noexcept {
  clear_last_error();
  try {
    body();
    return GPTQ_OK;
  } catch (const Error& e) {
    set_last_error(e.what());
    return e.status();
  } catch (const std::bad_alloc&) {
    set_last_error("out of memory");
    return GPTQ_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    set_last_error(str_cat("internal error: ", e.what()));
    return GPTQ_ERR_INTERNAL;
  } catch (...) {
    set_last_error("internal error: unknown exception");
    return GPTQ_ERR_INTERNAL;
  }
}

template <typename T>
void require_arg(const T* pointer, const char* name) {
  if (pointer == nullptr) fail(GPTQ_ERR_INVALID_ARGUMENT, name, " is NULL");
}

// Writes the defaults into a caller's struct of `struct_size` bytes.
template <typename T>
void write_defaults(T* destination, size_t struct_size, const T& defaults) {
  if (destination == nullptr || struct_size < sizeof(uint32_t)) return;
  const size_t n = std::min(struct_size, sizeof(T));
  std::memcpy(static_cast<void*>(destination), &defaults, n);
  destination->struct_size = static_cast<uint32_t>(n);
}

// Reads a caller's params struct over the defaults. `min_size` is the size
// of the struct's first released layout: every field in it is present.
// Fields added later keep their defaults for older callers.
template <typename T>
T read_params(const T* params, const T& defaults, size_t min_size, const char* name) {
  T result = defaults;
  if (params == nullptr) return result;
  if (params->struct_size < min_size) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, name, ".struct_size is ", params->struct_size, " (at least ", min_size,
         " expected); fill the struct with its default_params function first");
  }
  std::memcpy(static_cast<void*>(&result), params, std::min<size_t>(params->struct_size, sizeof(T)));
  result.struct_size = sizeof(T);
  return result;
}

// Copies a result into a caller's output struct of output->struct_size bytes.
template <typename T>
void write_output(T* output, const T& value, size_t min_size, const char* name) {
  require_arg(output, name);
  if (output->struct_size < min_size) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, name, "->struct_size is ", output->struct_size, "; set it to sizeof(*", name, ")");
  }
  const uint32_t size = static_cast<uint32_t>(std::min<size_t>(output->struct_size, sizeof(T)));
  std::memcpy(static_cast<void*>(output), &value, size);
  output->struct_size = size;
}

}  // namespace gptq::api
