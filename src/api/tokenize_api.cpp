// Text to token ids and back, into caller buffers.
#include <cstring>

#include "api/guard.h"
#include "api/handles.h"

using namespace gptq;
using namespace gptq::api;

extern "C" {

gptq_status gptq_tokenize(const gptq_model* model, const char* text, size_t text_len, uint32_t flags,
                          int32_t* tokens, size_t capacity, size_t* n_tokens) {
  return guarded([&] {
    const Tokenizer& tokenizer = model_of(model).require_tokenizer();
    require_arg(n_tokens, "n_tokens");
    *n_tokens = 0;
    if (text_len > 0) require_arg(text, "text");
    if (capacity > 0) require_arg(tokens, "tokens");
    if ((flags & ~uint32_t{GPTQ_TOKENIZE_ADD_SPECIAL | GPTQ_TOKENIZE_PARSE_SPECIAL}) != 0) {
      fail(GPTQ_ERR_INVALID_ARGUMENT, "unknown tokenize flags 0x", std::hex, flags);
    }
    const std::vector<int32_t> ids =
        tokenizer.encode(std::string_view(text != nullptr ? text : "", text_len),
                         (flags & GPTQ_TOKENIZE_ADD_SPECIAL) != 0, (flags & GPTQ_TOKENIZE_PARSE_SPECIAL) != 0);
    *n_tokens = ids.size();
    if (ids.size() > capacity) {
      fail(GPTQ_ERR_BUFFER_TOO_SMALL, "the text needs ", ids.size(), " tokens; the buffer holds ", capacity);
    }
    if (!ids.empty()) std::memcpy(tokens, ids.data(), ids.size() * sizeof(int32_t));
  });
}

gptq_status gptq_detokenize(const gptq_model* model, const int32_t* tokens, size_t n_tokens, uint32_t flags,
                            char* text, size_t capacity, size_t* text_len) {
  return guarded([&] {
    const Tokenizer& tokenizer = model_of(model).require_tokenizer();
    require_arg(text_len, "text_len");
    *text_len = 0;
    if (n_tokens > 0) require_arg(tokens, "tokens");
    if (capacity > 0) require_arg(text, "text");
    if ((flags & ~uint32_t{GPTQ_DETOKENIZE_SKIP_SPECIAL}) != 0) {
      fail(GPTQ_ERR_INVALID_ARGUMENT, "unknown detokenize flags 0x", std::hex, flags);
    }
    const std::string decoded = tokenizer.decode(std::span<const int32_t>(tokens, n_tokens),
                                                 (flags & GPTQ_DETOKENIZE_SKIP_SPECIAL) != 0);
    *text_len = decoded.size();
    if (decoded.size() >= capacity) {
      fail(GPTQ_ERR_BUFFER_TOO_SMALL, "the text needs ", decoded.size() + 1, " bytes with its NUL; the buffer holds ",
           capacity);
    }
    std::memcpy(text, decoded.data(), decoded.size());
    text[decoded.size()] = '\0';
  });
}

}  // extern "C"
