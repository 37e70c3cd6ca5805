/* The C state and helpers behind the shim (shim.i): the per-thread error
 * slot, owned string and token lists, and the callback trampolines. Comes
 * first, so that each language's file (<language>.swg) can use it. */

%{
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gptq.h"

static __thread int32_t gptqb_status_slot;
static __thread char gptqb_message_slot[4096];

static void gptqb_reset(void) {
    gptqb_status_slot = GPTQ_OK;
    gptqb_message_slot[0] = '\0';
}

static void gptqb_fail(int32_t status, const char *format, ...) {
    va_list args;
    gptqb_status_slot = status;
    va_start(args, format);
    vsnprintf(gptqb_message_slot, sizeof gptqb_message_slot, format, args);
    va_end(args);
}

/* Records a failing status of the library with its message. */
static int gptqb_ok(gptq_status status) {
    if (status >= 0) return 1;
    gptqb_fail(status, "%s", gptq_last_error());
    return 0;
}

static int gptqb_null(const void *handle, const char *what) {
    if (handle != NULL) return 0;
    gptqb_fail(GPTQ_ERR_INVALID_ARGUMENT, "%s is NULL", what);
    return 1;
}

static char *gptqb_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = (char *)malloc(n);
    if (copy != NULL) memcpy(copy, s, n);
    return copy;
}

/* A growable array of owned strings: what the C API's
 * `const char *const *` parameters point at. */
typedef struct gptqb_strings {
    char **items;
    int32_t count;
} gptqb_strings;

static int gptqb_strings_push(char ***items, int32_t *count, const char *s) {
    char **grown;
    char *copy;
    if (gptqb_null(s, "string")) return 0;
    grown = (char **)realloc(*items, sizeof(char *) * (size_t)(*count + 1));
    copy = gptqb_strdup(s);
    if (grown == NULL || copy == NULL) {
        if (grown != NULL) *items = grown;
        free(copy);
        gptqb_fail(GPTQ_ERR_OUT_OF_MEMORY, "out of memory adding a string");
        return 0;
    }
    *items = grown;
    (*items)[(*count)++] = copy;
    return 1;
}

static void gptqb_strings_release(char **items, int32_t count) {
    int32_t i;
    for (i = 0; i < count; ++i) free(items[i]);
    free(items);
}

/* An owned copy of token ids, for results whose size the caller cannot
 * know beforehand. */
typedef struct gptqb_ints {
    int32_t *data;
    size_t count;
} gptqb_ints;

static gptqb_ints *gptqb_ints_of(const int32_t *data, size_t count) {
    gptqb_ints *ints = (gptqb_ints *)malloc(sizeof *ints);
    if (ints != NULL) {
        ints->count = count;
        ints->data = (int32_t *)malloc(sizeof(int32_t) * (count ? count : 1));
        if (ints->data != NULL) {
            if (count) memcpy(ints->data, data, sizeof(int32_t) * count);
            return ints;
        }
        free(ints);
    }
    gptqb_fail(GPTQ_ERR_OUT_OF_MEMORY, "out of memory copying %zu token ids", count);
    return NULL;
}

/* Defined per language in swig/<language>.swg: calls the callback object
 * registered under `id`; a nonzero result cancels the running call. */
static int32_t gptqb_dispatch(int64_t id, int32_t i1, int32_t i2, double d1, double d2,
                              const char *text);

static int32_t gptqb_progress_trampoline(float fraction, const char *stage, void *user_data) {
    return gptqb_dispatch((int64_t)(intptr_t)user_data, 0, 0, fraction, 0.0, stage);
}

static int32_t gptqb_quantize_trampoline(int32_t layer, int32_t n_layers, const char *module,
                                         double loss, float fraction, void *user_data) {
    return gptqb_dispatch((int64_t)(intptr_t)user_data, layer, n_layers, loss, fraction, module);
}

static gptq_perplexity_result *gptqb_perplexity_run(gptq_context *context, const char *text,
                                                    const char *path,
                                                    const gptq_perplexity_params *params,
                                                    int64_t progress) {
    gptq_perplexity_params p;
    gptq_status status;
    gptq_perplexity_result *result = (gptq_perplexity_result *)calloc(1, sizeof *result);
    if (result == NULL) { gptqb_fail(GPTQ_ERR_OUT_OF_MEMORY, "out of memory"); return NULL; }
    result->struct_size = sizeof *result;
    if (params != NULL) p = *params; else gptq_perplexity_default_params(&p, sizeof p);
    if (progress) {
        p.progress = gptqb_progress_trampoline;
        p.progress_user_data = (void *)(intptr_t)progress;
    }
    status = text != NULL ? gptq_perplexity(context, text, strlen(text), &p, result)
                          : gptq_perplexity_file(context, path, &p, result);
    if (!gptqb_ok(status)) { free(result); return NULL; }
    return result;
}
static void gptqb_log_trampoline(int32_t level, const char *message, void *user_data) {
    (void)gptqb_dispatch((int64_t)(intptr_t)user_data, level, 0, 0.0, 0.0, message);
}
%}
