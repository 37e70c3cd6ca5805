// The kernels instantiated for Scalar (see simd_scalar.h for the traits and
// kernel_set_impl.h for what is built from them).
#include "kernels/cpu/simd_scalar.h"

#include "kernels/cpu/kernel_set_impl.h"

namespace gptq::cpu {

const KernelSet& kernel_set_scalar() {
  static constexpr KernelSet kSet = make_kernel_set<Scalar>(Isa::Scalar, 4, 4);
  return kSet;
}

}  // namespace gptq::cpu
