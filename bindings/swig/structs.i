/* The C structs as the languages' option and result objects. A params
 * object is the C struct itself, filled by gptq_*_default_params with its
 * own size when constructed, so a field left alone keeps the library's
 * default. Fields a binding must own (callbacks, user data, string arrays)
 * are hidden and set through the methods below or the shim. */

%rename(ModelParams) gptq_model_params;
%rename(ContextParams) gptq_context_params;
%rename(GenerateParams) gptq_generate_params;
%rename(QuantizeParams) gptq_quantize_params;
%rename(SaveParams) gptq_save_params;
%rename(PerplexityParams) gptq_perplexity_params;
%rename(PerplexityResult) gptq_perplexity_result;
%rename(ModelInfo) gptq_model_info;
%rename(Timings) gptq_timings;
%rename(StreamEvent) gptq_stream_event;

/* Field names in the languages' case: max_new_tokens -> MaxNewTokens,
 * which Java turns into getMaxNewTokens/setMaxNewTokens. */
%rename("%(camelcase)s", %$isvariable, %$ismember) "";

%ignore struct_size;
%ignore progress;
%ignore progress_user_data;
%ignore report;
%ignore report_user_data;
/* Per-stage timings are for C callers (the CLI's --json); the bindings'
 * progress callbacks keep to layer, module, loss and fraction. */
%ignore gptq_quantize_module_report;
%ignore on_token;
%ignore user_data;
%ignore stop_strings;
%ignore n_stop_strings;
%ignore skip_modules;
%ignore n_skip_modules;
%ignore text_len;

/* Flags stored as int32_t that mean yes/no. */
%apply bool { int32_t use_mmap, int32_t round_rope_to_weight_dtype, int32_t add_special,
              int32_t stop_on_eos, int32_t desc_act, int32_t sym, int32_t static_groups,
              int32_t true_sequential, int32_t mse, int32_t add_bos, int32_t tied_embeddings,
              int32_t quant_desc_act, int32_t quant_sym, int32_t quant_static_groups,
              int32_t finished };
/* Enumerations stored as int32_t: see enum_fields.i. */
%ignore gptq_quantize_params::method;
%ignore gptq_save_params::format;
%ignore gptq_model_info::weight_dtype;
%ignore gptq_model_params::compute_dtype;
%ignore gptq_quantize_params::compute_dtype;
%ignore gptq_context_params::kv_dtype;
%ignore gptq_generate_params::early_stopping;
%ignore gptq_model_info::compute_dtype;
/* Their replacements take the original's name in the languages (an
 * %extend member of the same C name would fall under the %ignore too). */
%rename(ComputeDtype) gptq_model_params::compute_dtype_enum;
%rename(KvDtype) gptq_context_params::kv_dtype_enum;
%rename(EarlyStopping) gptq_generate_params::early_stopping_enum;
%rename(ComputeDtype) gptq_model_info::compute_dtype_enum;
%rename(ComputeDtype) gptq_quantize_params::compute_dtype_enum;
/* Strings the params object owns: see the %extend below. */
%ignore gptq_model_params::device;
%rename(Device) gptq_model_params::owned_device;
%ignore gptq_model_params::max_memory;
%rename(MaxMemory) gptq_model_params::owned_max_memory;
%ignore gptq_quantize_params::device;
%rename(Device) gptq_quantize_params::owned_device;
/* Java has no unsigned 64-bit type; the seed's bits pass through as they are. */
%apply int64_t { uint64_t seed };

/* Results are read-only, and only the library makes them. */
%immutable gptq_model_info::architecture;
%immutable gptq_model_info::path;
%immutable gptq_model_info::tokenizer;
%immutable gptq_model_info::rope_type;
%immutable gptq_model_info::quant_format;
%immutable gptq_model_info::device;
%immutable gptq_model_info::placement;
%immutable gptq_stream_event::text;
%nodefaultctor gptq_model_info;
%nodefaultctor gptq_timings;
%nodefaultctor gptq_perplexity_result;

%define GPTQB_PARAMS(TYPE, DEFAULTS)
%extend TYPE {
    TYPE() {
        TYPE *p = (TYPE *)calloc(1, sizeof(TYPE));
        if (p != NULL) DEFAULTS(p, sizeof *p);
        else gptqb_fail(GPTQ_ERR_OUT_OF_MEMORY, "out of memory");
        return p;
    }
}
%enddef

