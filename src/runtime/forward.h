// One forward pass of the decoder over a batch of tokens that may belong to
// several sequences at different positions (batched prefill, batched
// decode), written once over the architecture description in terms of the
// backend ops (backend/backend.h). Each part runs on the device the model's
// placement gives it; the residual stream crosses devices at layer
// boundaries. Holds scratch on every device, sized for the largest batch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "model/model.h"
#include "model/rope.h"
#include "runtime/kv_cache.h"

namespace gptq {

// The backends of one context: one per device its model's placement uses.
class BackendSet {
 public:
  void add(std::unique_ptr<Backend> backend) { backends_.push_back(std::move(backend)); }
  Backend& on(DeviceId device) const;
  const std::vector<std::unique_ptr<Backend>>& all() const { return backends_; }

 private:
  std::vector<std::unique_ptr<Backend>> backends_;
};

// Sees the inputs of a layer's linears at each LayerTap (rows of the batch,
// or of an expert's, on the backend that runs the layer; `expert` is -1
// outside a routed MLP); returning false stops the layer there, since
// calibration often needs only a prefix of it.
using LayerObserver = std::function<bool(LayerTap tap, int32_t expert, const Activations& rows, int64_t n_rows)>;

class ForwardPass {
 public:
  ForwardPass(const Model& model, const BackendSet& backends, int32_t max_tokens, int32_t n_ctx);

  // Runs the batch and stores its keys/values in `cache`; the logits of the
  // batch's logit rows are then on the head's device, for copy_logits or
  // score_logits. Inputs are trusted (checked by Context).
  void run(KvCache& cache, const Batch& batch);
  // n_logit_rows x vocab_size fp32 logits of the last run, to host.
  void copy_logits(int32_t n_logit_rows, float* logits);
  // -log p(target) of each logit row of the last run (Batch::targets).
  void score_logits(int32_t n_logit_rows, double* nll);

  // Runs decoder layer `index` of the model (its weights or any with their
  // shapes, prepared for backend's device) over `hidden` ([n_tokens,
  // hidden_size] on that device, updated in place), using layer
  // `cache_layer` of `cache`. The batch must be staged on the backend.
  // Returns false when the observer stopped it.
  bool run_layer(Backend& backend, KvCache& cache, const Batch& batch, const DecoderLayer& layer, int64_t index,
                 int64_t cache_layer, Activations hidden, const LayerObserver* observer);

  // The first layer's input for the staged batch's tokens: their
  // embeddings, normed where the architecture norms them.
  void embed(Backend& backend, Activations hidden, int64_t rows);

  int32_t max_tokens() const { return max_tokens_; }

  // Calibration: every expert of a routed MLP runs on every token (the
  // layer's output unchanged: those it was not chosen for weigh 0).
  void set_every_expert(bool every_expert) { every_expert_ = every_expert; }

 private:
  // Scratch on one device, row-major with one row per batch token.
  struct Workspace {
    Activations hidden;    // residual stream [T, hidden]
    Activations normed;    // [T, hidden]
    Activations qkv;       // [T, qkv_dim], fused projections only
    Activations q, k, v;   // [T, q_dim], [T, kv_dim], [T, kv_dim]
    Activations attn;      // [T, q_dim]
    Activations gate, up;  // [T, intermediate] (FusedGated: gate holds [gate | up])
    Activations attn_out, mlp_out;  // [T, hidden]: each block's addition to the residual
    Activations logits;    // [T, vocab], on the head's device only
    // MlpKind::Routed: router scores [T, n_experts], an expert's rows in and out [T, hidden].
    Activations router_logits, expert_in, expert_out;
    ExpertRoutes routes;
  };

  Workspace& workspace(const Backend& backend);
  // The routed MLP of `input` into `out`: each expert over its rows.
  bool routed_mlp(Backend& backend, Workspace& ws, int64_t rows, const DecoderLayer& layer, Activations input,
                  Activations out, const LayerObserver* observer);
  // Each block reads `hidden` and writes what it adds to the residual stream to `out`.
  bool attention_block(Backend& backend, Workspace& ws, KvCache& cache, int64_t rows, const DecoderLayer& layer,
                       int64_t index, int64_t cache_layer, Activations hidden, Activations out,
                       const LayerObserver* observer);
  // q, k and v of the fused projection in ws.qkv, to ws.q, ws.k and ws.v.
  void split_fused_qkv(Backend& backend, Workspace& ws, int64_t rows);
  bool mlp_block(Backend& backend, Workspace& ws, int64_t rows, const DecoderLayer& layer, Activations hidden,
                 Activations out, const LayerObserver* observer);
  // The input of a block: its norm of `hidden` (in ws.normed), or `hidden` itself when the norms come after.
  Activations block_input(Backend& backend, Workspace& ws, int64_t rows, Activations hidden, const Norm& norm);
  void enqueue(const Batch& batch, KvCache& cache);

  const Model& model_;
  const ModelConfig& config_;
  const BackendSet& backends_;
  int32_t max_tokens_;
  RopeTable rope_;
  std::vector<float> alibi_slopes_;  // per head, PositionKind::Alibi only
  bool every_expert_ = false;
  AttentionShape shape_;  // every layer's but for the window, which is the layer's own
  std::vector<std::pair<const Backend*, Workspace>> workspaces_;
};

}  // namespace gptq
