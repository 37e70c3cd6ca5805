// The smallest struct_size the library accepts for each struct of gptq.h:
// the end of the struct's last field in the first release (0.1.0). They are
// frozen on purpose. Were they sizeof(the struct) of today's header, the
// first field appended would raise the minimum and every program compiled
// against an older header would be refused; read_params and write_output
// instead give older callers the defaults (or fill only what they have) for
// the fields after their struct_size.
//
// When a field is appended, leave these alone: it must start at or past the
// first release's sizeof (tests/abi/abi_layout.c checks), so that no old
// caller's tail padding is read as the new field.
#pragma once

#include <cstddef>

#include "gptq.h"

namespace gptq::api {

#define GPTQ_FIRST_RELEASE_END(type, last_field) (offsetof(type, last_field) + sizeof(type::last_field))

inline constexpr size_t kModelParamsMinSize = GPTQ_FIRST_RELEASE_END(gptq_model_params, round_rope_to_weight_dtype);
inline constexpr size_t kModelInfoMinSize = GPTQ_FIRST_RELEASE_END(gptq_model_info, quant_format);
inline constexpr size_t kContextParamsMinSize = GPTQ_FIRST_RELEASE_END(gptq_context_params, n_threads);
inline constexpr size_t kGenerateParamsMinSize = GPTQ_FIRST_RELEASE_END(gptq_generate_params, user_data);
inline constexpr size_t kTimingsMinSize = GPTQ_FIRST_RELEASE_END(gptq_timings, generated_tokens_per_second);
inline constexpr size_t kStreamEventMinSize = GPTQ_FIRST_RELEASE_END(gptq_stream_event, finished);
inline constexpr size_t kQuantizeParamsMinSize = GPTQ_FIRST_RELEASE_END(gptq_quantize_params, progress_user_data);
inline constexpr size_t kSaveParamsMinSize = GPTQ_FIRST_RELEASE_END(gptq_save_params, max_shard_bytes);
inline constexpr size_t kPerplexityParamsMinSize = GPTQ_FIRST_RELEASE_END(gptq_perplexity_params, progress_user_data);
inline constexpr size_t kPerplexityResultMinSize = GPTQ_FIRST_RELEASE_END(gptq_perplexity_result, tokens_per_second);
// Introduced after 0.1.0: the size it had when it appeared.
inline constexpr size_t kScoreParamsMinSize = GPTQ_FIRST_RELEASE_END(gptq_score_params, add_special);

#undef GPTQ_FIRST_RELEASE_END

}  // namespace gptq::api
