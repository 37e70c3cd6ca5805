#include "runtime/forward.h"

#include <algorithm>

#include "core/error.h"
#include "model/alibi.h"

namespace gptq {

Backend& BackendSet::on(DeviceId device) const {
  for (const auto& backend : backends_) {
    if (backend->device() == device) return *backend;
  }
  fail(GPTQ_ERR_INTERNAL, "no backend for device ", device_name(device));
}

ForwardPass::ForwardPass(const Model& model, const BackendSet& backends, int32_t max_tokens, int32_t n_ctx)
    : model_(model), config_(model.config()), backends_(backends), max_tokens_(max_tokens) {
  const ArchSpec& arch = model.arch();
  if (arch.positions == PositionKind::Learned && n_ctx > config_.max_position_embeddings) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "sequences of up to ", n_ctx, " tokens need more than the ",
         config_.max_position_embeddings, " positions ", config_.model_type, " has learned embeddings for");
  }
  if (arch.positions == PositionKind::Rotary) rope_ = build_rope_table(model.rope_inverse_frequencies(), n_ctx, model.rope_table_type());
  if (arch.positions == PositionKind::Alibi) alibi_slopes_ = alibi_slopes(config_.n_heads);
  shape_.n_heads = static_cast<int32_t>(config_.n_heads);
  shape_.n_kv_heads = static_cast<int32_t>(config_.n_kv_heads);
  shape_.head_dim = static_cast<int32_t>(config_.head_dim);
  shape_.scale = static_cast<float>(config_.attention_scale);
  shape_.alibi = arch.positions == PositionKind::Alibi;

  const int64_t t = max_tokens, H = config_.hidden_size, I = config_.intermediate_size;
  for (const auto& backend : backends.all()) {
    Backend& b = *backend;
    Workspace ws;
    ws.hidden = b.allocate_activations(t, H);
    ws.normed = b.allocate_activations(t, H);
    if (arch.qkv_layout != QkvLayout::Separate) ws.qkv = b.allocate_activations(t, config_.qkv_dim());
    ws.q = b.allocate_activations(t, config_.q_dim());
    ws.k = b.allocate_activations(t, config_.kv_dim());
    ws.v = b.allocate_activations(t, config_.kv_dim());
    ws.attn = b.allocate_activations(t, config_.q_dim());
    ws.gate = b.allocate_activations(t, arch.mlp == MlpKind::FusedGated ? 2 * I : I);
    if (arch.mlp == MlpKind::Gated || arch.mlp == MlpKind::Routed) ws.up = b.allocate_activations(t, I);
    if (arch.mlp == MlpKind::Routed) {
      ws.router_logits = b.allocate_activations(t, config_.n_experts);
      ws.expert_in = b.allocate_activations(t, H);
      ws.expert_out = b.allocate_activations(t, H);
      ws.routes = b.allocate_expert_routes(static_cast<int32_t>(config_.n_experts), t);
    }
    ws.attn_out = b.allocate_activations(t, H);
    ws.mlp_out = b.allocate_activations(t, H);
    if (b.device() == model.placement().head) ws.logits = b.allocate_activations(t, config_.vocab_size);
    if (arch.positions == PositionKind::Rotary) b.set_rope_table(rope_);
    if (shape_.alibi) b.set_alibi_slopes(alibi_slopes_);
    workspaces_.emplace_back(&b, ws);
  }
}

ForwardPass::Workspace& ForwardPass::workspace(const Backend& backend) {
  for (auto& [b, ws] : workspaces_) {
    if (b == &backend) return ws;
  }
  fail(GPTQ_ERR_INTERNAL, "no workspace on ", device_name(backend.device()));
}

void ForwardPass::embed(Backend& backend, Activations hidden, int64_t rows) {
  backend.embed(model_, hidden);
  if (!model_.embed_norm().weight.empty()) {
    backend.norm(hidden, hidden, rows, model_.embed_norm(), model_.arch().norm, static_cast<float>(config_.norm_eps));
  }
}

