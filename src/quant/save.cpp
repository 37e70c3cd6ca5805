#include "quant/save.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <list>
#include <set>

#include "core/error.h"
#include "io/json_file.h"
#include "io/safetensors_writer.h"
#include "quant/pack.h"

namespace gptq {
namespace {

namespace fs = std::filesystem;

// Files beside the weights that a checkpoint needs to be usable.
constexpr const char* kCompanionFiles[] = {
    "tokenizer.json",  "tokenizer.model",     "tokenizer_config.json", "special_tokens_map.json",
    "added_tokens.json", "vocab.json",        "merges.txt",            "generation_config.json",
    "chat_template.jinja",
};

// Removes the half-written directory unless the save completed.
class TemporaryDirectory {
 public:
  explicit TemporaryDirectory(const std::string& target) {
    static std::atomic<int> counter{0};
    path_ = target + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    std::error_code ec;
    fs::remove_all(path_, ec);
    if (!fs::create_directories(path_, ec)) fail(GPTQ_ERR_IO, "cannot create '", path_, "': ", ec.message());
  }
  ~TemporaryDirectory() {
    if (!kept_) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  const std::string& path() const { return path_; }
  void commit(const std::string& target) {
    std::error_code ec;
    fs::rename(path_, target, ec);
    if (ec) fail(GPTQ_ERR_IO, "cannot rename '", path_, "' to '", target, "': ", ec.message());
    kept_ = true;
  }

 private:
  std::string path_;
  bool kept_ = false;
};

void check_target(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  if (!fs::is_directory(dir, ec) || !fs::is_empty(dir, ec)) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "'", dir, "' already exists; save into a new or empty directory");
  }
  fs::remove(dir, ec);  // an empty directory is replaced by the finished one
}

// Owns the bytes of tensors made here (the rest point into the checkpoint).
struct TensorSet {
  std::vector<TensorToWrite> tensors;
  std::list<std::vector<int32_t>> int_storage;
  std::list<std::vector<uint16_t>> half_storage;

