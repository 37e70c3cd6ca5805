// gptq_dtype codes at the C boundary, and the library's float types.
#pragma once

#include <optional>

#include "core/dtype.h"
#include "core/error.h"
#include "gptq.h"

namespace gptq::api {

// A gptq_dtype field of a params struct: GPTQ_DTYPE_AUTO leaves the choice
// to the library (nullopt); anything but a gptq_dtype fails naming `field`.
inline std::optional<FloatType> float_type_param(int32_t code, const char* field) {
  switch (code) {
    case GPTQ_DTYPE_AUTO: return std::nullopt;
    case GPTQ_DTYPE_F32: return FloatType::F32;
    case GPTQ_DTYPE_F16: return FloatType::F16;
    case GPTQ_DTYPE_BF16: return FloatType::BF16;
  }
  fail(GPTQ_ERR_INVALID_ARGUMENT, field, " is ", code,
       "; use GPTQ_DTYPE_AUTO (-1), GPTQ_DTYPE_F32 (0), GPTQ_DTYPE_F16 (1) or GPTQ_DTYPE_BF16 (2)");
}

inline int32_t dtype_code(FloatType type) {
  switch (type) {
    case FloatType::F32: return GPTQ_DTYPE_F32;
    case FloatType::F16: return GPTQ_DTYPE_F16;
    case FloatType::BF16: return GPTQ_DTYPE_BF16;
  }
  return GPTQ_DTYPE_F32;
}

}  // namespace gptq::api
