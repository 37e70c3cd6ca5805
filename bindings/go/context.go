package gptq

import (
	"sync"

	"libgptq.dev/gptq/internal/raw"
)

// Context is the KV cache, scratch memory and worker threads of one user
// of a model. Calls on one context are serialized (the library allows one
// thread at a time); while a Stream is open, the stream owns the context
// and other calls return ErrBusy.
type Context struct {
	h      *handle[raw.Struct_SS_gptq_context]
	model  *Model
	mu     sync.Mutex
	stream *Stream
}

func newContext(m *Model, c raw.Struct_SS_gptq_context) *Context {
	// Freeing the context gives back the model it borrowed at creation.
	h := newHandle(c, func(c raw.Struct_SS_gptq_context) {
		raw.Context_free(c)
		m.h.release()
	})
	return owned(&Context{model: m, h: h}, h)
}

// Close releases the context (once an open stream is closed too).
func (c *Context) Close() error { return c.h.close() }

// Model is the model the context belongs to.
func (c *Context) Model() *Model { return c.model }

// with runs f with the context borrowed, unless a stream owns it.
func with[R any](c *Context, f func(raw.Struct_SS_gptq_context) (R, error)) (R, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stream != nil {
		var zero R
		return zero, ErrBusy
	}
	return use(c.h, f)
}

// NCtx, NSeqMax and NThreads are the effective settings (defaults resolved).
func (c *Context) NCtx() (int, error) {
	return with(c, func(h raw.Struct_SS_gptq_context) (int, error) { return raw.Context_n_ctx(h), nil })
}

func (c *Context) NSeqMax() (int, error) {
	return with(c, func(h raw.Struct_SS_gptq_context) (int, error) { return raw.Context_n_seq_max(h), nil })
}

func (c *Context) NThreads() (int, error) {
	return with(c, func(h raw.Struct_SS_gptq_context) (int, error) { return raw.Context_n_threads(h), nil })
}

// SeqLength is the number of tokens sequence seq holds.
func (c *Context) SeqLength(seq int) (int, error) {
	return with(c, func(h raw.Struct_SS_gptq_context) (int, error) { return raw.Context_seq_length(h, seq), nil })
}

// Clear forgets what a sequence holds (-1: every sequence).
func (c *Context) Clear(seq int) error {
	_, err := with(c, func(h raw.Struct_SS_gptq_context) (struct{}, error) {
		return struct{}{}, do(func() { raw.Context_clear(h, seq) })
	})
	return err
}

// Eval appends tokens to a sequence, runs the model over them and returns
// the logits mode asks for: vocab size floats (LogitsLast), len(tokens) *
// vocab size (LogitsAll) or none (LogitsNone).
func (c *Context) Eval(seq int, tokens []int32, mode LogitsMode) ([]float32, error) {
	vocab := 0
	if mode != LogitsNone {
		info, err := c.model.Info()
		if err != nil {
			return nil, err
		}
		vocab = info.VocabSize
	}
	n := vocab
	if mode == LogitsAll {
		n = len(tokens) * vocab
	}
	logits := make([]float32, n)
	return with(c, func(h raw.Struct_SS_gptq_context) ([]float32, error) {
		return logits, do(func() { raw.Context_eval(h, seq, tokens, int(mode), logits) })
	})
}

// Generate continues prompt in sequence 0; opts may be nil (defaults).
func (c *Context) Generate(prompt string, opts *GenerateOptions) (*Generation, error) {
	p := opts.native()
	defer raw.DeleteGenerateParams(p)
	return with(c, func(h raw.Struct_SS_gptq_context) (*Generation, error) {
		g, err := call(func() raw.Struct_SS_gptq_generation { return raw.Generate(h, prompt, p) })
		if err != nil {
			return nil, err
		}
		return takeGeneration(g)
	})
}

// GenerateBatch continues several prompts together (NSeqMax >= len(prompts)).
func (c *Context) GenerateBatch(prompts []string, opts *GenerateOptions) (*Generation, error) {
	p := opts.native()
	defer raw.DeleteGenerateParams(p)
	return with(c, func(h raw.Struct_SS_gptq_context) (*Generation, error) {
		g, err := call(func() raw.Struct_SS_gptq_generation {
			return withStrings(prompts, func(list raw.Gptqb_strings) raw.Struct_SS_gptq_generation {
				return raw.Generate_batch(h, list, p)
			})
		})
		if err != nil {
			return nil, err
		}
		return takeGeneration(g)
	})
}

// PerplexityResult of a text.
type PerplexityResult struct {
	Perplexity      float64 // exp(MeanNll)
	MeanNll         float64 // nats per token
	NScored         int64
	NTextTokens     int64
	NWindows        int
	Seconds         float64
	TokensPerSecond float64
}

// Perplexity of the model on text (non-overlapping windows, sequence 0).
func (c *Context) Perplexity(text string, opts *PerplexityOptions) (PerplexityResult, error) {
	return c.perplexity(opts, func(h raw.Struct_SS_gptq_context, p raw.PerplexityParams, id int64) raw.PerplexityResult {
		return raw.Perplexity(h, text, p, id)
	})
}

// PerplexityFile is Perplexity over the contents of a text file.
func (c *Context) PerplexityFile(path string, opts *PerplexityOptions) (PerplexityResult, error) {
	return c.perplexity(opts, func(h raw.Struct_SS_gptq_context, p raw.PerplexityParams, id int64) raw.PerplexityResult {
		return raw.Perplexity_file(h, path, p, id)
	})
}

func (c *Context) perplexity(opts *PerplexityOptions,
	run func(raw.Struct_SS_gptq_context, raw.PerplexityParams, int64) raw.PerplexityResult) (PerplexityResult, error) {
	var progress raw.Target
	if opts != nil {
		progress = progressTarget(opts.Progress)
	}
	p := toNative(opts, raw.NewPerplexityParams)
	defer raw.DeletePerplexityParams(p)
	return with(c, func(h raw.Struct_SS_gptq_context) (PerplexityResult, error) {
		return withCallback(progress, func(id int64) (PerplexityResult, error) {
			var out PerplexityResult
			r, err := call(func() raw.PerplexityResult { return run(h, p, id) })
			if err != nil {
				return out, err
			}
			defer raw.DeletePerplexityResult(r)
			copyFields(r, &out, false)
			return out, nil
		})
	})
}