GPTQB_PARAMS(gptq_model_params, gptq_model_default_params)
GPTQB_PARAMS(gptq_context_params, gptq_context_default_params)
GPTQB_PARAMS(gptq_save_params, gptq_save_default_params)
GPTQB_PARAMS(gptq_perplexity_params, gptq_perplexity_default_params)
GPTQB_PARAMS(gptq_generate_params, gptq_generate_default_params)
GPTQB_PARAMS(gptq_quantize_params, gptq_quantize_default_params)

/* The device and max_memory strings belong to the params object (SWIG's
 * own setter would keep the language's temporary buffer or leak a copy);
 * reading them gives their C defaults' meaning for NULL: "cpu" for the
 * device, "" (no budgets) for max_memory. */
%extend gptq_model_params {
    const char *owned_device;
    const char *owned_max_memory;
    ~gptq_model_params() {
        free((char *)$self->device);
        free((char *)$self->max_memory);
        free($self);
    }
}
%{
/* Replaces *field with a copy of value (NULL stays NULL); on failure the
 * field is left as it was. */
static void gptqb_owned_string_set(const char **field, const char *value) {
    char *copy = NULL;
    if (value != NULL && (copy = gptqb_strdup(value)) == NULL) {
        gptqb_fail(GPTQ_ERR_OUT_OF_MEMORY, "out of memory");
        return;
    }
    free((char *)*field);
    *field = copy;
}
static const char *gptq_model_params_owned_device_get(gptq_model_params *p) {
    return p->device != NULL ? p->device : "cpu";
}
static void gptq_model_params_owned_device_set(gptq_model_params *p, const char *device) {
    gptqb_owned_string_set(&p->device, device);
}
static const char *gptq_model_params_owned_max_memory_get(gptq_model_params *p) {
    return p->max_memory != NULL ? p->max_memory : "";
}
static void gptq_model_params_owned_max_memory_set(gptq_model_params *p, const char *max_memory) {
    gptqb_owned_string_set(&p->max_memory, max_memory);
}
static const char *gptq_quantize_params_owned_device_get(gptq_quantize_params *p) {
    return p->device != NULL ? p->device : "cpu";
}
static void gptq_quantize_params_owned_device_set(gptq_quantize_params *p, const char *device) {
    gptqb_owned_string_set(&p->device, device);
}
%}

/* The string arrays these two point at belong to the params object. */
%extend gptq_generate_params {
    ~gptq_generate_params() {
        gptqb_strings_release((char **)$self->stop_strings, $self->n_stop_strings);
        free($self);
    }
    void addStopString(const char *stop) {
        gptqb_strings_push((char ***)&$self->stop_strings, &$self->n_stop_strings, stop);
    }
    void clearStopStrings() {
        gptqb_strings_release((char **)$self->stop_strings, $self->n_stop_strings);
        $self->stop_strings = NULL;
        $self->n_stop_strings = 0;
    }
    int32_t stopStringCount() { return $self->n_stop_strings; }
}

%extend gptq_quantize_params {
    const char *owned_device;
    ~gptq_quantize_params() {
        gptqb_strings_release((char **)$self->skip_modules, $self->n_skip_modules);
        free((char *)$self->device);
        free($self);
    }
    void addSkipModule(const char *module) {
        gptqb_strings_push((char ***)&$self->skip_modules, &$self->n_skip_modules, module);
    }
    void clearSkipModules() {
        gptqb_strings_release((char **)$self->skip_modules, $self->n_skip_modules);
        $self->skip_modules = NULL;
        $self->n_skip_modules = 0;
    }
    int32_t skipModuleCount() { return $self->n_skip_modules; }
}

%extend gptq_model_info {
    ~gptq_model_info() {
        free((char *)$self->architecture);
        free((char *)$self->path);
        free((char *)$self->tokenizer);
        free((char *)$self->rope_type);
        free((char *)$self->quant_format);
        free((char *)$self->device);
        free((char *)$self->placement);
        free($self);
    }
}

%extend gptq_stream_event {
    gptq_stream_event() {
        gptq_stream_event *e = (gptq_stream_event *)calloc(1, sizeof *e);
        if (e != NULL) e->struct_size = sizeof *e;
        return e;
    }
}
