// UTF-8 helpers for the tokenizers: strict validation (the tokenizers assume
// valid input and skip re-checking it), code point stepping, and the Unicode
// character classes the Hugging Face pipeline tests with Rust's char methods.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gptq::utf8 {

// The byte offset of the first byte that does not start a well-formed
// sequence (overlong forms, surrogates and values past U+10FFFF included).
std::optional<size_t> first_invalid_byte(std::string_view text);

// Length of the sequence starting at text[pos] in valid UTF-8 (1 to 4).
inline size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// Decodes the code point at text[pos] of valid UTF-8 and advances pos (a
// sequence cut off by the end of the text counts as one byte).
char32_t next_code_point(std::string_view text, size_t& pos);
void append_code_point(std::string& out, char32_t cp);
// Where the character that ends at `pos` (> 0) begins.
inline size_t previous_boundary(std::string_view text, size_t pos) {
  do {
    --pos;
  } while (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80);
  return pos;
}

// Unicode White_Space (what Rust's char::is_whitespace and regex \s test).
bool is_whitespace(char32_t cp);
// Rust's char::is_numeric: general categories Nd, Nl, No.
bool is_numeric(char32_t cp);
// Rust's char::is_alphanumeric plus '_' : the regex \w that HF tests word edges with.
bool is_word_char(char32_t cp);
// ASCII punctuation or a Unicode P* category (HF's Punctuation pre-tokenizer).
bool is_punctuation(char32_t cp);

// Replaces ill-formed sequences with U+FFFD, like a lossy conversion; with
// keep_incomplete_tail, a truncated sequence at the very end stays as raw
// bytes so that a streaming caller can complete it with later tokens.
std::string sanitize(std::string_view bytes, bool keep_incomplete_tail);

}  // namespace gptq::utf8
