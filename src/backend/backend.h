// The operations a device provides to the forward pass. runtime/forward.cpp
// describes a decoder once, over the architecture table, in terms of these
// ops; each backend (backend/cpu, backend/cuda) implements them over its
// own kernels. Ops only enqueue work: none reads device data back on the
// host, so a GPU backend can run a whole step asynchronously (and replay it
// as a graph), and the only synchronising calls are copy_to_host and
// synchronize.
//
// What the ops read of the batch (tokens, sequences, positions, logit rows)
// comes from stage_batch, which puts it on the device once per step.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "backend/device.h"
#include "core/dtype.h"
#include "model/arch.h"
#include "model/config.h"

namespace gptq {

class Model;
class Linear;
struct Norm;
struct RopeTable;

// A row-major matrix of activations on a backend's device, in the
// backend's activation type: row r, column c at data + (r * stride + c)
// elements of element_size bytes.
struct Activations {
  void* data = nullptr;
  int64_t cols = 0;
  int64_t stride = 0;
  int32_t element_size = 4;

  // Columns [first, first + n) of every row.
  Activations columns(int64_t first, int64_t n) const {
    return {static_cast<char*>(data) + first * element_size, n, stride, element_size};
  }
  // Rows from `first` on.
  Activations from_row(int64_t first) const {
    return {static_cast<char*>(data) + first * stride * element_size, cols, stride, element_size};
  }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data);
  }
};

// A batch of tokens that may belong to several sequences at different
// positions (batched prefill, batched decode), as the host gives it.
struct Batch {
  const int32_t* tokens = nullptr;
  const int32_t* seq = nullptr;
  const int32_t* pos = nullptr;  // position in its sequence; earlier positions are in the cache
  int32_t n_tokens = 0;
  // Batch rows whose logits are wanted, in output order.
  const int32_t* logit_rows = nullptr;
  int32_t n_logit_rows = 0;
  // The token each logit row scores (perplexity), or null.
  const int32_t* targets = nullptr;
};

// One layer's keys and values for every sequence of a context, on the
// layer's device: sequence s, kv head g, position p at
// s * seq_stride + g * head_stride + p * head_dim elements of `type`.
struct KvLayer {
  void* keys = nullptr;
  void* values = nullptr;
  FloatType type = FloatType::F32;
  int64_t head_stride = 0;
  int64_t seq_stride = 0;
};

// The device form of a weight (a linear's packed or converted weights, a
// norm's vector), made once at placement from the host source by the
// backend kind that owns the device, and read only by that kind's ops.
class PreparedWeights {
 public:
  virtual ~PreparedWeights() = default;
  // Memory it holds on its device.
  virtual int64_t device_bytes() const = 0;
};

// One product of a matmul op: y = x . W^T + bias for `linear`.
struct LinearOutput {
  const Linear* linear = nullptr;
  Activations y;
};

// Causal attention of a layer, as the architecture and config shape it.
struct AttentionShape {
  int32_t n_heads = 0;
  int32_t n_kv_heads = 0;
  int32_t head_dim = 0;
  int32_t window = 0;  // > 0: attend to the last `window` positions only
  float scale = 1.0f;  // applied to q.k before softmax
  // Scores of head h += slope_h * (key position - query position), with
  // the slopes given by set_alibi_slopes (bloom).
  bool alibi = false;
};

// What happens to q and k between the projections and the cache.
struct RotaryInputs {
  const Norm* q_norm = nullptr;  // per-head RMS norms (qwen3), or null
  const Norm* k_norm = nullptr;
  float norm_eps = 0;
  const RopeTable* rope = nullptr;  // null: no rotary embedding (learned positions)
  RotaryStyle style = RotaryStyle::Half;
};

// Where a routed MLP sends a batch's rows, on a backend's device: expert
// e takes counts[e] rows, the i-th being batch row rows[e * capacity + i]
// with weight weights[e * capacity + i].
struct ExpertRoutes {
  int32_t* counts = nullptr;  // [n_experts]
  int32_t* rows = nullptr;    // [n_experts][capacity]
  float* weights = nullptr;   // [n_experts][capacity]
  int32_t n_experts = 0;
  int64_t capacity = 0;  // the largest batch
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual DeviceId device() const = 0;
  virtual FloatType activation_type() const = 0;

  // Scratch that lives as long as the backend, allocated up front so that
  // every step (and a captured graph) sees the same addresses.
  virtual Activations allocate_activations(int64_t rows, int64_t cols) = 0;
  // One layer of KV cache for n_seq sequences of n_ctx positions.
  virtual KvLayer allocate_kv_layer(int64_t n_kv_heads, int64_t head_dim, int32_t n_ctx, int32_t n_seq) = 0;

  // The rotary table of the contexts' positions, given once before any step.
  virtual void set_rope_table(const RopeTable& table) {}
  // The per-head ALiBi slopes, given once before any step of a model that has them.
  virtual void set_alibi_slopes(std::span<const float> slopes) = 0;

  // Puts the batch on the device (one copy); the ops below read it there.
  virtual void stage_batch(const Batch& batch) = 0;