Activations ForwardPass::block_input(Backend& backend, Workspace& ws, int64_t rows, Activations hidden,
                                     const Norm& norm) {
  if (!config_.norm_before) return hidden;
  backend.norm(hidden, ws.normed, rows, norm, model_.arch().norm, static_cast<float>(config_.norm_eps));
  return ws.normed;
}

// The backends split the two layouts of one block, [q | k | v] and per head
// [q_h | k_h | v_h]; layouts of repeated blocks (falcon's kv groups,
// codegen's shards) are split block by block as [q | k | v] on column views.
void ForwardPass::split_fused_qkv(Backend& backend, Workspace& ws, int64_t rows) {
  QkvLayout layout = model_.arch().qkv_layout;
  // Groups of one q head, or one group of them all, are a layout of one block.
  if (layout == QkvLayout::KvGrouped && shape_.n_kv_heads == shape_.n_heads) layout = QkvLayout::HeadInterleaved;
  if (layout == QkvLayout::KvGrouped && shape_.n_kv_heads == 1) layout = QkvLayout::Concatenated;
  if (layout == QkvLayout::Concatenated || layout == QkvLayout::HeadInterleaved) {
    backend.split_qkv(ws.qkv, rows, layout, shape_, ws.q, ws.k, ws.v);
    return;
  }
  const int32_t blocks = layout == QkvLayout::KvGrouped ? shape_.n_kv_heads : 4;
  AttentionShape block = shape_;
  block.n_heads /= blocks;
  block.n_kv_heads /= blocks;
  const int64_t q_cols = int64_t{block.n_heads} * shape_.head_dim, kv_cols = int64_t{block.n_kv_heads} * shape_.head_dim;
  const bool v_before_k = layout == QkvLayout::CodegenShards;
  for (int32_t b = 0; b < blocks; ++b) {
    const Activations k = ws.k.columns(b * kv_cols, kv_cols), v = ws.v.columns(b * kv_cols, kv_cols);
    backend.split_qkv(ws.qkv.columns(b * (q_cols + 2 * kv_cols), q_cols + 2 * kv_cols), rows,
                      QkvLayout::Concatenated, block, ws.q.columns(b * q_cols, q_cols), v_before_k ? v : k,
                      v_before_k ? k : v);
  }
}

bool ForwardPass::attention_block(Backend& backend, Workspace& ws, KvCache& cache, int64_t rows,
                                  const DecoderLayer& layer, int64_t index, int64_t cache_layer, Activations hidden,
                                  Activations out, const LayerObserver* observer) {
  const ArchSpec& arch = model_.arch();
  AttentionShape shape = shape_;
  shape.window = static_cast<int32_t>(config_.attention_window(index));
  const Activations input = block_input(backend, ws, rows, hidden, layer.attn_norm);
  if (observer && !(*observer)(LayerTap::AttentionInput, -1, input, rows)) return false;
  if (arch.qkv_layout == QkvLayout::Separate) {
    // One step for the three products of the same input.
    const LinearOutput outs[] = {{&layer.q_proj, ws.q}, {&layer.k_proj, ws.k}, {&layer.v_proj, ws.v}};
    backend.matmul(input, rows, outs);
  } else {
    const LinearOutput out_qkv{&layer.qkv_proj, ws.qkv};
    backend.matmul(input, rows, {&out_qkv, 1});
    split_fused_qkv(backend, ws, rows);
  }

  RotaryInputs rotary;
  if (!layer.q_norm.weight.empty()) rotary.q_norm = &layer.q_norm;
  if (!layer.k_norm.weight.empty()) rotary.k_norm = &layer.k_norm;
  rotary.norm_eps = static_cast<float>(config_.norm_eps);
  if (arch.positions == PositionKind::Rotary) rotary.rope = &rope_;
  rotary.style = arch.rotary;
  KvLayer& kv = cache.layer(cache_layer);
  backend.rotate_and_store(ws.q, ws.k, ws.v, rows, shape, rotary, kv);
  backend.attention(ws.q, rows, kv, shape, ws.attn);

  if (observer && !(*observer)(LayerTap::AttentionOutput, -1, ws.attn, rows)) return false;
  const LinearOutput out_o{&layer.o_proj, out};
  backend.matmul(ws.attn, rows, {&out_o, 1});
  return true;
}

