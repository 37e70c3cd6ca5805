/*
 * libgptq: GPTQ quantization and quantized inference for large language models.
 *
 * The whole public interface is this C header. Conventions:
 *
 *  - Every call that can fail returns a gptq_status; GPTQ_OK is 0 and errors
 *    are negative. gptq_last_error() then holds a message for the calling
 *    thread naming the file, tensor or parameter at fault.
 *  - Handles are opaque. Whatever a *_load or *_new call creates, the
 *    matching *_free releases; every *_free accepts NULL.
 *  - Parameter structs begin with `struct_size`. Fill them with the matching
 *    gptq_*_default_params(&params, sizeof params) before changing fields:
 *    the library reads only the fields a caller's struct has, so a program
 *    built against an older header keeps working with a newer library.
 *    Passing NULL for a params pointer means "all defaults".
 *  - Output structs (model info, results) also begin with `struct_size`:
 *    set it to sizeof the struct; the library fills what fits.
 *  - Strings are UTF-8. Strings returned by the library are owned by the
 *    object they come from and stay valid as long as it does. One exception:
 *    gptq_model_token_text and gptq_detokenize give a vocabulary's bytes as
 *    the model file holds them, which a file may make invalid UTF-8.
 *  - Threads: a gptq_model is immutable after loading and may be shared by
 *    any number of threads. A gptq_context (KV cache and scratch) belongs to
 *    one thread at a time; use one context per concurrent generation, and
 *    so does a gptq_stream, which uses its context. A context must not
 *    outlive its model. Results (gptq_generation, gptq_scores) are
 *    read-only once made and may be read from any thread. Errors are kept
 *    per thread.
 *  - Model files are untrusted input: a malformed file gives a status and a
 *    message naming the file and field, never a crash. JSON nested deeper
 *    than 128 levels is refused; the shards an index names must lie in the
 *    model directory (symlinks there are followed, as the Hugging Face
 *    cache is made of them). Messages may include file system paths.
 *  - The library never prints; it reports through the log callback.
 */
#ifndef GPTQ_H
#define GPTQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  if defined(GPTQ_BUILDING_LIBRARY)
#    define GPTQ_API __declspec(dllexport)
#  else
#    define GPTQ_API __declspec(dllimport)
#  endif
#else
#  define GPTQ_API __attribute__((visibility("default")))
#endif

#if defined(__GNUC__) && !defined(SWIG)
#  define GPTQ_NODISCARD __attribute__((warn_unused_result))
#else
#  define GPTQ_NODISCARD
#endif

/* ------------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------------ */

#define GPTQ_VERSION_MAJOR 0
#define GPTQ_VERSION_MINOR 1
#define GPTQ_VERSION_PATCH 0
#define GPTQ_VERSION_STRING "0.1.0"
/* MAJOR * 10000 + MINOR * 100 + PATCH, comparable with gptq_version(). */
#define GPTQ_VERSION_NUMBER \
    (GPTQ_VERSION_MAJOR * 10000 + GPTQ_VERSION_MINOR * 100 + GPTQ_VERSION_PATCH)

/* The version of the library actually loaded, as GPTQ_VERSION_NUMBER. */
GPTQ_API uint32_t gptq_version(void);
/* The same as a string, e.g. "0.1.0". Static storage. */
GPTQ_API const char *gptq_version_string(void);

/* ------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------ */

typedef enum gptq_status {
    GPTQ_OK = 0,
    GPTQ_ERR_INVALID_ARGUMENT = -1, /* a NULL handle, a bad parameter value */
    GPTQ_ERR_NOT_FOUND = -2,        /* a file, tensor or token that is not there */
    GPTQ_ERR_IO = -3,               /* reading or writing a file failed */
    GPTQ_ERR_FORMAT = -4,           /* a file is malformed or inconsistent */
    GPTQ_ERR_UNSUPPORTED = -5,      /* valid input this build cannot handle */
    GPTQ_ERR_OUT_OF_MEMORY = -6,
    GPTQ_ERR_BUFFER_TOO_SMALL = -7, /* the size needed is returned beside it */
    GPTQ_ERR_CANCELLED = -8,        /* a progress callback asked to stop */
    GPTQ_ERR_CONTEXT_FULL = -9,     /* the KV cache has no room left */
    GPTQ_ERR_DEVICE = -10,          /* the GPU failed (a fault, a lost device): the message says how */
    GPTQ_ERR_INTERNAL = -99         /* a bug in libgptq: please report it */
} gptq_status;

/* The message of the last failing call on this thread, or "" after a call
 * that succeeded. Never NULL; valid until this thread's next libgptq call. */
GPTQ_API const char *gptq_last_error(void);
/* A fixed name for a status, e.g. "GPTQ_ERR_NOT_FOUND". Static storage. */
GPTQ_API const char *gptq_status_name(gptq_status status);

/* ------------------------------------------------------------------------
 * Logging and progress
 * ------------------------------------------------------------------------ */

