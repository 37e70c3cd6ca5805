#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <memory>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace gptq {
namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof buffer);
  return reinterpret_cast<const char*>(buffer);
}

struct MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};
struct MatchContextDeleter {
  void operator()(pcre2_match_context* context) const { pcre2_match_context_free(context); }
};
struct JitStackDeleter {
  void operator()(pcre2_jit_stack* stack) const { pcre2_jit_stack_free(stack); }
};

// The JIT's default 32 KiB stack can run out on long runs of one class of
// characters; such matches are retried once with a private, larger stack.
class MatchState {
 public:
  explicit MatchState(const pcre2_code* code) : data_(pcre2_match_data_create_from_pattern(code, nullptr)) {
    if (!data_) fail(GPTQ_ERR_OUT_OF_MEMORY, "cannot allocate regex match data");
  }

  int match(const pcre2_code* code, std::string_view text, size_t start) {
    const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    int rc = pcre2_match(code, subject, text.size(), start, PCRE2_NO_UTF_CHECK, data_.get(), context_.get());
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !context_) {
      stack_.reset(pcre2_jit_stack_create(64 * 1024, 64 * 1024 * 1024, nullptr));
      context_.reset(pcre2_match_context_create(nullptr));
      if (!stack_ || !context_) fail(GPTQ_ERR_OUT_OF_MEMORY, "cannot allocate a regex stack");
      pcre2_jit_stack_assign(context_.get(), nullptr, stack_.get());
      rc = pcre2_match(code, subject, text.size(), start, PCRE2_NO_UTF_CHECK, data_.get(), context_.get());
    }
    return rc;
  }

  std::pair<size_t, size_t> range() const {
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data_.get());
    return {ovector[0], ovector[1]};
  }

 private:
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> data_;
  std::unique_ptr<pcre2_jit_stack, JitStackDeleter> stack_;
  std::unique_ptr<pcre2_match_context, MatchContextDeleter> context_;
};

}  // namespace

Regex::Regex(std::string_view pattern, const std::string& where) : where_(where) {
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP, &error, &error_offset, nullptr);
  if (code == nullptr) {
    fail(GPTQ_ERR_FORMAT, where, ": the regex '", pattern, "' does not compile (", pcre2_message(error),
         " at offset ", error_offset, ")");
  }
  // Without JIT (unavailable on some platforms) matching is slower, not wrong.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  code_ = code;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

std::vector<std::pair<size_t, size_t>> Regex::find_all(std::string_view text) const {
  const auto* code = static_cast<const pcre2_code*>(code_);
  std::vector<std::pair<size_t, size_t>> matches;
  MatchState state(code);
  size_t search_from = 0;
  bool has_previous = false;
  size_t previous_end = 0;
  while (search_from <= text.size()) {
    const int rc = state.match(code, text, search_from);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) fail(GPTQ_ERR_INTERNAL, where_, ": regex matching failed: ", pcre2_message(rc));
    const auto [begin, end] = state.range();
    if (begin == end && has_previous && previous_end == end) {
      if (search_from >= text.size()) break;
      search_from += utf8::sequence_length(static_cast<unsigned char>(text[search_from]));
      continue;
    }
    matches.emplace_back(begin, end);
    has_previous = true;
    previous_end = end;
    if (end > search_from) {
      search_from = end;
    } else {
      // An empty match at the search position: step over one character.
      if (search_from >= text.size()) break;
      search_from += utf8::sequence_length(static_cast<unsigned char>(text[search_from]));
    }
  }
  return matches;
}

}  // namespace gptq
