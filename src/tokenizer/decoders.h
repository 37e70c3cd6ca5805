// tokenizer.json "decoder": turns the token strings of a decode back into
// text. Strings here are bytes: byte tokens of an unfinished character pass
// through as raw bytes instead of becoming U+FFFD.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_node.h"

namespace gptq {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Rewrites the list of token strings (some decoders fuse it into one).
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

// Sequence, ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, BPEDecoder;
// other types are GPTQ_ERR_UNSUPPORTED.
std::unique_ptr<Decoder> make_decoder(const JsonNode& node);

}  // namespace gptq
