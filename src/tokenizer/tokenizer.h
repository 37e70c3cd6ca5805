// Text <-> token ids for a checkpoint directory.
//
// A Tokenizer pairs one TokenizerModel (the algorithm: sentencepiece's
// tokenizer.model, or a Hugging Face tokenizer.json pipeline) with the
// special-token policy from tokenizer_config.json, generation_config.json and
// config.json (which BOS/EOS to add, which ids end generation).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/json_file.h"

namespace gptq {

class TokenizerModel {
 public:
  virtual ~TokenizerModel() = default;
  // "sentencepiece" or "bpe".
  virtual const char* kind() const = 0;
  virtual int32_t vocab_size() const = 0;
  // Encodes valid UTF-8 without adding BOS/EOS. With parse_special, text of
  // special/added tokens is matched as those tokens; otherwise it is plain text
  // (added tokens that are not special always match, as in tokenizers).
  // Corpus text such as WikiText's "<unk>" markers wants parse_special off:
  // that is how the sentencepiece library and the perplexity references read it.
  // Sentencepiece models add their "▁" dummy prefix only at the start of the
  // text, not after a special token (transformers' legacy=false).
  virtual std::vector<int32_t> encode(std::string_view text, bool parse_special) const = 0;
  // Decodes ids to bytes. Byte tokens are copied as they are, so the result
  // can end inside a UTF-8 sequence (or hold an ill-formed one when the ids
  // are nonsense); utf8::sanitize makes it displayable.
  virtual std::string decode(std::span<const int32_t> ids, bool skip_special) const = 0;
  // The vocabulary entry as stored ("▁the", "<0x0A>", "Ġworld"); ids must be valid.
  virtual const std::string& token_text(int32_t id) const = 0;
  virtual std::optional<int32_t> token_id(std::string_view text) const = 0;
  // Control / special tokens (BOS, EOS, <|im_end|>...), left out by skip_special.
  virtual bool is_special(int32_t id) const = 0;
};

class Tokenizer {
 public:
  // Loads tokenizer.json (preferred) or tokenizer.model from `dir`;
  // `model_config` is the parsed config.json (for bos/eos ids).
  // GPTQ_ERR_NOT_FOUND when the directory has neither file.
  static std::unique_ptr<Tokenizer> load(const std::string& dir, const Json& model_config);
  // Whether `dir` holds a tokenizer file that load() would read.
  static bool present(const std::string& dir);

  // Encodes text. Invalid UTF-8 is GPTQ_ERR_INVALID_ARGUMENT. add_special
  // adds the prefix/suffix tokens the configuration asks for (usually BOS).
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;
  // Ids out of range are GPTQ_ERR_INVALID_ARGUMENT. The bytes are those of
  // TokenizerModel::decode: an unfinished character at the end stays raw.
  std::string decode(std::span<const int32_t> ids, bool skip_special) const;

  const TokenizerModel& model() const { return *model_; }
  const std::string& file() const { return file_; }  // "" unless made by load()
  int32_t vocab_size() const { return model_->vocab_size(); }
  int32_t bos() const { return bos_; }  // -1 when none
  int32_t eos() const { return eos_; }  // -1 when none
  // True for every id that ends generation (EOS and generation_config's eos ids).
  bool is_end_of_generation(int32_t id) const;
  // How many distinct ids end generation (beam search keeps that many spare candidates per beam).
  int32_t end_of_generation_count() const;
  const std::vector<int32_t>& prefix_tokens() const { return prefix_; }
  const std::vector<int32_t>& suffix_tokens() const { return suffix_; }

  // For tests and tools: a tokenizer from a model plus an explicit policy.
  Tokenizer(std::unique_ptr<TokenizerModel> model, int32_t bos, int32_t eos, std::vector<int32_t> prefix,
            std::vector<int32_t> suffix, std::vector<int32_t> end_of_generation);

 private:
  std::unique_ptr<TokenizerModel> model_;
  int32_t bos_ = -1;
  int32_t eos_ = -1;
  std::vector<int32_t> prefix_;
  std::vector<int32_t> suffix_;
  std::vector<int32_t> end_of_generation_;
  std::string file_;
};

}  // namespace gptq
