// tokenizer.json "pre_tokenizer": cuts normalized text into the words that
// the BPE model encodes one at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_node.h"
#include "tokenizer/pipeline_stage.h"

namespace gptq {

struct TextPiece {
  std::string text;
  // Starts at offset 0 of the input (Metaspace's prepend_scheme "first").
  bool at_input_start = false;
};

using PreTokenizer = PipelineStage<std::vector<TextPiece>>;

// Sequence, ByteLevel, Split, Metaspace, Digits, Whitespace, WhitespaceSplit,
// Punctuation; other types are GPTQ_ERR_UNSUPPORTED.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const JsonNode& node);

}  // namespace gptq
