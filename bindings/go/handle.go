package gptq

import (
	"runtime"
	"sync"
)

// handle owns one native handle. Methods borrow it through use; close frees
// it once no call (or dependent object, e.g. a context of a model) still
// borrows it, so closing never pulls memory from under a running call, and
// any use after close returns ErrClosed.
type handle[T any] struct {
	mu        sync.Mutex
	h         T
	borrowers int
	closed    bool
	free      func(T)
}

func newHandle[T any](h T, free func(T)) *handle[T] {
	return &handle[T]{h: h, free: free}
}

func (x *handle[T]) acquire() (T, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		var zero T
		return zero, ErrClosed
	}
	x.borrowers++
	return x.h, nil
}

func (x *handle[T]) release() {
	x.mu.Lock()
	x.borrowers--
	done := x.borrowers == 0 && x.closed
	x.mu.Unlock()
	if done {
		x.free(x.h)
	}
}

func (x *handle[T]) close() error {
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return nil
	}
	x.closed = true
	done := x.borrowers == 0
	x.mu.Unlock()
	if done {
		x.free(x.h)
	}
	return nil
}

// use runs f with the handle borrowed.
func use[T, R any](x *handle[T], f func(T) (R, error)) (R, error) {
	h, err := x.acquire()
	if err != nil {
		var zero R
		return zero, err
	}
	defer x.release()
	return f(h)
}

// owned makes the wrapper close its handle when it becomes unreachable
// unclosed: a safety net, as os.File has. The finalizer holds the handle,
// not the wrapper, and borrowers still count, so it never frees early.
func owned[W, T any](w *W, h *handle[T]) *W {
	runtime.SetFinalizer(w, func(*W) { h.close() })
	return w
}
