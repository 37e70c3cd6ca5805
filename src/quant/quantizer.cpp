#include "quant/quantizer.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>

#include "core/error.h"
#include "core/log.h"
#include "quant/gptq.h"
#include "runtime/forward.h"
#include "runtime/ops.h"

namespace gptq {
namespace {

using Clock = std::chrono::steady_clock;

// The layer with every linear copied to fp32 in memory, so quantized
// weights can replace them one by one.
DecoderLayer working_copy(const DecoderLayer& layer, const std::vector<LayerLinear>& linears) {
  DecoderLayer copy = layer;
  for (const LayerLinear& entry : linears) {
    Linear& linear = copy.*entry.member;
    const int64_t rows = linear.out_features(), cols = linear.in_features();
    std::vector<float> values(rows * cols);
    for (int64_t r = 0; r < rows; ++r) cpu::dense_row_to_float(linear.weights, r, &values[r * cols]);
    linear.set_owned_weights(std::move(values), rows, cols);
  }
  return copy;
}

bool skipped(const QuantizeOptions& options, const std::string& relative, const std::string& full) {
  for (const std::string& s : options.skip_modules) {
    if (s == relative || s == full) return true;
  }
  return false;
}

// Runs one layer over each calibration sample in turn.
class LayerRunner {
 public:
  LayerRunner(const Model& model, int32_t max_len)
      : forward_(model, max_len, max_len), cache_(model.config(), max_len, 1, 1) {}

  // Runs `layer` on a copy of each sample's hidden states (or in place when
  // `update` is set), showing the taps to `observer`.
  void run(ThreadPool& pool, const DecoderLayer& layer, std::vector<std::vector<float>>& hidden,
           const std::vector<int32_t>& lengths, bool update, const LayerObserver* observer) {
    for (size_t s = 0; s < hidden.size(); ++s) {
      const int32_t n = lengths[s];
      tokens_.assign(n, 0);
      seq_.assign(n, 0);
      pos_.resize(n);
      for (int32_t i = 0; i < n; ++i) pos_[i] = i;
      Batch batch{tokens_.data(), seq_.data(), pos_.data(), n, nullptr, 0};
      float* rows = hidden[s].data();
      if (!update) {
        scratch_ = hidden[s];
        rows = scratch_.data();
      }
      forward_.run_layer(pool, cache_, batch, layer, 0, rows, observer);
    }
  }

 private:
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
  const cpu::DenseWeights xt{transposed.data(), cpu::WeightType::F32, k, n_rows, n_rows};
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
  if (!options.rtn) runner = std::make_unique<LayerRunner>(model, max_len);
  std::vector<std::vector<float>> hidden(calibration.size());
  std::vector<float> scratch(c.hidden_size);
  if (!options.rtn) {
    for (size_t s = 0; s < calibration.size(); ++s) {
      hidden[s].resize(calibration[s].size() * c.hidden_size);
      for (size_t t = 0; t < calibration[s].size(); ++t) {
        embed_token(model, calibration[s][t], static_cast<int32_t>(t), &hidden[s][t * c.hidden_size], scratch.data());
      }
    }
  }

  QuantizeReport local_report;
  QuantizeReport& out = report != nullptr ? *report : local_report;
  out.modules.clear();
  const double n_samples = static_cast<double>(std::max<size_t>(1, calibration.size()));
  const int64_t total_modules = c.n_layers * static_cast<int64_t>(linears.size());
  std::vector<DecoderLayer> quantized_layers;
  std::vector<float> transposed, gram;

  for (int64_t layer_index = 0; layer_index < c.n_layers; ++layer_index) {
    const DecoderLayer& source = model.layers()[layer_index];
    DecoderLayer working = working_copy(source, linears);
    DecoderLayer result = source;  // skipped modules stay as loaded
    const std::string prefix = model.layer_prefix(layer_index);

    for (const std::vector<std::string>& group : groups) {
      std::vector<const LayerLinear*> todo;
      for (const std::string& name : group) {
        if (!skipped(options, name, prefix + name)) todo.push_back(&layer_linear_named(linears, name));
      }
      if (todo.empty()) continue;

      // One Hessian per distinct input: q, k and v share theirs.
      std::map<LayerTap, std::vector<float>> hessians;
      std::map<LayerTap, int64_t> widths;
      if (!options.rtn) {
        for (const LayerLinear* s : todo) {
          const int64_t k = s->in_features;
          widths[s->tap] = k;
          hessians.try_emplace(s->tap, std::vector<float>(k * k, 0.0f));
        }
        const LayerTap last_tap = hessians.rbegin()->first;
        const LayerObserver observe = [&](LayerTap tap, const float* rows, int64_t n_rows, int64_t stride) {
          auto it = hessians.find(tap);
          if (it != hessians.end()) accumulate_gram(pool, rows, n_rows, stride, widths[tap], transposed, gram, it->second);
          return tap != last_tap;  // nothing later in the layer is needed
        };
        runner->run(pool, working, hidden, lengths, /*update=*/false, &observe);
        // H = 2/n * sum x x^T over all tokens, n counting samples (AutoGPTQ's add_batch).
        for (auto& [tap, h] : hessians) {
          const float scale = static_cast<float>(2.0 / n_samples);
          for (float& v : h) v *= scale;
        }
      }

      for (const LayerLinear* s : todo) {
        const auto module_start = Clock::now();
        Linear& linear = working.*(s->member);
        const float* w = static_cast<const float*>(linear.weights.data);  // fp32: a working copy
        const QuantizedMatrix q =
            options.rtn ? rtn_quantize_matrix(pool, w, linear.out_features(), linear.in_features(), gptq_options)
                        : gptq_quantize_matrix(pool, w, linear.out_features(), linear.in_features(),
                                               hessians.at(s->tap), gptq_options);
        auto quantized = std::make_shared<const QuantizedLinear>(quantized_linear_from_matrix(q, qc.group_size));
        // The working layer goes on in fp32 (its later groups and the next
        // layer's inputs see the quantized weights); the result keeps them packed.
        linear.set_owned_weights(quantized->dequantize(), linear.out_features(), linear.in_features());
        Linear& kept = result.*(s->member);
        kept.set_packed(*quantized);
        kept.quantized = quantized;

        ModuleReport m;
        m.name = prefix + std::string(s->name);
        m.layer = static_cast<int32_t>(layer_index);
        m.loss = q.loss / n_samples;
        m.seconds = std::chrono::duration<double>(Clock::now() - module_start).count();
        log_info("quantized ", m.name, ": avg loss ", m.loss, ", damping ", q.damp_used);
        out.modules.push_back(m);
        const float fraction = static_cast<float>(out.modules.size()) / static_cast<float>(total_modules);
        if (options.on_module && !options.on_module(m, fraction)) {
          fail(GPTQ_ERR_CANCELLED, "quantization was cancelled at ", m.name);
        }
      }
    }
    // The quantized layer produces the next layer's inputs.
    if (!options.rtn && layer_index + 1 < c.n_layers) runner->run(pool, working, hidden, lengths, /*update=*/true, nullptr);
    quantized_layers.push_back(std::move(result));
  }
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  QuantConfig recorded = qc;
  recorded.model_file_base_name = "model";
  return Model::with_layers(model, std::move(quantized_layers), recorded);
}

}  // namespace gptq
