#include "quant/quantizer.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>

#include "core/error.h"
#include "core/log.h"
#include "quant/gptq_device.h"

namespace gptq {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// `replacement` with `original`'s bias.
Linear with_bias_of(const Linear& original, Linear replacement) {
  replacement.set_bias(original.bias());
  return replacement;
}

bool skipped(const QuantizeOptions& options, const std::string& relative, const std::string& full) {
  for (const std::string& s : options.skip_modules) {
    if (s == relative || s == full) return true;
  }
  return false;
}

// Runs one layer over each calibration sample in turn, on the device.
class LayerRunner {
 public:
  LayerRunner(const Model& model, GptqDevice& device, int32_t max_len)
      : device_(device),
        forward_(model, device.backends(), max_len, max_len),
        cache_(make_kv_cache(model.config(), 1, max_len, 1, [&](int64_t) -> Backend& { return device.backend(); })) {}

  void embed(const CalibrationSet& calibration) { device_.embed(forward_, calibration); }

  // Runs `layer` as the model's layer `index` (its attention window) on
  // each sample (in place when `update` is set, else on a copy), showing
  // the taps to `observer`.
  void run(const DecoderLayer& layer, int64_t index, const std::vector<int32_t>& lengths, bool update,
           const LayerObserver* observer) {
    Backend& backend = device_.backend();
    for (size_t s = 0; s < lengths.size(); ++s) {
      const SampleBatch sample(nullptr, lengths[s]);
      const Activations rows = device_.sample(s, update);
      backend.stage_batch(sample.batch());
      forward_.run_layer(backend, cache_, sample.batch(), layer, index, 0, rows, observer);
      backend.finish_step();  // nothing of the layer may stay held back past its sample
    }
    device_.end_pass();
  }

 private:
  GptqDevice& device_;
  ForwardPass forward_;
  KvCache cache_;
};

}  // namespace

