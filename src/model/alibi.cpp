#include "model/alibi.h"

#include <cmath>

namespace gptq {

std::vector<float> alibi_slopes(int64_t n_heads) {
  int64_t power = 1;
  while (power * 2 <= n_heads) power *= 2;
  // 2^(-8/n) for n heads: the series' ratio and first term.
  auto ratio = [](int64_t n) { return std::pow(2.0, -8.0 / static_cast<double>(n)); };
  std::vector<float> slopes;
  slopes.reserve(static_cast<size_t>(n_heads));
  for (int64_t i = 1; i <= power; ++i) slopes.push_back(static_cast<float>(std::pow(ratio(power), i)));
  for (int64_t i = 1; static_cast<int64_t>(slopes.size()) < n_heads; i += 2) {
    slopes.push_back(static_cast<float>(std::pow(ratio(2 * power), i)));
  }
  return slopes;
}

}  // namespace gptq
