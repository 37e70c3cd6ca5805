/* Fields that gptq.h stores as int32_t but that hold an enumeration, as
 * fields of the enumeration's type. Declared after gptq.h, when the enums
 * are known; the int32_t originals are hidden (in structs.i). */
%define GPTQB_ENUM_FIELD(STRUCT, ENUM, ORIGINAL, FIELD)
%extend STRUCT { ENUM FIELD; }
%{
static ENUM STRUCT##_##FIELD##_get(STRUCT *s) { return (ENUM)s->ORIGINAL; }
static void STRUCT##_##FIELD##_set(STRUCT *s, ENUM value) { s->ORIGINAL = (int32_t)value; }
%}
%enddef

GPTQB_ENUM_FIELD(gptq_quantize_params, gptq_quant_method, method, quant_method)
GPTQB_ENUM_FIELD(gptq_save_params, gptq_checkpoint_format, format, checkpoint_format)
GPTQB_ENUM_FIELD(gptq_model_info, gptq_dtype, weight_dtype, weight_type)
GPTQB_ENUM_FIELD(gptq_model_params, gptq_dtype, compute_dtype, compute_dtype_enum)
GPTQB_ENUM_FIELD(gptq_quantize_params, gptq_dtype, compute_dtype, compute_dtype_enum)
GPTQB_ENUM_FIELD(gptq_context_params, gptq_dtype, kv_dtype, kv_dtype_enum)
GPTQB_ENUM_FIELD(gptq_generate_params, gptq_early_stopping, early_stopping, early_stopping_enum)
GPTQB_ENUM_FIELD(gptq_model_info, gptq_dtype, compute_dtype, compute_dtype_enum)
