// The routed MLP's kernels on the GPU (routing, gather, add) against a
// direct computation over odd shapes; the whole mixtral fixture is in
// tests/gpu_forward_test.cpp (GpuMoe). Skips, saying why, without a GPU.
#include <gtest/gtest.h>

#include <algorithm>

#include "backend/cpu/row_ops.h"
#include "gpu/gpu_test_util.h"
#include "kernels/cuda/expert_routing.h"

namespace gptq::test {
namespace {

struct RouteCase {
  int32_t rows, n_experts, top_k;
};

// Each expert's rows and weights in batch order, from route_row.
void reference_routes(const std::vector<float>& scores, const RouteCase& c, bool every_expert,
                      std::vector<std::vector<int32_t>>& rows, std::vector<std::vector<float>>& weights) {
  rows.assign(c.n_experts, {});
  weights.assign(c.n_experts, {});
  std::vector<int32_t> chosen(c.top_k);
  std::vector<float> w(c.top_k);
  for (int32_t t = 0; t < c.rows; ++t) {
    route_row(&scores[t * c.n_experts], c.n_experts, c.top_k, chosen.data(), w.data());
    for (int32_t e = 0; e < c.n_experts; ++e) {
      const auto it = std::find(chosen.begin(), chosen.end(), e);
      if (it == chosen.end() && !every_expert) continue;
      rows[e].push_back(t);
      weights[e].push_back(it == chosen.end() ? 0.0f : w[it - chosen.begin()]);
    }
  }
}

TEST(GpuExpertRouting, KernelsMatchADirectComputationOverOddShapes) {
  GPTQ_REQUIRE_GPU();
  std::mt19937 rng(4);
  const int32_t cols = 70;
  for (FloatType type : {FloatType::F32, FloatType::F16}) {
    for (const RouteCase c : {RouteCase{1, 4, 2}, RouteCase{37, 8, 2}, RouteCase{300, 5, 3}, RouteCase{17, 3, 3},
                              RouteCase{257, 8, 1}}) {
      for (bool every : {false, true}) {
        SCOPED_TRACE(testing::Message() << type_name(type) << " rows=" << c.rows << " experts=" << c.n_experts
                                        << " top_k=" << c.top_k << " every=" << every);
        const std::vector<float> scores = rounded(random_values(c.rows * c.n_experts, rng), type);
        std::vector<std::vector<int32_t>> want_rows;
        std::vector<std::vector<float>> want_weights;
        reference_routes(scores, c, every, want_rows, want_weights);

        const int64_t capacity = c.rows + 3;  // lists need not be packed to the batch
        cuda::DeviceBuffer d_scores = upload(scores, type);
        cuda::DeviceBuffer routes(kGpu0, (c.n_experts + 2 * c.n_experts * capacity) * 4 + 16, "routes");
        int32_t* counts = routes.as<int32_t>();
        int32_t* route_rows = counts + c.n_experts;
        float* route_weights = reinterpret_cast<float*>(route_rows + c.n_experts * capacity);
        cuda::DeviceBuffer out = poisoned(static_cast<size_t>(c.rows * cols) * float_type_size(type));
        gpu::RouteArgs args;
        args.scores = d_scores.get();
        args.ld_scores = c.n_experts;
        args.rows = c.rows;
        args.n_experts = c.n_experts;
        args.top_k = c.top_k;
        args.every_expert = every;
        args.counts = counts;
        args.route_rows = route_rows;
        args.route_weights = route_weights;
        args.capacity = capacity;
        args.out = out.get();
        args.ld_out = cols;
        args.out_cols = cols;
        cuda::check(gpu::launch_route_experts(type, args, nullptr), "launch");
        const std::vector<float> cleared = download(out.get(), c.rows * cols, type);
        EXPECT_TRUE(std::all_of(cleared.begin(), cleared.end(), [](float v) { return v == 0.0f; }));
        std::vector<int32_t> host_counts(c.n_experts);
        cuda::check(cudaMemcpy(host_counts.data(), counts, c.n_experts * 4, cudaMemcpyDeviceToHost), "cudaMemcpy");

        const std::vector<float> x = rounded(random_values(c.rows * cols, rng), type);
        cuda::DeviceBuffer d_x = upload(x, type);
        std::vector<float> want_out(c.rows * cols, 0.0f);
        for (int32_t e = 0; e < c.n_experts; ++e) {
          ASSERT_EQ(host_counts[e], static_cast<int32_t>(want_rows[e].size())) << "expert " << e;
          std::vector<int32_t> got_rows(host_counts[e]);
          std::vector<float> got_weights(host_counts[e]);
          cuda::check(cudaMemcpy(got_rows.data(), route_rows + e * capacity, got_rows.size() * 4,
                                 cudaMemcpyDeviceToHost), "cudaMemcpy");
          cuda::check(cudaMemcpy(got_weights.data(), route_weights + e * capacity, got_weights.size() * 4,
                                 cudaMemcpyDeviceToHost), "cudaMemcpy");
          EXPECT_EQ(got_rows, want_rows[e]) << "expert " << e;
          for (size_t i = 0; i < got_weights.size(); ++i) EXPECT_NEAR(got_weights[i], want_weights[e][i], 1e-6);

          // The gather over the batch's rows: the expert's rows, zeros past them.
          cuda::DeviceBuffer gathered = poisoned(static_cast<size_t>(c.rows * cols) * float_type_size(type));
          cuda::check(gpu::launch_gather_expert_rows(type, d_x.get(), cols, counts, route_rows, capacity, e, c.rows,
                                                     cols, gathered.get(), cols, nullptr),
                      "launch");
          const std::vector<float> got = download(gathered.get(), c.rows * cols, type);
          for (int32_t i = 0; i < c.rows; ++i) {
            for (int32_t col = 0; col < cols; ++col) {
              const float want = i < host_counts[e] ? x[want_rows[e][i] * cols + col] : 0.0f;
              ASSERT_EQ(got[i * cols + col], want) << "expert " << e << " row " << i;
            }
          }
          // Its outputs added back, weighted (y: the gathered rows themselves).
          cuda::check(gpu::launch_add_expert_rows(type, gathered.get(), cols, counts, route_rows, route_weights,
                                                  capacity, e, c.rows, cols, out.get(), cols, nullptr),
                      "launch");
          for (size_t i = 0; i < want_rows[e].size(); ++i) {
            const int32_t r = want_rows[e][i];
            for (int32_t col = 0; col < cols; ++col) {
              want_out[r * cols + col] =
                  round_to(want_out[r * cols + col] + want_weights[e][i] * x[r * cols + col], type);
            }
          }
        }
        EXPECT_LT(relative_l2(download(out.get(), c.rows * cols, type), want_out), tolerance_for(type));
      }
    }
  }
}

}  // namespace
}  // namespace gptq::test
