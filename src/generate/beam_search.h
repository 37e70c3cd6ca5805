// Beam search as transformers' generate(num_beams > 1, do_sample=False)
// defines it: at each step every running beam's log-probabilities are added
// to its score, the best max(2, 1 + eos ids) x num_beams continuations of
// all beams are kept, those among the best num_beams that end (an
// end-of-generation token, or the maximum length) join the finished
// hypotheses with score sum / generated_length^length_penalty, and the best
// num_beams others run on. early_stopping decides when to stop (see
// EarlyStopping); the best num_return_sequences finished hypotheses of each
// prompt are returned, best first.
#pragma once

#include <cstdint>
#include <vector>

#include "generate/generator.h"

namespace gptq {

// Prompt i uses sequences [i * num_beams, (i + 1) * num_beams) of the
// context. Returns num_return_sequences entries per prompt, prompt-major.
// Sampling, stop strings and the token callback are refused
// (GPTQ_ERR_UNSUPPORTED) rather than ignored.
GenerationResult beam_search(Context& context, const std::vector<std::vector<int32_t>>& prompts,
                             const GenerateOptions& options);

}  // namespace gptq
