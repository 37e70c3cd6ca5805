package gptq

import (
	"sync"

	"libgptq.dev/gptq/internal/raw"
)

// withCallback runs a native call with fn reachable from C under the id
// it passes to body (0 when fn is nil). A panic in fn cannot cross the C
// frames: it cancels the native call and is raised again here, in the
// caller's goroutine.
func withCallback[R any](fn raw.Target, body func(id int64) (R, error)) (R, error) {
	if fn == nil {
		return body(0)
	}
	var mu sync.Mutex
	var panicked bool
	var value any
	id := raw.Register(func(i1, i2 int32, d1, d2 float64, text string) (result int32) {
		defer func() {
			if r := recover(); r != nil {
				mu.Lock()
				panicked, value = true, r
				mu.Unlock()
				result = 1
			}
		}()
		return fn(i1, i2, d1, d2, text)
	})
	defer raw.Unregister(id)
	r, err := body(id)
	mu.Lock()
	defer mu.Unlock()
	if panicked {
		panic(value)
	}
	return r, err
}

func cancelUnless(goOn bool) int32 {
	if goOn {
		return 0
	}
	return 1
}

// progressTarget adapts a progress function (false cancels) to the dispatcher.
func progressTarget(f func(fraction float64, stage string) bool) raw.Target {
	if f == nil {
		return nil
	}
	return func(_, _ int32, fraction, _ float64, stage string) int32 {
		return cancelUnless(f(fraction, stage))
	}
}

// quantizeTarget adapts a per-module progress function to the dispatcher.
func quantizeTarget(f func(layer, layers int, module string, loss, fraction float64) bool) raw.Target {
	if f == nil {
		return nil
	}
	return func(layer, layers int32, loss, fraction float64, module string) int32 {
		return cancelUnless(f(int(layer), int(layers), module, loss, fraction))
	}
}