std::unique_ptr<Model> quantize_model(ThreadPool& pool, const Model& model, const CalibrationSet& calibration,
                                      const QuantizeOptions& options, QuantizeReport* report) {
  const auto start = Clock::now();
  const ModelConfig& c = model.config();
  const ArchSpec& arch = model.arch();
  validate_quant_config(options.config, "quantization");
  if (model.quant_config()) fail(GPTQ_ERR_INVALID_ARGUMENT, "the model in '", model.dir(), "' is already quantized");
  if (!options.rtn && calibration.empty()) fail(GPTQ_ERR_INVALID_ARGUMENT, "GPTQ needs calibration samples");
  for (size_t s = 0; s < calibration.size(); ++s) {
    if (calibration[s].empty()) fail(GPTQ_ERR_INVALID_ARGUMENT, "calibration sample ", s, " is empty");
    for (int32_t t : calibration[s]) {
      if (t < 0 || t >= c.vocab_size) fail(GPTQ_ERR_INVALID_ARGUMENT, "calibration sample ", s, " holds token ", t);
    }
  }
  const std::vector<LayerLinear> linears = layer_linears(c);
  const QuantConfig& qc = options.config;
  GptqOptions gptq_options;
  gptq_options.bits = qc.bits;
  gptq_options.group_size = qc.group_size;
  gptq_options.desc_act = qc.desc_act;
  gptq_options.sym = qc.sym;
  gptq_options.static_groups = qc.static_groups;
  gptq_options.damp_percent = qc.damp_percent;
  gptq_options.mse = options.mse;

  // Groups of linears quantized together: the true-sequential order, or all
  // at once from the float layer's inputs.
  std::vector<std::vector<std::string>> groups;
  for (const char* const* const* g = arch.sequential_groups; *g != nullptr; ++g) {
    std::vector<std::string> names;
    for (const char* const* m = *g; *m != nullptr; ++m) names.emplace_back(*m);
    if (qc.true_sequential || options.rtn || groups.empty()) groups.push_back(names);
    else groups.front().insert(groups.front().end(), names.begin(), names.end());
  }

  std::vector<int32_t> lengths;
  int32_t max_len = 1;
  for (const auto& sample : calibration) {
    lengths.push_back(static_cast<int32_t>(sample.size()));
    max_len = std::max(max_len, lengths.back());
  }
  // Round-to-nearest has no calibration pass: the CPU does it.
  const DeviceId where = options.rtn ? kCpu : options.device;
  const std::unique_ptr<GptqDevice> device = make_gptq_device(where, pool, model, max_len, options.device_options);
  // Made before the samples are embedded: it refuses samples longer than a
  // learned position table.
  std::unique_ptr<LayerRunner> runner;
  if (!options.rtn) {
    runner = std::make_unique<LayerRunner>(model, *device, max_len);
    runner->embed(calibration);
  }

  QuantizeReport local_report;
  QuantizeReport& out = report != nullptr ? *report : local_report;
  out.modules.clear();
  const double n_samples = static_cast<double>(std::max<size_t>(1, calibration.size()));
  const int64_t total_modules = c.n_layers * static_cast<int64_t>(linears.size());
  std::vector<DecoderLayer> quantized_layers;
  double pending_forward = 0;  // the last layer's output pass, charged to the next layer

  for (int64_t layer_index = 0; layer_index < c.n_layers; ++layer_index) {
    const DecoderLayer& source = model.layers()[layer_index];
    DecoderLayer working = device->working_copy(source, linears);
    DecoderLayer result = source;  // skipped modules stay as loaded
    const std::string prefix = model.layer_prefix(layer_index);

    for (const std::vector<std::string>& group : groups) {
      std::vector<const LayerLinear*> todo;
      for (const std::string& name : group) {
        if (!skipped(options, name, prefix + name)) todo.push_back(&layer_linear_named(linears, name));
      }
      if (todo.empty()) continue;

      // One Hessian per distinct input: q, k and v share theirs, and with it
      // its factorisation (the act-order permutation depends on diag H alone).
      std::map<LayerTap, std::unique_ptr<GptqDevice::Hessian>> hessians;
      StageSeconds shared;  // charged to the group's first module
      shared.forward = pending_forward;
      pending_forward = 0;
      if (!options.rtn) {
        for (const LayerLinear* s : todo) {
          if (!hessians.contains(s->tap)) hessians[s->tap] = device->new_hessian(s->in_features);
        }
        const LayerTap last_tap = hessians.rbegin()->first;
        const LayerObserver observe = [&](LayerTap tap, const Activations& rows, int64_t n_rows) {
          auto it = hessians.find(tap);
          if (it != hessians.end()) {
            device->synchronize();  // the forward so far is the forward's time
            const auto gram_start = Clock::now();
            device->accumulate(*it->second, rows, n_rows);
            device->synchronize();
            shared.hessian += seconds_since(gram_start);
          }
          return tap != last_tap;  // nothing later in the layer is needed
        };
        const auto forward_start = Clock::now();
        runner->run(working, layer_index, lengths, /*update=*/false, &observe);
        device->synchronize();
        shared.forward += seconds_since(forward_start) - shared.hessian;
      }

      // H = 2/n * sum x x^T over all tokens, n counting samples (AutoGPTQ's add_batch).
      const float hessian_scale = static_cast<float>(2.0 / n_samples);
      std::map<LayerTap, std::unique_ptr<GptqDevice::Factor>> factors;
      for (const LayerLinear* s : todo) {
        ModuleReport m;
        m.stages = shared;
        shared = StageSeconds{};
        Linear& linear = working.*(s->member);
        auto factor = factors.find(s->tap);
        if (!options.rtn && factor == factors.end()) {
          const auto factor_start = Clock::now();
          factor = factors
                       .emplace(s->tap, device->factor(std::move(hessians.at(s->tap)), hessian_scale,
                                                       gptq_options.desc_act, gptq_options.damp_percent))
                       .first;
          hessians.erase(s->tap);
          m.stages.factorization = seconds_since(factor_start);
        }
        // The column loop and the packing are one call on a device; the
        // device's report splits them where it can tell them apart.
        const auto gptq_start = Clock::now();
        const QuantizedResult q =
            device->quantize(linear, options.rtn ? nullptr : factor->second.get(), gptq_options, qc.group_size);
        m.stages.gptq = q.gptq_seconds >= 0 ? q.gptq_seconds : seconds_since(gptq_start);
        m.stages.packing = seconds_since(gptq_start) - m.stages.gptq;
        Linear& kept = result.*(s->member);
        kept = with_bias_of(kept, Linear::quantized(kept.name(), q.linear));

        m.name = prefix + std::string(s->name);
        m.layer = static_cast<int32_t>(layer_index);
        m.loss = q.loss / n_samples;
        log_info("quantized ", m.name, ": avg loss ", m.loss, ", damping ", q.damp_used);
        out.modules.push_back(m);
        const float fraction = static_cast<float>(out.modules.size()) / static_cast<float>(total_modules);
        if (options.on_module && !options.on_module(m, fraction)) {
          fail(GPTQ_ERR_CANCELLED, "quantization was cancelled at ", m.name);
        }
      }
    }
    // The quantized layer produces the next layer's inputs.
    if (!options.rtn && layer_index + 1 < c.n_layers) {
      const auto forward_start = Clock::now();
      runner->run(working, layer_index, lengths, /*update=*/true, nullptr);
      device->synchronize();
      pending_forward = seconds_since(forward_start);
    }
    quantized_layers.push_back(std::move(result));
  }
  out.seconds = seconds_since(start);
  QuantConfig recorded = qc;
  recorded.model_file_base_name = "model";
  return Model::with_layers(model, std::move(quantized_layers), recorded);
}

}  // namespace gptq
