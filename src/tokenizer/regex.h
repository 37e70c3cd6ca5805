// The regular expressions of tokenizer.json (written for Oniguruma) run with
// PCRE2 in UTF + Unicode-property mode, JIT-compiled once. Matching keeps
// its state per call, so one Regex serves many threads.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gptq {

class Regex {
 public:
  // GPTQ_ERR_FORMAT naming `where` when the pattern does not compile.
  Regex(std::string_view pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // [begin, end) byte ranges of the successive non-overlapping matches in
  // valid UTF-8, searched like Oniguruma's find_iter (an empty match right
  // after the previous match is skipped).
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;

 private:
  void* code_ = nullptr;  // pcre2_code_8, kept out of this header
  std::string where_;
};

}  // namespace gptq
