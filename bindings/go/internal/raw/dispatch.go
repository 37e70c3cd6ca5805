package raw

// The Go side of the C callback trampolines (swig/go.swg): the C side
// calls gptqbGoDispatch with the id the package registered for the call.

// #include <stdint.h>
import "C"

import (
	"sync"
	"sync/atomic"
)

// Target receives one callback; a nonzero result cancels the native call.
// It must not panic: a panic cannot unwind through the C frames below it.
type Target func(i1, i2 int32, d1, d2 float64, text string) int32

var (
	targets sync.Map
	lastID  atomic.Int64
)

// Register makes t reachable from C under the returned id (never 0).
func Register(t Target) int64 {
	id := lastID.Add(1)
	targets.Store(id, t)
	return id
}

// Unregister forgets an id; a late call for it is ignored.
func Unregister(id int64) { targets.Delete(id) }

//export gptqbGoDispatch
func gptqbGoDispatch(id C.int64_t, i1, i2 C.int32_t, d1, d2 C.double, text *C.char) C.int32_t {
	t, ok := targets.Load(int64(id))
	if !ok {
		return 0
	}
	s := ""
	if text != nil {
		s = C.GoString(text)
	}
	return C.int32_t(t.(Target)(int32(i1), int32(i2), float64(d1), float64(d2), s))
}
