// The ISA-independent halves of the kernels: they split the work among the
// pool's threads and hand each piece to a KernelSet. Compiled for baseline
// x86-64 (no intrinsics), so anything may call them.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/cpu/kernel_set.h"

namespace gptq::cpu {

// All products share M (and normally x); they run as one parallel step.
void run_matmul(const KernelSet& ks, ThreadPool& pool, const MatmulArgs* products, int n_products);
void run_attention(const KernelSet& ks, ThreadPool& pool, const AttentionProblem& problem);

// A per-thread buffer of at least n floats, 64-byte aligned, reused across
// calls (decode runs hundreds of kernels a second: no allocation each time).
// Slots keep buffers that may be live at the same time apart.
enum class ScratchSlot : int { Matmul = 0, Attention = 1, Gather = 2 };
float* thread_scratch(ScratchSlot slot, int64_t n);

}  // namespace gptq::cpu