  // out[t] = the first layer's input for token t: its embedding, scaled,
  // plus its learned position row where the model has one.
  virtual void embed(const Model& model, Activations out) = 0;
  // out = norm(x) row by row (out may be x).
  virtual void norm(Activations x, Activations out, int64_t rows, const Norm& norm, NormKind kind, float eps) = 0;
  // hidden += a (+ b when b.data is set); then, when post_norm is set,
  // hidden = norm(hidden): the residual joins of every layout.
  virtual void add_residual(Activations hidden, int64_t rows, Activations a, Activations b, const Norm* post_norm,
                            NormKind kind, float eps) = 0;
  // Every output's product of the same x, as one step where it pays.
  virtual void matmul(Activations x, int64_t rows, std::span<const LinearOutput> outputs) = 0;
  // Splits a fused projection's rows into q, k and v as `layout` arranges them.
  virtual void split_qkv(Activations qkv, int64_t rows, QkvLayout layout, const AttentionShape& shape, Activations q,
                         Activations k, Activations v) = 0;
  // q/k head norms and rotary embedding of q and k (in place), then k and
  // v stored in the cache at each token's sequence and position.
  virtual void rotate_and_store(Activations q, Activations k, Activations v, int64_t rows,
                                const AttentionShape& shape, const RotaryInputs& rotary, KvLayer& cache) = 0;
  // out = softmax(q K^T * scale) V over each token's own sequence, causal.
  virtual void attention(Activations q, int64_t rows, const KvLayer& cache, const AttentionShape& shape,
                         Activations out) = 0;
  // gate = act(gate) * up (up.data null: act(gate)), n columns per row.
  virtual void activate(Activations gate, Activations up, int64_t rows, int64_t n, Activation activation) = 0;
  // The routed MLP (mixtral), as gathers and scatters around the matmul op
  // so that each expert runs on the rows routed to it only.
  virtual ExpertRoutes allocate_expert_routes(int32_t n_experts, int64_t max_rows) = 0;
  // Per row of router_logits ([rows, n_experts]): softmax, the top_k
  // experts, their probabilities renormalised to sum to 1 (transformers'
  // MixtralSparseMoeBlock), into routes as each expert's rows in batch
  // order. With every_expert set, every expert takes every row, weighted 0
  // where the router did not choose it (calibration of starved experts).
  // Also clears `out` for add_expert_rows.
  virtual void route_experts(Activations router_logits, int64_t rows, int32_t top_k, bool every_expert,
                             ExpertRoutes& routes, Activations out) = 0;
  // out[i] = x[the expert's i-th row]. Returns the rows the expert's
  // matmuls are to run over: the count itself where ops complete as they
  // are called (the CPU), else `rows`, an upper bound, with the rows past
  // the count zeroed (a GPU: its host never reads the count).
  virtual int64_t gather_expert_rows(Activations x, int64_t rows, const ExpertRoutes& routes, int32_t expert,
                                     Activations out) = 0;
  // out[the expert's i-th row] += its weight * y[i].
  // `rows`: what gather_expert_rows returned.
  virtual void add_expert_rows(Activations y, int64_t rows, const ExpertRoutes& routes, int32_t expert,
                               Activations out) = 0;
  // out[r] = x[logit_rows[r]] for the staged batch's logit rows.
  virtual void gather_logit_rows(Activations x, Activations out) = 0;
  // Copies rows of x to host fp32 and waits for them (and so for the step):
  // the one synchronising op. GPU faults surface here as a gptq::Error.
  virtual void copy_to_host(Activations x, int64_t rows, float* host) = 0;
  // out[r] = -log softmax(logits[r])[targets[r]], in double, for the staged
  // batch's targets, to host; waits like copy_to_host.
  virtual void score_to_host(Activations logits, int64_t rows, double* out) = 0;
  // dst (here) = src (on `source`'s device): a layer boundary between devices.
  virtual void copy_from(Backend& source, Activations src, Activations dst, int64_t rows) = 0;
  // Keys and values of positions [begin, end) of sequence `from`, every kv
  // head, to the same positions of sequence `to` (head_dim elements a
  // position): beam search giving a beam the history it continues. Enqueued
  // in order with the ops, like them.
  virtual void copy_kv(KvLayer& cache, int64_t head_dim, int32_t from, int32_t to, int32_t begin, int32_t end) = 0;
  // Waits for everything enqueued; GPU faults surface as a gptq::Error.
  virtual void synchronize() = 0;
  // Every op of the step is in: a backend that holds work back to fuse it
  // with the next op enqueues it now.
  virtual void finish_step() {}

  // Replay of whole steps (CUDA graphs). A backend that records steps can
  // replay one recorded under `key` (the caller's name for a step's shape)
  // with a new batch staged: try_replay returns true when it did.
  // Otherwise the caller enqueues the step between begin_recording and
  // end_recording, which records it and runs it; end_recording returns
  // false when the step could not be recorded (nothing ran: the caller
  // enqueues it again, unrecorded).
  virtual bool records_steps() const { return false; }
  virtual bool try_replay(uint64_t key, const Batch& batch) { return false; }
  virtual void begin_recording() {}
  virtual bool end_recording(uint64_t key) { return false; }
  // Drops a recording an error interrupted.
  virtual void abort_recording() {}
};

// Options a context gives the backends it makes.
struct BackendOptions {
  class ThreadPool* pool = nullptr;  // the CPU backend's workers
  const Model* model = nullptr;      // sizes the GPU backends' scratch
  FloatType gpu_compute = FloatType::F16;
  FloatType gpu_kv = FloatType::F16;
  int32_t max_tokens = 0;  // largest batch
};

// Makes the backend of `device` for one context of `model`.
std::unique_ptr<Backend> make_backend(DeviceId device, const BackendOptions& options);

}  // namespace gptq