typedef enum gptq_log_level {
    GPTQ_LOG_DEBUG = 0,
    GPTQ_LOG_INFO = 1,
    GPTQ_LOG_WARN = 2,
    GPTQ_LOG_ERROR = 3,
    GPTQ_LOG_NONE = 4
} gptq_log_level;

/* Receives one complete message (no trailing newline). May be called from
 * any thread that is inside a libgptq call; the callback must be
 * thread-safe if several threads use the library. */
typedef void (*gptq_log_fn)(int32_t level, const char *message, void *user_data);

/* Installs the process-wide log callback (NULL: discard messages) and the
 * lowest level delivered. By default nothing is logged. */
GPTQ_API void gptq_log_set(gptq_log_fn callback, void *user_data, int32_t min_level);

/* Reports progress of long work: `fraction` runs from 0 to 1, `stage` names
 * the step ("load", "perplexity", ...). Return nonzero to cancel: the
 * running call then returns GPTQ_ERR_CANCELLED. */
typedef int32_t (*gptq_progress_fn)(float fraction, const char *stage, void *user_data);

/* ------------------------------------------------------------------------
 * Capabilities
 * ------------------------------------------------------------------------ */

enum {
    GPTQ_FEATURE_AVX2 = 1u << 0,     /* CPU kernels for AVX2+FMA+F16C available and usable */
    GPTQ_FEATURE_AVX512 = 1u << 1,   /* CPU kernels for AVX-512 available and usable */
    /* The GPU flags say what the library was built with, not that a GPU is
     * there: gptq_device_count() tells whether one is usable. */
    GPTQ_FEATURE_CUDA = 1u << 8,     /* built with CUDA support */
    GPTQ_FEATURE_HIP = 1u << 9       /* built with ROCm HIP support */
};
/* A bit set of GPTQ_FEATURE_* for this build on this machine. */
GPTQ_API uint32_t gptq_features(void);
/* A one-line description of the build, the CPU kernels chosen and the GPUs,
 * e.g. "libgptq 0.1.0 cpu=avx512 threads=2 cuda=no gpu=none (why)" or
 * "... cuda=yes gpus=[0: NVIDIA H200, sm_90, 139.8 GiB]". Static storage. */
GPTQ_API const char *gptq_system_info(void);
/* GPUs this build can use: 0 without GPU support, a driver or a device. */
GPTQ_API int32_t gptq_device_count(void);
/* A description of GPU `index` ("NVIDIA H200, sm_90, 139.8 GiB"), or NULL
 * when out of range. Static storage. */
GPTQ_API const char *gptq_device_name(int32_t index);

/* ------------------------------------------------------------------------
 * Model
 * ------------------------------------------------------------------------ */

typedef struct gptq_model gptq_model;
typedef struct gptq_context gptq_context;

typedef enum gptq_dtype {
    GPTQ_DTYPE_AUTO = -1,   /* in params: let the library choose */
    GPTQ_DTYPE_F32 = 0,
    GPTQ_DTYPE_F16 = 1,
    GPTQ_DTYPE_BF16 = 2
} gptq_dtype;

typedef struct gptq_model_params {
    uint32_t struct_size;
    /* Map the safetensors files instead of reading them (default 1). */
    int32_t use_mmap;
    /* Called while loading; may cancel. NULL: no reports. */
    gptq_progress_fn progress;
    void *progress_user_data;
    /* Round the rotary frequencies to the weights' fp16/bf16 type, as
     * transformers does for a model it holds in that dtype (they are a
     * buffer the cast rounds); reproduces such a model's logits exactly.
     * Default 0: exact frequencies, as transformers in fp32, vLLM and
     * llama.cpp use. */
    int32_t round_rope_to_weight_dtype;
    /* Where the model runs: "cpu" (default), "cuda" (the first GPU),
     * "cuda:N", or "auto" (the first usable GPU, else the CPU). A HIP build
     * names AMD GPUs "cuda" too. NULL: "cpu". A GPU that is not there fails
     * the load with GPTQ_ERR_UNSUPPORTED and the reason. A comma-separated
     * list ("cuda:0,cuda:1,cpu") places the model by memory, as max_memory
     * below does; "cpu" in the list lets layers overflow to the CPU. */
    const char *device;
    /* With a GPU device: the decoder layers placed on it (the last ones,
     * with their KV cache, plus the head); the rest stay on the CPU.
     * -1 (default): all; 0: none. Ignored for the CPU. */
    int32_t n_gpu_layers;
    /* Activation type of the GPU parts: GPTQ_DTYPE_AUTO (default: bf16 for
     * bf16 checkpoints, fp16 otherwise), F16, BF16, or F32 for parity runs. */
    int32_t compute_dtype;
    /* Memory budgets in the style of accelerate's max_memory:
     * "cuda:0=30GiB,cuda:1=46GiB,cpu=30GiB" (B, KB/KiB, MB/MiB, GB/GiB,
     * TB/TiB). With it, or with a device list, the embeddings and head go on
     * the first GPU and whole decoder layers, each with its KV cache, fill
     * the devices in order; a GPU without a budget may take 90% of its free
     * memory less 1 GiB, the CPU (when named) all it needs. A model that
     * does not fit fails with GPTQ_ERR_OUT_OF_MEMORY naming the bytes each
     * device was asked for. NULL or "": n_gpu_layers decides. The plan
     * sizes the KV caches for contexts of plan_n_ctx positions (0: the
     * default context's) and plan_n_seq sequences (default 1). */
    const char *max_memory;
    int32_t plan_n_ctx;
    int32_t plan_n_seq;
} gptq_model_params;

