#include "quant/quantizer.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <string_view>

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

// The input a linear reads: its tap, and its expert's index (-1 outside a routed MLP).
using TapKey = std::pair<LayerTap, int32_t>;
TapKey key_of(const LayerLinear& linear) { return {linear.tap, linear.expert}; }

// A true-sequential group's names, each expert's pattern ("...experts.*.w1")
// expanded to every expert in turn.
std::vector<std::string> expand_experts(const char* const* group, int64_t n_experts) {
  std::vector<std::string> names;
  for (const char* const* m = group; *m != nullptr; ++m) {
    if (std::string_view(*m).find('*') == std::string_view::npos) {
      names.emplace_back(*m);
      continue;
    }
    for (int64_t e = 0; e < n_experts; ++e) names.push_back(expert_module(*m, e));
  }
  return names;
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
  void set_every_expert(bool every_expert) { forward_.set_every_expert(every_expert); }

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
  int64_t modules_per_layer = 0;
  for (const char* const* const* g = arch.sequential_groups; *g != nullptr; ++g) {
    const std::vector<std::string> names = expand_experts(*g, c.n_experts);
    modules_per_layer += static_cast<int64_t>(names.size());
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
  const int64_t total_modules = c.n_layers * modules_per_layer;
  int64_t calibration_tokens = 0;
  for (int32_t n : lengths) calibration_tokens += n;
  out.experts.clear();
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
      // its factorisation (the act-order permutation depends on diag H alone);
      // so do an expert's gate and up.
      std::map<TapKey, std::unique_ptr<GptqDevice::Hessian>> hessians;
      std::map<TapKey, int64_t> tokens_seen;
      StageSeconds shared;  // charged to the group's first module
      shared.forward = pending_forward;
      pending_forward = 0;
      // A pass over the samples summing the Hessians of `keys` afresh.
      auto calibrate = [&](const std::set<TapKey>& keys, bool every_expert) {
        for (const LayerLinear* s : todo) {
          if (keys.contains(key_of(*s))) hessians[key_of(*s)] = device->new_hessian(s->in_features);
        }
        for (const TapKey& key : keys) tokens_seen[key] = 0;
        const TapKey last = *keys.rbegin();
        const LayerObserver observe = [&](LayerTap tap, int32_t expert, const Activations& rows, int64_t n_rows) {
          const TapKey key{tap, expert};
          if (keys.contains(key)) {
            device->synchronize();  // the forward so far is the forward's time
            const auto gram_start = Clock::now();
            if (n_rows > 0) device->accumulate(*hessians.at(key), rows, n_rows);
            tokens_seen[key] += n_rows;
            device->synchronize();
            shared.hessian += seconds_since(gram_start);
          }
          return key != last;  // nothing later in the layer is needed
        };
        runner->set_every_expert(every_expert);
        const double hessian_before = shared.hessian;
        const auto forward_start = Clock::now();
        runner->run(working, layer_index, lengths, /*update=*/false, &observe);
        device->synchronize();
        runner->set_every_expert(false);
        shared.forward += seconds_since(forward_start) - (shared.hessian - hessian_before);
      };
      if (!options.rtn) {
        std::set<TapKey> keys;
        for (const LayerLinear* s : todo) keys.insert(key_of(*s));
        calibrate(keys, options.all_experts);
        // The minimum-token rule: starved experts see every token instead.
        std::set<TapKey> starved;
        const int64_t minimum = options.min_expert_tokens == 0 ? c.hidden_size : options.min_expert_tokens;
        for (const TapKey& key : keys) {
          if (key.second < 0) continue;
          const int64_t routed = tokens_seen.at(key);
          if (!options.all_experts && options.min_expert_tokens >= 0 && routed < minimum) starved.insert(key);
          if (key.first != LayerTap::ExpertInput) continue;  // one entry per expert
          out.experts.push_back({static_cast<int32_t>(layer_index), key.second, routed, routed});
          if (starved.contains(key)) {
            log_warn("layer ", layer_index, " expert ", key.second, " was routed ", routed, " of the ",
                     calibration_tokens, " calibration tokens, fewer than the minimum ", minimum,
                     ": calibrating it on every token instead");
          }
        }
        if (!starved.empty()) {
          calibrate(starved, /*every_expert=*/true);
          for (ExpertCalibration& e : out.experts) {
            if (e.layer == layer_index && starved.contains({LayerTap::ExpertInput, e.expert})) e.tokens = calibration_tokens;
          }
        }
      }

      // H = 2/n * sum x x^T over all tokens, n counting samples (AutoGPTQ's add_batch).
      const float hessian_scale = static_cast<float>(2.0 / n_samples);
      std::map<TapKey, std::unique_ptr<GptqDevice::Factor>> factors;
      for (const LayerLinear* s : todo) {
        ModuleReport m;
        m.stages = shared;
        shared = StageSeconds{};
        Linear& linear = s->of(working);
        auto factor = factors.find(key_of(*s));
        if (!options.rtn && factor == factors.end()) {
          const auto factor_start = Clock::now();
          factor = factors
                       .emplace(key_of(*s), device->factor(std::move(hessians.at(key_of(*s))), hessian_scale,
                                                           gptq_options.desc_act, gptq_options.damp_percent))
                       .first;
          hessians.erase(key_of(*s));
          m.stages.factorization = seconds_since(factor_start);
        }
        // The column loop and the packing are one call on a device; the
        // device's report splits them where it can tell them apart.
        const auto gptq_start = Clock::now();
        const QuantizedResult q =
            device->quantize(linear, options.rtn ? nullptr : factor->second.get(), gptq_options, qc.group_size);
        m.stages.gptq = q.gptq_seconds >= 0 ? q.gptq_seconds : seconds_since(gptq_start);
        m.stages.packing = seconds_since(gptq_start) - m.stages.gptq;
        Linear& kept = s->of(result);
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
