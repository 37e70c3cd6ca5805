#include "quant/quantized_linear.h"

#include <cstring>

#include "core/half.h"
#include "quant/pack.h"

namespace gptq {

std::vector<float> QuantizedLinear::dequantize() const {
  const int64_t K = in_features, N = out_features;
  const std::vector<uint8_t> q = unpack_qweight(qweight.data(), K, N, bits);
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
  return static_cast<int64_t>(qweight.size() * 4 + packed_words(out_features, bits) * n_groups * 4 + scales.size() * 2 +
                              g_idx.size() * 4);
}

QuantizedLinear quantized_linear_from_checkpoint(const GptqLinearTensors& t, const QuantConfig& config) {
  QuantizedLinear q;
  q.bits = t.bits;
  q.group_size = config.group_size;
  q.in_features = t.in_features;
  q.out_features = t.out_features;
  q.n_groups = t.n_groups;
  q.qweight.resize(t.qweight->numel());
  std::memcpy(q.qweight.data(), t.qweight->data, t.qweight->n_bytes);  // the mapped bytes may be unaligned
  std::vector<int32_t> stored_zeros(t.qzeros->numel());
  std::memcpy(stored_zeros.data(), t.qzeros->data, t.qzeros->n_bytes);
  q.zeros = unpack_qzeros(stored_zeros.data(), t.n_groups, t.out_features, t.bits, config.format);
  const std::vector<float> scales = tensor_to_float(*t.scales);
  q.scales.resize(scales.size());
  for (size_t i = 0; i < scales.size(); ++i) q.scales[i] = float_to_fp16(scales[i]);
  q.g_idx = group_index(t, config);
  return q;
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
  q.qweight = pack_qweight(codes_kn, m.cols, m.rows, m.bits);
  q.zeros = m.zeros;
  q.scales.resize(m.scales.size());
  for (size_t i = 0; i < m.scales.size(); ++i) q.scales[i] = float_to_fp16(m.scales[i]);
  q.g_idx = m.g_idx;
  return q;
}

}  // namespace gptq
