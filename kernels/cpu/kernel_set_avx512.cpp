// The kernels instantiated for Avx512 (see simd_avx512.h for the traits and
// kernel_set_impl.h for what is built from them).
#include "kernels/cpu/simd_avx512.h"

#include "kernels/cpu/kernel_set_impl.h"

namespace gptq::cpu {

const KernelSet& kernel_set_avx512() {
  static constexpr KernelSet kSet = make_kernel_set<Avx512>(Isa::Avx512, 32, 32);
  return kSet;
}

}  // namespace gptq::cpu
