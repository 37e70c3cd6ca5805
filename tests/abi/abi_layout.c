/* The layout of every public struct, frozen: a change here breaks programs
 * and bindings built against an earlier header. New fields go at the end of
 * a struct (struct_size tells the library which fields a caller has); then
 * add their asserts here. The first field appended to a struct must start
 * at or past the struct's previous sizeof: a caller built against the older
 * header passes that sizeof, tail padding included, and the padding must not
 * be read as the new field (GPTQ_ABI_APPENDED). Checked for the LP64 ABI
 * (x86-64, aarch64 Linux). */
#include <stddef.h>
#include "gptq.h"

#if defined(__LP64__)
#define GPTQ_ABI_SIZE(type, size) _Static_assert(sizeof(type) == (size), #type " changed size")
#define GPTQ_ABI_FIELD(type, field, offset) \
  _Static_assert(offsetof(type, field) == (offset), #type "." #field " moved")
#define GPTQ_ABI_APPENDED(type, field, previous_size) \
  _Static_assert(offsetof(type, field) >= (previous_size), #type "." #field " overlaps older callers' padding")

GPTQ_ABI_SIZE(gptq_model_params, 64);
GPTQ_ABI_FIELD(gptq_model_params, struct_size, 0);
GPTQ_ABI_FIELD(gptq_model_params, use_mmap, 4);
GPTQ_ABI_FIELD(gptq_model_params, progress, 8);
GPTQ_ABI_FIELD(gptq_model_params, progress_user_data, 16);
GPTQ_ABI_FIELD(gptq_model_params, round_rope_to_weight_dtype, 24);
/* Appended after 0.1.0: devices. */
GPTQ_ABI_APPENDED(gptq_model_params, device, 32);
GPTQ_ABI_FIELD(gptq_model_params, device, 32);
GPTQ_ABI_FIELD(gptq_model_params, n_gpu_layers, 40);
GPTQ_ABI_FIELD(gptq_model_params, compute_dtype, 44);
GPTQ_ABI_FIELD(gptq_model_params, max_memory, 48);
GPTQ_ABI_FIELD(gptq_model_params, plan_n_ctx, 56);
GPTQ_ABI_FIELD(gptq_model_params, plan_n_seq, 60);
GPTQ_ABI_SIZE(gptq_model_info, 176);
GPTQ_ABI_FIELD(gptq_model_info, struct_size, 0);
GPTQ_ABI_FIELD(gptq_model_info, architecture, 8);
GPTQ_ABI_FIELD(gptq_model_info, path, 16);
GPTQ_ABI_FIELD(gptq_model_info, tokenizer, 24);
GPTQ_ABI_FIELD(gptq_model_info, vocab_size, 32);
GPTQ_ABI_FIELD(gptq_model_info, n_layers, 36);
GPTQ_ABI_FIELD(gptq_model_info, hidden_size, 40);
GPTQ_ABI_FIELD(gptq_model_info, intermediate_size, 44);
GPTQ_ABI_FIELD(gptq_model_info, n_heads, 48);
GPTQ_ABI_FIELD(gptq_model_info, n_kv_heads, 52);
GPTQ_ABI_FIELD(gptq_model_info, head_dim, 56);
GPTQ_ABI_FIELD(gptq_model_info, max_position_embeddings, 60);
GPTQ_ABI_FIELD(gptq_model_info, weight_dtype, 64);
GPTQ_ABI_FIELD(gptq_model_info, tied_embeddings, 68);
GPTQ_ABI_FIELD(gptq_model_info, n_params, 72);
GPTQ_ABI_FIELD(gptq_model_info, weight_bytes, 80);
GPTQ_ABI_FIELD(gptq_model_info, rope_theta, 88);
GPTQ_ABI_FIELD(gptq_model_info, rope_type, 96);
GPTQ_ABI_FIELD(gptq_model_info, bos_token, 104);
GPTQ_ABI_FIELD(gptq_model_info, eos_token, 108);
GPTQ_ABI_FIELD(gptq_model_info, quant_bits, 112);
GPTQ_ABI_FIELD(gptq_model_info, quant_group_size, 116);
GPTQ_ABI_FIELD(gptq_model_info, quant_desc_act, 120);
GPTQ_ABI_FIELD(gptq_model_info, quant_sym, 124);
GPTQ_ABI_FIELD(gptq_model_info, quant_static_groups, 128);
GPTQ_ABI_FIELD(gptq_model_info, quant_format, 136);
/* Appended after 0.1.0: devices. */
GPTQ_ABI_APPENDED(gptq_model_info, device, 144);
GPTQ_ABI_FIELD(gptq_model_info, device, 144);
GPTQ_ABI_FIELD(gptq_model_info, placement, 152);
GPTQ_ABI_FIELD(gptq_model_info, n_gpu_layers, 160);
GPTQ_ABI_FIELD(gptq_model_info, compute_dtype, 164);
GPTQ_ABI_FIELD(gptq_model_info, gpu_weight_bytes, 168);
/* An array element: its layout is frozen for good (no struct_size). */
GPTQ_ABI_SIZE(gptq_chat_message, 16);
GPTQ_ABI_FIELD(gptq_chat_message, role, 0);
GPTQ_ABI_FIELD(gptq_chat_message, content, 8);
GPTQ_ABI_SIZE(gptq_context_params, 24);
GPTQ_ABI_FIELD(gptq_context_params, struct_size, 0);
GPTQ_ABI_FIELD(gptq_context_params, n_ctx, 4);
GPTQ_ABI_FIELD(gptq_context_params, n_seq_max, 8);
GPTQ_ABI_FIELD(gptq_context_params, n_batch, 12);
GPTQ_ABI_FIELD(gptq_context_params, n_threads, 16);
/* Appended after 0.1.0: devices. */
GPTQ_ABI_APPENDED(gptq_context_params, kv_dtype, 20);
GPTQ_ABI_FIELD(gptq_context_params, kv_dtype, 20);
GPTQ_ABI_SIZE(gptq_generate_params, 96);
GPTQ_ABI_FIELD(gptq_generate_params, struct_size, 0);
GPTQ_ABI_FIELD(gptq_generate_params, max_new_tokens, 4);
GPTQ_ABI_FIELD(gptq_generate_params, temperature, 8);
GPTQ_ABI_FIELD(gptq_generate_params, top_k, 12);
GPTQ_ABI_FIELD(gptq_generate_params, top_p, 16);
GPTQ_ABI_FIELD(gptq_generate_params, min_p, 20);
GPTQ_ABI_FIELD(gptq_generate_params, repetition_penalty, 24);
GPTQ_ABI_FIELD(gptq_generate_params, repetition_last_n, 28);
GPTQ_ABI_FIELD(gptq_generate_params, seed, 32);
GPTQ_ABI_FIELD(gptq_generate_params, add_special, 40);
GPTQ_ABI_FIELD(gptq_generate_params, stop_on_eos, 44);
GPTQ_ABI_FIELD(gptq_generate_params, stop_strings, 48);
GPTQ_ABI_FIELD(gptq_generate_params, n_stop_strings, 56);
GPTQ_ABI_FIELD(gptq_generate_params, on_token, 64);
GPTQ_ABI_FIELD(gptq_generate_params, user_data, 72);
/* Appended after 0.1.0: beam search. */
GPTQ_ABI_APPENDED(gptq_generate_params, num_beams, 80);
GPTQ_ABI_FIELD(gptq_generate_params, num_beams, 80);
GPTQ_ABI_FIELD(gptq_generate_params, length_penalty, 84);
GPTQ_ABI_FIELD(gptq_generate_params, early_stopping, 88);
GPTQ_ABI_FIELD(gptq_generate_params, num_return_sequences, 92);
GPTQ_ABI_SIZE(gptq_timings, 56);
GPTQ_ABI_FIELD(gptq_timings, struct_size, 0);
GPTQ_ABI_FIELD(gptq_timings, prompt_tokens, 8);
GPTQ_ABI_FIELD(gptq_timings, prompt_seconds, 16);
GPTQ_ABI_FIELD(gptq_timings, generated_tokens, 24);
GPTQ_ABI_FIELD(gptq_timings, generate_seconds, 32);
GPTQ_ABI_FIELD(gptq_timings, prompt_tokens_per_second, 40);
GPTQ_ABI_FIELD(gptq_timings, generated_tokens_per_second, 48);
GPTQ_ABI_SIZE(gptq_stream_event, 40);
GPTQ_ABI_FIELD(gptq_stream_event, struct_size, 0);
GPTQ_ABI_FIELD(gptq_stream_event, sequence, 4);
GPTQ_ABI_FIELD(gptq_stream_event, token, 8);
GPTQ_ABI_FIELD(gptq_stream_event, text, 16);
GPTQ_ABI_FIELD(gptq_stream_event, text_len, 24);
GPTQ_ABI_FIELD(gptq_stream_event, finished, 32);
GPTQ_ABI_SIZE(gptq_quantize_params, 120);
GPTQ_ABI_FIELD(gptq_quantize_params, struct_size, 0);
GPTQ_ABI_FIELD(gptq_quantize_params, bits, 4);
GPTQ_ABI_FIELD(gptq_quantize_params, group_size, 8);
GPTQ_ABI_FIELD(gptq_quantize_params, desc_act, 12);
GPTQ_ABI_FIELD(gptq_quantize_params, sym, 16);
GPTQ_ABI_FIELD(gptq_quantize_params, static_groups, 20);
GPTQ_ABI_FIELD(gptq_quantize_params, true_sequential, 24);
GPTQ_ABI_FIELD(gptq_quantize_params, damp_percent, 28);
GPTQ_ABI_FIELD(gptq_quantize_params, method, 32);
GPTQ_ABI_FIELD(gptq_quantize_params, mse, 36);
GPTQ_ABI_FIELD(gptq_quantize_params, skip_modules, 40);
GPTQ_ABI_FIELD(gptq_quantize_params, n_skip_modules, 48);
GPTQ_ABI_FIELD(gptq_quantize_params, n_threads, 52);
GPTQ_ABI_FIELD(gptq_quantize_params, progress, 56);
GPTQ_ABI_FIELD(gptq_quantize_params, progress_user_data, 64);
/* Appended after 0.1.0: per-stage timings. */
GPTQ_ABI_APPENDED(gptq_quantize_params, report, 72);
GPTQ_ABI_FIELD(gptq_quantize_params, report, 72);
GPTQ_ABI_FIELD(gptq_quantize_params, report_user_data, 80);
GPTQ_ABI_APPENDED(gptq_quantize_params, device, 88);
GPTQ_ABI_FIELD(gptq_quantize_params, device, 88);
GPTQ_ABI_FIELD(gptq_quantize_params, compute_dtype, 96);
GPTQ_ABI_FIELD(gptq_quantize_params, max_device_bytes, 104);
GPTQ_ABI_APPENDED(gptq_quantize_params, calibrate_all_experts, 112);
GPTQ_ABI_FIELD(gptq_quantize_params, calibrate_all_experts, 112);
GPTQ_ABI_FIELD(gptq_quantize_params, min_expert_tokens, 116);
GPTQ_ABI_SIZE(gptq_quantize_module_report, 80);
GPTQ_ABI_FIELD(gptq_quantize_module_report, struct_size, 0);
GPTQ_ABI_FIELD(gptq_quantize_module_report, layer, 4);
GPTQ_ABI_FIELD(gptq_quantize_module_report, n_layers, 8);
GPTQ_ABI_FIELD(gptq_quantize_module_report, module, 16);
GPTQ_ABI_FIELD(gptq_quantize_module_report, loss, 24);
GPTQ_ABI_FIELD(gptq_quantize_module_report, fraction, 32);
GPTQ_ABI_FIELD(gptq_quantize_module_report, forward_seconds, 40);
GPTQ_ABI_FIELD(gptq_quantize_module_report, hessian_seconds, 48);
GPTQ_ABI_FIELD(gptq_quantize_module_report, factorization_seconds, 56);
GPTQ_ABI_FIELD(gptq_quantize_module_report, gptq_seconds, 64);
GPTQ_ABI_FIELD(gptq_quantize_module_report, packing_seconds, 72);
GPTQ_ABI_SIZE(gptq_save_params, 16);
GPTQ_ABI_FIELD(gptq_save_params, struct_size, 0);
GPTQ_ABI_FIELD(gptq_save_params, format, 4);
GPTQ_ABI_FIELD(gptq_save_params, max_shard_bytes, 8);
/* An array element: its layout is frozen for good (no struct_size). */
GPTQ_ABI_SIZE(gptq_score_request, 16);
GPTQ_ABI_FIELD(gptq_score_request, context, 0);
GPTQ_ABI_FIELD(gptq_score_request, continuation, 8);
GPTQ_ABI_SIZE(gptq_score_params, 8);
GPTQ_ABI_FIELD(gptq_score_params, struct_size, 0);
GPTQ_ABI_FIELD(gptq_score_params, add_special, 4);
GPTQ_ABI_SIZE(gptq_perplexity_params, 32);
GPTQ_ABI_FIELD(gptq_perplexity_params, struct_size, 0);
GPTQ_ABI_FIELD(gptq_perplexity_params, window, 4);
GPTQ_ABI_FIELD(gptq_perplexity_params, add_bos, 8);
GPTQ_ABI_FIELD(gptq_perplexity_params, max_windows, 12);
GPTQ_ABI_FIELD(gptq_perplexity_params, progress, 16);
GPTQ_ABI_FIELD(gptq_perplexity_params, progress_user_data, 24);
GPTQ_ABI_SIZE(gptq_perplexity_result, 64);
GPTQ_ABI_FIELD(gptq_perplexity_result, struct_size, 0);
GPTQ_ABI_FIELD(gptq_perplexity_result, perplexity, 8);
GPTQ_ABI_FIELD(gptq_perplexity_result, mean_nll, 16);
GPTQ_ABI_FIELD(gptq_perplexity_result, n_scored, 24);
GPTQ_ABI_FIELD(gptq_perplexity_result, n_text_tokens, 32);
GPTQ_ABI_FIELD(gptq_perplexity_result, n_windows, 40);
GPTQ_ABI_FIELD(gptq_perplexity_result, seconds, 48);
GPTQ_ABI_FIELD(gptq_perplexity_result, tokens_per_second, 56);
#endif

int main(void) { return 0; }