  void add_ints(std::string name, std::vector<int64_t> shape, std::vector<int32_t> values) {
    int_storage.push_back(std::move(values));
    tensors.push_back({std::move(name), DType::I32, std::move(shape), int_storage.back().data()});
  }
  void add_halves(std::string name, std::vector<int64_t> shape, std::vector<uint16_t> values) {
    half_storage.push_back(std::move(values));
    tensors.push_back({std::move(name), DType::F16, std::move(shape), half_storage.back().data()});
  }
};

// Every GPTQ linear with its tensors.
std::vector<std::pair<std::string, std::shared_ptr<const QuantizedLinear>>> quantized_modules(const Model& model) {
  std::vector<std::pair<std::string, std::shared_ptr<const QuantizedLinear>>> modules;
  const std::vector<LayerLinear> linears = layer_linears(model.config());
  for (size_t i = 0; i < model.layers().size(); ++i) {
    const std::string prefix = model.layer_prefix(static_cast<int64_t>(i));
    for (const LayerLinear& entry : linears) {
      const Linear& linear = entry.of(model.layers()[i]);
      if (linear.is_quantized()) modules.emplace_back(prefix + entry.name, linear.gptq_shared());
    }
  }
  return modules;
}

std::string module_of(const std::string& tensor, std::string* suffix) {
  const size_t dot = tensor.rfind('.');
  *suffix = dot == std::string::npos ? "" : tensor.substr(dot + 1);
  return dot == std::string::npos ? tensor : tensor.substr(0, dot);
}

void write_weights(const std::string& dir, TensorSet& set, const std::map<std::string, std::string>& metadata,
                   int64_t max_shard_bytes) {
  std::sort(set.tensors.begin(), set.tensors.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  auto bytes_of = [](const TensorToWrite& t) {
    int64_t n = static_cast<int64_t>(dtype_size(t.dtype));
    for (int64_t d : t.shape) n *= d;
    return n;
  };
  if (max_shard_bytes <= 0) {
    write_safetensors(join_path(dir, "model.safetensors"), set.tensors, metadata);
    return;
  }
  std::vector<std::vector<TensorToWrite>> shards(1);
  int64_t in_shard = 0, total = 0;
  for (const TensorToWrite& t : set.tensors) {
    const int64_t bytes = bytes_of(t);
    if (in_shard > 0 && in_shard + bytes > max_shard_bytes) {
      shards.emplace_back();
      in_shard = 0;
    }
    shards.back().push_back(t);
    in_shard += bytes;
    total += bytes;
  }
  nlohmann::ordered_json index;
  index["metadata"] = {{"total_size", total}};
  index["weight_map"] = nlohmann::ordered_json::object();
  char name[64];
  for (size_t i = 0; i < shards.size(); ++i) {
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
    write_safetensors(join_path(dir, name), shards[i], metadata);
    for (const TensorToWrite& t : shards[i]) index["weight_map"][t.name] = name;
  }
  write_file_atomically(join_path(dir, "model.safetensors.index.json"), index.dump(2) + "\n");
}

}  // namespace

void save_model(const Model& model, const std::string& dir, const SaveOptions& options) {
  if (dir.empty()) fail(GPTQ_ERR_INVALID_ARGUMENT, "the output directory is empty");
  check_target(dir);
  if (options.max_shard_bytes < 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "max_shard_bytes must not be negative");
  TemporaryDirectory temp(dir);

  const auto modules = quantized_modules(model);
  std::set<std::string> replaced;
  for (const auto& [name, q] : modules) replaced.insert(name);
  TensorSet set;
  for (const auto& file : model.checkpoint().files()) {
    for (const TensorView& t : file->tensors()) {
      std::string suffix;
      const std::string module = module_of(t.name, &suffix);
      const bool superseded = replaced.count(module) &&
                              (suffix == "weight" || suffix == "qweight" || suffix == "qzeros" ||
                               suffix == "scales" || suffix == "g_idx");
      if (!superseded) set.tensors.push_back({t.name, t.dtype, t.shape, t.data});
    }
  }
  for (const auto& [name, q] : modules) {
    const int64_t K = q->in_features, N = q->out_features, G = q->n_groups;
    set.tensors.push_back({name + ".qweight", DType::I32, {K * q->bits / 32, N}, q->qweight});
    set.add_ints(name + ".qzeros", {G, packed_words(N, q->bits)}, pack_qzeros(q->zeros, G, N, q->bits, options.format));
    set.add_halves(name + ".scales", {G, N}, q->scales);
    set.add_ints(name + ".g_idx", {K}, q->g_idx);
  }

  std::map<std::string, std::string> metadata = {{"format", "pt"}};
  nlohmann::ordered_json config = nlohmann::ordered_json::parse(model.source_config_json());
  const std::optional<QuantConfig>& quant = model.quant_config();
  if (quant) {
    QuantConfig recorded = *quant;
    recorded.format = options.format;
    recorded.model_file_base_name = "model";
    const Json q = quant_config_to_json(recorded);
    config["quantization_config"] = nlohmann::ordered_json::parse(q.dump());
    write_file_atomically(join_path(temp.path(), "quantize_config.json"), q.dump(2) + "\n");
    metadata["gptq_bits"] = std::to_string(recorded.bits);
    metadata["gptq_group_size"] = std::to_string(recorded.group_size);
    metadata["gptq_desc_act"] = recorded.desc_act ? "True" : "False";
    metadata["gptq_damp_percent"] = std::to_string(recorded.damp_percent);
    metadata["gptq_quant_method"] = "gptq";
    metadata["gptq_checkpoint_format"] = checkpoint_format_name(recorded.format);
  } else {
    config.erase("quantization_config");
  }
  write_weights(temp.path(), set, metadata, options.max_shard_bytes);
  write_file_atomically(join_path(temp.path(), "config.json"), config.dump(2) + "\n");
  for (const char* name : kCompanionFiles) {
    const std::string source = join_path(model.dir(), name);
    if (file_exists(source)) write_file_atomically(join_path(temp.path(), name), read_text_file(source));
  }
  temp.commit(dir);
}

}  // namespace gptq
