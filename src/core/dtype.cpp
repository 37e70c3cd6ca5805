#include "core/dtype.h"

namespace gptq {

const char* float_type_name(FloatType type) {
  switch (type) {
    case FloatType::F32: return "float32";
    case FloatType::F16: return "float16";
    case FloatType::BF16: return "bfloat16";
  }
  return "?";
}

}  // namespace gptq
