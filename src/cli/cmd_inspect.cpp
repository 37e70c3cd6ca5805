// gptq inspect DIR: what a checkpoint holds.
#include <cstdio>

#include "commands.h"
#include "common.h"

namespace cli {

int run_inspect(int argc, char** argv) {
  std::vector<Option> options = {{"json", "", "print a JSON object on stdout"}};
  for (const Option& o : device_options()) options.push_back(o);
  Args args("inspect", "DIR [--device DEV] [--json]", options);
  std::string error;
  if (!args.parse(argc, argv, 2, &error)) return report_usage(args, error);
  if (args.help_requested()) return std::printf("%s", args.help().c_str()), kExitOk;
  if (args.positional().size() != 1) return report_usage(args, "inspect needs one model directory");
  DeviceOptions device;
  if (!read_device_options(args, &device, &error)) return report_usage(args, error);

  gptq_model* raw = nullptr;
  if (int code = load_model(args.positional()[0], &raw, device); code != kExitOk) return code;
  ModelPtr model(raw);
  gptq_model_info info;
  info.struct_size = sizeof info;
  if (gptq_status s = gptq_model_get_info(model.get(), &info); s != GPTQ_OK) return report_failure(s);

  nlohmann::json j = {
      {"path", info.path},
      {"architecture", info.architecture},
      {"n_layers", info.n_layers},
      {"hidden_size", info.hidden_size},
      {"intermediate_size", info.intermediate_size},
      {"n_heads", info.n_heads},
      {"n_kv_heads", info.n_kv_heads},
      {"head_dim", info.head_dim},
      {"vocab_size", info.vocab_size},
      {"max_position_embeddings", info.max_position_embeddings},
      {"weight_dtype", dtype_name(info.weight_dtype)},
      {"tied_embeddings", info.tied_embeddings != 0},
      {"n_params", info.n_params},
      {"weight_bytes", info.weight_bytes},
      {"rope_type", info.rope_type},
      {"rope_theta", info.rope_theta},
      {"tokenizer", info.tokenizer},
      {"bos_token", info.bos_token},
      {"eos_token", info.eos_token},
      {"quantization", info.quant_bits == 0 ? nlohmann::json(nullptr)
                                            : nlohmann::json{{"bits", info.quant_bits},
                                                             {"group_size", info.quant_group_size},
                                                             {"desc_act", info.quant_desc_act != 0},
                                                             {"sym", info.quant_sym != 0},
                                                             {"static_groups", info.quant_static_groups != 0},
                                                             {"format", info.quant_format}}},
      {"device", info.device},
      {"placement", info.placement},
      {"n_gpu_layers", info.n_gpu_layers},
      {"compute_dtype", dtype_name(info.compute_dtype)},
      {"gpu_weight_bytes", info.gpu_weight_bytes},
      {"system", gptq_system_info()},
  };
  if (args.has("json")) {
    print_json(j);
    return kExitOk;
  }
  for (const auto& [key, value] : j.items()) {
    const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    std::printf("%-24s %s\n", key.c_str(), text.c_str());
  }
  return kExitOk;
}

}  // namespace cli
