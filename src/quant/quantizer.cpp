#include "quant/quantizer.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>

#include "backend/prepare.h"
#include "core/error.h"
#include "core/log.h"
#include "kernels/cpu/cpu_kernels.h"
#include "quant/gptq.h"
#include "runtime/forward.h"

namespace gptq {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// `replacement` with `original`'s bias.
Linear with_bias_of(const Linear& original, Linear replacement) {
  replacement.set_bias(original.bias());
  return replacement;
}

// The layer with every linear copied to fp32 in memory, so quantized
// weights can replace them one by one; computed on the CPU.
DecoderLayer working_copy(const DecoderLayer& layer, const std::vector<LayerLinear>& linears, const ModelConfig& config,
                          WeightPreparer& cpu) {
  DecoderLayer copy = layer;
  for (const LayerLinear& entry : linears) {
    Linear& linear = copy.*entry.member;
    const int64_t rows = linear.out_features(), cols = linear.in_features();
    std::vector<float> values(rows * cols);
    for (int64_t r = 0; r < rows; ++r) cpu::dense_row_to_float(linear.dense_weights(), r, &values[r * cols]);
    linear = with_bias_of(linear, Linear::dense(linear.name(), std::move(values), rows, cols));
  }
  prepare_layer(copy, config, cpu);
  return copy;
}

bool skipped(const QuantizeOptions& options, const std::string& relative, const std::string& full) {
  for (const std::string& s : options.skip_modules) {
    if (s == relative || s == full) return true;
  }
  return false;
}

// Runs one layer over each calibration sample in turn, on the CPU.
class LayerRunner {
 public:
  LayerRunner(const Model& model, ThreadPool& pool, int32_t max_len)
      : backends_(cpu_backends(pool)),
        forward_(model, backends_, max_len, max_len),
        cache_(make_kv_cache(model.config(), 1, max_len, 1, [&](int64_t) -> Backend& { return cpu(); })) {}

  Backend& cpu() { return *backends_.all().front(); }

  // Each sample's first-layer input.
  void embed(const Model& model, const CalibrationSet& calibration, std::vector<std::vector<float>>& hidden) {
    const int64_t H = model.config().hidden_size;
    for (size_t s = 0; s < calibration.size(); ++s) {
      const Batch batch = sample_batch(static_cast<int32_t>(calibration[s].size()), calibration[s].data());
      hidden[s].resize(calibration[s].size() * H);
      cpu().stage_batch(batch);
      forward_.embed(cpu(), Activations{hidden[s].data(), H, H, 4}, static_cast<int64_t>(calibration[s].size()));
    }
  }

  // Runs `layer` as the model's layer `index` (its attention window) on a
  // copy of each sample's hidden states (or in place when `update` is set),
  // showing the taps to `observer`.
  void run(const DecoderLayer& layer, int64_t index, std::vector<std::vector<float>>& hidden,
           const std::vector<int32_t>& lengths, int64_t hidden_size, bool update, const LayerObserver* observer) {
    for (size_t s = 0; s < hidden.size(); ++s) {
      const Batch batch = sample_batch(lengths[s], nullptr);
      float* rows = hidden[s].data();
      if (!update) {
        scratch_ = hidden[s];
        rows = scratch_.data();
      }
      cpu().stage_batch(batch);
      forward_.run_layer(cpu(), cache_, batch, layer, index, 0, Activations{rows, hidden_size, hidden_size, 4},
                         observer);
    }
  }

 private:
  static BackendSet cpu_backends(ThreadPool& pool) {
    BackendSet set;
    BackendOptions options;
    options.pool = &pool;
    set.add(make_backend(kCpu, options));
    return set;
  }

  // One sample as sequence 0 from position 0.
  Batch sample_batch(int32_t n, const int32_t* tokens) {
    tokens_.assign(n, 0);
    if (tokens != nullptr) tokens_.assign(tokens, tokens + n);
    seq_.assign(n, 0);
    pos_.resize(n);
    for (int32_t i = 0; i < n; ++i) pos_[i] = i;
    return Batch{tokens_.data(), seq_.data(), pos_.data(), n, nullptr, 0};
  }

  BackendSet backends_;
  ForwardPass forward_;
  KvCache cache_;
  std::vector<int32_t> tokens_, seq_, pos_;
  std::vector<float> scratch_;
};

// sum over tokens of x^T x for rows of width k, added into `sum` (k x k).
void accumulate_gram(ThreadPool& pool, const float* rows, int64_t n_rows, int64_t stride, int64_t k,
                     std::vector<float>& transposed, std::vector<float>& gram, std::vector<float>& sum) {
  transposed.resize(k * n_rows);
  for (int64_t r = 0; r < n_rows; ++r)
    for (int64_t c = 0; c < k; ++c) transposed[c * n_rows + r] = rows[r * stride + c];
  gram.resize(k * k);
  const DenseMatrix xt{transposed.data(), FloatType::F32, k, n_rows, n_rows};
  cpu::matmul(pool, transposed.data(), n_rows, k, xt, nullptr, gram.data(), k);
  for (int64_t i = 0; i < k * k; ++i) sum[i] += gram[i];
}

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
  // Made before the samples are embedded: it refuses samples longer than a
  // learned position table.
  std::unique_ptr<LayerRunner> runner;
  if (!options.rtn) runner = std::make_unique<LayerRunner>(model, pool, max_len);
  std::vector<std::vector<float>> hidden(calibration.size());
  if (!options.rtn) runner->embed(model, calibration, hidden);
  const std::unique_ptr<WeightPreparer> cpu = make_preparer(kCpu, FloatType::F32);

