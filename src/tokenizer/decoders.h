// tokenizer.json "decoder": turns the token strings of a decode back into
// text. Strings here are bytes: byte tokens of an unfinished character pass
// through as raw bytes instead of becoming U+FFFD.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_node.h"
#include "tokenizer/pipeline_stage.h"

namespace gptq {

// Rewrites the list of token strings (some decoders fuse it into one).
using Decoder = PipelineStage<std::vector<std::string>>;

// Sequence, ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, BPEDecoder;
// other types are GPTQ_ERR_UNSUPPORTED.
std::unique_ptr<Decoder> make_decoder(const JsonNode& node);

}  // namespace gptq
