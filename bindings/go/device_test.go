package gptq

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// missingGPU is a GPU that is never there: "cuda" without GPUs, one past
// the last with them.
func missingGPU() string {
	if n := DeviceCount(); n > 0 {
		return "cuda:" + strconv.Itoa(n)
	}
	return "cuda"
}

func TestMissingGPUReturnsTheLibraryReason(t *testing.T) {
	o := DefaultModelOptions()
	o.Device = missingGPU()
	_, err := LoadModel(modelDir(), &o)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v", err)
	}
	if want := "device '" + o.Device + "' is not available: "; !strings.Contains(e.Message, want) {
		t.Errorf("message %q lacks %q", e.Message, want)
	}
}

func TestDeviceDefaultsAndTheCPUPlacement(t *testing.T) {
	o := DefaultModelOptions()
	if o.Device != "cpu" || o.NGpuLayers != -1 || o.ComputeDtype != DtypeAuto {
		t.Errorf("model defaults %+v", o)
	}
	c := DefaultContextOptions()
	if c.KvDtype != DtypeAuto {
		t.Errorf("context defaults %+v", c)
	}
	// GPU settings are accepted and have no effect on the CPU.
	o.ComputeDtype = DtypeBF16
	o.NGpuLayers = 2
	c.KvDtype = DtypeF16
	m, info := loadModelInfo(t, &o)
	openContext(t, m, &c)
	if info.Device != "cpu" || info.Placement != "embedding=cpu layers[0-5]=cpu head=cpu" ||
		info.NGpuLayers != 0 || info.ComputeDtype != DtypeF32 || info.GpuWeightBytes != 0 {
		t.Errorf("info %+v", info)
	}
}

func TestBadDeviceSettingsNameTheField(t *testing.T) {
	o := DefaultModelOptions()
	o.NGpuLayers = -2
	_, err := LoadModel(modelDir(), &o)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrInvalidArgument) || !strings.Contains(e.Message, "n_gpu_layers") {
		t.Errorf("n_gpu_layers -2: %v", err)
	}
	o = DefaultModelOptions()
	o.ComputeDtype = Dtype(7)
	if _, err := LoadModel(modelDir(), &o); !errors.As(err, &e) || !strings.Contains(e.Message, "compute_dtype") {
		t.Errorf("compute_dtype 7: %v", err)
	}
	o = DefaultModelOptions()
	o.Device = "tpu"
	if _, err := LoadModel(modelDir(), &o); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("device tpu: %v", err)
	}
	c := DefaultContextOptions()
	c.KvDtype = Dtype(-5)
	if _, err := loadModel(t).NewContext(&c); !errors.As(err, &e) || !strings.Contains(e.Message, "kv_dtype") {
		t.Errorf("kv_dtype -5: %v", err)
	}
	for _, index := range []int{-1, DeviceCount()} {
		if _, err := DeviceName(index); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("DeviceName(%d): %v", index, err)
		}
	}
}

func TestMemoryBudgetsPlanOrRefuseOnTheCPU(t *testing.T) {
	o := DefaultModelOptions()
	if o.MaxMemory != "" || o.PlanNCtx != 0 || o.PlanNSeq != 1 {
		t.Errorf("model defaults %+v", o)
	}
	o.MaxMemory = "cpu=4GiB"
	o.PlanNCtx = 256
	o.PlanNSeq = 2
	_, info := loadModelInfo(t, &o)
	if info.Device != "cpu" || info.Placement != "embedding=cpu layers[0-5]=cpu head=cpu" {
		t.Errorf("info %+v", info)
	}
	var e *Error
	o.MaxMemory = "cpu=1MiB"
	if _, err := LoadModel(modelDir(), &o); !errors.As(err, &e) || !errors.Is(err, ErrOutOfMemory) ||
		!strings.Contains(e.Message, "does not fit") {
		t.Errorf("max_memory cpu=1MiB: %v", err)
	}
	o.MaxMemory = "cpu=lots"
	if _, err := LoadModel(modelDir(), &o); !errors.As(err, &e) || !errors.Is(err, ErrInvalidArgument) ||
		!strings.Contains(e.Message, "max_memory") {
		t.Errorf("max_memory cpu=lots: %v", err)
	}
	o.MaxMemory = "cpu=4GiB"
	o.PlanNSeq = 0
	if _, err := LoadModel(modelDir(), &o); !errors.As(err, &e) || !errors.Is(err, ErrInvalidArgument) ||
		!strings.Contains(e.Message, "plan_n_seq") {
		t.Errorf("plan_n_seq 0: %v", err)
	}
}

func TestGPULoadsAndGenerates(t *testing.T) {
	n := DeviceCount()
	if n == 0 {
		t.Skip("no usable GPU (" + SystemInfo() + ")")
	}
	for i := 0; i < n; i++ {
		if name, err := DeviceName(i); err != nil || name == "" {
			t.Errorf("DeviceName(%d) = %q, %v", i, name, err)
		}
	}
	o := DefaultModelOptions()
	o.Device = "cuda"
	m, info := loadModelInfo(t, &o)
	if info.Device != "cuda:0" || info.NGpuLayers != 6 || info.GpuWeightBytes <= 0 {
		t.Errorf("info %+v", info)
	}
	g := DefaultGenerateOptions()
	g.MaxNewTokens = 4
	g.StopOnEos = false
	if tokens := generate(t, openContext(t, m, nil), refPrompt, &g).Tokens(); len(tokens) != 4 {
		t.Errorf("%d tokens", len(tokens))
	}
}
