// tokenizer.json "normalizer": rewrites each stretch of input text between
// added tokens before it is pre-tokenized.
#pragma once

#include <memory>
#include <string>

#include "tokenizer/json_node.h"
#include "tokenizer/pipeline_stage.h"

namespace gptq {

using Normalizer = PipelineStage<std::string>;

// Sequence, NFC, NFD, NFKC, NFKD, Prepend, Replace, Lowercase, Strip;
// other types are GPTQ_ERR_UNSUPPORTED.
std::unique_ptr<Normalizer> make_normalizer(const JsonNode& node);

}  // namespace gptq
