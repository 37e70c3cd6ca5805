// Loaders for the two kinds of tokenizer file. Each returns the model plus
// what the file itself says about special tokens; Tokenizer::load then lets
// tokenizer_config.json and the model configs override that.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace gptq {

struct SpecialTokenDefaults {
  std::optional<int32_t> bos;
  std::optional<int32_t> eos;
  // What add_special puts around the text unless tokenizer_config.json says otherwise.
  std::vector<int32_t> prefix;
  std::vector<int32_t> suffix;
};

struct LoadedTokenizerModel {
  std::unique_ptr<TokenizerModel> model;
  SpecialTokenDefaults defaults;
  std::string file;  // the path it was read from, for messages
};

// tokenizer.model (sentencepiece): GPTQ_ERR_FORMAT when it does not parse.
LoadedTokenizerModel load_sentencepiece_model(const std::string& path);
// tokenizer.json (Hugging Face tokenizers): GPTQ_ERR_FORMAT for malformed
// files, GPTQ_ERR_UNSUPPORTED for components this library does not implement.
LoadedTokenizerModel load_hf_tokenizer(const std::string& path);

}  // namespace gptq
