// GPTQ quantization settings as checkpoints record them: config.json's
// `quantization_config` (what transformers reads) or quantize_config.json
// (AutoGPTQ), in the spellings seen in the wild.
#pragma once

#include <optional>
#include <string>

#include "io/json_file.h"

namespace gptq {

enum class CheckpointFormat : unsigned char {
  Gptq,    // v1: zero points stored minus one (what AutoGPTQ writes)
  GptqV2,  // zero points stored as they are (GPTQModel)
};

struct QuantConfig {
  int bits = 4;
  int group_size = 128;  // -1: one group per output column
  bool desc_act = false;
  bool sym = true;
  bool static_groups = false;
  bool true_sequential = true;
  double damp_percent = 0.01;
  CheckpointFormat format = CheckpointFormat::Gptq;
  std::string model_file_base_name;  // weights file without ".safetensors"; empty: "model"
};

// The quantization recorded in `dir`, or nullopt for a float checkpoint.
// `config` is the parsed config.json. Unknown methods or formats are
// GPTQ_ERR_UNSUPPORTED; impossible values GPTQ_ERR_FORMAT.
std::optional<QuantConfig> read_quant_config(const std::string& dir, const Json& config);

// Checks bits (2, 3, 4, 8), group size and damping; `where` prefixes messages.
void validate_quant_config(const QuantConfig& config, const std::string& where);

// The JSON object both files hold (quant_method "gptq").
Json quant_config_to_json(const QuantConfig& config);

const char* checkpoint_format_name(CheckpointFormat format);

}  // namespace gptq
