// The one-time repack of a GPTQ checkpoint layer into the GPU layout of
// gptq_layout.h, on the host (plain C++: it builds, and is tested, in every
// build, GPU or not). The GPU backend uploads the result.
#pragma once

#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "kernels/cuda/gptq_layout.h"
#include "kernels/gptq_source.h"

namespace gptq {
class ThreadPool;
}

namespace gptq::gpu {

struct GptqTilesHost {
  GptqTiles tiles;                  // sizes; the pointers are set by whoever uploads
  std::vector<uint32_t> weights;    // the tiles, as laid out on the device
  std::vector<float> scales;        // [G][N'/64][8][8]
  std::vector<float> zeros;         // [G][N'/64][8][8]: true zero points
  std::vector<int32_t> block_group;  // [K'/16]
  std::vector<int32_t> row_source;   // [K'], or empty when x is read in place
};

// Throws gptq::Error (GPTQ_ERR_INVALID_ARGUMENT) on an inconsistent source
// (validate_gptq_source). With a pool, column strips are repacked in
// parallel (a 7B model's 6.5 billion codes took most of a GPU load's
// 40 s on one thread).
GptqTilesHost repack_gptq_tiles(const GptqSource& source, ThreadPool* pool = nullptr);

// The value the kernels subtract for zero point z: z plus the exponent
// pattern their dequantization ORs in (fp16: 1024; bf16: 128, but 0 for
// 8 bits, which go through fp32; fp32: 0).
float zero_magic(FloatType type, int bits);

}  // namespace gptq::gpu
