package gptq

import (
	"sync"

	"libgptq.dev/gptq/internal/raw"
)

// Token is one generated token of a stream.
type Token struct {
	Sequence int    // the prompt's index in the batch
	ID       int32  // the token id
	Text     string // the text it completes (empty while a character is incomplete)
	Finished bool   // its sequence stopped with this token
}

// Stream pulls generated tokens one at a time, like bufio.Scanner:
//
//	for s.Next() { fmt.Print(s.Token().Text) }
//	if err := s.Err(); err != nil { ... }
//
// It owns its context until closed; closing also stops a generation left
// unfinished.
type Stream struct {
	h     *handle[raw.Struct_SS_gptq_stream]
	mu    sync.Mutex
	event raw.StreamEvent
	token Token
	err   error
}

// Stream starts streaming the continuation of one prompt; opts may be nil.
func (c *Context) Stream(prompt string, opts *GenerateOptions) (*Stream, error) {
	return c.StreamBatch([]string{prompt}, opts)
}

// StreamBatch streams the continuations of several prompts together.
func (c *Context) StreamBatch(prompts []string, opts *GenerateOptions) (*Stream, error) {
	p := opts.native()
	defer raw.DeleteGenerateParams(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stream != nil {
		return nil, ErrBusy
	}
	// The stream keeps this borrow of the context until it is freed.
	h, err := c.h.acquire()
	if err != nil {
		return nil, err
	}
	sh, err := call(func() raw.Struct_SS_gptq_stream {
		return withStrings(prompts, func(list raw.Gptqb_strings) raw.Struct_SS_gptq_stream {
			return raw.Stream_begin(h, list, p)
		})
	})
	if err != nil {
		c.h.release()
		return nil, err
	}
	s := &Stream{event: raw.NewStreamEvent()}
	s.h = newHandle(sh, func(sh raw.Struct_SS_gptq_stream) {
		raw.Stream_free(sh)
		raw.DeleteStreamEvent(s.event)
		c.mu.Lock()
		c.stream = nil
		c.mu.Unlock()
		c.h.release()
	})
	c.stream = s
	return owned(s, s.h), nil
}

// Next advances to the next token; false once every sequence has stopped,
// after an error (see Err) or once the stream is closed.
func (s *Stream) Next() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return false
	}
	more, err := use(s.h, func(h raw.Struct_SS_gptq_stream) (bool, error) {
		more, err := call(func() bool { return raw.Stream_next(h, s.event) != 0 })
		if more {
			s.token = Token{s.event.GetSequence(), int32(s.event.GetToken()), s.event.GetText(), s.event.GetFinished()}
		}
		return more, err
	})
	s.err = err
	return more
}

// Token is the token Next advanced to.
func (s *Stream) Token() Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// Err is the error that ended the iteration, or nil.
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Stop stops one sequence before its next token (StopCallback).
func (s *Stream) Stop(sequence int) error {
	_, err := use(s.h, func(h raw.Struct_SS_gptq_stream) (struct{}, error) {
		return struct{}{}, do(func() { raw.Stream_stop(h, sequence) })
	})
	return err
}

// Result is the generation so far; complete once Next has returned false.
func (s *Stream) Result() (*Generation, error) {
	return use(s.h, func(h raw.Struct_SS_gptq_stream) (*Generation, error) {
		g, err := call(func() raw.Struct_SS_gptq_generation { return raw.Stream_result(h) })
		if err != nil {
			return nil, err
		}
		return takeGeneration(g)
	})
}

// Close releases the stream and gives its context back.
func (s *Stream) Close() error { return s.h.close() }
