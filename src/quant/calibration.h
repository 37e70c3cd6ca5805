// Calibration token sequences for GPTQ: random windows of one long text, as
// the GPTQ paper samples WikiText-2 and C4, or one sample per given text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace gptq {

using CalibrationSet = std::vector<std::vector<int32_t>>;

// `n_samples` windows of `seqlen` tokens at seeded random offsets of the
// text, tokenized once without BOS. Fails when the text is shorter than one window.
CalibrationSet calibration_windows(const Tokenizer& tokenizer, std::string_view text, int32_t n_samples,
                                   int32_t seqlen, uint64_t seed);

// One sample per text: tokenized with the tokenizer's BOS policy, cut to
// `seqlen` tokens; empty texts are skipped.
CalibrationSet calibration_from_texts(const Tokenizer& tokenizer, const std::vector<std::string>& texts,
                                      int32_t seqlen);

// One sample per line of a JSON-lines file, at most `n_samples` (all when
// <= 0): a line's "input_ids" (token ids, used as they are, as AutoGPTQ takes
// pre-tokenized examples) or its "text" (tokenized as calibration_from_texts
// does), cut to `seqlen` tokens either way.
CalibrationSet calibration_from_jsonl(const Tokenizer& tokenizer, const std::string& path, int32_t n_samples,
                                      int32_t seqlen);

}  // namespace gptq
