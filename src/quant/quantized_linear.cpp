#include "quant/quantized_linear.h"

#include "core/half.h"
#include "quant/pack.h"

namespace gptq {

GptqSource QuantizedLinear::source() const {
  return GptqSource{bits, in_features, out_features, n_groups, qweight, zeros.data(), scales.data(), g_idx.data()};
}

std::vector<float> QuantizedLinear::dequantize() const {
  const int64_t K = in_features, N = out_features;
  const std::vector<uint8_t> q = unpack_qweight(qweight, K, N, bits);
  std::vector<float> w(N * K);
  for (int64_t k = 0; k < K; ++k) {
    const int64_t g = g_idx[k];
    for (int64_t n = 0; n < N; ++n) {
      w[n * K + k] = fp16_to_float(scales[g * N + n]) * static_cast<float>(static_cast<int32_t>(q[k * N + n]) - zeros[g * N + n]);
    }
  }
  return w;
}

int64_t QuantizedLinear::packed_bytes() const {
  return qweight_words() * 4 + packed_words(out_features, bits) * n_groups * 4 +
         static_cast<int64_t>(scales.size()) * 2 + static_cast<int64_t>(g_idx.size()) * 4;
}

QuantizedLinear quantized_linear_from_matrix(const QuantizedMatrix& m, int group_size) {
  QuantizedLinear q;
  q.bits = m.bits;
  q.group_size = group_size;
  q.in_features = m.cols;
  q.out_features = m.rows;
  q.n_groups = m.n_groups();
  // Codes are [N][K]; the format packs [K][N] along K.
  std::vector<uint8_t> codes_kn(m.cols * m.rows);
  for (int64_t n = 0; n < m.rows; ++n)
    for (int64_t k = 0; k < m.cols; ++k) codes_kn[k * m.rows + n] = m.codes[n * m.cols + k];
  auto words = std::make_shared<const std::vector<int32_t>>(pack_qweight(codes_kn, m.cols, m.rows, m.bits));
  q.qweight = words->data();
  q.qweight_storage = std::move(words);
  q.zeros = m.zeros;
  q.scales.resize(m.scales.size());
  for (size_t i = 0; i < m.scales.size(); ++i) q.scales[i] = float_to_fp16(m.scales[i]);
  q.g_idx = m.g_idx;
  return q;
}

}  // namespace gptq
