#include "quant/gptq_linear.h"

#include <cstring>

#include "core/error.h"
#include "quant/pack.h"

namespace gptq {
namespace {

void expect(const TensorView& t, DType dtype, std::initializer_list<int64_t> shape, const char* meaning) {
  const std::vector<int64_t> want(shape);
  if (t.dtype != dtype || t.shape != want) {
    TensorView expected;
    expected.shape = want;
    fail(GPTQ_ERR_FORMAT, "tensor '", t.name, "' in '", *t.file, "' is ", dtype_name(t.dtype), " ", t.shape_string(),
         " but ", meaning, " needs ", dtype_name(dtype), " ", expected.shape_string());
  }
}

}  // namespace

bool has_gptq_tensors(const Checkpoint& checkpoint, const std::string& module) {
  return checkpoint.find(module + ".qweight") != nullptr;
}

GptqLinearTensors read_gptq_linear(const Checkpoint& checkpoint, const std::string& module, int64_t in_features,
                                   int64_t out_features, const QuantConfig& config) {
  GptqLinearTensors t;
  t.module = module;
  t.bits = config.bits;
  t.in_features = in_features;
  t.out_features = out_features;
  const int64_t K = in_features, N = out_features;
  if ((K * config.bits) % 32 != 0) {
    fail(GPTQ_ERR_FORMAT, "'", module, "': in_features ", K, " cannot be packed at ", config.bits,
         " bits (K * bits must be a multiple of 32)");
  }
  t.n_groups = config.group_size > 0 ? (K + config.group_size - 1) / config.group_size : 1;
  t.qweight = &checkpoint.require(module + ".qweight");
  t.qzeros = &checkpoint.require(module + ".qzeros");
  t.scales = &checkpoint.require(module + ".scales");
  t.g_idx = checkpoint.find(module + ".g_idx");
  const std::string what = std::to_string(config.bits) + "-bit " + std::to_string(K) + "x" + std::to_string(N);
  expect(*t.qweight, DType::I32, {K * config.bits / 32, N}, what.c_str());
  // act-order checkpoints may hold more groups than ceil(K / group_size)
  // would suggest only if g_idx says so; trust the scales' row count.
  const int64_t G = t.scales->shape.size() == 2 ? t.scales->dim(0) : -1;
  if (t.scales->shape.size() != 2 || t.scales->dim(1) != N || G < 1 || G > K) {
    fail(GPTQ_ERR_FORMAT, "tensor '", t.scales->name, "' has shape ", t.scales->shape_string(), "; expected [G, ", N, "]");
  }
  if (t.scales->dtype != DType::F16 && t.scales->dtype != DType::BF16 && t.scales->dtype != DType::F32) {
    fail(GPTQ_ERR_FORMAT, "tensor '", t.scales->name, "' has dtype ", dtype_name(t.scales->dtype), "; expected F16");
  }
  t.n_groups = G;
  expect(*t.qzeros, DType::I32, {G, packed_words(N, config.bits)}, "the zero points");
  if (t.g_idx != nullptr) {
    expect(*t.g_idx, DType::I32, {K}, "g_idx");
    for (int64_t k = 0; k < K; ++k) {
      int32_t g;
      std::memcpy(&g, t.g_idx->data + 4 * k, 4);
      if (g < 0 || g >= G) {
        fail(GPTQ_ERR_FORMAT, "tensor '", t.g_idx->name, "' sends input column ", k, " to group ", g, " of ", G);
      }
    }
  } else if (config.desc_act) {
    fail(GPTQ_ERR_FORMAT, "'", module, "' is quantized with act-order but has no g_idx tensor");
  }
  return t;
}

std::vector<int32_t> group_index(const GptqLinearTensors& t, const QuantConfig& config) {
  std::vector<int32_t> groups(t.in_features);
  if (t.g_idx != nullptr) {
    std::memcpy(groups.data(), t.g_idx->data, groups.size() * 4);
  } else {
    const int64_t size = config.group_size > 0 ? config.group_size : t.in_features;
    for (int64_t k = 0; k < t.in_features; ++k) groups[k] = static_cast<int32_t>(k / size);
  }
  return groups;
}

}  // namespace gptq
