package gptq

import (
	"fmt"
	"reflect"

	"libgptq.dev/gptq/internal/raw"
)

// The option structs mirror gptq.h's params structs field by field (same
// names as SWIG's accessors, e.g. MaxNewTokens for max_new_tokens); start
// from Default*Options, which reads the library's own defaults. A field
// tagged gptq:"-" is one the binding passes by other means.

// ModelOptions are the settings of LoadModel.
type ModelOptions struct {
	UseMmap                bool // map the safetensors files instead of reading them
	RoundRopeToWeightDtype bool // round the rotary frequencies as transformers does in fp16/bf16
	// Device is where the model runs: "cpu" (the default), "cuda" (the
	// first GPU), "cuda:N", or "auto" (the first usable GPU, else the CPU).
	// A comma-separated list ("cuda:0,cuda:1,cpu") places the model by
	// memory, as MaxMemory does; "cpu" in it lets layers overflow to the CPU.
	Device string
	// NGpuLayers are the decoder layers on the GPU (the last ones, plus the
	// head); -1: all, 0: none.
	NGpuLayers int
	// ComputeDtype is the GPU parts' activation type; DtypeAuto: bf16 for
	// bf16 checkpoints, fp16 otherwise.
	ComputeDtype Dtype
	// MaxMemory are memory budgets in the style of accelerate's max_memory,
	// "cuda:0=30GiB,cuda:1=46GiB,cpu=30GiB" (B, KB/KiB, MB/MiB, GB/GiB,
	// TB/TiB): whole decoder layers with their KV caches fill the devices
	// in order; a model that does not fit fails with ErrOutOfMemory. "":
	// NGpuLayers decides.
	MaxMemory string
	// PlanNCtx and PlanNSeq size the KV caches of that plan: contexts of
	// PlanNCtx positions (0: the default context's) and PlanNSeq sequences
	// (default 1).
	PlanNCtx int
	PlanNSeq int
	// Progress is called while loading; returning false cancels.
	Progress func(fraction float64, stage string) bool `gptq:"-"`
}

// ContextOptions are the settings of Model.NewContext.
type ContextOptions struct {
	NCtx     int // tokens per sequence; 0: the model's (at most 4096)
	NSeqMax  int // sequences at once: the largest batch
	NBatch   int // most tokens per model step
	NThreads int // worker threads; 0: one per physical core
	// KvDtype is the KV cache type of GPU layers; DtypeAuto: the model's
	// compute type (CPU layers keep fp32).
	KvDtype Dtype
}

// GenerateOptions are the sampling settings of a generation.
type GenerateOptions struct {
	MaxNewTokens      int
	Temperature       float32 // 0: greedy
	TopK              int     // 0: off
	TopP              float32 // 1: off
	MinP              float32 // 0: off
	RepetitionPenalty float32 // 1: off
	RepetitionLastN   int     // 0: all tokens
	Seed              int64
	AddSpecial        bool     // add BOS etc. as the tokenizer asks
	StopOnEos         bool     // stop at end-of-generation tokens
	StopStrings       []string `gptq:"-"` // stop when the text contains one (it is cut off)
	// Beam search as transformers defines it; each prompt then needs
	// NumBeams sequences of the context (ContextOptions.NSeqMax).
	NumBeams           int     // 1: no beam search
	LengthPenalty      float32 // scores are sum log p / length^LengthPenalty
	EarlyStopping      EarlyStopping
	NumReturnSequences int // per prompt, 1..NumBeams
}

// QuantizeOptions are the settings of Model.Quantize.
type QuantizeOptions struct {
	Bits           int // 2, 3, 4 or 8
	GroupSize      int // columns per group, -1: one group
	DescAct        bool
	Sym            bool
	StaticGroups   bool
	TrueSequential bool
	DampPercent    float32
	QuantMethod    QuantMethod
	Mse            bool
	NThreads       int
	SkipModules    []string `gptq:"-"` // kept in float: "mlp.down_proj" or full names
	// Progress is called after each module; returning false cancels.
	Progress func(layer, layers int, module string, loss, fraction float64) bool `gptq:"-"`
}

