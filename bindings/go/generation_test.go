package gptq

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestGreedyContinuationMatchesTransformers(t *testing.T) {
	m := loadModel(t)
	g := generate(t, openContext(t, m, nil), refPrompt, greedy32())
	if !equalIDs(g.Sequences[0].PromptTokens, refIDs[:refPromptTokens]) {
		t.Errorf("prompt tokens %v, want %v", g.Sequences[0].PromptTokens, refIDs[:refPromptTokens])
	}
	if !equalIDs(g.Tokens(), refIDs[refPromptTokens:]) {
		t.Errorf("tokens %v, want %v", g.Tokens(), refIDs[refPromptTokens:])
	}
	if g.Sequences[0].StopReason != StopLength || g.Timing.GeneratedTokens != 32 {
		t.Errorf("stop reason %v, %d tokens", g.Sequences[0].StopReason, g.Timing.GeneratedTokens)
	}
	if text, err := m.Detokenize(refIDs, true); err != nil || text != refPrompt+g.Text() {
		t.Errorf("detokenized %q (%v), want %q", text, err, refPrompt+g.Text())
	}
}

func TestTokenize(t *testing.T) {
	m := loadModel(t)
	ids, err := m.Tokenize(refPrompt, true, false)
	if err != nil || !equalIDs(ids, refIDs[:refPromptTokens]) {
		t.Fatalf("Tokenize = %v, %v", ids, err)
	}
	const text = "naïve café — 東京 🙂"
	ids, _ = m.Tokenize(text, false, false)
	if back, err := m.Detokenize(ids, false); err != nil || back != text {
		t.Errorf("round trip %q (%v)", back, err)
	}
	if s, err := m.TokenText(1); err != nil || s != "<s>" {
		t.Errorf("TokenText(1) = %q, %v", s, err)
	}
	if eog, _ := m.IsEndOfGeneration(2); !eog {
		t.Error("token 2 should end generation")
	}
}

func TestEvalLogitsPickTheGreedyToken(t *testing.T) {
	c := openContext(t, loadModel(t), nil)
	logits, err := c.Eval(0, refIDs[:refPromptTokens], LogitsLast)
	if err != nil {
		t.Fatal(err)
	}
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	if int32(best) != refIDs[refPromptTokens] {
		t.Errorf("argmax %d, want %d", best, refIDs[refPromptTokens])
	}
	if n, _ := c.SeqLength(0); n != refPromptTokens {
		t.Errorf("SeqLength = %d", n)
	}
	all, err := c.Eval(0, []int32{int32(best), 5}, LogitsAll)
	if err != nil || len(all) != 2*len(logits) {
		t.Errorf("LogitsAll: %d floats, %v", len(all), err)
	}
	if err := c.Clear(-1); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.SeqLength(0); n != 0 {
		t.Errorf("SeqLength after Clear = %d", n)
	}
}

func TestStreamedTextIsTheGeneratedText(t *testing.T) {
	c := openContext(t, loadModel(t), nil)
	s, err := c.Stream(refPrompt, greedy32())
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	var ids []int32
	for s.Next() {
		text.WriteString(s.Token().Text)
		ids = append(ids, s.Token().ID)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	result, err := s.Result()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Generate(refPrompt, greedy32()); err != ErrBusy {
		t.Errorf("Generate during a stream: %v, want ErrBusy", err)
	}
	s.Close()
	if s.Next() || s.Err() != ErrClosed {
		t.Errorf("Next after Close: err %v", s.Err())
	}
	if text.String() != result.Text() || !equalIDs(ids, result.Tokens()) {
		t.Errorf("streamed %q %v, result %q %v", text.String(), ids, result.Text(), result.Tokens())
	}
	if g := generate(t, c, refPrompt, greedy32()); g.Text() != text.String() {
		t.Errorf("generated %q, streamed %q", g.Text(), text.String())
	}
}

func TestStreamStop(t *testing.T) {
	c := openContext(t, loadModel(t), nil)
	s, err := c.Stream(refPrompt, greedy32())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Next() {
		t.Fatal(s.Err())
	}
	if err := s.Stop(0); err != nil {
		t.Fatal(err)
	}
	for s.Next() {
	}
	if g, err := s.Result(); err != nil || g.Sequences[0].StopReason != StopCallback {
		t.Errorf("after Stop: %v, %v", g, err)
	}
}

func TestBatchAndStopStrings(t *testing.T) {
	opts := DefaultContextOptions()
	opts.NSeqMax = 2
	c := openContext(t, loadModel(t), &opts)
	batch, err := c.GenerateBatch([]string{refPrompt, "Python is"}, greedy32())
	if err != nil || len(batch.Sequences) != 2 {
		t.Fatalf("GenerateBatch: %v, %v", batch, err)
	}
	if single := generate(t, c, refPrompt, greedy32()); single.Text() != batch.Text() {
		t.Errorf("batch %q, single %q", batch.Text(), single.Text())
	}
	g := greedy32()
	g.StopStrings = []string{"Big Ten"}
	stopped := generate(t, c, refPrompt, g)
	if stopped.Sequences[0].StopReason != StopString || strings.Contains(stopped.Text(), "Big Ten") {
		t.Errorf("stop string: %v %q", stopped.Sequences[0].StopReason, stopped.Text())
	}
}

func TestGoroutinesSharingTheModelAgree(t *testing.T) {
	m := loadModel(t)
	results := make([][]int32, 4)
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			opts := DefaultContextOptions()
			opts.NThreads = 1
			c, err := m.NewContext(&opts)
			if err != nil {
				errs[i] = err
				return
			}
			defer c.Close()
			g, err := c.Generate(refPrompt, greedy32())
			if err == nil {
				results[i] = g.Tokens()
			}
			errs[i] = err
		}(i)
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil || !equalIDs(results[i], refIDs[refPromptTokens:]) {
			t.Errorf("goroutine %d: %v %v", i, results[i], errs[i])
		}
	}
}

