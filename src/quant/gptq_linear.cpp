#include "quant/gptq_linear.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "quant/pack.h"

namespace gptq {
namespace {

// The module's tensors in the checkpoint, checked against the shapes the model expects.
struct GptqLinearTensors {
  std::string module;
  int bits = 4;
  int64_t in_features = 0;   // K
  int64_t out_features = 0;  // N
  int64_t n_groups = 0;      // G
  const TensorView* qweight = nullptr;  // I32 [K*bits/32, N]
  const TensorView* qzeros = nullptr;   // I32 [G, N*bits/32]
  const TensorView* scales = nullptr;   // F16/BF16/F32 [G, N]
  const TensorView* g_idx = nullptr;    // I32 [K], may be absent (then k / group_size)
};

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

namespace {

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
    fail(GPTQ_ERR_FORMAT, "tensor '", t.scales->name, "' in '", *t.scales->file, "' has shape ", t.scales->shape_string(),
         "; expected [G, ", N, "]");
  }
  if (t.scales->dtype != DType::F16 && t.scales->dtype != DType::BF16 && t.scales->dtype != DType::F32) {
    fail(GPTQ_ERR_FORMAT, "tensor '", t.scales->name, "' in '", *t.scales->file, "' has dtype ",
         dtype_name(t.scales->dtype), "; expected F16");
  }
  // Without g_idx, column k belongs to group k / group_size: exactly that many groups must be stored.
  if (t.g_idx == nullptr && G != t.n_groups) {
    fail(GPTQ_ERR_FORMAT, "tensor '", t.scales->name, "' in '", *t.scales->file, "' holds ", G, " groups but ", K,
         " inputs in groups of ", config.group_size, " make ", t.n_groups, " (and there is no g_idx)");
  }
  t.n_groups = G;
  expect(*t.qzeros, DType::I32, {G, packed_words(N, config.bits)}, "the zero points");
  if (t.g_idx != nullptr) {
    expect(*t.g_idx, DType::I32, {K}, "g_idx");
    for (int64_t k = 0; k < K; ++k) {
      int32_t g;
      std::memcpy(&g, t.g_idx->data + 4 * k, 4);
      if (g < 0 || g >= G) {
        fail(GPTQ_ERR_FORMAT, "tensor '", t.g_idx->name, "' in '", *t.g_idx->file, "' sends input column ", k,
             " to group ", g, " of ", G);
      }
    }
  } else if (config.desc_act) {
    fail(GPTQ_ERR_FORMAT, "'", module, "' is quantized with act-order but has no g_idx tensor");
  }
  return t;
}

// The group of every input column: g_idx, or k / group_size without one.
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

}  // namespace

QuantizedLinear read_quantized_linear(const std::shared_ptr<const Checkpoint>& checkpoint, const std::string& module,
                                      int64_t in_features, int64_t out_features, const QuantConfig& config) {
  const GptqLinearTensors t = read_gptq_linear(*checkpoint, module, in_features, out_features, config);
  QuantizedLinear q;
  q.bits = t.bits;
  q.group_size = config.group_size;
  q.in_features = t.in_features;
  q.out_features = t.out_features;
  q.n_groups = t.n_groups;
  if (reinterpret_cast<uintptr_t>(t.qweight->data) % alignof(int32_t) == 0) {
    q.qweight = reinterpret_cast<const int32_t*>(t.qweight->data);
    q.qweight_storage = checkpoint;
  } else {
    auto copy = std::make_shared<std::vector<int32_t>>(t.qweight->numel());
    std::memcpy(copy->data(), t.qweight->data, t.qweight->n_bytes);
    q.qweight = copy->data();
    q.qweight_storage = std::move(copy);
  }
  std::vector<int32_t> stored_zeros(t.qzeros->numel());
  std::memcpy(stored_zeros.data(), t.qzeros->data, t.qzeros->n_bytes);  // the mapped bytes may be unaligned
  q.zeros = unpack_qzeros(stored_zeros.data(), t.n_groups, t.out_features, t.bits, config.format);
  const std::vector<float> scales = tensor_to_float(*t.scales);
  q.scales.resize(scales.size());
  for (size_t i = 0; i < scales.size(); ++i) {
    q.scales[i] = float_to_fp16(scales[i]);
    // A NaN or infinite scale poisons every logit downstream: a corrupt file, refused here.
    if (!std::isfinite(fp16_to_float(q.scales[i]))) {
      fail(GPTQ_ERR_FORMAT, "tensor '", t.scales->name, "' in '", *t.scales->file, "' holds the scale ", scales[i],
           " at index ", i, ", which is not finite in fp16");
    }
  }
  q.g_idx = group_index(t, config);
  return q;
}

}  // namespace gptq
