#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace gptq {

Tokenizer::Tokenizer(std::unique_ptr<TokenizerModel> model, int32_t bos, int32_t eos, std::vector<int32_t> prefix,
                     std::vector<int32_t> suffix, std::vector<int32_t> end_of_generation)
    : model_(std::move(model)),
      bos_(bos),
      eos_(eos),
      prefix_(std::move(prefix)),
      suffix_(std::move(suffix)),
      end_of_generation_(std::move(end_of_generation)) {
  if (!model_) fail(GPTQ_ERR_INVALID_ARGUMENT, "a tokenizer needs a model");
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  if (const auto offset = utf8::first_invalid_byte(text)) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "text to encode is not valid UTF-8 (bad byte 0x", std::hex,
         static_cast<int>(static_cast<unsigned char>(text[*offset])), std::dec, " at byte offset ", *offset, ")");
  }
  std::vector<int32_t> body = model_->encode(text, parse_special);
  if (!add_special) return body;
  std::vector<int32_t> ids;
  ids.reserve(prefix_.size() + body.size() + suffix_.size());
  ids.insert(ids.end(), prefix_.begin(), prefix_.end());
  ids.insert(ids.end(), body.begin(), body.end());
  ids.insert(ids.end(), suffix_.begin(), suffix_.end());
  return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  const int32_t n_vocab = model_->vocab_size();
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= n_vocab) {
      fail(GPTQ_ERR_INVALID_ARGUMENT, "token id ", ids[i], " (at position ", i, ") is outside the vocabulary [0, ",
           n_vocab, ")");
    }
  }
  return model_->decode(ids, skip_special);
}

bool Tokenizer::is_end_of_generation(int32_t id) const {
  if (id >= 0 && id == eos_) return true;
  return std::find(end_of_generation_.begin(), end_of_generation_.end(), id) != end_of_generation_.end();
}

int32_t Tokenizer::end_of_generation_count() const {
  const bool eos_listed = std::find(end_of_generation_.begin(), end_of_generation_.end(), eos_) != end_of_generation_.end();
  return static_cast<int32_t>(end_of_generation_.size()) + (eos_ >= 0 && !eos_listed ? 1 : 0);
}

}  // namespace gptq
