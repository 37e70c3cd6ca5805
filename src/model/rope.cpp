#include "model/rope.h"

#include <cmath>
#include <numbers>

#include "core/half.h"

namespace gptq {

std::vector<float> rope_inverse_frequencies(const ModelConfig& config) {
  const int64_t dim = config.rotary_dim();
  std::vector<float> inv_freq(dim / 2);
  const float base = static_cast<float>(config.rope.theta);
  for (int64_t i = 0; i < dim / 2; ++i) {
    // transformers: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), in fp32.
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(dim);
    inv_freq[i] = 1.0f / std::pow(base, exponent);
  }
  const RopeConfig& rope = config.rope;
  if (rope.type == "linear") {
    for (float& f : inv_freq) f = static_cast<float>(f / rope.factor);
  } else if (rope.type == "llama3") {
    // Llama 3.1: keep high frequencies, divide low ones by `factor`, and
    // blend smoothly in between.
    const double old_context = static_cast<double>(rope.original_max_position);
    const double low_freq_wavelen = old_context / rope.low_freq_factor;
    const double high_freq_wavelen = old_context / rope.high_freq_factor;
    for (float& f : inv_freq) {
      const double wavelen = 2.0 * std::numbers::pi / f;
      if (wavelen < high_freq_wavelen) continue;
      if (wavelen > low_freq_wavelen) {
        f = static_cast<float>(f / rope.factor);
        continue;
      }
      const double smooth =
          (old_context / wavelen - rope.low_freq_factor) / (rope.high_freq_factor - rope.low_freq_factor);
      f = static_cast<float>((1.0 - smooth) * f / rope.factor + smooth * f);
    }
  }
  return inv_freq;
}

RopeTable build_rope_table(const std::vector<float>& inverse_frequencies, int64_t n_positions,
                           FloatType rounded_to) {
  RopeTable table;
  table.half = static_cast<int64_t>(inverse_frequencies.size());
  table.cos.resize(n_positions * table.half);
  table.sin.resize(n_positions * table.half);
  for (int64_t p = 0; p < n_positions; ++p) {
    for (int64_t i = 0; i < table.half; ++i) {
      // The angle is an fp32 product, as in the reference; cos/sin of it exact.
      const float angle = static_cast<float>(p) * inverse_frequencies[i];
      table.cos[p * table.half + i] = static_cast<float>(std::cos(static_cast<double>(angle)));
      table.sin[p * table.half + i] = static_cast<float>(std::sin(static_cast<double>(angle)));
    }
  }
  if (rounded_to != FloatType::F32) {
    for (std::vector<float>* values : {&table.cos, &table.sin}) {
      for (float& v : *values) v = round_to_type(v, rounded_to);
    }
  }
  return table;
}

void apply_rope(float* row, int64_t n_heads, int64_t head_dim, const RopeTable& table, int64_t position,
                RotaryStyle style) {
  const int64_t half = table.half;
  const float* cos = table.cos.data() + position * half;
  const float* sin = table.sin.data() + position * half;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* x = row + h * head_dim;
    if (style == RotaryStyle::Half) {
      for (int64_t i = 0; i < half; ++i) {
        const float x1 = x[i], x2 = x[i + half];
        x[i] = x1 * cos[i] - x2 * sin[i];
        x[i + half] = x2 * cos[i] + x1 * sin[i];
      }
    } else if (style == RotaryStyle::Interleaved) {
      for (int64_t i = 0; i < half; ++i) {
        const float x1 = x[2 * i], x2 = x[2 * i + 1];
        x[2 * i] = x1 * cos[i] - x2 * sin[i];
        x[2 * i + 1] = x2 * cos[i] + x1 * sin[i];
      }
    }
  }
}

}  // namespace gptq
