package gptq

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestBadModelPathReturnsTheLibraryMessage(t *testing.T) {
	_, err := LoadModel("/no/such/model", nil)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(e.Message, "'/no/such/model' does not exist") {
		t.Errorf("message %q", e.Message)
	}
}

func TestClosedHandlesReturnErrClosed(t *testing.T) {
	m, err := LoadModel(modelDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.NewContext(nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	// The open context keeps the model alive.
	if g := generate(t, c, refPrompt, greedy32()); len(g.Tokens()) != 32 {
		t.Errorf("%d tokens", len(g.Tokens()))
	}
	c.Close()
	if _, err := c.Generate(refPrompt, nil); err != ErrClosed {
		t.Errorf("Generate after Close: %v", err)
	}
	if _, err := m.Tokenize("x", true, false); err != ErrClosed {
		t.Errorf("Tokenize after Close: %v", err)
	}
	if _, err := m.NewContext(nil); err != ErrClosed {
		t.Errorf("NewContext after Close: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestBadArgumentsReturnErrors(t *testing.T) {
	m := loadModel(t)
	c := openContext(t, m, nil)
	if _, err := m.TokenText(1 << 20); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("TokenText: %v", err)
	}
	if _, err := c.Eval(7, []int32{1}, LogitsLast); err == nil {
		t.Error("Eval of a bad sequence succeeded")
	}
	g := greedy32()
	g.Temperature = -1
	if _, err := c.Generate("x", g); err == nil {
		t.Error("Generate with temperature -1 succeeded")
	}
	if _, err := m.CalibrationFromFile("/no/file", 1, 8, 0); err == nil {
		t.Error("CalibrationFromFile of a missing file succeeded")
	}
}

func TestLibraryFactsAndInfo(t *testing.T) {
	if Version() != 100 || VersionString() != "0.1.0" || !strings.HasPrefix(SystemInfo(), "libgptq 0.1.0") {
		t.Errorf("version %d %q, %q", Version(), VersionString(), SystemInfo())
	}
	info, err := loadModel(t).Info()
	if err != nil {
		t.Fatal(err)
	}
	if info.Architecture != "llama" || info.VocabSize != 8192 || info.NLayers != 6 ||
		info.WeightType != DtypeF16 || !info.TiedEmbeddings || info.QuantBits != 0 {
		t.Errorf("info %+v", info)
	}
	d := DefaultGenerateOptions()
	if d.MaxNewTokens != 128 || d.TopP != 1 || !d.AddSpecial || !d.StopOnEos {
		t.Errorf("defaults %+v", d)
	}
}

func TestLogger(t *testing.T) {
	var lines []string
	SetLogger(func(level LogLevel, message string) { lines = append(lines, message) }, LogDebug)
	loadModel(t)
	SetLogger(nil, LogOff)
	if len(lines) == 0 {
		t.Error("no log message while loading a model at debug level")
	}
}

// A model, context or generation leaked per round would add megabytes each time.
func TestLoadGenerateFreeKeepsResidentMemoryFlat(t *testing.T) {
	var baseline int64
	for i := 0; i < 30; i++ {
		m, err := LoadModel(modelDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := m.NewContext(nil)
		if err != nil {
			t.Fatal(err)
		}
		generate(t, c, refPrompt, greedy32())
		s, err := c.Stream(refPrompt, greedy32())
		if err != nil {
			t.Fatal(err)
		}
		for s.Next() {
		}
		s.Close()
		c.Close()
		m.Close()
		if i == 9 {
			runtime.GC()
			baseline = residentKiB(t)
		}
	}
	runtime.GC()
	if growth := residentKiB(t) - baseline; growth > 48*1024 {
		t.Errorf("resident memory grew by %d KiB over 20 rounds", growth)
	}
}
