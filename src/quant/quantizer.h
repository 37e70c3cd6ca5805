// Quantizes a whole model layer by layer, as AutoGPTQ does: the inputs of
// the first decoder layer are captured for every calibration sample; each
// layer's linears are quantized in the architecture's true-sequential groups
// (each group's Hessian from inputs produced with the groups before it
// already quantized); the quantized layer then produces the next layer's
// inputs. One layer's weights are held in fp32 at a time.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/device.h"
#include "core/dtype.h"
#include "model/model.h"
#include "quant/calibration.h"
#include "quant/gptq_device.h"
#include "quant/quant_config.h"

namespace gptq {

// Where a module's time went. Work several modules share (the layer's
// forward over the samples, an input's Hessian and its factorisation) is
// charged to the first module needing it, so the modules' times add up to
// the run's; the pass that turns a quantized layer's inputs into the next
// layer's is the next layer's first forward.
struct StageSeconds {
  double forward = 0;        // running the layer over the calibration samples
  double hessian = 0;        // accumulating 2/n X^T X
  double factorization = 0;  // dead inputs, act-order, damping, Cholesky of H^-1
  double gptq = 0;           // the column loop and its lazy-batch updates (or RTN)
  double packing = 0;        // the checkpoint layout and the dequantized copy the layer goes on with

  double total() const { return forward + hessian + factorization + gptq + packing; }
};

struct ModuleReport {
  std::string name;    // full module name, e.g. model.layers.3.mlp.down_proj
  int32_t layer = 0;
  double loss = 0;     // AutoGPTQ's "avg loss": sum of (w - q)^2 / d^2 / 2 over the matrix, / n_samples
  StageSeconds stages;
};

struct QuantizeOptions {
  QuantConfig config;
  bool rtn = false;  // round-to-nearest instead of GPTQ (no calibration needed)
  bool mse = false;  // grid-search group ranges (AutoGPTQ's mse option)
  // Modules left in float: names relative to a layer ("mlp.down_proj") or
  // full ones. lm_head and embeddings are never quantized.
  std::vector<std::string> skip_modules;
  // Called after each module with its report and the overall fraction done;
  // returning false cancels (GPTQ_ERR_CANCELLED).
  std::function<bool(const ModuleReport&, float)> on_module;
  // Where the calibration pass and GPTQ's arithmetic run (RTN: the CPU),
  // and a GPU's activation type.
  DeviceId device = kCpu;
  GptqDeviceOptions device_options;
  // Mixtures of experts: calibrate every expert on every token; or route
  // tokens as the model does, an expert routed fewer than
  // min_expert_tokens (0: hidden_size, the fewest giving its first
  // linears a full-rank Hessian; -1: no minimum) being named in a warning
  // and calibrated on every token instead.
  bool all_experts = false;
  int32_t min_expert_tokens = 0;
};

// The calibration tokens one expert's linears saw.
struct ExpertCalibration {
  int32_t layer = 0;
  int32_t expert = 0;
  int64_t routed_tokens = 0;  // those the router sent it (all of them under all_experts)
  int64_t tokens = 0;         // those its Hessians summed
};

struct QuantizeReport {
  std::vector<ModuleReport> modules;
  std::vector<ExpertCalibration> experts;  // per layer and expert, in order
  double seconds = 0;
};

std::unique_ptr<Model> quantize_model(ThreadPool& pool, const Model& model, const CalibrationSet& calibration,
                                      const QuantizeOptions& options, QuantizeReport* report);

}  // namespace gptq
