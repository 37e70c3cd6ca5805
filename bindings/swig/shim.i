/* The C layer every binding calls: gptq.h reshaped so that one set of
 * wrappers serves Java, C# and Go alike.
 *  - Handles come back as return values (NULL on failure) instead of
 *    out-pointers, which would need a typemap per language.
 *  - A failure is recorded with its message in this thread's slot during
 *    the same native call (a goroutine may change OS thread between two cgo
 *    calls, so gptq_last_error() cannot be read later); the %exception in
 *    swig/<language>.swg raises it in Java and C#; Go reads it back
 *    (bindings/go/errors.go).
 *  - Token lists travel as (pointer, length) pairs mapped onto the
 *    languages' own int arrays; lists of strings as a gptqb_strings that
 *    the binding fills one by one.
 *  - Callbacks go through one C trampoline per C callback type and one
 *    dispatcher per language (gptqb_dispatch, swig/<language>.swg), keyed by
 *    an id the language maps to its callback object: no SWIG directors. */

/* Read back by Go after a call, on the same locked OS thread. */
%noexception gptqb_last_status;
%noexception gptqb_last_message;

%newobject gptqb_strings_new;
%delobject gptqb_strings_free;
%newobject gptqb_tokenize;
%newobject gptqb_generation_tokens;
%newobject gptqb_generation_prompt_tokens;
%newobject gptqb_detokenize;
%newobject gptqb_model_info;
%newobject gptqb_generation_timings;
%newobject gptqb_perplexity;
%newobject gptqb_perplexity_file;