/* Fills `params` (of `struct_size` bytes, normally sizeof *params) with
 * defaults and sets params->struct_size. */
GPTQ_API void gptq_model_default_params(gptq_model_params *params, size_t struct_size);

/* Loads a Hugging Face checkpoint directory: config.json, model.safetensors
 * or model.safetensors.index.json with its shards (fp32, fp16 or bf16), and
 * tokenizer.json or tokenizer.model with tokenizer_config.json.
 * PyTorch pickle files (.bin, .pt) are refused. On success *out_model
 * receives a model to release with gptq_model_free. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_model_load(const char *path,
                                                    const gptq_model_params *params,
                                                    gptq_model **out_model);
GPTQ_API void gptq_model_free(gptq_model *model);

typedef struct gptq_model_info {
    uint32_t struct_size;        /* set by the caller: sizeof(gptq_model_info) */
    const char *architecture;    /* config.json's model_type, e.g. "llama" */
    const char *path;            /* the directory it was loaded from */
    const char *tokenizer;       /* "sentencepiece" or "bpe" */
    int32_t vocab_size;
    int32_t n_layers;
    int32_t hidden_size;
    int32_t intermediate_size;
    int32_t n_heads;
    int32_t n_kv_heads;
    int32_t head_dim;
    int32_t max_position_embeddings;
    int32_t weight_dtype;        /* gptq_dtype of the stored float weights */
    int32_t tied_embeddings;     /* 1 when lm_head shares the embedding matrix */
    int64_t n_params;            /* parameters as stored (packed weights counted unpacked) */
    int64_t weight_bytes;        /* bytes of weights held for inference */
    float rope_theta;
    const char *rope_type;       /* "default", "linear", "llama3", ... or "none" */
    int32_t bos_token;           /* -1 when the model has none */
    int32_t eos_token;           /* the first end-of-generation token, -1 when none */
    /* Quantization: quant_bits is 0 for a float model. */
    int32_t quant_bits;
    int32_t quant_group_size;    /* -1: one group per output column */
    int32_t quant_desc_act;
    int32_t quant_sym;
    int32_t quant_static_groups;
    const char *quant_format;    /* "gptq", "gptq_v2", or "" for a float model */
    /* Placement. */
    const char *device;          /* "cpu", "cuda:0", or "cuda:0+cpu" for a split */
    const char *placement;       /* every part: "embedding=cpu layers[0-9]=cpu layers[10-31]=cuda:0 head=cuda:0" */
    int32_t n_gpu_layers;        /* decoder layers on a GPU */
    int32_t compute_dtype;       /* gptq_dtype of the GPU parts' activations; GPTQ_DTYPE_F32 when all is on the CPU */
    int64_t gpu_weight_bytes;    /* weight bytes held on GPUs */
} gptq_model_info;

/* Fills `info` (info->struct_size must be set). The strings are owned by
 * the model. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_model_get_info(const gptq_model *model,
                                                        gptq_model_info *info);

/* The vocabulary entry of a token as the tokenizer stores it (e.g. "▁the",
 * "<0x0A>", "Ġworld"), owned by the model; NULL for an id out of range. */
GPTQ_API const char *gptq_model_token_text(const gptq_model *model, int32_t token);
/* 1 when generation ends at `token` (EOS and the model's other stop ids). */
GPTQ_API int32_t gptq_model_token_is_eog(const gptq_model *model, int32_t token);

/* ------------------------------------------------------------------------
 * Tokenization
 * ------------------------------------------------------------------------ */

enum {
    /* Add the BOS/EOS tokens the tokenizer's configuration asks for. */
    GPTQ_TOKENIZE_ADD_SPECIAL = 1u << 0,
    /* Match special-token text such as "<s>" or "<|im_end|>" in the input
     * as those tokens (otherwise it is tokenized as plain text). */
    GPTQ_TOKENIZE_PARSE_SPECIAL = 1u << 1
};

/* Tokenizes `text_len` bytes of UTF-8. Writes up to `capacity` ids to
 * `tokens` and the number of ids to *n_tokens. When capacity is too small,
 * returns GPTQ_ERR_BUFFER_TOO_SMALL with *n_tokens set to the number needed
 * (call once with capacity 0 to size the buffer). Invalid UTF-8 is
 * GPTQ_ERR_INVALID_ARGUMENT. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_tokenize(const gptq_model *model, const char *text,
                                                  size_t text_len, uint32_t flags,
                                                  int32_t *tokens, size_t capacity,
                                                  size_t *n_tokens);

enum {
    /* Leave BOS, EOS and other special tokens out of the text. */
    GPTQ_DETOKENIZE_SKIP_SPECIAL = 1u << 0
};