bool ForwardPass::mlp_block(Backend& backend, Workspace& ws, int64_t rows, const DecoderLayer& layer,
                            Activations hidden, Activations out, const LayerObserver* observer) {
  const int64_t I = config_.intermediate_size;
  const Activations input = block_input(backend, ws, rows, hidden, layer.ffn_norm);
  if (observer && !(*observer)(LayerTap::MlpInput, -1, input, rows)) return false;
  if (model_.arch().mlp == MlpKind::Routed) return routed_mlp(backend, ws, rows, layer, input, out, observer);
  // act(gate) (* up) lands in the first I columns of ws.gate.
  Activations up;
  switch (model_.arch().mlp) {
    case MlpKind::Gated: {
      const LinearOutput outs[] = {{&layer.gate_proj, ws.gate}, {&layer.up_proj, ws.up}};
      backend.matmul(input, rows, outs);
      up = ws.up;
      break;
    }
    case MlpKind::FusedGated: {
      const LinearOutput fused{&layer.gate_up_proj, ws.gate};
      backend.matmul(input, rows, {&fused, 1});
      up = ws.gate.columns(I, I);
      break;
    }
    case MlpKind::Routed: break;  // routed_mlp
    case MlpKind::Plain: {
      const LinearOutput plain{&layer.up_proj, ws.gate};
      backend.matmul(input, rows, {&plain, 1});
      break;
    }
  }
  backend.activate(ws.gate, up, rows, I, config_.activation);
  const Activations activated = ws.gate.columns(0, I);
  if (observer && !(*observer)(LayerTap::MlpHidden, -1, activated, rows)) return false;
  const LinearOutput out_down{&layer.down_proj, out};
  backend.matmul(activated, rows, {&out_down, 1});
  return true;
}

bool ForwardPass::routed_mlp(Backend& backend, Workspace& ws, int64_t rows, const DecoderLayer& layer,
                             Activations input, Activations out, const LayerObserver* observer) {
  const int64_t I = config_.intermediate_size;
  const LinearOutput scores{&layer.router, ws.router_logits};
  backend.matmul(input, rows, {&scores, 1});
  backend.route_experts(ws.router_logits, rows, static_cast<int32_t>(config_.n_experts_per_token), every_expert_,
                        ws.routes, out);
  for (int32_t e = 0; e < static_cast<int32_t>(layer.experts.size()); ++e) {
    const ExpertMlp& expert = layer.experts[static_cast<size_t>(e)];
    const int64_t n = backend.gather_expert_rows(input, rows, ws.routes, e, ws.expert_in);
    if (observer && !(*observer)(LayerTap::ExpertInput, e, ws.expert_in, n)) return false;
    if (n == 0) continue;
    const LinearOutput outs[] = {{&expert.gate_proj, ws.gate}, {&expert.up_proj, ws.up}};
    backend.matmul(ws.expert_in, n, outs);
    backend.activate(ws.gate, ws.up, n, I, config_.activation);
    const Activations activated = ws.gate.columns(0, I);
    if (observer && !(*observer)(LayerTap::ExpertHidden, e, activated, n)) return false;
    const LinearOutput down{&expert.down_proj, ws.expert_out};
    backend.matmul(activated, n, {&down, 1});
    backend.add_expert_rows(ws.expert_out, n, ws.routes, e, out);
  }
  return true;
}

