#include "generate/text_stream.h"

#include <algorithm>

namespace gptq {
namespace {

// Enough context for every tokenizer's decoder to treat the first generated
// token as mid-text.
constexpr size_t kAnchorTokens = 4;

// Bytes at the end of `s` that start a UTF-8 character not yet complete.
size_t incomplete_utf8_tail(const std::string& s) {
  const size_t n = s.size();
  for (size_t back = 1; back <= std::min<size_t>(3, n); ++back) {
    const auto byte = static_cast<unsigned char>(s[n - back]);
    if ((byte & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    size_t needed = 1;
    if ((byte & 0xE0) == 0xC0) needed = 2;
    else if ((byte & 0xF0) == 0xE0) needed = 3;
    else if ((byte & 0xF8) == 0xF0) needed = 4;
    return needed > back ? back : 0;
  }
  return 0;
}

}  // namespace

TextStream::TextStream(const Tokenizer& tokenizer, std::span<const int32_t> prompt_tokens,
                       const std::vector<std::string>& stop_strings)
    : tokenizer_(tokenizer), stop_strings_(stop_strings) {
  const size_t n = std::min(kAnchorTokens, prompt_tokens.size());
  tokens_.assign(prompt_tokens.end() - n, prompt_tokens.end());
  n_anchor_ = n;
  anchor_text_ = tokenizer_.decode(tokens_, /*skip_special=*/true);
}

size_t TextStream::releasable_end() const {
  const size_t complete = text_.size() - incomplete_utf8_tail(text_);
  if (stopped_) return complete;
  // Hold back the longest tail that might grow into a stop string.
  size_t hold = 0;
  for (const std::string& stop : stop_strings_) {
    for (size_t len = std::min(stop.size() - 1, complete); len > hold; --len) {
      if (text_.compare(complete - len, len, stop, 0, len) == 0) {
        hold = len;
        break;
      }
    }
  }
  return std::max(complete - hold, released_);
}

std::string TextStream::push(int32_t token, bool* stopped) {
  *stopped = false;
  if (stopped_) return {};
  tokens_.push_back(token);
  const std::string full = tokenizer_.decode(tokens_, /*skip_special=*/true);
  if (full.compare(0, anchor_text_.size(), anchor_text_) == 0) {
    text_ = full.substr(anchor_text_.size());
  } else {
    // The anchor decoded differently in context; fall back to the
    // generated tokens alone.
    text_ = tokenizer_.decode(std::span<const int32_t>(tokens_).subspan(n_anchor_), true);
  }
  size_t cut = std::string::npos;
  for (const std::string& stop : stop_strings_) {
    if (stop.empty()) continue;
    const size_t at = text_.find(stop);
    if (at != std::string::npos) cut = std::min(cut, at);
  }
  if (cut != std::string::npos) {
    text_.resize(std::max(cut, released_));
    stopped_ = true;
    *stopped = true;
  }
  const size_t end = releasable_end();
  std::string piece = text_.substr(released_, end - released_);
  released_ = end;
  return piece;
}

std::string TextStream::flush() {
  std::string piece = text_.substr(released_);
  released_ = text_.size();
  return piece;
}

}  // namespace gptq
