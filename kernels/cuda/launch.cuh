// Kernel launches that let the next kernel of a stream start before the
// current one has finished (programmatic dependent launch, sm_90 and newer).
//
// Why: a decode step is a chain of about ten short kernels per layer, and
// each would otherwise pay its launch, the ramp-up of its blocks and the
// first memory latency only after the previous kernel has drained: about
// 6 us of every GEMM call at M = 1 on the H200 (bench/gpu/NOTES.md), as
// much as the streaming itself on a 7B layer. Launched through
// launch_kernel(), a kernel's blocks become resident as soon as every block
// of the previous kernel has called start_next_kernel(); until its own
// wait_for_previous_kernel() returns it may only read what no kernel writes
// (weights, scales, zero points: a GEMM starts streaming them at once).
// The wait returns once the previous kernel has completed and its writes
// are visible, so, transitively, every earlier kernel too.
//
// The rule for every kernel launched by launch_kernel(): call
// wait_for_previous_kernel() before the first read of anything a kernel
// writes and before the first write of anything; begin_dependent_kernel()
// is the first statement of every kernel that has nothing to fetch early.
// Safe to read early: weights, tables made at load, and the staged batch
// (tokens, sequences, positions), which a copy writes before the step's
// first kernel starts and so before any later kernel becomes resident.
// On older GPUs, on HIP and with GPTQ_GPU_EARLY_LAUNCH=0 the launch is an
// ordinary one and the calls do nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "kernels/cuda/portability.h"

namespace gptq::gpu {

__device__ __forceinline__ void wait_for_previous_kernel() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

// The next kernel of the stream may become resident (and fetch its weights).
__device__ __forceinline__ void start_next_kernel() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// The first statement of a kernel with nothing to fetch early (the
// elementwise, attention and dense kernels): the next kernel may become
// resident at once, so a GEMM after a short kernel streams its weights
// while the kernels before it finish. It cannot deadlock: a kernel is
// launched only once every block of the one before has started, so every
// kernel anyone waits on is wholly resident.
__device__ __forceinline__ void begin_dependent_kernel() {
  start_next_kernel();
  wait_for_previous_kernel();
}

// Where a kernel that fetched its weights early starts on its inputs.
// Letting the next kernel in only after the wait keeps one GEMM at most
// ahead of the running one, so early blocks never take the slots of a
// GEMM that is still being launched.
__device__ __forceinline__ void wait_then_start_next() {
  wait_for_previous_kernel();
  start_next_kernel();
}

// Whether launches on the current device may overlap (compute capability
// 9.0 or newer, not switched off), asked once per device.
inline bool early_launch_allowed() {
#if GPTQ_GPU_HIP
  return false;
#else
  static const bool switched_off = [] {
    const char* env = std::getenv("GPTQ_GPU_EARLY_LAUNCH");
    return env != nullptr && std::strcmp(env, "0") == 0;
  }();
  if (switched_off) return false;
  // Per device: 0 not asked yet, 1 no, 2 yes.
  static std::atomic<unsigned char> known[64] = {};
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= 64) {
    (void)cudaGetLastError();
    return false;
  }
  unsigned char state = known[device].load(std::memory_order_relaxed);
  if (state == 0) {
    int major = 0;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) {
      (void)cudaGetLastError();
      major = 0;
    }
    state = major >= 9 ? 2 : 1;
    known[device].store(state, std::memory_order_relaxed);
  }
  return state == 2;
#endif
}

// kernel<<<grid, block, shared_bytes, stream>>>(args...), allowed to start
// early where early_launch_allowed(). A failed launch is reported, as for
// <<<>>>, by cudaGetLastError().
template <typename... Params, typename... Args>
void launch_kernel(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream,
                   Args&&... args) {
#if GPTQ_GPU_HIP
  kernel<<<grid, block, shared_bytes, stream>>>(std::forward<Args>(args)...);
#else
  cudaLaunchConfig_t config = {};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = shared_bytes;
  config.stream = stream;
  cudaLaunchAttribute early = {};
  early.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  early.val.programmaticStreamSerializationAllowed = 1;
  if (early_launch_allowed()) {
    config.attrs = &early;
    config.numAttrs = 1;
  }
  (void)cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
#endif
}

// Blocks of `Kernel` one SM holds at once with `threads` threads and
// `shared_bytes` of dynamic shared memory, whose limit is raised for it
// once per device (a template parameter: every instantiation of a kernel
// template shares one function-pointer type, and each needs its own answer).
template <auto Kernel>
int resident_blocks_per_sm(int threads, int shared_bytes) {
  static std::atomic<uint64_t> configured{0};
  static std::atomic<int> blocks{0};
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) {
    (void)cudaGetLastError();
    return 1;
  }
  const uint64_t bit = uint64_t{1} << (device % 64);
  if ((configured.load() & bit) == 0) {
    if (shared_bytes > 48 * 1024) {
      (void)cudaFuncSetAttribute(Kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, shared_bytes);
    }
    int n = 0;
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, Kernel, threads, shared_bytes) != cudaSuccess || n < 1) n = 1;
    (void)cudaGetLastError();
    blocks.store(n);
    configured.fetch_or(bit);
  }
  return blocks.load();
}

}  // namespace gptq::gpu
