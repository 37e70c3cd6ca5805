// The kernels instantiated for Avx2 (see simd_avx2.h for the traits and
// kernel_set_impl.h for what is built from them).
#include "kernels/cpu/simd_avx2.h"

#include "kernels/cpu/kernel_set_impl.h"

namespace gptq::cpu {

const KernelSet& kernel_set_avx2() {
  static constexpr KernelSet kSet = make_kernel_set<Avx2>(Isa::Avx2, 16, 16);
  return kSet;
}

}  // namespace gptq::cpu
