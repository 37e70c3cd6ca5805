// Writes a model as a Hugging Face checkpoint directory in the format
// AutoGPTQ, transformers, vLLM and ExLlama load: GPTQ tensors (qweight,
// qzeros, scales, g_idx) for quantized linears, every other tensor as the
// source checkpoint stored it, config.json with quantization_config,
// quantize_config.json, and the tokenizer and generation files. The
// directory appears only when complete: it is written under a temporary name
// and renamed, so a failure or a cancel leaves nothing behind.
#pragma once

#include <cstdint>
#include <string>

#include "model/model.h"

namespace gptq {

struct SaveOptions {
  CheckpointFormat format = CheckpointFormat::Gptq;
  int64_t max_shard_bytes = 0;  // 0: one file; otherwise shards plus an index
};

void save_model(const Model& model, const std::string& dir, const SaveOptions& options);

}  // namespace gptq
