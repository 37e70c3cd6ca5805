/* Loads a model and streams a greedy continuation of a prompt.
 *
 *   generate MODEL_DIR [PROMPT] [MAX_NEW_TOKENS]
 *
 * Build against an installed libgptq with
 *   cc generate.c $(pkg-config --cflags --libs gptq) -o generate
 */
#include <stdio.h>
#include <stdlib.h>

#include "gptq.h"

static int32_t print_piece(int32_t sequence, int32_t token, const char *text, size_t text_len,
                           void *user_data) {
    (void)sequence;
    (void)token;
    (void)user_data;
    fwrite(text, 1, text_len, stdout);
    fflush(stdout);
    return 0; /* keep going */
}

static int fail(const char *what, gptq_status status) {
    fprintf(stderr, "%s failed: %s (%s)\n", what, gptq_last_error(), gptq_status_name(status));
    return 1;
}

int main(int argc, char **argv) {
    const char *model_dir = argc > 1 ? argv[1] : NULL;
    const char *prompt = argc > 2 ? argv[2] : "The history of the city";
    const int max_new_tokens = argc > 3 ? atoi(argv[3]) : 32;
    gptq_model *model = NULL;
    gptq_context *context = NULL;
    gptq_generation *generation = NULL;
    gptq_generate_params params;
    gptq_timings timings;
    gptq_status status;
    int exit_code = 1;

    if (model_dir == NULL) {
        fprintf(stderr, "usage: %s MODEL_DIR [PROMPT] [MAX_NEW_TOKENS]\n", argv[0]);
        return 2;
    }
    printf("%s\n", gptq_system_info());

    status = gptq_model_load(model_dir, NULL, &model);
    if (status != GPTQ_OK) return fail("gptq_model_load", status);

    status = gptq_context_new(model, NULL, &context);
    if (status != GPTQ_OK) {
        exit_code = fail("gptq_context_new", status);
        goto done;
    }

    gptq_generate_default_params(&params, sizeof params);
    params.max_new_tokens = max_new_tokens;
    params.on_token = print_piece;

    fputs(prompt, stdout);
    status = gptq_generate(context, prompt, &params, &generation);
    if (status != GPTQ_OK) {
        exit_code = fail("gptq_generate", status);
        goto done;
    }
    timings.struct_size = sizeof timings;
    if (gptq_generation_timings(generation, &timings) == GPTQ_OK) {
        printf("\n[%lld tokens at %.1f tokens/s]\n", (long long)timings.generated_tokens,
               timings.generated_tokens_per_second);
    }
    exit_code = 0;

done:
    gptq_generation_free(generation);
    gptq_context_free(context);
    gptq_model_free(model);
    return exit_code;
}
