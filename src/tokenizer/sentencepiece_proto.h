// The few facts of a serialized sentencepiece ModelProto that the processor
// API hides, read from the protobuf wire format directly (the library ships
// no generated proto headers).
#pragma once

#include <string>
#include <string_view>

namespace gptq {

struct SentencePieceNormalizerSpec {
  std::string name;  // "identity", "nmt_nfkc", ...
  bool add_dummy_prefix = true;  // the proto defaults
  bool remove_extra_whitespaces = true;
};

// `file` names the model in error messages (GPTQ_ERR_FORMAT when malformed).
SentencePieceNormalizerSpec read_normalizer_spec(std::string_view serialized, const std::string& file);

// The same model with add_dummy_prefix switched off: used for text that
// follows a special token, which must not get a new leading "▁".
std::string without_dummy_prefix(std::string_view serialized, const std::string& file);

}  // namespace gptq