/* Turns token ids back into UTF-8 text. Writes the text and a terminating
 * NUL to `text` when `capacity` > its length, and the length (without the
 * NUL) to *text_len; otherwise returns GPTQ_ERR_BUFFER_TOO_SMALL with
 * *text_len set. Bytes of an incomplete UTF-8 sequence at the end are kept
 * as they are (a stream may complete them with the next token). */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_detokenize(const gptq_model *model,
                                                    const int32_t *tokens, size_t n_tokens,
                                                    uint32_t flags, char *text,
                                                    size_t capacity, size_t *text_len);

/* ------------------------------------------------------------------------
 * Chat templates
 * ------------------------------------------------------------------------ */

/* One message of a conversation. `content` may be NULL: the template then
 * sees None (as for an assistant message that only calls tools). Passed as
 * an array, so it has no struct_size and its layout never changes. */
typedef struct gptq_chat_message {
    const char *role;       /* "system", "user", "assistant", ... */
    const char *content;
} gptq_chat_message;

/* Renders a conversation into the prompt text the model was trained on, as
 * transformers' apply_chat_template(messages, tokenize=False) does: the
 * model's Jinja template (chat_template.jinja, else tokenizer_config.json's
 * chat_template) with messages, add_generation_prompt (nonzero: end with
 * the opening of the assistant's reply), the special tokens of
 * tokenizer_config.json (bos_token, eos_token, ...) and tools = documents =
 * None. `template_override`, when not NULL, is rendered instead of the
 * model's template (with the model's special tokens).
 *
 * Writes the text and a terminating NUL to `text` when `capacity` > its
 * length, and the length (without the NUL) to *text_len; otherwise returns
 * GPTQ_ERR_BUFFER_TOO_SMALL with *text_len set (call with capacity 0 to
 * size the buffer). This is gptq_detokenize's convention: the text is
 * cheap to render again, and the caller owns every byte (no free function).
 *
 * GPTQ_ERR_NOT_FOUND: the model has no template and none was passed.
 * GPTQ_ERR_FORMAT: the template is malformed or fails while rendering; the
 * message names the construct and its line:col.
 * GPTQ_ERR_UNSUPPORTED: valid Jinja outside the subset libgptq implements.
 * GPTQ_ERR_INVALID_ARGUMENT: a NULL argument or role, or the template
 * refused the messages with raise_exception (its message is kept).
 *
 * The template writes BOS and the other special tokens itself: tokenize the
 * text with GPTQ_TOKENIZE_PARSE_SPECIAL but without ADD_SPECIAL, or give it
 * to gptq_generate with add_special = 0. The model's files are read at each
 * call; nothing is kept, so any thread may call this on a shared model. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_chat_apply_template(const gptq_model *model,
                                                             const char *template_override,
                                                             const gptq_chat_message *messages,
                                                             size_t n_messages,
                                                             int32_t add_generation_prompt,
                                                             char *text, size_t capacity,
                                                             size_t *text_len);

/* ------------------------------------------------------------------------
 * Context: KV cache, scratch memory and worker threads for one user
 * ------------------------------------------------------------------------ */

typedef struct gptq_context_params {
    uint32_t struct_size;
    /* Tokens each sequence can hold (prompt + generated). 0: the model's
     * max_position_embeddings, at most 4096. */
    int32_t n_ctx;
    /* Sequences held at once: the largest batch of prompts (default 1). */
    int32_t n_seq_max;
    /* Most tokens run through the model in one step (default 512); longer
     * inputs are split. */
    int32_t n_batch;
    /* Worker threads, the caller's included. 0: one per physical core. */
    int32_t n_threads;
    /* KV cache type of the layers on a GPU: GPTQ_DTYPE_AUTO (default: the
     * model's compute_dtype), F16, BF16 or F32. CPU layers keep fp32. */
    int32_t kv_dtype;
} gptq_context_params;

GPTQ_API void gptq_context_default_params(gptq_context_params *params, size_t struct_size);
GPTQ_API GPTQ_NODISCARD gptq_status gptq_context_new(const gptq_model *model,
                                                     const gptq_context_params *params,
                                                     gptq_context **out_context);
GPTQ_API void gptq_context_free(gptq_context *context);

/* The context's effective settings (defaults resolved). */
GPTQ_API int32_t gptq_context_n_ctx(const gptq_context *context);
GPTQ_API int32_t gptq_context_n_seq_max(const gptq_context *context);
GPTQ_API int32_t gptq_context_n_threads(const gptq_context *context);

/* Forgets what sequence `seq_id` holds (-1: every sequence). */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_context_clear(gptq_context *context, int32_t seq_id);
/* Tokens currently held by sequence `seq_id`, or -1 for a bad id. */
GPTQ_API int32_t gptq_context_seq_length(const gptq_context *context, int32_t seq_id);

typedef enum gptq_logits_mode {
    GPTQ_LOGITS_NONE = 0,  /* only fill the KV cache */
    GPTQ_LOGITS_LAST = 1,  /* logits of the last token: vocab_size floats */
    GPTQ_LOGITS_ALL = 2    /* logits of every token: n_tokens * vocab_size floats */
} gptq_logits_mode;

