#include "quant/gptq_device.h"

#include "core/error.h"
#if GPTQ_WITH_GPU
#include "quant/cuda/gpu_gptq_device.h"
#endif

namespace gptq {

SampleBatch::SampleBatch(const int32_t* tokens, int32_t n_tokens)
    : tokens_(n_tokens, 0), seq_(n_tokens, 0), pos_(n_tokens) {
  if (tokens != nullptr) tokens_.assign(tokens, tokens + n_tokens);
  for (int32_t i = 0; i < n_tokens; ++i) pos_[i] = i;
  batch_ = Batch{tokens_.data(), seq_.data(), pos_.data(), n_tokens, nullptr, 0};
}

std::unique_ptr<GptqDevice> make_gptq_device(DeviceId device, ThreadPool& pool, const Model& model,
                                             int32_t max_tokens, const GptqDeviceOptions& options) {
  if (!device.is_gpu()) return make_cpu_gptq_device(pool, model);
  // A GPU gathers an expert's rows for an upper bound of them (its host
  // never reads the routing), so the Hessians would need the device's
  // counts: not done yet.
  if (model.arch().mlp == MlpKind::Routed) {
    fail(GPTQ_ERR_UNSUPPORTED, "quantizing a mixture-of-experts model (", model.config().model_type, ") on '",
         device_name(device), "' is not supported yet: quantize it on the CPU (device \"cpu\")");
  }
#if GPTQ_WITH_GPU
  return cuda::make_gpu_gptq_device(device, pool, model, max_tokens, options);
#else
  (void)options;
  fail(GPTQ_ERR_UNSUPPORTED, "quantizing on '", device_name(device), "': ", gpu::unavailable_reason());
#endif
}

}  // namespace gptq
