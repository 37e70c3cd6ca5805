// The routed MLP's gathers and scatters on the GPU (mixtral): the router's
// top-k choice per token into per-expert row lists, an expert's rows
// gathered into a compact matrix, and its outputs added back, weighted.
//
// Layout: activations are row-major matrices of the compute type (`type`),
// row r at data + r * ld elements; the router's scores [rows][n_experts]
// in it too. The routes (backend.h's ExpertRoutes) are fp32 weights and
// int32 rows, expert e's list at e * capacity, its length in counts[e];
// lists keep batch order, so results do not depend on scheduling. The host
// never reads a count: the gather and the scatter are launched for an
// upper bound of rows (`bound`, the batch's) and read the count on the
// device, the gather zeroing the rows past it. Math is fp32.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/cuda/portability.h"

namespace gptq::gpu {

struct RouteArgs {
  const void* scores = nullptr;  // [rows][n_experts]
  int64_t ld_scores = 0;
  int32_t rows = 0;
  int32_t n_experts = 0;
  int32_t top_k = 0;
  bool every_expert = false;  // every expert lists every row, weight 0 where not chosen
  int32_t* counts = nullptr;
  int32_t* route_rows = nullptr;
  float* route_weights = nullptr;
  int64_t capacity = 0;
  void* out = nullptr;  // cleared for the adds: [rows][out_cols]
  int64_t ld_out = 0;
  int32_t out_cols = 0;
};
// Softmax of each row's scores, its top_k (ties to the lower index),
// renormalised to sum to 1, as MixtralSparseMoeBlock routes.
cudaError_t launch_route_experts(FloatType type, const RouteArgs& args, cudaStream_t stream);

// out[i] = x[route_rows[expert * capacity + i]] for i < counts[expert], 0 for i < bound beyond.
cudaError_t launch_gather_expert_rows(FloatType type, const void* x, int64_t ld_x, const int32_t* counts,
                                      const int32_t* route_rows, int64_t capacity, int32_t expert, int32_t bound,
                                      int32_t cols, void* out, int64_t ld_out, cudaStream_t stream);

// out[route_rows[expert * capacity + i]] += route_weights[...] * y[i] for i < counts[expert] (<= bound).
cudaError_t launch_add_expert_rows(FloatType type, const void* y, int64_t ld_y, const int32_t* counts,
                                   const int32_t* route_rows, const float* route_weights, int64_t capacity,
                                   int32_t expert, int32_t bound, int32_t cols, void* out, int64_t ld_out,
                                   cudaStream_t stream);

}  // namespace gptq::gpu
