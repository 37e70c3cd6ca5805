package gptq

import "libgptq.dev/gptq/internal/raw"

// Model is a loaded model: immutable and safe to share between goroutines,
// each with its own Context. Closing it while contexts are open defers the
// release until the last of them is closed.
type Model struct {
	h *handle[raw.Struct_SS_gptq_model]
}

// ModelInfo describes a model.
type ModelInfo struct {
	Architecture          string // config.json's model_type, e.g. "llama"
	Path                  string
	Tokenizer             string // "sentencepiece" or "bpe"
	VocabSize             int
	NLayers               int
	HiddenSize            int
	IntermediateSize      int
	NHeads                int
	NKvHeads              int
	HeadDim               int
	MaxPositionEmbeddings int
	WeightType            Dtype // of the stored float weights
	TiedEmbeddings        bool
	NParams               int64
	WeightBytes           int64
	RopeTheta             float32
	RopeType              string
	BosToken              int // -1 when none
	EosToken              int // -1 when none
	QuantBits             int // 0 for a float model
	QuantGroupSize        int
	QuantDescAct          bool
	QuantSym              bool
	QuantStaticGroups     bool
	QuantFormat           string // "gptq", "gptq_v2" or ""
	Device                string // "cpu", "cuda:0", or "cuda:0+cpu" for a split
	Placement             string // every part: "embedding=cpu layers[0-3]=cpu layers[4-5]=cuda:0 head=cuda:0"
	NGpuLayers            int    // decoder layers on a GPU
	ComputeDtype          Dtype  // of the GPU parts' activations; DtypeF32 when all is on the CPU
	GpuWeightBytes        int64  // weight bytes held on GPUs
}

func newModel(m raw.Struct_SS_gptq_model, err error) (*Model, error) {
	if err != nil {
		return nil, err
	}
	h := newHandle(m, raw.Model_free)
	return owned(&Model{h}, h), nil
}

// LoadModel loads a Hugging Face checkpoint directory; opts may be nil (defaults).
func LoadModel(dir string, opts *ModelOptions) (*Model, error) {
	var progress raw.Target
	if opts != nil {
		progress = progressTarget(opts.Progress)
	}
	p := toNative(opts, raw.NewModelParams)
	defer raw.DeleteModelParams(p)
	return newModel(withCallback(progress, func(id int64) (raw.Struct_SS_gptq_model, error) {
		return call(func() raw.Struct_SS_gptq_model { return raw.Model_load(dir, p, id) })
	}))
}

// Close releases the model (once its contexts are closed too).
func (m *Model) Close() error { return m.h.close() }

// Info describes the model.
func (m *Model) Info() (ModelInfo, error) {
	return use(m.h, func(h raw.Struct_SS_gptq_model) (ModelInfo, error) {
		var info ModelInfo
		p, err := call(func() raw.ModelInfo { return raw.Model_info(h) })
		if err != nil {
			return info, err
		}
		defer raw.DeleteModelInfo(p)
		copyFields(p, &info, false)
		return info, nil
	})
}

// TokenText is a token's vocabulary entry as the tokenizer stores it (e.g. "▁the").
func (m *Model) TokenText(token int32) (string, error) {
	return use(m.h, func(h raw.Struct_SS_gptq_model) (string, error) {
		return call(func() string { return raw.Token_text(h, int(token)) })
	})
}

// IsEndOfGeneration tells whether generation ends at the token.
func (m *Model) IsEndOfGeneration(token int32) (bool, error) {
	return use(m.h, func(h raw.Struct_SS_gptq_model) (bool, error) {
		return raw.Token_is_eog(h, int(token)) != 0, nil
	})
}

// Tokenize turns UTF-8 text into token ids, adding BOS etc. as the
// tokenizer asks when addSpecial, matching special-token text when parseSpecial.
func (m *Model) Tokenize(text string, addSpecial, parseSpecial bool) ([]int32, error) {
	flags := 0
	if addSpecial {
		flags |= raw.TOKENIZE_ADD_SPECIAL
	}
	if parseSpecial {
		flags |= raw.TOKENIZE_PARSE_SPECIAL
	}
	return use(m.h, func(h raw.Struct_SS_gptq_model) ([]int32, error) {
		ints, err := call(func() raw.Gptqb_ints { return raw.Tokenize(h, text, flags) })
		if err != nil {
			return nil, err
		}
		return takeInts(ints), nil
	})
}

// Detokenize turns token ids back into text, leaving out special tokens when skipSpecial.
func (m *Model) Detokenize(tokens []int32, skipSpecial bool) (string, error) {
	flags := 0
	if skipSpecial {
		flags = raw.DETOKENIZE_SKIP_SPECIAL
	}
	return use(m.h, func(h raw.Struct_SS_gptq_model) (string, error) {
		return call(func() string { return raw.Detokenize(h, tokens, flags) })
	})
}

// NewContext makes a context (KV cache, scratch, threads) for one goroutine
// at a time; opts may be nil (defaults).
func (m *Model) NewContext(opts *ContextOptions) (*Context, error) {
	h, err := m.h.acquire()
	if err != nil {
		return nil, err
	}
	p := toNative(opts, raw.NewContextParams)
	defer raw.DeleteContextParams(p)
	c, err := call(func() raw.Struct_SS_gptq_context { return raw.Context_new(h, p) })
	if err != nil {
		m.h.release()
		return nil, err
	}
	return newContext(m, c), nil
}

// Quantize quantizes the linear layers into a new, independent model.
// calibration may be nil for MethodRTN; opts may be nil (defaults).
func (m *Model) Quantize(calibration *Calibration, opts *QuantizeOptions) (*Model, error) {
	var progress raw.Target
	if opts != nil {
		progress = quantizeTarget(opts.Progress)
	}
	p := opts.native()
	defer raw.DeleteQuantizeParams(p)
	run := func(h raw.Struct_SS_gptq_model, c raw.Struct_SS_gptq_calibration) (*Model, error) {
		return newModel(withCallback(progress, func(id int64) (raw.Struct_SS_gptq_model, error) {
			return call(func() raw.Struct_SS_gptq_model { return raw.Quantize(h, c, p, id) })
		}))
	}
	return use(m.h, func(h raw.Struct_SS_gptq_model) (*Model, error) {
		if calibration == nil {
			return run(h, raw.SwigcptrStruct_SS_gptq_calibration(0))
		}
		return use(calibration.h, func(c raw.Struct_SS_gptq_calibration) (*Model, error) { return run(h, c) })
	})
}

// Save writes a GPTQ checkpoint directory (which must not exist or be
// empty); opts may be nil (defaults).
func (m *Model) Save(dir string, opts *SaveOptions) error {
	p := toNative(opts, raw.NewSaveParams)
	defer raw.DeleteSaveParams(p)
	_, err := use(m.h, func(h raw.Struct_SS_gptq_model) (struct{}, error) {
		return struct{}{}, do(func() { raw.Model_save(h, dir, p) })
	})
	return err
}
