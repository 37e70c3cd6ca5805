// Template errors name the construct and where it is (line:col of the
// template), as Jinja2's TemplateSyntaxError does with its line number.
#pragma once

#include <cstdint>

#include "core/error.h"

namespace gptq::jinja {

struct Position {
  int line = 1;
  int column = 1;
};

// A malformed template, or one that fails while rendering (a type error,
// an undefined attribute, a limit reached): GPTQ_ERR_FORMAT.
template <typename... Parts>
[[noreturn]] void template_fail(Position at, const Parts&... parts) {
  fail(GPTQ_ERR_FORMAT, "chat template ", at.line, ":", at.column, ": ", parts...);
}

// Valid Jinja that this implementation does not cover: GPTQ_ERR_UNSUPPORTED.
template <typename... Parts>
[[noreturn]] void template_unsupported(Position at, const Parts&... parts) {
  fail(GPTQ_ERR_UNSUPPORTED, "chat template ", at.line, ":", at.column, ": ", parts...,
       " is not supported by libgptq's Jinja subset");
}

// Bounds that keep hostile templates from exhausting the stack or memory.
inline constexpr int kMaxNesting = 200;     // blocks, and the height of an expression
inline constexpr int kMaxEvalDepth = 2000;  // evaluation, macro calls included
inline constexpr int kMaxMacroDepth = 50;
inline constexpr size_t kMaxOutputBytes = size_t{64} << 20;  // any string the template builds
// Bytes and items copied by one render: bounds templates whose loops build
// ever longer strings or lists (quadratic work) to a fraction of a second.
inline constexpr uint64_t kMaxWorkUnits = uint64_t{1} << 28;
inline constexpr int64_t kMaxLoopIterations = 1'000'000;     // all loops of one render together

}  // namespace gptq::jinja
