/* The SWIG interface of libgptq: one description of include/gptq.h from
 * which Java (JNI), C# (P/Invoke) and Go (cgo) bindings are generated.
 * The generated layer is internal; the idiomatic API of each language is
 * written by hand on top of it (bindings/<language>/).
 *
 *   swig/shim.i     gptq.h reshaped for bindings (handles returned, errors
 *                   recorded per call, callbacks through trampolines)
 *   swig/structs.i  params/result structs as option and result objects
 *   swig/<lang>.swg strings as UTF-8, int/float arrays as the language's
 *                   own, errors raised, the callback dispatcher */
%module gptq

%{
#include <stdbool.h>
#include <stdint.h>
%}

%include <stdint.i>
%include "swig/runtime.i"

#if defined(SWIGJAVA)
%include "swig/java.swg"
#elif defined(SWIGCSHARP)
%include "swig/csharp.swg"
#elif defined(SWIGGO)
%include "swig/go.swg"
#else
#error "libgptq has bindings for Java, C# and Go"
#endif

/* The C functions are reached through the shim only; gptqb_x is wrapped as
 * x (the languages' naming is applied by their own layers). When several
 * %rename match, the last one wins. */
%rename("%(strip:[gptqb_])s", %$isfunction, %$not %$ismember) "";
%rename("$ignore", %$isfunction, regextarget=1) "^gptq_";
/* Enumerators without the prefix that repeats their type; those of the
 * status keep ERR_, and the flag constants of the anonymous enums keep
 * their group. */
%rename("%(regex:/^GPTQ_[A-Z]+_(.*)$/\\1/)s", %$isenumitem) "";
%rename("%(regex:/^GPTQ_((ERR|FEATURE|TOKENIZE|DETOKENIZE)_.*)$/\\1/)s", %$isenumitem) "";
%rename(OK) GPTQ_OK;
%rename(OFF) GPTQ_LOG_NONE;
%rename(GPTQ_V1) GPTQ_FORMAT_GPTQ;
/* EarlyStopping.FALSE / TRUE / NEVER, transformers' three values. */
%rename(FALSE) GPTQ_EARLY_STOPPING_FALSE;
%rename(TRUE) GPTQ_EARLY_STOPPING_TRUE;
%rename(NEVER) GPTQ_EARLY_STOPPING_NEVER;
%rename(Status) gptq_status;
%rename(LogLevel) gptq_log_level;
%rename(Dtype) gptq_dtype;
%rename(LogitsMode) gptq_logits_mode;
%rename(StopReason) gptq_stop_reason;
%rename(EarlyStopping) gptq_early_stopping;
%rename(QuantMethod) gptq_quant_method;
%rename(CheckpointFormat) gptq_checkpoint_format;
/* Constants the hand-written layers restate where users need them. */
%ignore GPTQ_VERSION_MAJOR;
%ignore GPTQ_VERSION_MINOR;
%ignore GPTQ_VERSION_PATCH;
%ignore GPTQ_VERSION_STRING;
%ignore GPTQ_VERSION_NUMBER;

%include "swig/structs.i"
%include "swig/shim.i"

/* GPTQ_API expands to a GCC attribute SWIG cannot parse. */
#define __attribute__(x)
%include "gptq.h"
%include "swig/enum_fields.i"
