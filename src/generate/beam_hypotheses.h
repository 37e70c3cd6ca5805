// The finished hypotheses of one prompt's beam search: the num_beams best
// sequences that ended (end-of-generation token or maximum length), ranked
// by their length-penalised score, as transformers keeps them.
#pragma once

#include <cstdint>
#include <vector>

namespace gptq {

struct Hypothesis {
  std::vector<int32_t> tokens;  // generated, the end-of-generation token included
  double score = 0;             // sum of log-probabilities / length^length_penalty
};

class BeamHypotheses {
 public:
  explicit BeamHypotheses(int32_t capacity) : capacity_(capacity) {}

  // Keeps the hypothesis when there is room or it beats the worst kept.
  void add(std::vector<int32_t> tokens, double score);
  bool full() const { return static_cast<int32_t>(kept_.size()) >= capacity_; }
  int32_t size() const { return static_cast<int32_t>(kept_.size()); }
  // The lowest kept score; only meaningful when size() > 0.
  double worst_score() const;
  // Best first.
  std::vector<Hypothesis> ranked() const;

 private:
  int32_t capacity_;
  std::vector<Hypothesis> kept_;
};

}  // namespace gptq
