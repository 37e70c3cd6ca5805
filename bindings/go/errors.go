package gptq

import (
	"errors"
	"runtime"

	"libgptq.dev/gptq/internal/raw"
)

// Status is the library's status code of a failed call.
type Status int

// The statuses, from gptq.h.
var (
	StatusOK           = Status(raw.OK)
	ErrInvalidArgument = Status(raw.ERR_INVALID_ARGUMENT)
	ErrNotFound        = Status(raw.ERR_NOT_FOUND)
	ErrIO              = Status(raw.ERR_IO)
	ErrFormat          = Status(raw.ERR_FORMAT)
	ErrUnsupported     = Status(raw.ERR_UNSUPPORTED)
	ErrOutOfMemory     = Status(raw.ERR_OUT_OF_MEMORY)
	ErrBufferTooSmall  = Status(raw.ERR_BUFFER_TOO_SMALL)
	ErrCancelled       = Status(raw.ERR_CANCELLED)
	ErrContextFull     = Status(raw.ERR_CONTEXT_FULL)
	ErrInternal        = Status(raw.ERR_INTERNAL)
)

// String is the status's name in gptq.h, e.g. "GPTQ_ERR_NOT_FOUND".
func (s Status) String() string { return raw.Status_name(int(s)) }

// Error is a failed libgptq call: its status and the library's message.
// errors.Is(err, gptq.ErrNotFound) tests the status.
type Error struct {
	Status  Status
	Message string
}

func (e *Error) Error() string { return "gptq: " + e.Message + " (" + e.Status.String() + ")" }

// Is lets errors.Is compare an *Error with a Status.
func (e *Error) Is(target error) bool {
	s, ok := target.(Status)
	return ok && s == e.Status
}

// Error makes a Status usable as an errors.Is target.
func (s Status) Error() string { return s.String() }

// ErrClosed is returned by any method of a handle after Close.
var ErrClosed = errors.New("gptq: use of a closed handle")

// ErrBusy is returned by a Context while a Stream owns it.
var ErrBusy = errors.New("gptq: the context is in use by an open stream")

// call runs one native call and reads its status back on the same OS
// thread: the shim records failures per thread (bindings/swig/shim.i),
// and a goroutine could otherwise move between the two cgo calls.
func call[T any](f func() T) (T, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	v := f()
	if status := raw.Last_status(); status < 0 {
		return v, &Error{Status: Status(status), Message: raw.Last_message()}
	}
	return v, nil
}

// do is call for functions without a result.
func do(f func()) error {
	_, err := call(func() struct{} { f(); return struct{}{} })
	return err
}
