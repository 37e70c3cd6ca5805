// Hash maps keyed by std::string that can be searched with a string_view
// without building a temporary string (the tokenizers' hot lookups).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gptq {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

template <typename Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

}  // namespace gptq
