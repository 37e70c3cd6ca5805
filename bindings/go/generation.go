package gptq

import "libgptq.dev/gptq/internal/raw"

// Sequence is a generated continuation of one prompt.
type Sequence struct {
	Text         string  // generated text, without the prompt
	Tokens       []int32 // generated token ids
	PromptTokens []int32 // the prompt's ids as fed to the model (BOS included)
	StopReason   StopReason
	PromptIndex  int     // the prompt it continues
	Score        float64 // beam search's sum log p / length^LengthPenalty; NaN without beam search
}

// Timing of a generation, over all its sequences.
type Timing struct {
	PromptTokens             int64
	PromptSeconds            float64
	GeneratedTokens          int64
	GenerateSeconds          float64
	PromptTokensPerSecond    float64
	GeneratedTokensPerSecond float64
}

// Generation is the result of a generation, copied out of the library: one
// Sequence per prompt, or with beam search NumReturnSequences per prompt
// (prompt by prompt, best first).
type Generation struct {
	Sequences []Sequence
	Timing    Timing
}

// Text is the first (often the only) sequence's text.
func (g *Generation) Text() string { return g.Sequences[0].Text }

// Tokens are the first sequence's generated ids.
func (g *Generation) Tokens() []int32 { return g.Sequences[0].Tokens }

// takeInts copies a native token list into a slice and frees it.
func takeInts(ints raw.Gptqb_ints) []int32 {
	defer raw.Ints_free(ints)
	out := make([]int32, raw.Ints_count(ints))
	raw.Ints_copy(ints, out)
	return out
}

// takeGeneration copies a native generation and frees it.
func takeGeneration(g raw.Struct_SS_gptq_generation) (*Generation, error) {
	defer raw.Generation_free(g)
	n := raw.Generation_count(g)
	out := &Generation{Sequences: make([]Sequence, n)}
	for i := 0; i < n; i++ {
		text, err := call(func() string { return raw.Generation_text(g, i) })
		if err != nil {
			return nil, err
		}
		out.Sequences[i] = Sequence{
			Text:         text,
			Tokens:       takeInts(raw.Generation_tokens(g, i)),
			PromptTokens: takeInts(raw.Generation_prompt_tokens(g, i)),
			StopReason:   StopReason(raw.Generation_stop_reason(g, i)),
			PromptIndex:  int(raw.Generation_prompt_index(g, i)),
			Score:        raw.Generation_score(g, i),
		}
	}
	t, err := call(func() raw.Timings { return raw.Generation_timings(g) })
	if err != nil {
		return nil, err
	}
	defer raw.DeleteTimings(t)
	out.Timing = Timing{t.GetPromptTokens(), t.GetPromptSeconds(), t.GetGeneratedTokens(),
		t.GetGenerateSeconds(), t.GetPromptTokensPerSecond(), t.GetGeneratedTokensPerSecond()}
	return out, nil
}

// withStrings runs f with the strings as a native list.
func withStrings[R any](strings []string, f func(raw.Gptqb_strings) R) R {
	list := raw.Strings_new()
	defer raw.Strings_free(list)
	addEach(func(s string) { raw.Strings_add(list, s) }, strings)
	return f(list)
}
