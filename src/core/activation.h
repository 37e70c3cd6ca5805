// The MLP activations, named once for the architecture table and the kernels.
#pragma once

namespace gptq {

enum class Activation : unsigned char { Silu, GeluErf, GeluTanh, Relu };

}  // namespace gptq