/* Appends `n_tokens` tokens to sequence `seq_id` and runs the model over
 * them, attending to what the sequence already holds. Writes logits as
 * `mode` asks into `logits` (room for `logits_capacity` floats).
 * GPTQ_ERR_CONTEXT_FULL when the sequence would exceed n_ctx. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_context_eval(gptq_context *context, int32_t seq_id,
                                                      const int32_t *tokens, size_t n_tokens,
                                                      int32_t mode, float *logits,
                                                      size_t logits_capacity);

/* ------------------------------------------------------------------------
 * Generation
 * ------------------------------------------------------------------------ */

/* Receives each piece of generated text as soon as it is complete UTF-8.
 * `sequence` is the prompt's index in the batch, `token` the id just
 * sampled (text may be empty while a multi-byte character is incomplete).
 * Return nonzero to stop that sequence. */
typedef int32_t (*gptq_token_fn)(int32_t sequence, int32_t token, const char *text,
                                 size_t text_len, void *user_data);

typedef struct gptq_generate_params {
    uint32_t struct_size;
    int32_t max_new_tokens;      /* default 128 */
    float temperature;           /* 0: greedy (default) */
    int32_t top_k;               /* 0: off (default) */
    float top_p;                 /* 1: off (default) */
    float min_p;                 /* 0: off (default) */
    float repetition_penalty;    /* 1: off (default); as in transformers */
    int32_t repetition_last_n;   /* tokens the penalty looks back over; 0: all */
    uint64_t seed;               /* sampling seed (default 0) */
    int32_t add_special;         /* add BOS etc. as the tokenizer asks (default 1) */
    int32_t stop_on_eos;         /* stop at end-of-generation tokens (default 1) */
    const char *const *stop_strings; /* stop when the text contains one (it is cut off) */
    int32_t n_stop_strings;
    gptq_token_fn on_token;      /* streaming callback, or NULL */
    void *user_data;
    /* Appended after 0.1.0: beam search, as transformers' generate defines
     * it (do_sample=False). With num_beams > 1 each prompt needs num_beams
     * sequences of the context (n_seq_max >= n_prompts * num_beams); the
     * beams share the prompt's KV cache. Sampling, repetition_penalty,
     * stop_strings, on_token and gptq_stream_begin are refused with
     * GPTQ_ERR_UNSUPPORTED. */
    int32_t num_beams;            /* default 1: no beam search */
    float length_penalty;         /* scores are sum log p / length^length_penalty (default 1) */
    int32_t early_stopping;       /* gptq_early_stopping (default GPTQ_EARLY_STOPPING_FALSE) */
    int32_t num_return_sequences; /* per prompt, 1..num_beams (default 1) */
} gptq_generate_params;

/* When beam search stops, as transformers' early_stopping values. */
typedef enum gptq_early_stopping {
    /* False: when the best running beam, scored at its current length,
     * cannot beat the worst of num_beams finished hypotheses. */
    GPTQ_EARLY_STOPPING_FALSE = 0,
    /* True: as soon as num_beams hypotheses are finished. */
    GPTQ_EARLY_STOPPING_TRUE = 1,
    /* "never": only when no running beam could beat them at any length up
     * to max_new_tokens (the canonical beam search with length_penalty 0). */
    GPTQ_EARLY_STOPPING_NEVER = 2
} gptq_early_stopping;

GPTQ_API void gptq_generate_default_params(gptq_generate_params *params, size_t struct_size);

typedef enum gptq_stop_reason {
    GPTQ_STOP_LENGTH = 0,       /* max_new_tokens reached */
    GPTQ_STOP_EOS = 1,          /* an end-of-generation token */
    GPTQ_STOP_STRING = 2,       /* one of stop_strings appeared */
    GPTQ_STOP_CALLBACK = 3,     /* the token callback returned nonzero */
    GPTQ_STOP_CONTEXT_FULL = 4  /* the sequence reached n_ctx */
} gptq_stop_reason;

/* The result of a generation: one entry per prompt, or with beam search
 * num_return_sequences entries per prompt (prompt-major, best first). */
typedef struct gptq_generation gptq_generation;

/* Generates a continuation of `prompt` in sequence 0 of the context (which
 * is cleared first). On success *out receives the result, to release with
 * gptq_generation_free. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_generate(gptq_context *context, const char *prompt,
                                                  const gptq_generate_params *params,
                                                  gptq_generation **out);
/* Generates continuations of `n_prompts` prompts together, sequence i for
 * prompt i; the context needs n_seq_max >= n_prompts. Sampling of prompt i
 * is seeded with seed + i. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_generate_batch(gptq_context *context,
                                                        const char *const *prompts,
                                                        size_t n_prompts,
                                                        const gptq_generate_params *params,
                                                        gptq_generation **out);

GPTQ_API size_t gptq_generation_count(const gptq_generation *generation);
/* The generated text of entry `index` (without the prompt), NUL-terminated;
 * NULL for an index out of range. */
