// Tokenizer::load: the tokenizer file plus the special-token policy that
// transformers derives from tokenizer_config.json, generation_config.json
// and config.json.
#include <algorithm>

#include "core/error.h"
#include "core/log.h"
#include "io/mapped_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_models.h"

namespace gptq {
namespace {

constexpr const char* kHfFile = "tokenizer.json";
constexpr const char* kSentencePieceFile = "tokenizer.model";

LoadedTokenizerModel load_model_file(const std::string& dir) {
  const std::string hf_path = join_path(dir, kHfFile);
  const std::string sp_path = join_path(dir, kSentencePieceFile);
  if (file_exists(hf_path)) {
    try {
      return load_hf_tokenizer(hf_path);
    } catch (const Error& e) {
      // Checkpoints that ship both files can still be served by the other one.
      if (e.status() != GPTQ_ERR_UNSUPPORTED || !file_exists(sp_path)) throw;
      log_warn(e.what(), "; using ", sp_path, " instead");
    }
  }
  if (file_exists(sp_path)) return load_sentencepiece_model(sp_path);
  fail(GPTQ_ERR_NOT_FOUND, "no ", kHfFile, " or ", kSentencePieceFile, " in '", dir, "'");
}

// bos_token / eos_token: "<s>", {"content": "<s>", ...} or null.
std::optional<std::string> special_token_text(const Json& config, const char* key, const std::string& where) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) {
    if (auto content = json_string(*it, "content", where + " " + key)) return content;
  }
  fail(GPTQ_ERR_FORMAT, where, ": '", key, "' should be a string or an object with \"content\" but is ", json_excerpt(*it));
}

// bos_token_id / eos_token_id: an integer or a list of them.
std::vector<int32_t> config_token_ids(const Json& config, const char* key, const std::string& where) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return {};
  if (auto id = json_int32(*it)) return {*id};
  if (it->is_array() && std::all_of(it->begin(), it->end(), [](const Json& v) { return json_int32(v).has_value(); })) {
    return it->get<std::vector<int32_t>>();
  }
  fail(GPTQ_ERR_FORMAT, where, ": '", key, "' should be an integer or a list of integers but is ", json_excerpt(*it));
}

class SpecialTokenResolver {
 public:
  SpecialTokenResolver(const std::string& dir, const TokenizerModel& model, const Json& model_config)
      : model_(model), model_config_(model_config) {
    tokenizer_config_path_ = join_path(dir, "tokenizer_config.json");
    generation_config_path_ = join_path(dir, "generation_config.json");
    tokenizer_config_ = load_json_file_if_exists(tokenizer_config_path_).value_or(Json::object());
    generation_config_ = load_json_file_if_exists(generation_config_path_);
  }

  // tokenizer_config.json's token, else the tokenizer file's, else the model configs' id.
  int32_t resolve(const char* token_key, const char* id_key, std::optional<int32_t> file_default) const {
    if (auto text = special_token_text(tokenizer_config_, token_key, tokenizer_config_path_)) {
      if (auto id = model_.token_id(*text)) return *id;
      log_warn(tokenizer_config_path_, ": ", token_key, " '", *text, "' is not in the vocabulary; ignored");
    }
    if (file_default) return *file_default;
    for (const auto& [config, where] : model_configs()) {
      const std::vector<int32_t> ids = config_token_ids(*config, id_key, where);
      if (!ids.empty() && in_vocabulary(ids.front(), where, id_key)) return ids.front();
    }
    return -1;
  }

  // add_bos_token / add_eos_token, when tokenizer_config.json sets them.
  std::optional<bool> add_flag(const char* key) const { return json_bool(tokenizer_config_, key, tokenizer_config_path_); }

  // generation_config.json's eos ids; transformers derives that file from
  // config.json when it is missing, so config.json stands in then.
  std::vector<int32_t> generation_eos_ids() const {
    const auto [config, where] = model_configs().front();
    std::vector<int32_t> ids;
    for (const int32_t id : config_token_ids(*config, "eos_token_id", where)) {
      if (in_vocabulary(id, where, "eos_token_id")) ids.push_back(id);
    }
    return ids;
  }

 private:
  std::vector<std::pair<const Json*, std::string>> model_configs() const {
    std::vector<std::pair<const Json*, std::string>> configs;
    if (generation_config_) configs.emplace_back(&*generation_config_, generation_config_path_);
    configs.emplace_back(&model_config_, "config.json");
    return configs;
  }

  bool in_vocabulary(int32_t id, const std::string& where, const char* key) const {
    if (id >= 0 && id < model_.vocab_size()) return true;
    log_warn(where, ": ", key, " ", id, " is outside the tokenizer's vocabulary of ", model_.vocab_size(), "; ignored");
    return false;
  }

  const TokenizerModel& model_;
  const Json& model_config_;
  std::string tokenizer_config_path_;
  std::string generation_config_path_;
  Json tokenizer_config_;
  std::optional<Json> generation_config_;
};

std::vector<int32_t> explicit_special(std::optional<bool> add, int32_t id, const char* key, std::vector<int32_t> fallback) {
  if (!add) return fallback;
  if (!*add) return {};
  if (id < 0) {
    log_warn("tokenizer_config.json sets ", key, " but the token is unknown; nothing is added");
    return {};
  }
  return {id};
}

}  // namespace

bool Tokenizer::present(const std::string& dir) {
  return file_exists(join_path(dir, kHfFile)) || file_exists(join_path(dir, kSentencePieceFile));
}

std::unique_ptr<Tokenizer> Tokenizer::load(const std::string& dir, const Json& model_config) {
  LoadedTokenizerModel loaded = load_model_file(dir);
  const SpecialTokenResolver resolver(dir, *loaded.model, model_config);
  const SpecialTokenDefaults& defaults = loaded.defaults;

  const int32_t bos = resolver.resolve("bos_token", "bos_token_id", defaults.bos);
  const int32_t eos = resolver.resolve("eos_token", "eos_token_id", defaults.eos);
  // Explicit add_bos_token / add_eos_token win over the file's template,
  // as transformers rebuilds its post-processor from them.
  std::vector<int32_t> prefix = explicit_special(resolver.add_flag("add_bos_token"), bos, "add_bos_token", defaults.prefix);
  std::vector<int32_t> suffix = explicit_special(resolver.add_flag("add_eos_token"), eos, "add_eos_token", defaults.suffix);

  std::vector<int32_t> end_of_generation;
  if (eos >= 0) end_of_generation.push_back(eos);
  for (const int32_t id : resolver.generation_eos_ids()) {
    if (std::find(end_of_generation.begin(), end_of_generation.end(), id) == end_of_generation.end()) {
      end_of_generation.push_back(id);
    }
  }
  auto tokenizer = std::make_unique<Tokenizer>(std::move(loaded.model), bos, eos, std::move(prefix), std::move(suffix),
                                               std::move(end_of_generation));
  tokenizer->file_ = std::move(loaded.file);
  return tokenizer;
}

}  // namespace gptq
