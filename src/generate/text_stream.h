// Turns generated tokens into text as they arrive. Decoding tokens one by
// one is wrong for most tokenizers (sentencepiece drops a leading space at
// the start of a text, byte-level tokens split UTF-8 characters), so the
// stream decodes the generated tokens together with a few prompt tokens
// before them and releases only text that can no longer change: complete
// UTF-8 characters that cannot be the start of a stop string.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace gptq {

class TextStream {
 public:
  TextStream(const Tokenizer& tokenizer, std::span<const int32_t> prompt_tokens,
             const std::vector<std::string>& stop_strings);

  // Adds a generated token; returns the text released by it (possibly
  // empty). Sets *stopped when a stop string has appeared; the text is cut
  // before it.
  std::string push(int32_t token, bool* stopped);
  // Releases whatever is still held back (end of generation).
  std::string flush();

  // All generated text so far, cut before a stop string.
  const std::string& text() const { return text_; }

 private:
  size_t releasable_end() const;

  const Tokenizer& tokenizer_;
  const std::vector<std::string>& stop_strings_;
  std::vector<int32_t> tokens_;  // anchor prompt tokens, then generated ones
  size_t n_anchor_ = 0;
  std::string anchor_text_;
  std::string text_;
  size_t released_ = 0;
  bool stopped_ = false;
};

}  // namespace gptq
