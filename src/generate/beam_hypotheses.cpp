#include "generate/beam_hypotheses.h"

#include <algorithm>

namespace gptq {
namespace {

bool better(const Hypothesis& a, const Hypothesis& b) { return a.score > b.score; }

}  // namespace

void BeamHypotheses::add(std::vector<int32_t> tokens, double score) {
  if (!full()) {
    kept_.push_back({std::move(tokens), score});
    return;
  }
  // Strictly better only: of equal scores, the one found first stays.
  auto worst = std::min_element(kept_.begin(), kept_.end(),
                                [](const Hypothesis& a, const Hypothesis& b) { return a.score < b.score; });
  if (score > worst->score) *worst = {std::move(tokens), score};
}

double BeamHypotheses::worst_score() const {
  double worst = kept_.front().score;
  for (const Hypothesis& h : kept_) worst = std::min(worst, h.score);
  return worst;
}

std::vector<Hypothesis> BeamHypotheses::ranked() const {
  std::vector<Hypothesis> out = kept_;
  std::stable_sort(out.begin(), out.end(), better);
  return out;
}

}  // namespace gptq
