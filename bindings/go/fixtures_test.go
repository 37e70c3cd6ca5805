package gptq

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// prompt_0 of models/tinydoc-llama-13m-reference.safetensors.
const refPrompt = "The history of the city"

// gen_ids_0 of models/tinydoc-llama-13m-reference.safetensors (BOS, the
// prompt's 7 tokens, 32 greedy tokens by transformers), read once with
// python3's json + struct from the safetensors header and data.
var refIDs = []int32{
	1, 383, 2550, 532, 313, 271, 276, 590, 295, 271, 5961, 6004, 6034, 6024, 6015, 530,
	369, 325, 280, 377, 420, 1685, 341, 839, 1389, 1936, 604, 266, 534, 4039, 6016, 604,
	319, 266, 534, 4039, 6016, 631, 383, 276}

const refPromptTokens = 8

func modelDir() string {
	shared := os.Getenv("GPTQ_SHARED_DIR")
	if shared == "" {
		shared = "../shared"
	}
	return filepath.Join(shared, "models", "tinydoc-llama-13m")
}

// greedy32 are the reference's settings: greedy, 32 tokens, not stopping at EOS.
func greedy32() *GenerateOptions {
	o := DefaultGenerateOptions()
	o.MaxNewTokens = 32
	o.StopOnEos = false
	return &o
}

func loadModel(t testing.TB) *Model {
	t.Helper()
	m, _ := loadModelInfo(t, nil)
	return m
}

// loadModelInfo loads tinydoc with opts and says where it was placed.
func loadModelInfo(t testing.TB, opts *ModelOptions) (*Model, ModelInfo) {
	t.Helper()
	m, err := LoadModel(modelDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	info, err := m.Info()
	if err != nil {
		t.Fatal(err)
	}
	return m, info
}

func openContext(t testing.TB, m *Model, opts *ContextOptions) *Context {
	t.Helper()
	c, err := m.NewContext(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func generate(t testing.TB, c *Context, prompt string, opts *GenerateOptions) *Generation {
	t.Helper()
	g, err := c.Generate(prompt, opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// residentKiB is this process's resident memory.
func residentKiB(t testing.TB) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			n, err := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}