// SaveOptions are the settings of Model.Save.
type SaveOptions struct {
	CheckpointFormat CheckpointFormat
	MaxShardBytes    int64 // 0: one model.safetensors
}

// PerplexityOptions are the settings of Context.Perplexity.
type PerplexityOptions struct {
	Window     int  // window length in tokens
	AddBos     bool // BOS before each window
	MaxWindows int  // 0: all
	// Progress is called per window; returning false cancels.
	Progress func(fraction float64, stage string) bool `gptq:"-"`
}

// copyFields copies every field of opts to the proxy's Set<Field> (toC) or
// from its Get<Field>: one mapping for all option structs, checked to
// cover each field so that a misnamed field cannot be skipped silently.
func copyFields(proxy any, opts any, toC bool) {
	pv, ov := reflect.ValueOf(proxy), reflect.ValueOf(opts).Elem()
	for i := 0; i < ov.NumField(); i++ {
		field := ov.Type().Field(i)
		if field.Tag.Get("gptq") == "-" {
			continue
		}
		prefix := "Get"
		if toC {
			prefix = "Set"
		}
		m := pv.MethodByName(prefix + field.Name)
		if !m.IsValid() {
			panic(fmt.Sprintf("gptq: %s.%s has no C field", ov.Type().Name(), field.Name))
		}
		if toC {
			m.Call([]reflect.Value{ov.Field(i).Convert(m.Type().In(0))})
		} else {
			ov.Field(i).Set(m.Call(nil)[0].Convert(field.Type))
		}
	}
}

// defaults reads a params struct's defaults into an option struct.
func defaults[O, P any](newParams func() P, deleteParams func(P)) O {
	var o O
	p := newParams()
	defer deleteParams(p)
	copyFields(p, &o, false)
	return o
}

// toNative makes the native params of an option struct (nil: defaults);
// free them with the matching raw.Delete*.
func toNative[O, P any](o *O, newParams func() P) P {
	p := newParams()
	if o != nil {
		copyFields(p, o, true)
	}
	return p
}

// DefaultModelOptions are the library's defaults.
func DefaultModelOptions() ModelOptions {
	return defaults[ModelOptions](raw.NewModelParams, raw.DeleteModelParams)
}

// DefaultContextOptions are the library's defaults.
func DefaultContextOptions() ContextOptions {
	return defaults[ContextOptions](raw.NewContextParams, raw.DeleteContextParams)
}

// DefaultGenerateOptions are the library's defaults (greedy, 128 tokens).
func DefaultGenerateOptions() GenerateOptions {
	return defaults[GenerateOptions](raw.NewGenerateParams, raw.DeleteGenerateParams)
}

// DefaultQuantizeOptions are the library's defaults (GPTQ, 4 bits, group 128).
func DefaultQuantizeOptions() QuantizeOptions {
	return defaults[QuantizeOptions](raw.NewQuantizeParams, raw.DeleteQuantizeParams)
}

// DefaultSaveOptions are the library's defaults.
func DefaultSaveOptions() SaveOptions {
	return defaults[SaveOptions](raw.NewSaveParams, raw.DeleteSaveParams)
}

// DefaultPerplexityOptions are the library's defaults.
func DefaultPerplexityOptions() PerplexityOptions {
	return defaults[PerplexityOptions](raw.NewPerplexityParams, raw.DeletePerplexityParams)
}

// The string lists have no C field to copy to: the params own copies
// added one by one.

func (o *GenerateOptions) native() raw.GenerateParams {
	p := toNative(o, raw.NewGenerateParams)
	if o != nil {
		addEach(p.AddStopString, o.StopStrings)
	}
	return p
}

func (o *QuantizeOptions) native() raw.QuantizeParams {
	p := toNative(o, raw.NewQuantizeParams)
	if o != nil {
		addEach(p.AddSkipModule, o.SkipModules)
	}
	return p
}

func addEach(add func(string), items []string) {
	for _, s := range items {
		add(s)
	}
}
