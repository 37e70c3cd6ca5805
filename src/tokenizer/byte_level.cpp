#include "tokenizer/byte_level.h"

#include <array>
#include <cstdint>

#include "tokenizer/utf8.h"

namespace gptq {
namespace {

struct ByteLevelAlphabet {
  std::array<std::string, 256> spelling;   // byte -> UTF-8 of its character
  std::array<int16_t, 512> byte_of_char;  // code point -> byte, -1 if none

  ByteLevelAlphabet() {
    byte_of_char.fill(-1);
    // Printable Latin-1 bytes stand for themselves; the rest take the code
    // points from 256 upwards, in byte order.
    char32_t next_unprintable = 256;
    for (int byte = 0; byte < 256; ++byte) {
      const bool printable = (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE;
      const char32_t cp = printable ? static_cast<char32_t>(byte) : next_unprintable++;
      utf8::append_code_point(spelling[byte], cp);
      byte_of_char[cp] = static_cast<int16_t>(byte);
    }
  }
};

const ByteLevelAlphabet& alphabet() {
  static const ByteLevelAlphabet instance;
  return instance;
}

}  // namespace

void append_byte_level(std::string_view bytes, std::string& out) {
  const ByteLevelAlphabet& a = alphabet();
  for (const char c : bytes) out += a.spelling[static_cast<unsigned char>(c)];
}

bool append_bytes_of_byte_level(std::string_view token, std::string& out) {
  const ByteLevelAlphabet& a = alphabet();
  const size_t original_size = out.size();
  size_t pos = 0;
  while (pos < token.size()) {
    const char32_t cp = utf8::next_code_point(token, pos);
    if (cp >= a.byte_of_char.size() || a.byte_of_char[cp] < 0) {
      out.resize(original_size);
      return false;
    }
    out.push_back(static_cast<char>(a.byte_of_char[cp]));
  }
  return true;
}

}  // namespace gptq