bool ForwardPass::run_layer(Backend& backend, KvCache& cache, const Batch& batch, const DecoderLayer& layer,
                            int64_t index, int64_t cache_layer, Activations hidden, const LayerObserver* observer) {
  const int64_t T = batch.n_tokens;
  Workspace& ws = workspace(backend);
  const NormKind kind = model_.arch().norm;
  const float eps = static_cast<float>(config_.norm_eps);
  if (!attention_block(backend, ws, cache, T, layer, index, cache_layer, hidden, ws.attn_out, observer)) return false;
  if (config_.parallel_residual) {
    // Both blocks read the layer's input; their outputs join it together.
    if (!mlp_block(backend, ws, T, layer, hidden, ws.mlp_out, observer)) return false;
    backend.add_residual(hidden, T, ws.attn_out, ws.mlp_out, nullptr, kind, eps);
    return true;
  }
  // Post-norm layers (OPT's do_layer_norm_before = false) norm each sum.
  const bool post = !config_.norm_before;
  backend.add_residual(hidden, T, ws.attn_out, {}, post ? &layer.attn_norm : nullptr, kind, eps);
  if (!mlp_block(backend, ws, T, layer, hidden, ws.mlp_out, observer)) return false;
  backend.add_residual(hidden, T, ws.mlp_out, {}, post ? &layer.ffn_norm : nullptr, kind, eps);
  return true;
}

void ForwardPass::enqueue(const Batch& batch, KvCache& cache) {
  const Placement& placement = model_.placement();
  const int64_t T = batch.n_tokens;
  for (const auto& backend : backends_.all()) backend->stage_batch(batch);
  Backend* current = &backends_.on(placement.embedding);
  Workspace* ws = &workspace(*current);
  // The residual stream follows the parts from device to device.
  auto move_to = [&](DeviceId device) {
    Backend& next = backends_.on(device);
    if (&next == current) return;
    Workspace& next_ws = workspace(next);
    next.copy_from(*current, ws->hidden, next_ws.hidden, T);
    current = &next;
    ws = &next_ws;
  };
  embed(*current, ws->hidden, T);
  for (int64_t l = 0; l < config_.n_layers; ++l) {
    move_to(placement.layers[static_cast<size_t>(l)]);
    run_layer(*current, cache, batch, model_.layers()[l], l, l, ws->hidden, nullptr);
  }
  if (batch.n_logit_rows == 0) {
    for (const auto& backend : backends_.all()) backend->finish_step();
    return;
  }
  move_to(placement.head);
  const int64_t rows = batch.n_logit_rows;
  current->gather_logit_rows(ws->hidden, ws->normed);
  if (config_.final_norm) {
    current->norm(ws->normed, ws->normed, rows, model_.final_norm(), model_.arch().norm,
                  static_cast<float>(config_.norm_eps));
  }
  const LinearOutput head{&model_.lm_head(), ws->logits};
  current->matmul(ws->normed, rows, {&head, 1});
  for (const auto& backend : backends_.all()) backend->finish_step();
}

namespace {

// A step whose every token extends its own sequence (decode): the same ops
// for any positions, so a recorded step replays for the next one.
bool is_decode_step(const Batch& batch, int32_t n_seq) {
  if (batch.n_tokens > 256) return false;
  std::vector<uint8_t> seen(static_cast<size_t>(n_seq), 0);
  for (int32_t t = 0; t < batch.n_tokens; ++t) {
    if (seen[static_cast<size_t>(batch.seq[t])]++ != 0) return false;
  }
  return true;
}

}  // namespace

void ForwardPass::run(KvCache& cache, const Batch& batch) {
  Backend* only = backends_.all().size() == 1 ? backends_.all().front().get() : nullptr;
  if (only != nullptr && only->records_steps() && is_decode_step(batch, cache.n_seq())) {
    const uint64_t key = static_cast<uint64_t>(batch.n_tokens) | static_cast<uint64_t>(batch.n_logit_rows) << 32;
    if (only->try_replay(key, batch)) return;
    only->begin_recording();
    try {
      enqueue(batch, cache);
    } catch (...) {
      only->abort_recording();
      throw;
    }
    if (only->end_recording(key)) return;
  }
  enqueue(batch, cache);
}

void ForwardPass::copy_logits(int32_t n_logit_rows, float* logits) {
  Backend& head = backends_.on(model_.placement().head);
  head.copy_to_host(workspace(head).logits, n_logit_rows, logits);
}

void ForwardPass::score_logits(int32_t n_logit_rows, double* nll) {
  Backend& head = backends_.on(model_.placement().head);
  head.score_to_host(workspace(head).logits, n_logit_rows, nll);
}

}  // namespace gptq
