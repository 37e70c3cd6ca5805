package gptq

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func greedyIDs(t *testing.T, m *Model) []int32 {
	t.Helper()
	return generate(t, openContext(t, m, nil), refPrompt, greedy32()).Tokens()
}

func rtn4() *QuantizeOptions {
	o := DefaultQuantizeOptions()
	o.QuantMethod = MethodRTN
	o.Bits = 4
	o.GroupSize = 128
	return &o
}

func TestRTNSaveLoadRoundTrip(t *testing.T) {
	m := loadModel(t)
	opts := rtn4()
	var modules []string
	opts.Progress = func(layer, layers int, module string, loss, fraction float64) bool {
		modules = append(modules, module)
		return true
	}
	q, err := m.Quantize(nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if len(modules) != 6*7 {
		t.Errorf("%d modules reported", len(modules))
	}
	dir := filepath.Join(t.TempDir(), "w4")
	save := DefaultSaveOptions()
	save.CheckpointFormat = FormatGPTQv2
	if err := q.Save(dir, &save); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		t.Fatal(err)
	}
	reloaded, err := LoadModel(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reloaded.Close()
	info, err := reloaded.Info()
	if err != nil || info.QuantBits != 4 || info.QuantFormat != "gptq_v2" {
		t.Errorf("reloaded info %+v, %v", info, err)
	}
	if a, b := greedyIDs(t, q), greedyIDs(t, reloaded); !equalIDs(a, b) {
		t.Errorf("quantized %v, reloaded %v", a, b)
	}
}

func TestGPTQWithCalibrationAndSkippedModules(t *testing.T) {
	m := loadModel(t)
	cal, err := m.CalibrationFromTexts([]string{"The history of the city is long.", "Python is a programming language."}, 32)
	if err != nil {
		t.Fatal(err)
	}
	defer cal.Close()
	ids, _ := m.Tokenize("Linux kernel documentation", true, false)
	if err := cal.Add(ids); err != nil {
		t.Fatal(err)
	}
	if n, _ := cal.Len(); n != 3 {
		t.Errorf("%d samples", n)
	}
	opts := DefaultQuantizeOptions()
	opts.GroupSize = 64
	opts.SkipModules = []string{"mlp.down_proj"}
	var losses []float64
	opts.Progress = func(layer, layers int, module string, loss, fraction float64) bool {
		losses = append(losses, loss)
		return true
	}
	q, err := m.Quantize(cal, &opts)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	positive := false
	for _, l := range losses {
		positive = positive || l > 0
	}
	if len(losses) != 6*6 || !positive {
		t.Errorf("losses %v", losses)
	}
	if n := len(greedyIDs(t, q)); n != 32 {
		t.Errorf("%d tokens", n)
	}
}

func TestCancellingAndPanickingProgress(t *testing.T) {
	m := loadModel(t)
	opts := rtn4()
	opts.Progress = func(int, int, string, float64, float64) bool { return false }
	if _, err := m.Quantize(nil, opts); !errors.Is(err, ErrCancelled) {
		t.Errorf("cancelled: %v", err)
	}
	opts.Progress = func(int, int, string, float64, float64) bool { panic("from the callback") }
	defer func() {
		if r := recover(); r != "from the callback" {
			t.Errorf("recovered %v", r)
		}
	}()
	m.Quantize(nil, opts)
	t.Error("the callback's panic was not raised again")
}

func TestShardedSaveReloads(t *testing.T) {
	m := loadModel(t)
	q, err := m.Quantize(nil, rtn4())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	dir := filepath.Join(t.TempDir(), "sharded")
	save := DefaultSaveOptions()
	save.MaxShardBytes = 2 << 20
	if err := q.Save(dir, &save); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors.index.json")); err != nil {
		t.Fatal(err)
	}
	reloaded, err := LoadModel(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reloaded.Close()
	if a, b := greedyIDs(t, q), greedyIDs(t, reloaded); !equalIDs(a, b) {
		t.Errorf("quantized %v, reloaded %v", a, b)
	}
}

func TestCalibrationSources(t *testing.T) {
	m := loadModel(t)
	fromText, err := m.CalibrationFromText(strings.Repeat("The history of the city is long. ", 20), 3, 16, 7)
	if err != nil {
		t.Fatal(err)
	}
	defer fromText.Close()
	path := filepath.Join(filepath.Dir(filepath.Dir(modelDir())), "data", "wikitext-2", "valid.txt")
	fromFile, err := m.CalibrationFromFile(path, 2, 32, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fromFile.Close()
	if n, _ := fromText.Len(); n != 3 {
		t.Errorf("%d samples from text", n)
	}
	if n, _ := fromFile.Len(); n != 2 {
		t.Errorf("%d samples from file", n)
	}
	fromFile.Close()
	if _, err := fromFile.Len(); err != ErrClosed {
		t.Errorf("Len after Close: %v", err)
	}
}
