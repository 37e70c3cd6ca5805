// Loading models and asking about them.
#include "api/abi_sizes.h"
#include "api/dtypes.h"
#include "api/guard.h"
#include "api/handles.h"

using namespace gptq;
using namespace gptq::api;

namespace {

gptq_model_params model_defaults() {
  gptq_model_params p{};
  p.struct_size = sizeof p;
  p.use_mmap = 1;
  p.device = nullptr;
  p.n_gpu_layers = -1;
  p.compute_dtype = GPTQ_DTYPE_AUTO;
  p.max_memory = nullptr;
  p.plan_n_ctx = 0;
  p.plan_n_seq = 1;
  return p;
}

LoadOptions to_load_options(const gptq_model_params& p) {
  LoadOptions options;
  options.use_mmap = p.use_mmap != 0;
  options.round_rope_to_weight_dtype = p.round_rope_to_weight_dtype != 0;
  options.device = p.device != nullptr ? p.device : "cpu";
  if (p.n_gpu_layers < -1) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "n_gpu_layers is ", p.n_gpu_layers, "; use -1 (all), 0 (none) or a layer count");
  }
  options.n_gpu_layers = p.n_gpu_layers;
  options.gpu_compute = float_type_param(p.compute_dtype, "compute_dtype");
  options.max_memory = p.max_memory != nullptr ? p.max_memory : "";
  if (p.plan_n_ctx < 0 || p.plan_n_seq < 1) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "plan_n_ctx is ", p.plan_n_ctx, " and plan_n_seq ", p.plan_n_seq,
         "; use plan_n_ctx >= 0 (0: the default context) and plan_n_seq >= 1");
  }
  options.plan_n_ctx = p.plan_n_ctx;
  options.plan_n_seq = p.plan_n_seq;
  return options;
}

}  // namespace

extern "C" {

void gptq_model_default_params(gptq_model_params* params, size_t struct_size) {
  write_defaults(params, struct_size, model_defaults());
}

gptq_status gptq_model_load(const char* path, const gptq_model_params* params, gptq_model** out_model) {
  return guarded([&] {
    require_arg(path, "path");
    require_arg(out_model, "out_model");
    *out_model = nullptr;
    const gptq_model_params p = read_params(params, model_defaults(), kModelParamsMinSize, "params");
    LoadOptions options = to_load_options(p);
    if (p.progress != nullptr) {
      options.progress = [&p](float fraction, const char* stage) {
        return p.progress(fraction, stage, p.progress_user_data) == 0;
      };
    }
    *out_model = std::make_unique<gptq_model>(Model::load(path, options)).release();
  });
}

void gptq_model_free(gptq_model* model) { delete model; }

gptq_status gptq_model_get_info(const gptq_model* model, gptq_model_info* info) {
  return guarded([&] {
    const Model& m = model_of(model);
    const ModelConfig& c = m.config();
    const Tokenizer* tokenizer = m.tokenizer();
    gptq_model_info out{};
    out.struct_size = sizeof out;
    out.architecture = c.model_type.c_str();
    out.path = m.dir().c_str();
    out.tokenizer = tokenizer != nullptr ? tokenizer->model().kind() : "none";
    out.vocab_size = static_cast<int32_t>(c.vocab_size);
    out.n_layers = static_cast<int32_t>(c.n_layers);
    out.hidden_size = static_cast<int32_t>(c.hidden_size);
    out.intermediate_size = static_cast<int32_t>(c.intermediate_size);
    out.n_heads = static_cast<int32_t>(c.n_heads);
    out.n_kv_heads = static_cast<int32_t>(c.n_kv_heads);
    out.head_dim = static_cast<int32_t>(c.head_dim);
    out.max_position_embeddings = static_cast<int32_t>(c.max_position_embeddings);
    out.weight_dtype = dtype_code(m.weight_type());
    out.tied_embeddings = c.tie_word_embeddings ? 1 : 0;
    out.n_params = m.parameter_count();
    out.weight_bytes = m.weight_bytes();
    out.rope_theta = static_cast<float>(c.rope.theta);
    out.rope_type = c.rope.type.c_str();
    out.bos_token = tokenizer != nullptr && tokenizer->bos() >= 0 ? tokenizer->bos() : static_cast<int32_t>(c.bos_token_id);
    out.eos_token = tokenizer != nullptr && tokenizer->eos() >= 0 ? tokenizer->eos() : static_cast<int32_t>(c.eos_token_id);
    if (const auto& q = m.quant_config()) {
      out.quant_bits = q->bits;
      out.quant_group_size = q->group_size;
      out.quant_desc_act = q->desc_act ? 1 : 0;
      out.quant_sym = q->sym ? 1 : 0;
      out.quant_static_groups = q->static_groups ? 1 : 0;
      out.quant_format = checkpoint_format_name(q->format);
    } else {
      out.quant_format = "";
    }
    const Placement& placement = m.placement();
    out.device = model->device.c_str();
    out.placement = model->placement.c_str();
    out.n_gpu_layers = placement.n_gpu_layers();
    out.compute_dtype = placement.gpu() ? dtype_code(placement.gpu_compute) : GPTQ_DTYPE_F32;
    out.gpu_weight_bytes = m.gpu_weight_bytes();
    write_output(info, out, kModelInfoMinSize, "info");
  });
}

const char* gptq_model_token_text(const gptq_model* model, int32_t token) {
  if (model == nullptr || !model->impl || model->impl->tokenizer() == nullptr) return nullptr;
  const Tokenizer& tokenizer = *model->impl->tokenizer();
  if (token < 0 || token >= tokenizer.vocab_size()) return nullptr;
  return tokenizer.model().token_text(token).c_str();
}

int32_t gptq_model_token_is_eog(const gptq_model* model, int32_t token) {
  if (model == nullptr || !model->impl || model->impl->tokenizer() == nullptr) return 0;
  return model->impl->tokenizer()->is_end_of_generation(token) ? 1 : 0;
}

}  // extern "C"
