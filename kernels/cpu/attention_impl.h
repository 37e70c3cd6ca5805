// Causal attention for one tile: some tokens of one sequence (sorted by
// position) x the query heads that share one kv head (GQA), flash-attention
// style: the keys are visited in blocks of kAttentionBlock with an online
// softmax, so no n x n score matrix is ever stored.
//
// The tile's query rows are token-major (row = token * group + head), so
// each K/V block loaded from the cache serves every query head of the group
// and every token of the tile. Per key block:
//   pack K block -> panels [d][NR]            (pack_b, fp32 "weights")
//   S = (scale * Q) . K^T                      (GEMM microkernel, A = packed Q)
//   mask each row to its own keys [first, pos], update the running max m
//     and sum l, P = exp(S - m) in place, rescale O by exp(m_old - m_new)
//   O += P . V                                 (microkernel, B = V in place)
// Each row's visible keys are one interval (causal limit, sliding window),
// so masking is two fills; micro-panels whose rows see none of the block
// (the upper triangle of prefill) are skipped.
//
// Decode is the same code with one token: the rows are the group's heads.
#pragma once

#include <cmath>  // INFINITY
#include <cstdint>

#include "kernels/cpu/kernel_set.h"
#include "kernels/cpu/micro_impl.h"
#include "kernels/cpu/pack_impl.h"

