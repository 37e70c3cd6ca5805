// Package gptq is the Go binding of libgptq: GPTQ quantization and LLM
// inference. Handles (Model, Context, Stream, Calibration) must be closed;
// a Model may be shared by goroutines, each with its own Context.
package gptq

import (
	"sync"

	"libgptq.dev/gptq/internal/raw"
)

// Enumerations of gptq.h, their values taken from the library.
type (
	LogLevel         int
	LogitsMode       int
	StopReason       int
	EarlyStopping    int
	QuantMethod      int
	CheckpointFormat int
	Dtype            int
	Feature          int64
)

var (
	LogDebug = LogLevel(raw.DEBUG)
	LogInfo  = LogLevel(raw.INFO)
	LogWarn  = LogLevel(raw.WARN)
	LogError = LogLevel(raw.ERROR)
	LogOff   = LogLevel(raw.OFF)

	LogitsNone = LogitsMode(raw.NONE)
	LogitsLast = LogitsMode(raw.LAST)
	LogitsAll  = LogitsMode(raw.ALL)

	StopLength      = StopReason(raw.LENGTH)
	StopEOS         = StopReason(raw.EOS)
	StopString      = StopReason(raw.STRING)
	StopCallback    = StopReason(raw.CALLBACK)
	StopContextFull = StopReason(raw.CONTEXT_FULL)

	// transformers' early_stopping values: when beam search stops.
	EarlyStoppingFalse = EarlyStopping(raw.FALSE) // the best running beam at its length cannot win
	EarlyStoppingTrue  = EarlyStopping(raw.TRUE)  // num_beams hypotheses are finished
	EarlyStoppingNever = EarlyStopping(raw.NEVER) // no running beam can win at any length

	MethodGPTQ = QuantMethod(raw.GPTQ)
	MethodRTN  = QuantMethod(raw.RTN)

	FormatGPTQ   = CheckpointFormat(raw.GPTQ_V1)
	FormatGPTQv2 = CheckpointFormat(raw.GPTQ_V2)

	DtypeAuto = Dtype(raw.AUTO) // in options: let the library choose
	DtypeF32  = Dtype(raw.F32)
	DtypeF16  = Dtype(raw.F16)
	DtypeBF16 = Dtype(raw.BF16)

	FeatureAVX2   = Feature(raw.FEATURE_AVX2)
	FeatureAVX512 = Feature(raw.FEATURE_AVX512)
	// FeatureCUDA and FeatureHIP say what the library was built with;
	// DeviceCount tells whether a GPU is usable.
	FeatureCUDA = Feature(raw.FEATURE_CUDA)
	FeatureHIP  = Feature(raw.FEATURE_HIP)
)

// Version is the loaded library's version as MAJOR*10000 + MINOR*100 + PATCH.
func Version() int { return int(raw.Version()) }

// VersionString is the loaded library's version, e.g. "0.1.0".
func VersionString() string { return raw.Version_string() }

// Features is the set of Feature bits for this build on this machine.
func Features() Feature { return Feature(raw.Features()) }

// SystemInfo is one line on the build, the CPU kernels in use and the GPUs.
func SystemInfo() string { return raw.System_info() }

// DeviceCount is the number of GPUs this build can use: 0 without GPU
// support, a driver or a device.
func DeviceCount() int { return int(raw.Device_count()) }

// DeviceName describes GPU index (the device "cuda:index"), e.g.
// "NVIDIA H200, sm_90, 139.8 GiB"; an index out of range is an error.
func DeviceName(index int) (string, error) {
	return call(func() string { return raw.Device_name(index) })
}

var logger struct {
	sync.Mutex
	id int64
}

// SetLogger installs the process-wide log function (nil: discard messages)
// for messages of minLevel and above. It may be called from any goroutine
// or thread inside a libgptq call.
func SetLogger(fn func(level LogLevel, message string), minLevel LogLevel) {
	logger.Lock()
	defer logger.Unlock()
	previous := logger.id
	logger.id = 0
	if fn != nil {
		logger.id = raw.Register(func(level, _ int32, _, _ float64, message string) int32 {
			defer func() { recover() }() // a log line is not worth a crash
			fn(LogLevel(level), message)
			return 0
		})
	}
	raw.Log_set(logger.id, int(minLevel))
	if previous != 0 {
		raw.Unregister(previous)
	}
}