func TestPerplexity(t *testing.T) {
	c := openContext(t, loadModel(t), nil)
	opts := DefaultPerplexityOptions()
	opts.Window = 64
	calls := 0
	opts.Progress = func(fraction float64, stage string) bool { calls++; return true }
	r, err := c.Perplexity(strings.Repeat("The history of the city is long. ", 40), &opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Perplexity <= 1 || r.Perplexity >= 1000 || math.IsNaN(r.Perplexity) || r.NWindows < 1 || calls == 0 {
		t.Errorf("perplexity %+v after %d progress calls", r, calls)
	}
}

func TestPerplexityFile(t *testing.T) {
	c := openContext(t, loadModel(t), nil)
	opts := DefaultPerplexityOptions()
	opts.Window = 128
	opts.MaxWindows = 2
	path := filepath.Join(filepath.Dir(filepath.Dir(modelDir())), "data", "wikitext-2", "test.txt")
	r, err := c.PerplexityFile(path, &opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.NWindows != 2 || r.NScored <= 0 || r.Perplexity <= 1 || r.Perplexity >= 1000 {
		t.Errorf("perplexity %+v", r)
	}
	if _, err := c.PerplexityFile("/no/such/file.txt", &opts); !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrIO) {
		t.Errorf("missing file: %v", err)
	}
}

func TestBeamSearchReturnsTheBestSequencesWithTheirScores(t *testing.T) {
	m := loadModel(t)
	opts := DefaultGenerateOptions()
	if opts.NumBeams != 1 || opts.LengthPenalty != 1 || opts.EarlyStopping != EarlyStoppingFalse || opts.NumReturnSequences != 1 {
		t.Fatalf("beam defaults %+v", opts)
	}
	opts.MaxNewTokens = 6
	opts.NumBeams = 3
	opts.NumReturnSequences = 2
	opts.LengthPenalty = 0
	opts.EarlyStopping = EarlyStoppingNever
	c := openContext(t, m, &ContextOptions{NSeqMax: 3})
	g := generate(t, c, refPrompt, &opts)
	if len(g.Sequences) != 2 || g.Sequences[0].Score < g.Sequences[1].Score || equalIDs(g.Sequences[0].Tokens, g.Sequences[1].Tokens) {
		t.Fatalf("sequences %+v", g.Sequences)
	}
	for _, s := range g.Sequences {
		// length_penalty 0: the score is the sequence's log-likelihood.
		if want := logLikelihood(t, c, s.PromptTokens, s.Tokens); s.PromptIndex != 0 || math.Abs(s.Score-want) > 1e-3 {
			t.Errorf("prompt %d score %v, want prompt 0 score %v", s.PromptIndex, s.Score, want)
		}
	}
	opts.NumReturnSequences = 4
	if _, err := c.Generate(refPrompt, &opts); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "num_return_sequences") {
		t.Errorf("4 of 3 beams: %v", err)
	}
	if s := generate(t, openContext(t, m, nil), refPrompt, greedy32()).Sequences[0]; !math.IsNaN(s.Score) {
		t.Errorf("greedy score %v, want NaN", s.Score)
	}
}

// logLikelihood sums log p(token) over the tokens after the prompt, from one fresh evaluation.
func logLikelihood(t *testing.T, c *Context, prompt, tokens []int32) float64 {
	all := append(append([]int32{}, prompt...), tokens[:len(tokens)-1]...)
	if err := c.Clear(0); err != nil {
		t.Fatal(err)
	}
	logits, err := c.Eval(0, all, LogitsAll)
	if err != nil {
		t.Fatal(err)
	}
	vocab := len(logits) / len(all)
	sum := 0.0
	for i, token := range tokens {
		row := logits[(len(prompt)-1+i)*vocab : (len(prompt)+i)*vocab]
		max, total := math.Inf(-1), 0.0
		for _, l := range row {
			max = math.Max(max, float64(l))
		}
		for _, l := range row {
			total += math.Exp(float64(l) - max)
		}
		sum += float64(row[token]) - max - math.Log(total)
	}
	return sum
}
