// TokenizerModel for a Hugging Face tokenizer.json: added tokens, then the
// normalizer, pre-tokenizer and BPE model on the text between them, and the
// decoder on the way back, in the order the tokenizers library runs them.
#include <memory>

#include "core/log.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/decoders.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/tokenizer_models.h"

namespace gptq {
namespace {

class HfTokenizerModel final : public TokenizerModel {
 public:
  explicit HfTokenizerModel(const JsonNode& root) {
    if (auto node = root.optional_child("normalizer")) normalizer_ = make_normalizer(*node);
    if (auto node = root.optional_child("pre_tokenizer")) pre_tokenizer_ = make_pre_tokenizer(*node);
    bpe_ = std::make_unique<BpeModel>(root.child("model"));
    if (auto node = root.optional_child("decoder")) decoder_ = make_decoder(*node);
    const Json empty_list = Json::array();
    added_ = std::make_unique<AddedVocabulary>(
        root.optional_child("added_tokens").value_or(JsonNode(empty_list, root.file(), "added_tokens")),
        normalizer_.get());
  }

  const char* kind() const override { return "bpe"; }
  int32_t vocab_size() const override { return std::max(bpe_->size(), added_->id_limit()); }

  std::vector<int32_t> encode(std::string_view text, bool parse_special) const override {
    std::vector<int32_t> ids;
    ids.reserve(text.size() / 3);
    for (const InputSegment& raw : added_->split_raw(text, parse_special)) {
      if (raw.token >= 0) {
        ids.push_back(raw.token);
        continue;
      }
      std::string normalized(text.substr(raw.begin, raw.end - raw.begin));
      if (normalizer_) normalizer_->apply(normalized);
      for (const InputSegment& part : added_->split_normalized(normalized, parse_special)) {
        if (part.token >= 0) {
          ids.push_back(part.token);
          continue;
        }
        std::vector<TextPiece> pieces;
        pieces.push_back({normalized.substr(part.begin, part.end - part.begin), raw.begin == 0 && part.begin == 0});
        if (pre_tokenizer_) pre_tokenizer_->apply(pieces);
        for (const TextPiece& piece : pieces) bpe_->encode_word(piece.text, ids);
      }
    }
    return ids;
  }

  std::string decode(std::span<const int32_t> ids, bool skip_special) const override {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (const int32_t id : ids) {
      const AddedToken* added = added_->find(id);
      if (added != nullptr && added->special && skip_special) continue;
      const std::string* text = added != nullptr ? &added->content : bpe_->token_text(id);
      if (text != nullptr) tokens.push_back(*text);
    }
    if (!decoder_) return join_with_spaces(tokens);
    decoder_->apply(tokens);
    std::string out;
    for (const std::string& token : tokens) out += token;
    return out;
  }

  const std::string& token_text(int32_t id) const override {
    static const std::string kNoToken;
    if (const AddedToken* added = added_->find(id)) return added->content;
    const std::string* text = bpe_->token_text(id);
    return text != nullptr ? *text : kNoToken;
  }

  std::optional<int32_t> token_id(std::string_view text) const override {
    if (auto id = added_->id_of(text)) return id;
    return bpe_->token_id(text);
  }

  bool is_special(int32_t id) const override {
    const AddedToken* added = added_->find(id);
    return added != nullptr && added->special;
  }

 private:
  static std::string join_with_spaces(const std::vector<std::string>& tokens) {
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) out.push_back(' ');
      out += tokens[i];
    }
    return out;
  }

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<BpeModel> bpe_;
  std::unique_ptr<Decoder> decoder_;
  std::unique_ptr<AddedVocabulary> added_;
};

// Ids of a TemplateProcessing entry in "special_tokens".
std::vector<int32_t> template_special_ids(const JsonNode& processor, const std::string& name) {
  const JsonNode special = processor.child("special_tokens");
  if (!special.json().is_object() || !special.json().contains(name)) {
    special.fail_format("the template uses '", name, "' which is not defined here");
  }
  const JsonNode entry = special.child(name.c_str());
  std::vector<int32_t> ids;
  for (const JsonNode& id : entry.child("ids").elements()) {
    const auto value = json_int32(id.json());
    if (!value) id.fail_format("should be a token id");
    ids.push_back(*value);
  }
  return ids;
}

// Adds what a post-processor puts around a single sequence.
void apply_post_processor(const JsonNode& processor, SpecialTokenDefaults& defaults) {
  const std::string type = processor.type();
  std::vector<int32_t> prefix, suffix;
  if (type == "TemplateProcessing") {
    bool after_sequence = false;
    for (const JsonNode& item : processor.child("single").elements()) {
      if (item.has("Sequence")) {
        after_sequence = true;
      } else if (auto special = item.optional_child("SpecialToken")) {
        for (const int32_t id : template_special_ids(processor, special->string("id"))) {
          (after_sequence ? suffix : prefix).push_back(id);
        }
      } else {
        item.fail_format("should be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
      }
    }
  } else if (type == "BertProcessing" || type == "RobertaProcessing") {
    // "cls": ["[CLS]", 101], "sep": ["[SEP]", 102]
    const auto token_of = [&](const char* key) {
      const JsonNode pair = processor.child(key);
      const auto id = pair.json().is_array() && pair.json().size() == 2 ? json_int32(pair.json()[1]) : std::nullopt;
      if (!id) pair.fail_format("should be [token, id]");
      return *id;
    };
    prefix.push_back(token_of("cls"));
    suffix.push_back(token_of("sep"));
  } else if (type == "Sequence") {
    for (const JsonNode& step : processor.child("processors").elements()) apply_post_processor(step, defaults);
    return;
  } else if (type != "ByteLevel") {
    log_warn(processor.where(), ": post-processor '", type, "' is not supported; it adds no tokens here");
  }
  defaults.prefix.insert(defaults.prefix.begin(), prefix.begin(), prefix.end());
  defaults.suffix.insert(defaults.suffix.end(), suffix.begin(), suffix.end());
}

}  // namespace

LoadedTokenizerModel load_hf_tokenizer(const std::string& path) {
  const Json json = load_json_file(path);
  const JsonNode root(json, path, "");
  if (!json.is_object()) root.fail_format("should be a JSON object");
  LoadedTokenizerModel loaded;
  loaded.file = path;
  loaded.model = std::make_unique<HfTokenizerModel>(root);
  if (auto processor = root.optional_child("post_processor")) {
    apply_post_processor(*processor, loaded.defaults);
    for (const auto* ids : {&loaded.defaults.prefix, &loaded.defaults.suffix}) {
      for (const int32_t id : *ids) {
        if (id < 0 || id >= loaded.model->vocab_size()) processor->fail_format("adds the unknown token id ", id);
      }
    }
  }
  return loaded;
}

}  // namespace gptq
