// Calibration data, quantization and saving through the C API.
#include <string>
#include <vector>

#include "api/abi_sizes.h"
#include "api/dtypes.h"
#include "api/guard.h"
#include "api/handles.h"
#include "io/mapped_file.h"
#include "quant/calibration.h"
#include "quant/quantizer.h"
#include "quant/save.h"

struct gptq_calibration {
  gptq::CalibrationSet samples;
};

using namespace gptq;
using namespace gptq::api;

namespace {

gptq_quantize_params quantize_defaults() {
  gptq_quantize_params p{};
  p.struct_size = sizeof p;
  p.bits = 4;
  p.group_size = 128;
  p.desc_act = 0;
  p.sym = 1;
  p.static_groups = 0;
  p.true_sequential = 1;
  p.damp_percent = 0.01f;
  p.method = GPTQ_METHOD_GPTQ;
  p.device = nullptr;
  p.compute_dtype = GPTQ_DTYPE_AUTO;
  p.max_device_bytes = 0;
  p.calibrate_all_experts = 0;
  p.min_expert_tokens = 0;
  return p;
}

gptq_save_params save_defaults() {
  gptq_save_params p{};
  p.struct_size = sizeof p;
  p.format = GPTQ_FORMAT_GPTQ;
  return p;
}

gptq_quantize_module_report module_report(const ModuleReport& m, int32_t n_layers, float fraction) {
  gptq_quantize_module_report r{};
  r.struct_size = sizeof r;
  r.layer = m.layer;
  r.n_layers = n_layers;
  r.module = m.name.c_str();
  r.loss = m.loss;
  r.fraction = fraction;
  r.forward_seconds = m.stages.forward;
  r.hessian_seconds = m.stages.hessian;
  r.factorization_seconds = m.stages.factorization;
  r.gptq_seconds = m.stages.gptq;
  r.packing_seconds = m.stages.packing;
  return r;
}

void publish(gptq_calibration** out, CalibrationSet samples) {
  auto handle = std::make_unique<gptq_calibration>();
  handle->samples = std::move(samples);
  *out = handle.release();
}

bool ends_with(const std::string& s, const char* suffix) {
  const std::string tail(suffix);
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

extern "C" {

gptq_status gptq_calibration_new(gptq_calibration** out) {
  return guarded([&] {
    require_arg(out, "out");
    publish(out, {});
  });
}

gptq_status gptq_calibration_add(gptq_calibration* calibration, const int32_t* tokens, size_t n_tokens) {
  return guarded([&] {
    require_arg(calibration, "calibration");
    if (n_tokens == 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "a calibration sample needs at least one token");
    require_arg(tokens, "tokens");
    calibration->samples.emplace_back(tokens, tokens + n_tokens);
  });
}

gptq_status gptq_calibration_from_text(const gptq_model* model, const char* text, size_t text_len, int32_t n_samples,
                                       int32_t seqlen, uint64_t seed, gptq_calibration** out) {
  return guarded([&] {
    require_arg(out, "out");
    *out = nullptr;
    const Tokenizer& tokenizer = model_of(model).require_tokenizer();
    if (text_len > 0) require_arg(text, "text");
    publish(out, calibration_windows(tokenizer, std::string_view(text ? text : "", text_len), n_samples, seqlen, seed));
  });
}

gptq_status gptq_calibration_from_texts(const gptq_model* model, const char* const* texts, size_t n_texts,
                                        int32_t seqlen, gptq_calibration** out) {
  return guarded([&] {
    require_arg(out, "out");
    *out = nullptr;
    const Tokenizer& tokenizer = model_of(model).require_tokenizer();
    require_arg(texts, "texts");
    std::vector<std::string> copies;
    for (size_t i = 0; i < n_texts; ++i) {
      if (texts[i] == nullptr) fail(GPTQ_ERR_INVALID_ARGUMENT, "texts[", i, "] is NULL");
      copies.emplace_back(texts[i]);
    }
    publish(out, calibration_from_texts(tokenizer, copies, seqlen));
  });
}

gptq_status gptq_calibration_from_file(const gptq_model* model, const char* path, int32_t n_samples, int32_t seqlen,
                                       uint64_t seed, gptq_calibration** out) {
  return guarded([&] {
    require_arg(out, "out");
    *out = nullptr;
    require_arg(path, "path");
    const Tokenizer& tokenizer = model_of(model).require_tokenizer();
    if (ends_with(path, ".jsonl") || ends_with(path, ".json")) {
      publish(out, calibration_from_jsonl(tokenizer, path, n_samples, seqlen));
    } else {
      publish(out, calibration_windows(tokenizer, read_text_file(path), n_samples, seqlen, seed));
    }
  });
}

size_t gptq_calibration_count(const gptq_calibration* calibration) {
  return calibration == nullptr ? 0 : calibration->samples.size();
}

void gptq_calibration_free(gptq_calibration* calibration) { delete calibration; }

void gptq_quantize_default_params(gptq_quantize_params* params, size_t struct_size) {
  write_defaults(params, struct_size, quantize_defaults());
}

gptq_status gptq_quantize(const gptq_model* model, const gptq_calibration* calibration,
                          const gptq_quantize_params* params, gptq_model** out_model) {
  return guarded([&] {
    require_arg(out_model, "out_model");
    *out_model = nullptr;
    const Model& source = model_of(model);
    const gptq_quantize_params p = read_params(params, quantize_defaults(), kQuantizeParamsMinSize, "params");
    if (p.method != GPTQ_METHOD_GPTQ && p.method != GPTQ_METHOD_RTN) {
      fail(GPTQ_ERR_INVALID_ARGUMENT, "method ", p.method, " is not a gptq_quant_method");
    }
    QuantizeOptions options;
    options.config.bits = p.bits;
    options.config.group_size = p.group_size;
    options.config.desc_act = p.desc_act != 0;
    options.config.sym = p.sym != 0;
    options.config.static_groups = p.static_groups != 0;
    options.config.true_sequential = p.true_sequential != 0;
    options.config.damp_percent = p.damp_percent;
    options.rtn = p.method == GPTQ_METHOD_RTN;
    options.mse = p.mse != 0;
    if (p.n_skip_modules < 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "n_skip_modules is negative");
    if (p.n_skip_modules > 0) require_arg(p.skip_modules, "skip_modules");
    for (int32_t i = 0; i < p.n_skip_modules; ++i) {
      if (p.skip_modules[i] == nullptr) fail(GPTQ_ERR_INVALID_ARGUMENT, "skip_modules[", i, "] is NULL");
      options.skip_modules.emplace_back(p.skip_modules[i]);
    }
    const int32_t n_layers = static_cast<int32_t>(source.config().n_layers);
    if (p.progress != nullptr || p.report != nullptr) {
      options.on_module = [&p, n_layers](const ModuleReport& m, float fraction) {
        if (p.progress != nullptr &&
            p.progress(m.layer, n_layers, m.name.c_str(), m.loss, fraction, p.progress_user_data) != 0) {
          return false;
        }
        if (p.report == nullptr) return true;
        const gptq_quantize_module_report report = module_report(m, n_layers, fraction);
        return p.report(&report, p.report_user_data) == 0;
      };
    }
    if (!options.rtn && (calibration == nullptr || calibration->samples.empty())) {
      fail(GPTQ_ERR_INVALID_ARGUMENT, "GPTQ needs calibration samples (or use GPTQ_METHOD_RTN)");
    }
    options.device = resolve_device(p.device != nullptr ? p.device : "cpu");
    options.device_options.gpu_compute = float_type_param(p.compute_dtype, "compute_dtype")
                              .value_or(source.embed_tokens().type == FloatType::BF16 ? FloatType::BF16 : FloatType::F16);
    if (p.max_device_bytes < 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "max_device_bytes is negative");
    options.device_options.max_device_bytes = p.max_device_bytes;
    options.all_experts = p.calibrate_all_experts != 0;
    if (p.min_expert_tokens < -1) {
      fail(GPTQ_ERR_INVALID_ARGUMENT, "min_expert_tokens must be -1, 0 or positive, not ", p.min_expert_tokens);
    }
    options.min_expert_tokens = p.min_expert_tokens;
    if (p.n_threads < 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "n_threads is negative");
    ThreadPool pool(p.n_threads > 0 ? p.n_threads : default_thread_count());
    static const CalibrationSet kNone;
    *out_model = std::make_unique<gptq_model>(
                     quantize_model(pool, source, calibration != nullptr ? calibration->samples : kNone, options, nullptr))
                     .release();
  });
}

void gptq_save_default_params(gptq_save_params* params, size_t struct_size) {
  write_defaults(params, struct_size, save_defaults());
}

gptq_status gptq_model_save(const gptq_model* model, const char* dir, const gptq_save_params* params) {
  return guarded([&] {
    const Model& m = model_of(model);
    require_arg(dir, "dir");
    const gptq_save_params p = read_params(params, save_defaults(), kSaveParamsMinSize, "params");
    SaveOptions options;
    if (p.format == GPTQ_FORMAT_GPTQ) options.format = CheckpointFormat::Gptq;
    else if (p.format == GPTQ_FORMAT_GPTQ_V2) options.format = CheckpointFormat::GptqV2;
    else fail(GPTQ_ERR_INVALID_ARGUMENT, "format ", p.format, " is not a gptq_checkpoint_format");
    options.max_shard_bytes = p.max_shard_bytes;
    save_model(m, dir, options);
  });
}

}  // extern "C"