GPTQ_API const char *gptq_generation_text(const gptq_generation *generation, size_t index);
/* The generated token ids of entry `index`: sets *tokens (owned by the
 * generation) and returns their number. */
GPTQ_API size_t gptq_generation_tokens(const gptq_generation *generation, size_t index,
                                       const int32_t **tokens);
/* The prompt's token ids as fed to the model (BOS included). */
GPTQ_API size_t gptq_generation_prompt_tokens(const gptq_generation *generation, size_t index,
                                              const int32_t **tokens);
/* A gptq_stop_reason, or -1 for an index out of range. */
GPTQ_API int32_t gptq_generation_stop_reason(const gptq_generation *generation, size_t index);
/* The index of the prompt entry `index` continues, or -1 for an index out
 * of range. */
GPTQ_API int32_t gptq_generation_prompt_index(const gptq_generation *generation, size_t index);
/* Beam search's score of entry `index` (transformers' sequences_scores):
 * the sum of its tokens' log-probabilities, end-of-generation token
 * included, over (number of tokens)^length_penalty. NaN without beam
 * search (num_beams 1) or for an index out of range. */
GPTQ_API double gptq_generation_score(const gptq_generation *generation, size_t index);

typedef struct gptq_timings {
    uint32_t struct_size;        /* set by the caller */
    int64_t prompt_tokens;       /* tokens evaluated as prompt (all entries) */
    double prompt_seconds;
    int64_t generated_tokens;    /* tokens sampled (all entries); beam search: tokens appended to beams */
    double generate_seconds;
    double prompt_tokens_per_second;
    double generated_tokens_per_second;
} gptq_timings;

GPTQ_API GPTQ_NODISCARD gptq_status gptq_generation_timings(const gptq_generation *generation,
                                                            gptq_timings *timings);
GPTQ_API void gptq_generation_free(gptq_generation *generation);

/* Pull-style generation: the same as gptq_generate_batch, but the caller
 * takes the tokens one at a time (suits bindings and event loops better
 * than a callback). The stream uses the context until it is freed. */
typedef struct gptq_stream gptq_stream;

typedef struct gptq_stream_event {
    uint32_t struct_size;    /* set by the caller */
    int32_t sequence;        /* the prompt's index */
    int32_t token;           /* the token just sampled */
    const char *text;        /* text it released (complete UTF-8, NUL-terminated), owned by the stream, valid until the next call */
    size_t text_len;
    int32_t finished;        /* 1 when this sequence stopped with this token */
} gptq_stream_event;

/* Starts generating; params->on_token is not used. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_stream_begin(gptq_context *context,
                                                      const char *const *prompts, size_t n_prompts,
                                                      const gptq_generate_params *params,
                                                      gptq_stream **out);
/* Fills *event with the next token of some sequence and sets *done to 0,
 * or sets *done to 1 once every sequence has stopped. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_stream_next(gptq_stream *stream, gptq_stream_event *event,
                                                     int32_t *done);
/* Stops one sequence before its next token (stop reason GPTQ_STOP_CALLBACK). */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_stream_stop(gptq_stream *stream, int32_t sequence);
/* The generation so far (complete once done) as a new gptq_generation. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_stream_result(const gptq_stream *stream,
                                                       gptq_generation **out);
GPTQ_API void gptq_stream_free(gptq_stream *stream);

/* ------------------------------------------------------------------------
 * Quantization
 * ------------------------------------------------------------------------ */

/* Calibration data: token sequences the quantizer runs through the model. */
typedef struct gptq_calibration gptq_calibration;

/* An empty set; add samples with gptq_calibration_add. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_calibration_new(gptq_calibration **out);
/* Adds one sample of token ids (copied). */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_calibration_add(gptq_calibration *calibration,
                                                         const int32_t *tokens, size_t n_tokens);
/* `n_samples` windows of `seqlen` tokens at random offsets (seeded) of a
 * text tokenized once without BOS: how the GPTQ paper samples WikiText-2. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_calibration_from_text(const gptq_model *model,
                                                               const char *text, size_t text_len,
                                                               int32_t n_samples, int32_t seqlen,
                                                               uint64_t seed,
                                                               gptq_calibration **out);
/* One sample per text, with the tokenizer's BOS, cut to `seqlen` tokens. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_calibration_from_texts(const gptq_model *model,
                                                                const char *const *texts,
                                                                size_t n_texts, int32_t seqlen,
                                                                gptq_calibration **out);
/* From a file: JSON lines (".jsonl": one sample per line, its "text" or its
 * pre-tokenized "input_ids", at most n_samples of them, each cut to seqlen)
 * or plain text (random windows as above). */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_calibration_from_file(const gptq_model *model,
                                                               const char *path,
                                                               int32_t n_samples, int32_t seqlen,
                                                               uint64_t seed,
                                                               gptq_calibration **out);
GPTQ_API size_t gptq_calibration_count(const gptq_calibration *calibration);
GPTQ_API void gptq_calibration_free(gptq_calibration *calibration);

