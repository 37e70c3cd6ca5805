#include "quant/quant_config.h"

#include "core/error.h"
#include "io/mapped_file.h"

namespace gptq {

const char* checkpoint_format_name(CheckpointFormat format) {
  return format == CheckpointFormat::GptqV2 ? "gptq_v2" : "gptq";
}

void validate_quant_config(const QuantConfig& c, const std::string& where) {
  if (c.bits != 2 && c.bits != 3 && c.bits != 4 && c.bits != 8) {
    fail(GPTQ_ERR_UNSUPPORTED, where, ": ", c.bits, "-bit quantization is not supported (2, 3, 4 or 8)");
  }
  if (c.group_size == 0 || c.group_size < -1) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, where, ": group_size must be -1 or positive, not ", c.group_size);
  }
  if (!(c.damp_percent > 0 && c.damp_percent < 1)) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, where, ": damp_percent must lie in (0, 1), not ", c.damp_percent);
  }
}

namespace {

// Read as int64 and range-checked here: a cast to int would turn 2^32 + 4 into 4.
int small_int(int64_t value, const char* key, const std::string& where) {
  if (value < -(1 << 30) || value > (1 << 30)) fail(GPTQ_ERR_FORMAT, where, ": '", key, "' is out of range: ", value);
  return static_cast<int>(value);
}

QuantConfig parse(const Json& j, const std::string& where) {
  QuantConfig c;
  if (auto method = json_string(j, "quant_method", where); method && *method != "gptq") {
    fail(GPTQ_ERR_UNSUPPORTED, where, ": quant_method '", *method, "' is not GPTQ");
  }
  if (auto bits = json_int(j, "bits", where)) c.bits = small_int(*bits, "bits", where);
  else if (auto w_bit = json_int(j, "w_bit", where)) c.bits = small_int(*w_bit, "w_bit", where);
  else fail(GPTQ_ERR_FORMAT, where, ": the quantization config gives no 'bits'");
  if (auto g = json_int(j, "group_size", where)) c.group_size = small_int(*g, "group_size", where);
  else if (auto q = json_int(j, "q_group_size", where)) c.group_size = small_int(*q, "q_group_size", where);
  c.desc_act = json_bool(j, "desc_act", where).value_or(false);
  c.sym = json_bool(j, "sym", where).value_or(true);
  c.static_groups = json_bool(j, "static_groups", where).value_or(false);
  c.true_sequential = json_bool(j, "true_sequential", where).value_or(true);
  c.damp_percent = json_number(j, "damp_percent", where).value_or(0.01);
  c.model_file_base_name = json_string(j, "model_file_base_name", where).value_or("");
  // It becomes a file name in the checkpoint directory, never a path out of it.
  if (!c.model_file_base_name.empty() && !is_plain_file_name(c.model_file_base_name)) {
    fail(GPTQ_ERR_FORMAT, where, ": model_file_base_name '", c.model_file_base_name,
         "' is not a file name in the checkpoint directory");
  }
  const std::string format = json_string(j, "checkpoint_format", where).value_or("gptq");
  if (json_bool(j, "is_marlin_format", where).value_or(false) || format == "marlin") {
    fail(GPTQ_ERR_UNSUPPORTED, where, ": Marlin-format checkpoints are repacked for one GPU kernel; load the "
         "original GPTQ checkpoint instead");
  }
  if (format == "gptq") c.format = CheckpointFormat::Gptq;
  else if (format == "gptq_v2") c.format = CheckpointFormat::GptqV2;
  else fail(GPTQ_ERR_UNSUPPORTED, where, ": checkpoint_format '", format, "' is not supported (gptq, gptq_v2)");
  validate_quant_config(c, where);
  return c;
}

}  // namespace

std::optional<QuantConfig> read_quant_config(const std::string& dir, const Json& config) {
  // quantize_config.json is AutoGPTQ's own record and the more complete one
  // (model_file_base_name); config.json's copy is what transformers reads.
  const std::string path = join_path(dir, "quantize_config.json");
  if (auto file = load_json_file_if_exists(path)) return parse(*file, path);
  if (auto it = config.find("quantization_config"); it != config.end() && it->is_object()) {
    return parse(*it, join_path(dir, "config.json") + " quantization_config");
  }
  return std::nullopt;
}

Json quant_config_to_json(const QuantConfig& c) {
  Json j = Json::object();
  j["bits"] = c.bits;
  j["group_size"] = c.group_size;
  j["damp_percent"] = c.damp_percent;
  j["desc_act"] = c.desc_act;
  j["static_groups"] = c.static_groups;
  j["sym"] = c.sym;
  j["true_sequential"] = c.true_sequential;
  j["model_name_or_path"] = nullptr;
  j["model_file_base_name"] = c.model_file_base_name.empty() ? "model" : c.model_file_base_name;
  j["quant_method"] = "gptq";
  j["checkpoint_format"] = checkpoint_format_name(c.format);
  return j;
}

}  // namespace gptq