namespace gptq::cpu {
namespace {  // internal linkage: see kernel_set.h

// e^x to about 1 ulp (the Cephes expf polynomial on x - n ln 2, times 2^n);
// inputs below -87.3 (masked scores) give ~1e-38, not 0.
template <class V>
typename V::vec vexp(typename V::vec x) {
  x = V::min(V::max(x, V::set1(-87.3365f)), V::set1(88.0f));
  const typename V::vec n = V::round(V::mul(x, V::set1(1.44269504088896341f)));
  typename V::vec r = V::fmadd(n, V::set1(-0.693359375f), x);
  r = V::fmadd(n, V::set1(2.12194440e-4f), r);
  static constexpr float kPoly[] = {1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f, 1.6666665459e-1f,
                                    5.0000001201e-1f};
  typename V::vec p = V::set1(1.9875691500e-4f);
  for (const float c : kPoly) p = V::fmadd(p, r, V::set1(c));
  p = V::fmadd(p, V::mul(r, r), V::add(r, V::set1(1.0f)));
  return V::ldexp(p, n);
}

template <class V>
void scale_row(float* row, int n, float factor) {
  const typename V::vec f = V::set1(factor);
  int d = 0;
  for (; d + V::W <= n; d += V::W) V::store(row + d, V::mul(V::load(row + d), f));
  if (d < n) V::store_part(row + d, V::mul(V::load_part(row + d, n - d), f), n - d);
}

// One row of scores over a key block: columns [a, b) are visible. Turns the
// row into probabilities relative to the updated running max (exactly zero
// outside [a, b)) and returns the factor the row's earlier output must be
// scaled by.
template <class V>
float softmax_row(float* s, int a, int b, float* m_run, float* l_run) {
  constexpr int W = V::W, BK = kAttentionBlock;
  using vec = typename V::vec;
  const int j_begin = a / W * W, j_end = (b + W - 1) / W * W;
  const vec minus_inf = V::set1(-INFINITY);
  vec mx = minus_inf;
  for (int j = j_begin; j < j_end; j += W) mx = V::max(mx, V::where(V::range_mask(a - j, b - j), V::load(s + j), minus_inf));
  const float block_max = V::reduce_max(mx);
  const float m_new = *m_run > block_max ? *m_run : block_max;
  const vec shift = V::set1(-m_new);
  vec sum = V::zero();
  for (int j = 0; j < BK; j += W) {
    vec p = V::zero();
    if (j >= j_begin && j < j_end) {
      p = V::where(V::range_mask(a - j, b - j), vexp<V>(V::add(V::load(s + j), shift)), V::zero());
      sum = V::add(sum, p);
    }
    V::store(s + j, p);
  }
  // m_run = -inf before the first visible block: alpha = 0.
  // (__builtin_expf, not std::exp: see the note on linkage in kernel_set.h.)
  const float alpha = *m_run == m_new ? 1.0f : __builtin_expf(*m_run - m_new);
  *l_run = *l_run * alpha + V::reduce_add(sum);
  *m_run = m_new;
  return alpha;
}

template <class V>
void attention_tile(const AttentionProblem& p, const int32_t* tokens, int n_tokens, int kv_head, float* scratch) {
  constexpr int MR = V::kMR, NR = V::W * V::kNV, BK = kAttentionBlock;
  static_assert(BK % NR == 0, "a key block is whole panels");
  const int group = p.n_heads / p.n_kv_heads;
  const int D = p.head_dim;
  const int rows = n_tokens * group;
  const int panels = (rows + MR - 1) / MR;
  const int64_t padded = int64_t{panels} * MR;
  float* q_pack = scratch;
  float* k_pack = q_pack + padded * D;
  float* s = k_pack + int64_t{BK} * D;
  float* o = s + padded * BK;
  float* m_run = o + padded * D;
  float* l_run = m_run + padded;

  const int64_t cache = p.seq[tokens[0]] * p.seq_stride + kv_head * p.head_stride;
  const float* k_cache = p.k + cache;
  const float* v_cache = p.v + cache;
  auto first_key = [&](int32_t last) { return p.window > 0 && last - p.window + 1 > 0 ? last - p.window + 1 : 0; };
  int32_t lo = INT32_MAX, hi = -1;
  for (int i = 0; i < n_tokens; ++i) {
    const int32_t last = p.pos[tokens[i]];
    lo = first_key(last) < lo ? first_key(last) : lo;
    hi = last > hi ? last : hi;
  }

  for (int pi = 0; pi < panels; ++pi) {
    const float* src[MR];
    const int valid = rows - pi * MR < MR ? rows - pi * MR : MR;
    for (int i = 0; i < valid; ++i) {
      const int r = pi * MR + i;
      src[i] = p.q + tokens[r / group] * p.q_stride + (kv_head * group + r % group) * D;
    }
    pack_a<V, MR>(src, valid, D, p.scale, q_pack + pi * MR * D);
  }
  for (int64_t i = 0; i < padded * D; ++i) o[i] = 0.0f;
  for (int64_t r = 0; r < padded; ++r) {
    m_run[r] = -INFINITY;
    l_run[r] = 0.0f;
  }

  for (int32_t j0 = lo; j0 <= hi; j0 += BK) {
    const int jn = hi - j0 + 1 < BK ? hi - j0 + 1 : BK;
    pack_b<V, FloatType::F32>(reinterpret_cast<const uint8_t*>(k_cache + int64_t{j0} * D), int64_t{D} * 4, jn, D,
                               k_pack);
    for (int pi = 0; pi < panels; ++pi) {
      const int valid = rows - pi * MR < MR ? rows - pi * MR : MR;
      // Visible columns [a, b) of the block, per row of the panel.
      // The panel as a whole sees [a_min, b_max): scores outside it (the
      // diagonal block's upper triangle, keys before a window) are not
      // computed, and the stale values there are masked per row below.
      int a[MR], b[MR];
      int a_min = BK, b_max = 0;
      for (int i = 0; i < valid; ++i) {
        const int32_t last = p.pos[tokens[(pi * MR + i) / group]];
        const int32_t first = first_key(last);
        a[i] = first > j0 ? first - j0 : 0;
        b[i] = last - j0 + 1 < jn ? last - j0 + 1 : jn;
        if (b[i] > a[i]) {
          a_min = a[i] < a_min ? a[i] : a_min;
          b_max = b[i] > b_max ? b[i] : b_max;
        }
      }
      if (b_max <= a_min) continue;
      float* s_panel = s + int64_t{pi} * MR * BK;
      float* o_panel = o + int64_t{pi} * MR * D;
      for (int c = a_min / NR * NR; c < b_max; c += NR) {
        gemm_micro<V>(valid)(D, q_pack + pi * MR * D, k_pack + c * D, NR, s_panel + c, BK, NR, nullptr, false);
      }
      for (int i = 0; i < valid; ++i) {
        float* s_row = s_panel + i * BK;
        if (b[i] <= a[i]) {
          for (int j = 0; j < BK; ++j) s_row[j] = 0.0f;
          continue;
        }
        const int r = pi * MR + i;
        if (p.alibi_slopes != nullptr) {
          const float slope = p.alibi_slopes[kv_head * group + r % group];
          const int32_t distance = j0 - p.pos[tokens[r / group]];
          for (int j = a[i]; j < b[i]; ++j) s_row[j] += slope * static_cast<float>(distance + j);
        }
        const float alpha = softmax_row<V>(s_row, a[i], b[i], m_run + r, l_run + r);
        if (alpha != 1.0f) scale_row<V>(o_panel + i * D, D, alpha);
      }
      const float* v_block = v_cache + int64_t{j0 + a_min} * D;
      for (int d0 = 0; d0 < D; d0 += NR) {
        const int cols = D - d0 < NR ? D - d0 : NR;
        pv_micro<V, BK>(valid, cols)(b_max - a_min, s_panel + a_min, v_block + d0, D, o_panel + d0, D, cols, nullptr,
                                     true);
      }
    }
  }

  for (int r = 0; r < rows; ++r) {
    float* out = p.out + tokens[r / group] * p.out_stride + (kv_head * group + r % group) * D;
    const float inv = l_run[r] > 0.0f ? 1.0f / l_run[r] : 0.0f;
    const float* o_row = o + int64_t{r} * D;
    for (int d = 0; d < D; ++d) out[d] = o_row[d] * inv;
  }
}

}  // namespace
}  // namespace gptq::cpu
