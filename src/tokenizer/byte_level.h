// GPT-2's byte-level alphabet: every byte maps to a printable character
// ('Ġ' for a space), so byte-level BPE vocabularies are plain strings.
#pragma once

#include <string>
#include <string_view>

namespace gptq {

// GPT-2's pre-tokenization regex, used by the ByteLevel pre-tokenizer.
inline constexpr std::string_view kGpt2SplitRegex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Appends the byte-level spelling of `bytes`.
void append_byte_level(std::string_view bytes, std::string& out);

// Appends the bytes that the byte-level characters of `token` stand for;
// false (and nothing appended) when a character is outside the alphabet.
bool append_bytes_of_byte_level(std::string_view token, std::string& out);

}  // namespace gptq