typedef enum gptq_quant_method {
    GPTQ_METHOD_GPTQ = 0, /* GPTQ with calibration data */
    GPTQ_METHOD_RTN = 1   /* round-to-nearest, the baseline (no calibration) */
} gptq_quant_method;

/* Called after each quantized module: its layer, the module's full name,
 * its average GPTQ loss (AutoGPTQ's "avg loss"; 0 for RTN) and the fraction
 * of all modules done. Return nonzero to cancel. */
typedef int32_t (*gptq_quantize_progress_fn)(int32_t layer, int32_t n_layers, const char *module,
                                             double loss, float fraction, void *user_data);

/* One quantized module, for gptq_quantize_params.report. Seconds per stage;
 * work several modules share (the layer's forward over the samples, the
 * Hessian of an input that q, k and v read, its factorisation) is charged
 * to the first module that needs it, so the modules' seconds add up to the
 * run's; the pass producing a layer's outputs is charged to the next layer's
 * first module. */
typedef struct gptq_quantize_module_report {
    uint32_t struct_size;          /* set by the library: fields past it are absent (an older library) */
    int32_t layer;
    int32_t n_layers;
    const char *module;            /* full name, valid during the call */
    double loss;                   /* as gptq_quantize_progress_fn's */
    float fraction;                /* of all modules, done */
    double forward_seconds;        /* running the layer over the calibration samples */
    double hessian_seconds;        /* accumulating the Hessian 2/n X^T X */
    double factorization_seconds;  /* damping, act-order, Cholesky factor of H^-1 */
    double gptq_seconds;           /* GPTQ's column loop and its block updates (or RTN) */
    double packing_seconds;        /* packing into the checkpoint layout */
} gptq_quantize_module_report;

/* Return nonzero to cancel. */
typedef int32_t (*gptq_quantize_report_fn)(const gptq_quantize_module_report *report, void *user_data);

typedef struct gptq_quantize_params {
    uint32_t struct_size;
    int32_t bits;            /* 2, 3, 4 or 8 (default 4) */
    int32_t group_size;      /* columns per group, or -1 for one group (default 128) */
    int32_t desc_act;        /* act-order: columns by decreasing Hessian diagonal (default 0) */
    int32_t sym;             /* symmetric zero points (default 1) */
    int32_t static_groups;   /* fix group ranges before act-order (default 0) */
    int32_t true_sequential; /* quantize q/k/v, o, up/gate, down in turn (default 1) */
    float damp_percent;      /* damping, fraction of mean(diag H) (default 0.01) */
    int32_t method;          /* gptq_quant_method (default GPTQ_METHOD_GPTQ) */
    int32_t mse;             /* search each group's range for least error (default 0) */
    const char *const *skip_modules; /* kept in float: "mlp.down_proj" or full names */
    int32_t n_skip_modules;
    int32_t n_threads;       /* 0: one per physical core */
    gptq_quantize_progress_fn progress;
    void *progress_user_data;
    /* Appended after 0.1.0: where each module's time went. */
    gptq_quantize_report_fn report;  /* called after each module, after `progress` (default NULL) */
    void *report_user_data;
    /* Appended after 0.1.0: where the calibration pass and GPTQ's arithmetic
     * run. "cpu" (NULL, the default), "cuda", "cuda:N" or "auto"; the model
     * itself may stay on the CPU (its layers move to the GPU one at a time).
     * GPTQ_METHOD_RTN always runs on the CPU. */
    const char *device;
    int32_t compute_dtype;   /* gptq_dtype of a GPU's activations (default GPTQ_DTYPE_AUTO:
                                bf16 for bf16 models, else f16; f32 reproduces the CPU's arithmetic) */
    int64_t max_device_bytes; /* GPU memory the quantizer may plan for (default 0: what is free);
                                 the calibration activations move to pinned host memory when
                                 they do not fit beside a layer */
    /* Appended after 0.1.0: calibrating a mixture of experts (mixtral).
     * Routed as the model routes them, an expert may see few calibration
     * tokens and quantize badly. */
    int32_t calibrate_all_experts; /* every calibration token to every expert (default 0: as the router sends them) */
    int32_t min_expert_tokens;     /* an expert routed fewer tokens is named in a warning (gptq_log_set) and
                                      calibrated on every token instead (default 0: its input width, the
                                      fewest giving a full-rank Hessian; -1: warn never, route always) */
} gptq_quantize_params;

GPTQ_API void gptq_quantize_default_params(gptq_quantize_params *params, size_t struct_size);

/* Quantizes the linear layers of a float model (lm_head and embeddings stay
 * float). *out_model receives a new quantized model, usable at once and
 * independent of `model`'s handle; free it with gptq_model_free.
 * `calibration` may be NULL for GPTQ_METHOD_RTN. Deterministic for given
 * inputs and thread count. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_quantize(const gptq_model *model,
                                                  const gptq_calibration *calibration,
                                                  const gptq_quantize_params *params,
                                                  gptq_model **out_model);

typedef enum gptq_checkpoint_format {
    GPTQ_FORMAT_GPTQ = 0,    /* AutoGPTQ's v1: zero points stored minus one */
    GPTQ_FORMAT_GPTQ_V2 = 1  /* GPTQModel's v2: zero points as they are */
} gptq_checkpoint_format;