  QuantizeReport local_report;
  QuantizeReport& out = report != nullptr ? *report : local_report;
  out.modules.clear();
  const double n_samples = static_cast<double>(std::max<size_t>(1, calibration.size()));
  const int64_t total_modules = c.n_layers * static_cast<int64_t>(linears.size());
  std::vector<DecoderLayer> quantized_layers;
  std::vector<float> transposed, gram;
  double pending_forward = 0;  // the last layer's output pass, charged to the next layer

  for (int64_t layer_index = 0; layer_index < c.n_layers; ++layer_index) {
    const DecoderLayer& source = model.layers()[layer_index];
    DecoderLayer working = working_copy(source, linears, c, *cpu);
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
      std::map<LayerTap, std::vector<float>> hessians;
      std::map<LayerTap, int64_t> widths;
      StageSeconds shared;  // charged to the group's first module
      shared.forward = pending_forward;
      pending_forward = 0;
      if (!options.rtn) {
        for (const LayerLinear* s : todo) {
          const int64_t k = s->in_features;
          widths[s->tap] = k;
          hessians.try_emplace(s->tap, std::vector<float>(k * k, 0.0f));
        }
        const LayerTap last_tap = hessians.rbegin()->first;
        const LayerObserver observe = [&](LayerTap tap, const Activations& rows, int64_t n_rows) {
          auto it = hessians.find(tap);
          if (it != hessians.end()) {
            const auto gram_start = Clock::now();
            accumulate_gram(pool, rows.as<const float>(), n_rows, rows.stride, widths[tap], transposed, gram, it->second);
            shared.hessian += seconds_since(gram_start);
          }
          return tap != last_tap;  // nothing later in the layer is needed
        };
        const auto forward_start = Clock::now();
        runner->run(working, layer_index, hidden, lengths, c.hidden_size, /*update=*/false, &observe);
        shared.forward += seconds_since(forward_start) - shared.hessian;
        // H = 2/n * sum x x^T over all tokens, n counting samples (AutoGPTQ's add_batch).
        const auto scale_start = Clock::now();
        for (auto& [tap, h] : hessians) {
          const float scale = static_cast<float>(2.0 / n_samples);
          for (float& v : h) v *= scale;
        }
        shared.hessian += seconds_since(scale_start);
      }

      std::map<LayerTap, HessianFactor> factors;
      for (const LayerLinear* s : todo) {
        ModuleReport m;
        m.stages = shared;
        shared = StageSeconds{};
        Linear& linear = working.*(s->member);
        const float* w = static_cast<const float*>(linear.dense_weights().data);  // fp32: a working copy
        auto factor = factors.find(s->tap);
        if (!options.rtn && factor == factors.end()) {
          const auto factor_start = Clock::now();
          factor = factors
                       .emplace(s->tap, factor_hessian(std::move(hessians.at(s->tap)), s->in_features,
                                                       gptq_options.desc_act, gptq_options.damp_percent))
                       .first;
          hessians.erase(s->tap);
          m.stages.factorization = seconds_since(factor_start);
        }
        const auto gptq_start = Clock::now();
        const QuantizedMatrix q =
            options.rtn ? rtn_quantize_matrix(pool, w, linear.out_features(), linear.in_features(), gptq_options)
                        : gptq_quantize_matrix(pool, w, linear.out_features(), linear.in_features(), factor->second,
                                               gptq_options);
        m.stages.gptq = seconds_since(gptq_start);
        const auto packing_start = Clock::now();
        auto quantized = std::make_shared<const QuantizedLinear>(quantized_linear_from_matrix(q, qc.group_size));
        // The working layer goes on in fp32 (its later groups and the next
        // layer's inputs see the quantized weights); the result keeps them packed.
        linear = with_bias_of(linear, Linear::dense(linear.name(), quantized->dequantize(), linear.out_features(),
                                                    linear.in_features()));
        linear.set_prepared(cpu->linear(linear));
        Linear& kept = result.*(s->member);
        kept = with_bias_of(kept, Linear::quantized(kept.name(), quantized));
        m.stages.packing = seconds_since(packing_start);

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
      runner->run(working, layer_index, hidden, lengths, c.hidden_size, /*update=*/true, nullptr);
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