%inline %{
int32_t gptqb_last_status(void) { return gptqb_status_slot; }
const char *gptqb_last_message(void) { return gptqb_message_slot; }

/* ---- library ---- */
int64_t gptqb_version(void) { return gptq_version(); }
const char *gptqb_version_string(void) { return gptq_version_string(); }
int64_t gptqb_features(void) { return gptq_features(); }
const char *gptqb_system_info(void) { return gptq_system_info(); }
const char *gptqb_status_name(int32_t status) { return gptq_status_name((gptq_status)status); }
int32_t gptqb_device_count(void) { return gptq_device_count(); }
const char *gptqb_device_name(int32_t index) {
    const char *name = gptq_device_name(index);
    if (name == NULL)
        gptqb_fail(GPTQ_ERR_INVALID_ARGUMENT, "GPU index %d is out of range (%d GPUs)", index,
                   gptq_device_count());
    return name;
}

/* id 0 removes the callback. */
void gptqb_log_set(int64_t id, int32_t min_level) {
    gptq_log_set(id ? gptqb_log_trampoline : NULL, (void *)(intptr_t)id, min_level);
}

/* ---- string lists ---- */
gptqb_strings *gptqb_strings_new(void) {
    gptqb_strings *s = (gptqb_strings *)calloc(1, sizeof *s);
    if (s == NULL) gptqb_fail(GPTQ_ERR_OUT_OF_MEMORY, "out of memory");
    return s;
}
void gptqb_strings_add(gptqb_strings *list, const char *s) {
    if (!gptqb_null(list, "string list")) gptqb_strings_push(&list->items, &list->count, s);
}
void gptqb_strings_free(gptqb_strings *list) {
    if (list != NULL) gptqb_strings_release(list->items, list->count);
    free(list);
}

/* ---- token id lists ---- */
int32_t gptqb_ints_count(const gptqb_ints *ints) { return ints ? (int32_t)ints->count : 0; }
/* Copies the first N ids into the caller's array. */
void gptqb_ints_copy(const gptqb_ints *ints, int32_t *OUT, size_t N) {
    if (gptqb_null(ints, "token list")) return;
    memcpy(OUT, ints->data, sizeof(int32_t) * (N < ints->count ? N : ints->count));
}
void gptqb_ints_free(gptqb_ints *ints) {
    if (ints != NULL) free(ints->data);
    free(ints);
}

/* ---- model ---- */
/* progress: a callback id, or 0 for none. */
gptq_model *gptqb_model_load(const char *path, const gptq_model_params *params, int64_t progress) {
    gptq_model_params p;
    gptq_model *model = NULL;
    if (gptqb_null(path, "model path")) return NULL;
    if (params != NULL) p = *params; else gptq_model_default_params(&p, sizeof p);
    if (progress) {
        p.progress = gptqb_progress_trampoline;
        p.progress_user_data = (void *)(intptr_t)progress;
    }
    gptqb_ok(gptq_model_load(path, &p, &model));
    return model;
}
void gptqb_model_free(gptq_model *model) { gptq_model_free(model); }

/* A copy whose strings the info owns, so that it may outlive the model. */
gptq_model_info *gptqb_model_info(const gptq_model *model) {
    gptq_model_info *info = (gptq_model_info *)calloc(1, sizeof *info);
    if (info == NULL) { gptqb_fail(GPTQ_ERR_OUT_OF_MEMORY, "out of memory"); return NULL; }
    info->struct_size = sizeof *info;
    if (!gptqb_ok(gptq_model_get_info(model, info))) { free(info); return NULL; }
    info->architecture = gptqb_strdup(info->architecture ? info->architecture : "");
    info->path = gptqb_strdup(info->path ? info->path : "");
    info->tokenizer = gptqb_strdup(info->tokenizer ? info->tokenizer : "");
    info->rope_type = gptqb_strdup(info->rope_type ? info->rope_type : "");
    info->quant_format = gptqb_strdup(info->quant_format ? info->quant_format : "");
    info->device = gptqb_strdup(info->device ? info->device : "");
    info->placement = gptqb_strdup(info->placement ? info->placement : "");
    return info;
}

const char *gptqb_token_text(const gptq_model *model, int32_t token) {
    const char *text;
    if (gptqb_null(model, "model")) return NULL;
    text = gptq_model_token_text(model, token);
    if (text == NULL) gptqb_fail(GPTQ_ERR_INVALID_ARGUMENT, "token id %d is out of range", token);
    return text;
}
int32_t gptqb_token_is_eog(const gptq_model *model, int32_t token) {
    return gptq_model_token_is_eog(model, token);
}

gptqb_ints *gptqb_tokenize(const gptq_model *model, const char *text, int32_t flags) {
    size_t needed = 0;
    int32_t *buffer;
    gptqb_ints *ints;
    if (gptqb_null(text, "text")) return NULL;
    /* One token per byte plus specials always fits: no second pass. */
    size_t capacity = strlen(text) + 8;
    buffer = (int32_t *)malloc(sizeof(int32_t) * capacity);
    if (buffer == NULL) { gptqb_fail(GPTQ_ERR_OUT_OF_MEMORY, "out of memory"); return NULL; }
    gptq_status status = gptq_tokenize(model, text, strlen(text), (uint32_t)flags, buffer,
                                       capacity, &needed);
    if (status == GPTQ_ERR_BUFFER_TOO_SMALL) {
        int32_t *bigger = (int32_t *)realloc(buffer, sizeof(int32_t) * needed);
        if (bigger == NULL) { free(buffer); gptqb_fail(GPTQ_ERR_OUT_OF_MEMORY, "out of memory"); return NULL; }
        buffer = bigger;
        status = gptq_tokenize(model, text, strlen(text), (uint32_t)flags, buffer, needed, &needed);
    }
    ints = gptqb_ok(status) ? gptqb_ints_of(buffer, needed) : NULL;
    free(buffer);
    return ints;
}

char *gptqb_detokenize(const gptq_model *model, const int32_t *IN, size_t N, int32_t flags) {
    size_t length = 0;
    char *text;
    if (!gptqb_ok(gptq_detokenize(model, IN, N, (uint32_t)flags, NULL, 0, &length)) &&
        gptqb_status_slot != GPTQ_ERR_BUFFER_TOO_SMALL)
        return NULL;
    gptqb_reset();
    text = (char *)malloc(length + 1);
    if (text == NULL) { gptqb_fail(GPTQ_ERR_OUT_OF_MEMORY, "out of memory"); return NULL; }
    if (!gptqb_ok(gptq_detokenize(model, IN, N, (uint32_t)flags, text, length + 1, &length))) {
        free(text);
        return NULL;
    }
    return text;
}

/* ---- context ---- */
gptq_context *gptqb_context_new(const gptq_model *model, const gptq_context_params *params) {
    gptq_context *context = NULL;
    gptqb_ok(gptq_context_new(model, params, &context));
    return context;
}
void gptqb_context_free(gptq_context *context) { gptq_context_free(context); }
int32_t gptqb_context_n_ctx(const gptq_context *context) { return gptq_context_n_ctx(context); }
int32_t gptqb_context_n_seq_max(const gptq_context *context) { return gptq_context_n_seq_max(context); }
int32_t gptqb_context_n_threads(const gptq_context *context) { return gptq_context_n_threads(context); }
int32_t gptqb_context_seq_length(const gptq_context *context, int32_t seq_id) {
    return gptq_context_seq_length(context, seq_id);
}
void gptqb_context_clear(gptq_context *context, int32_t seq_id) {
    gptqb_ok(gptq_context_clear(context, seq_id));
}
/* Logits go to the caller's array (empty for GPTQ_LOGITS_NONE). */
void gptqb_context_eval(gptq_context *context, int32_t seq_id, const int32_t *IN, size_t N,
                        int32_t mode, float *OUT, size_t CAPACITY) {
    gptqb_ok(gptq_context_eval(context, seq_id, IN, N, mode, OUT, CAPACITY));
}

/* ---- generation ---- */
gptq_generation *gptqb_generate(gptq_context *context, const char *prompt,
                                const gptq_generate_params *params) {
    gptq_generation *generation = NULL;
    gptqb_ok(gptq_generate(context, prompt, params, &generation));
    return generation;
}
gptq_generation *gptqb_generate_batch(gptq_context *context, const gptqb_strings *prompts,
                                      const gptq_generate_params *params) {
    gptq_generation *generation = NULL;
    if (gptqb_null(prompts, "prompt list")) return NULL;
    gptqb_ok(gptq_generate_batch(context, (const char *const *)prompts->items,
                                 (size_t)prompts->count, params, &generation));
    return generation;
}
int32_t gptqb_generation_count(const gptq_generation *generation) {
    return (int32_t)gptq_generation_count(generation);
}
const char *gptqb_generation_text(const gptq_generation *generation, int32_t index) {
    const char *text = gptq_generation_text(generation, (size_t)index);
    if (text == NULL) gptqb_fail(GPTQ_ERR_INVALID_ARGUMENT, "generation entry %d does not exist", index);
    return text;
}
gptqb_ints *gptqb_generation_tokens(const gptq_generation *generation, int32_t index) {
    const int32_t *tokens = NULL;
    size_t n = gptq_generation_tokens(generation, (size_t)index, &tokens);
    return gptqb_ints_of(tokens, n);
}
gptqb_ints *gptqb_generation_prompt_tokens(const gptq_generation *generation, int32_t index) {
    const int32_t *tokens = NULL;
    size_t n = gptq_generation_prompt_tokens(generation, (size_t)index, &tokens);
    return gptqb_ints_of(tokens, n);
}
int32_t gptqb_generation_stop_reason(const gptq_generation *generation, int32_t index) {
    return gptq_generation_stop_reason(generation, (size_t)index);
}
int32_t gptqb_generation_prompt_index(const gptq_generation *generation, int32_t index) {
    return gptq_generation_prompt_index(generation, (size_t)index);
}
double gptqb_generation_score(const gptq_generation *generation, int32_t index) {
    return gptq_generation_score(generation, (size_t)index);
}
gptq_timings *gptqb_generation_timings(const gptq_generation *generation) {
    gptq_timings *timings = (gptq_timings *)calloc(1, sizeof *timings);
    if (timings == NULL) { gptqb_fail(GPTQ_ERR_OUT_OF_MEMORY, "out of memory"); return NULL; }
    timings->struct_size = sizeof *timings;
    if (!gptqb_ok(gptq_generation_timings(generation, timings))) { free(timings); return NULL; }
    return timings;
}
void gptqb_generation_free(gptq_generation *generation) { gptq_generation_free(generation); }

/* ---- streaming ---- */
gptq_stream *gptqb_stream_begin(gptq_context *context, const gptqb_strings *prompts,
                                const gptq_generate_params *params) {
    gptq_stream *stream = NULL;
    if (gptqb_null(prompts, "prompt list")) return NULL;
    gptqb_ok(gptq_stream_begin(context, (const char *const *)prompts->items,
                               (size_t)prompts->count, params, &stream));
    return stream;
}
/* 1: `event` holds the next token; 0: every sequence has stopped. */
int32_t gptqb_stream_next(gptq_stream *stream, gptq_stream_event *event) {
    int32_t done = 1;
    if (gptqb_null(event, "stream event")) return 0;
    event->struct_size = sizeof *event;
    return gptqb_ok(gptq_stream_next(stream, event, &done)) && !done;
}
void gptqb_stream_stop(gptq_stream *stream, int32_t sequence) {
    gptqb_ok(gptq_stream_stop(stream, sequence));
}
gptq_generation *gptqb_stream_result(const gptq_stream *stream) {
    gptq_generation *generation = NULL;
    gptqb_ok(gptq_stream_result(stream, &generation));
    return generation;
}
void gptqb_stream_free(gptq_stream *stream) { gptq_stream_free(stream); }

/* ---- evaluation ---- */
gptq_perplexity_result *gptqb_perplexity(gptq_context *context, const char *text,
                                         const gptq_perplexity_params *params, int64_t progress) {
    if (gptqb_null(text, "text")) return NULL;
    return gptqb_perplexity_run(context, text, NULL, params, progress);
}
gptq_perplexity_result *gptqb_perplexity_file(gptq_context *context, const char *path,
                                              const gptq_perplexity_params *params,
                                              int64_t progress) {
    if (gptqb_null(path, "path")) return NULL;
    return gptqb_perplexity_run(context, NULL, path, params, progress);
}

/* ---- calibration ---- */
gptq_calibration *gptqb_calibration_new(void) {
    gptq_calibration *calibration = NULL;
    gptqb_ok(gptq_calibration_new(&calibration));
    return calibration;
}
void gptqb_calibration_add(gptq_calibration *calibration, const int32_t *IN, size_t N) {
    gptqb_ok(gptq_calibration_add(calibration, IN, N));
}
gptq_calibration *gptqb_calibration_from_text(const gptq_model *model, const char *text,
                                              int32_t n_samples, int32_t seqlen, int64_t seed) {
    gptq_calibration *calibration = NULL;
    if (gptqb_null(text, "text")) return NULL;
    gptqb_ok(gptq_calibration_from_text(model, text, strlen(text), n_samples, seqlen,
                                        (uint64_t)seed, &calibration));
    return calibration;
}
gptq_calibration *gptqb_calibration_from_texts(const gptq_model *model, const gptqb_strings *texts,
                                               int32_t seqlen) {
    gptq_calibration *calibration = NULL;
    if (gptqb_null(texts, "text list")) return NULL;
    gptqb_ok(gptq_calibration_from_texts(model, (const char *const *)texts->items,
                                         (size_t)texts->count, seqlen, &calibration));
    return calibration;
}
gptq_calibration *gptqb_calibration_from_file(const gptq_model *model, const char *path,
                                              int32_t n_samples, int32_t seqlen, int64_t seed) {
    gptq_calibration *calibration = NULL;
    gptqb_ok(gptq_calibration_from_file(model, path, n_samples, seqlen, (uint64_t)seed,
                                        &calibration));
    return calibration;
}
int32_t gptqb_calibration_count(const gptq_calibration *calibration) {
    return (int32_t)gptq_calibration_count(calibration);
}
void gptqb_calibration_free(gptq_calibration *calibration) { gptq_calibration_free(calibration); }

/* ---- quantization ---- */
gptq_model *gptqb_quantize(const gptq_model *model, const gptq_calibration *calibration,
                           const gptq_quantize_params *params, int64_t progress) {
    gptq_quantize_params p;
    gptq_model *quantized = NULL;
    if (params != NULL) p = *params; else gptq_quantize_default_params(&p, sizeof p);
    if (progress) {
        p.progress = gptqb_quantize_trampoline;
        p.progress_user_data = (void *)(intptr_t)progress;
    }
    gptqb_ok(gptq_quantize(model, calibration, &p, &quantized));
    return quantized;
}
void gptqb_model_save(const gptq_model *model, const char *dir, const gptq_save_params *params) {
    gptqb_ok(gptq_model_save(model, dir, params));
}
%}