typedef struct gptq_save_params {
    uint32_t struct_size;
    int32_t format;          /* gptq_checkpoint_format (default GPTQ_FORMAT_GPTQ) */
    int64_t max_shard_bytes; /* 0: one model.safetensors (default); else shards + index */
} gptq_save_params;

GPTQ_API void gptq_save_default_params(gptq_save_params *params, size_t struct_size);

/* Writes the model as a checkpoint directory that AutoGPTQ, transformers,
 * vLLM and ExLlama load: safetensors weights, config.json with
 * quantization_config, quantize_config.json, tokenizer files. `dir` must not
 * exist or be empty; the directory appears only once complete. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_model_save(const gptq_model *model, const char *dir,
                                                    const gptq_save_params *params);

/* ------------------------------------------------------------------------
 * Evaluation
 * ------------------------------------------------------------------------ */

typedef struct gptq_perplexity_params {
    uint32_t struct_size;
    /* Window length in tokens (default 512); the context needs n_ctx >= it. */
    int32_t window;
    /* Put BOS before each window (default 0: the GPTQ/AutoGPTQ method). */
    int32_t add_bos;
    /* Evaluate at most this many windows (0: all). */
    int32_t max_windows;
    gptq_progress_fn progress;   /* stage "perplexity"; may cancel */
    void *progress_user_data;
} gptq_perplexity_params;

typedef struct gptq_perplexity_result {
    uint32_t struct_size;        /* set by the caller */
    double perplexity;           /* exp(mean_nll) */
    double mean_nll;             /* mean negative log-likelihood, nats per token */
    int64_t n_scored;            /* tokens predicted and scored */
    int64_t n_text_tokens;       /* tokens in the whole text */
    int32_t n_windows;
    double seconds;
    double tokens_per_second;    /* tokens run through the model per second */
} gptq_perplexity_result;

GPTQ_API void gptq_perplexity_default_params(gptq_perplexity_params *params, size_t struct_size);

/* Perplexity of the model on `text`, the standard way: the text is
 * tokenized once (no BOS), cut into non-overlapping windows of `window`
 * tokens (a shorter tail is dropped), and the negative log-likelihood is
 * averaged over every predicted token of every window. Uses sequence 0 of
 * the context. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_perplexity(gptq_context *context, const char *text,
                                                    size_t text_len,
                                                    const gptq_perplexity_params *params,
                                                    gptq_perplexity_result *result);
/* The same over the contents of a text file. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_perplexity_file(gptq_context *context,
                                                         const char *path,
                                                         const gptq_perplexity_params *params,
                                                         gptq_perplexity_result *result);

/* Scoring: the log-likelihood of a continuation after a context, for
 * multiple-choice and classification evaluation (lm-evaluation-harness's
 * loglikelihood requests). Passed as an array, so no struct_size; its
 * layout never changes. */
typedef struct gptq_score_request {
    const char *context;       /* NUL-terminated, may be empty */
    const char *continuation;  /* NUL-terminated, must give at least one token */
} gptq_score_request;

typedef struct gptq_score_params {
    uint32_t struct_size;
    /* Put the tokenizer's prefix (BOS) before each context (default 1). */
    int32_t add_special;
} gptq_score_params;

GPTQ_API void gptq_score_default_params(gptq_score_params *params, size_t struct_size);

/* The scores of a gptq_score call, one entry per request. */
typedef struct gptq_scores gptq_scores;

/* Scores each request in turn in sequence 0 of the context (cleared first).
 * Tokens are split as lm-evaluation-harness splits them: whitespace ending
 * the context moves to the continuation, context + continuation is
 * tokenized whole, and the continuation's tokens are those past the
 * context's own tokenization; an empty context stands as BOS (or EOS
 * without a prefix). GPTQ_ERR_CONTEXT_FULL when a request exceeds n_ctx.
 * On success *out receives the scores, to release with gptq_scores_free. */
GPTQ_API GPTQ_NODISCARD gptq_status gptq_score(gptq_context *context, const gptq_score_request *requests,
                                               size_t n_requests, const gptq_score_params *params,
                                               gptq_scores **out);
GPTQ_API size_t gptq_scores_count(const gptq_scores *scores);
/* The sum of the continuation's token log-probabilities (natural log); NaN
 * for an index out of range. */
GPTQ_API double gptq_scores_log_likelihood(const gptq_scores *scores, size_t index);
/* 1 when greedy decoding would produce every continuation token, 0 when
 * not, -1 for an index out of range. */
GPTQ_API int32_t gptq_scores_is_greedy(const gptq_scores *scores, size_t index);
/* The continuation's token ids and each one's log-probability (both owned
 * by the scores); returns their number (0 for an index out of range). */
GPTQ_API size_t gptq_scores_tokens(const gptq_scores *scores, size_t index, const int32_t **tokens,
                                   const float **log_probs);
GPTQ_API void gptq_scores_free(gptq_scores *scores);

#ifdef __cplusplus
}
#endif

#endif /* GPTQ_H */
