#include "quant/pack.h"

#include "core/error.h"

namespace gptq {

int64_t packed_words(int64_t count, int bits) { return (count * bits + 31) / 32; }

namespace {

void put_stream_value(int32_t* words, int64_t stride, int64_t index, int bits, uint32_t value) {
  const int64_t bit = index * bits;
  const int64_t word = bit >> 5;
  const int shift = static_cast<int>(bit & 31);
  const uint64_t v = static_cast<uint64_t>(value & ((1u << bits) - 1u)) << shift;
  words[word * stride] = static_cast<int32_t>(static_cast<uint32_t>(words[word * stride]) | static_cast<uint32_t>(v));
  if (shift + bits > 32) {
    words[(word + 1) * stride] =
        static_cast<int32_t>(static_cast<uint32_t>(words[(word + 1) * stride]) | static_cast<uint32_t>(v >> 32));
  }
}

}  // namespace

std::vector<int32_t> pack_qweight(const std::vector<uint8_t>& q, int64_t K, int64_t N, int bits) {
  std::vector<int32_t> packed(packed_words(K, bits) * N, 0);
  for (int64_t k = 0; k < K; ++k) {
    for (int64_t n = 0; n < N; ++n) put_stream_value(packed.data() + n, N, k, bits, q[k * N + n]);
  }
  return packed;
}

std::vector<uint8_t> unpack_qweight(const int32_t* qweight, int64_t K, int64_t N, int bits) {
  std::vector<uint8_t> q(K * N);
  for (int64_t k = 0; k < K; ++k) {
    for (int64_t n = 0; n < N; ++n) q[k * N + n] = static_cast<uint8_t>(stream_value(qweight + n, N, k, bits));
  }
  return q;
}

std::vector<int32_t> pack_qzeros(const std::vector<int32_t>& zeros, int64_t G, int64_t N, int bits,
                                 CheckpointFormat format) {
  const int64_t width = packed_words(N, bits);
  std::vector<int32_t> packed(G * width, 0);
  const int32_t offset = format == CheckpointFormat::Gptq ? 1 : 0;
  for (int64_t g = 0; g < G; ++g) {
    for (int64_t n = 0; n < N; ++n) {
      put_stream_value(packed.data() + g * width, 1, n, bits, static_cast<uint32_t>(zeros[g * N + n] - offset));
    }
  }
  return packed;
}

std::vector<int32_t> unpack_qzeros(const int32_t* qzeros, int64_t G, int64_t N, int bits, CheckpointFormat format) {
  const int64_t width = packed_words(N, bits);
  const int32_t offset = format == CheckpointFormat::Gptq ? 1 : 0;
  std::vector<int32_t> zeros(G * N);
  for (int64_t g = 0; g < G; ++g) {
    for (int64_t n = 0; n < N; ++n) zeros[g * N + n] = static_cast<int32_t>(stream_value(qzeros + g * width, 1, n, bits)) + offset;
  }
  return zeros;
}

}  // namespace gptq
