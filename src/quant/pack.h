// The GPTQ on-disk packing (../shared/docs/GPTQ_FORMAT.md): b-bit values laid
// end to end in a little-endian stream of 32-bit words, value j at bit j*b
// (so with 3 bits, values 10 and 21 straddle words). qweight runs such a
// stream down each column (along K), qzeros along each row (along N).
#pragma once

#include <cstdint>
#include <vector>

#include "quant/quant_config.h"

namespace gptq {

// Value `index` of the stream whose words sit `stride` ints apart.
inline uint32_t stream_value(const int32_t* words, int64_t stride, int64_t index, int bits) {
  const int64_t bit = index * bits;
  const int64_t word = bit >> 5;
  const int shift = static_cast<int>(bit & 31);
  uint64_t v = static_cast<uint32_t>(words[word * stride]) >> shift;
  if (shift + bits > 32) v |= static_cast<uint64_t>(static_cast<uint32_t>(words[(word + 1) * stride])) << (32 - shift);
  return static_cast<uint32_t>(v) & ((1u << bits) - 1u);
}

// Words needed for `count` values of `bits` bits (the format requires whole words).
int64_t packed_words(int64_t count, int bits);

// q is [K][N] row-major, values < 2^bits; returns qweight [K*bits/32][N].
std::vector<int32_t> pack_qweight(const std::vector<uint8_t>& q, int64_t K, int64_t N, int bits);
std::vector<uint8_t> unpack_qweight(const int32_t* qweight, int64_t K, int64_t N, int bits);

// zeros is [G][N]: the true zero points. Stored minus one for the v1 format
// (a true zero of 0 becomes -1, all ones after masking, as AutoGPTQ does).
std::vector<int32_t> pack_qzeros(const std::vector<int32_t>& zeros, int64_t G, int64_t N, int bits,
                                 CheckpointFormat format);
// The true zero points [G][N] (v1: stored + 1 after masking, so 2^bits for a stored -1).
std::vector<int32_t> unpack_qzeros(const int32_t* qzeros, int64_t G, int64_t N, int bits, CheckpointFormat format);

}  // namespace gptq
