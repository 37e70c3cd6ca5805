#include "generate/sampler.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace gptq {

void validate_sampling(const SamplingParams& p) {
  if (!std::isfinite(p.temperature) || p.temperature < 0) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "temperature must be a finite number >= 0, not ", p.temperature);
  }
  if (p.top_k < 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "top_k must be >= 0, not ", p.top_k);
  if (!(p.top_p > 0 && p.top_p <= 1)) fail(GPTQ_ERR_INVALID_ARGUMENT, "top_p must lie in (0, 1], not ", p.top_p);
  if (!(p.min_p >= 0 && p.min_p <= 1)) fail(GPTQ_ERR_INVALID_ARGUMENT, "min_p must lie in [0, 1], not ", p.min_p);
  if (!(p.repetition_penalty > 0) || !std::isfinite(p.repetition_penalty)) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "repetition_penalty must be a finite number > 0, not ", p.repetition_penalty);
  }
  if (p.repetition_last_n < 0) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "repetition_last_n must be >= 0, not ", p.repetition_last_n);
  }
}

void Sampler::apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> history) {
  if (params_.repetition_penalty == 1.0f) return;
  if (params_.repetition_last_n > 0 && history.size() > static_cast<size_t>(params_.repetition_last_n)) {
    history = history.subspan(history.size() - params_.repetition_last_n);
  }
  penalised_.assign(logits.size(), 0);
  // transformers: each distinct earlier token once; shrink positive logits,
  // grow negative ones.
  for (int32_t token : history) {
    if (token < 0 || static_cast<size_t>(token) >= logits.size() || penalised_[token]) continue;
    penalised_[token] = 1;
    float& l = logits[token];
    l = l < 0 ? l * params_.repetition_penalty : l / params_.repetition_penalty;
  }
}

int32_t Sampler::sample(std::span<float> logits, std::span<const int32_t> history) {
  apply_repetition_penalty(logits, history);
  if (params_.temperature <= 0.0f) {
    // The first maximum, as torch.argmax picks it.
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }

  candidates_.clear();
  for (size_t i = 0; i < logits.size(); ++i) {
    candidates_.emplace_back(logits[i] / params_.temperature, static_cast<int32_t>(i));
  }
  auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  // Sorting a 150k vocabulary costs a millisecond: only top-k and top-p need order.
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < candidates_.size()) {
    std::partial_sort(candidates_.begin(), candidates_.begin() + params_.top_k, candidates_.end(), by_logit);
    candidates_.resize(params_.top_k);
  } else if (params_.top_p < 1.0f) {
    std::sort(candidates_.begin(), candidates_.end(), by_logit);
  }

  float max_logit = candidates_[0].first;
  for (const auto& c : candidates_) max_logit = std::max(max_logit, c.first);
  double total = 0.0;
  for (auto& c : candidates_) total += (c.first = static_cast<float>(std::exp(static_cast<double>(c.first) - max_logit)));

  if (params_.top_p < 1.0f) {
    // Smallest prefix of the sorted tokens whose mass reaches top_p; at least one.
    double cumulative = 0.0;
    size_t n = 0;
    while (n < candidates_.size()) {
      cumulative += candidates_[n].first / total;
      ++n;
      if (cumulative >= params_.top_p) break;
    }
    candidates_.resize(n);
  }
  if (params_.min_p > 0.0f) {
    // The most likely token has weight exp(0) = 1 and always survives.
    const float threshold = params_.min_p;
    std::erase_if(candidates_, [&](const auto& c) { return c.first < threshold; });
  }

  double mass = 0.0;
  for (const auto& c : candidates_) mass += c.first;
  double r = rng_.uniform() * mass;
  for (const auto& c : candidates_) {
    r -= c.first;
    if (r < 0) return c.second;
  }
  return candidates_.back().second;
}

}  // namespace gptq
