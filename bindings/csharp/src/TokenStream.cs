using System;
using System.Collections;
using System.Collections.Generic;

namespace LibGptq {
  /// One generated token of a stream.
  public struct Token {
    /// The prompt's index in the batch.
    public int Sequence;
    public int Id;
    /// The text it completes (empty while a multi-byte character is incomplete).
    public string Text;
    /// Whether its sequence stopped with this token.
    public bool Finished;
  }

  /// Generated tokens pulled one at a time (built on gptq_stream_*).
  /// Enumerate it once; dispose it to give the context back, which also
  /// stops a generation left unfinished.
  public sealed class TokenStream : IDisposable, IEnumerable<Token> {
    internal readonly NativeHandle<SWIGTYPE_p_gptq_stream> Handle;

    public void Dispose() { Handle.Dispose(); }

    public bool IsDisposed { get { return Handle.IsDisposed; } }

    readonly Context context;
    readonly StreamEvent evt = new StreamEvent();

    internal TokenStream(Context context, SWIGTYPE_p_gptq_stream handle) {
      this.context = context;
      Handle = new NativeHandle<SWIGTYPE_p_gptq_stream>("stream", handle, Free);
    }

    void Free(SWIGTYPE_p_gptq_stream handle) {
      gptq.stream_free(handle);
      evt.Dispose();
      context.StreamClosed();
    }

    /// The next token, or false once every sequence has stopped.
    public bool TryNext(out Token token) {
      lock (evt) {
        token = default(Token);
        if (!Handle.Use(s => gptq.stream_next(s, evt) != 0)) return false;
        token = new Token { Sequence = evt.Sequence, Id = evt.Token, Text = evt.Text, Finished = evt.Finished };
        return true;
      }
    }

    public IEnumerator<Token> GetEnumerator() {
      Token token;
      while (TryNext(out token)) yield return token;
    }

    IEnumerator IEnumerable.GetEnumerator() { return GetEnumerator(); }

    /// Stops one sequence before its next token (stop reason CALLBACK).
    public void Stop(int sequence) { Handle.Use(s => { gptq.stream_stop(s, sequence); return 0; }); }

    /// The generation so far; complete once the stream has ended.
    public Generation Result() { return Handle.Use(s => Generation.Take(gptq.stream_result(s))); }
  }
}
