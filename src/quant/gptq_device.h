// Where quantization computes: the calibration pass through each layer,
// the Hessians, their factorisation and GPTQ's column loop. The quantizer
// (quant/quantizer.cpp) describes the layer-by-layer pipeline once over
// this interface; the CPU runs it with the host kernels
// (quant/cpu_gptq_device.cpp), a GPU with cuBLAS, cuSOLVER and the kernels
// of kernels/cuda/gptq_solve.h (quant/cuda/).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "backend/device.h"
#include "model/model.h"
#include "quant/calibration.h"
#include "quant/gptq.h"
#include "quant/quantized_linear.h"
#include "runtime/forward.h"

namespace gptq {

struct QuantizedResult {
  std::shared_ptr<const QuantizedLinear> linear;
  double loss = 0;       // QuantizedMatrix::loss
  double damp_used = 0;  // damping finally added to the Hessian's diagonal
  // Of quantize()'s time, the column loop's (the rest is packing and the
  // working copy's new weights); negative when the device cannot tell.
  double gptq_seconds = -1;
};

class GptqDevice {
 public:
  // A Hessian being summed, and what its factorisation leaves (opaque, on the device).
  class Hessian {
   public:
    virtual ~Hessian() = default;
  };
  class Factor {
   public:
    virtual ~Factor() = default;
    double damp_used = 0;
  };

  virtual ~GptqDevice() = default;

  // Run the calibration pass through the layers: backends() holds backend() alone.
  virtual const BackendSet& backends() const = 0;
  Backend& backend() const { return *backends().all().front(); }
  // The layer as the calibration pass runs it: its linears compute from
  // their float weights until quantize() replaces them.
  virtual DecoderLayer working_copy(const DecoderLayer& layer, const std::vector<LayerLinear>& linears) = 0;

  // Each sample's input to the first layer, through `forward` (a pass over backends()).
  virtual void embed(ForwardPass& forward, const CalibrationSet& calibration) = 0;
  // Sample s's hidden states on the backend's device, valid until the next
  // call: the sample itself, which the layer updates in place (`update`),
  // or a copy for a pass that only observes the layer's inputs.
  virtual Activations sample(size_t s, bool update) = 0;
  // After a pass over every sample: updated samples kept wherever they live.
  virtual void end_pass() {}
  // Waits for the work enqueued (the stage times are taken around it).
  virtual void synchronize() {}

  virtual std::unique_ptr<Hessian> new_hessian(int64_t cols) = 0;
  // sum += x^T x over `n_rows` rows of width cols (on the backend's device).
  virtual void accumulate(Hessian& sum, const Activations& rows, int64_t n_rows) = 0;
  // Dead inputs, act-order, damping and the upper Cholesky factor of the
  // inverse of H = scale * sum (consumed), as factor_hessian does.
  virtual std::unique_ptr<Factor> factor(std::unique_ptr<Hessian> sum, float scale, bool desc_act,
                                         double damp_percent) = 0;
  // GPTQ on `working`'s weights with `factor` (round-to-nearest when it
  // is null, on the CPU only); from here on `working` computes with the
  // quantized weights (what the later groups and the next layer's inputs
  // must see).
  virtual QuantizedResult quantize(Linear& working, const Factor* factor, const GptqOptions& options,
                                   int group_size) = 0;
};

// One calibration sample as a batch: sequence 0 from position 0.
class SampleBatch {
 public:
  // `tokens` may be null when the batch only runs layers (no embedding).
  SampleBatch(const int32_t* tokens, int32_t n_tokens);
  const Batch& batch() const { return batch_; }

 private:
  std::vector<int32_t> tokens_, seq_, pos_;
  Batch batch_;
};

struct GptqDeviceOptions {
  FloatType gpu_compute = FloatType::F16;  // a GPU's activation type
  // Device memory the quantizer may plan for; 0: what the device has free.
  int64_t max_device_bytes = 0;
};

// The device's quantizer for `model`'s layers, over samples of at most
// `max_tokens` tokens.
std::unique_ptr<GptqDevice> make_gptq_device(DeviceId device, ThreadPool& pool, const Model& model,
                                             int32_t max_tokens, const GptqDeviceOptions& options);

std::unique_ptr<GptqDevice> make_cpu_gptq_device(ThreadPool& pool, const Model& model);

}  // namespace gptq
