using System;
using System.Collections.Generic;

namespace LibGptq {
  /// KV cache, scratch memory and worker threads for one user of a model.
  /// Calls on one context are serialized (the library allows one thread at
  /// a time); while a TokenStream is open, the stream owns the context.
  public sealed class Context : IDisposable {
    internal readonly NativeHandle<SWIGTYPE_p_gptq_context> Handle;

    public void Dispose() { Handle.Dispose(); }

    public bool IsDisposed { get { return Handle.IsDisposed; } }

    readonly object gate = new object();
    TokenStream stream;

    public Model Model { get; private set; }

    internal Context(Model model, SWIGTYPE_p_gptq_context handle) {
      Model = model;
      Handle = new NativeHandle<SWIGTYPE_p_gptq_context>("context", handle, Free);
    }

    /// Also releases the model borrowed since creation: it may be freed now.
    void Free(SWIGTYPE_p_gptq_context handle) {
      gptq.context_free(handle);
      Model.Handle.Release();
    }

    R Call<R>(Func<SWIGTYPE_p_gptq_context, R> body) {
      lock (gate) {
        if (stream != null) throw new InvalidOperationException("the context is in use by an open stream");
        return Handle.Use(body);
      }
    }

    public int NCtx { get { return Call(c => gptq.context_n_ctx(c)); } }
    public int NSeqMax { get { return Call(c => gptq.context_n_seq_max(c)); } }
    public int NThreads { get { return Call(c => gptq.context_n_threads(c)); } }

    /// Tokens sequence seq holds.
    public int SeqLength(int seq) { return Call(c => gptq.context_seq_length(c, seq)); }

    /// Forgets what a sequence holds (-1: every sequence).
    public void Clear(int seq) { Call(c => { gptq.context_clear(c, seq); return 0; }); }

    /// Appends tokens to a sequence and runs the model over them; returns the
    /// logits mode asks for: vocab_size floats (LAST), tokens.Length *
    /// vocab_size (ALL) or none (NONE).
    public float[] Eval(int seq, int[] tokens, LogitsMode mode) {
      int vocab = 0;
      if (mode != LogitsMode.NONE) {
        using (ModelInfo info = Model.Info) vocab = info.VocabSize;
      }
      var logits = new float[mode == LogitsMode.ALL ? tokens.Length * vocab : vocab];
      return Call(c => {
        gptq.context_eval(c, seq, tokens, tokens.Length, (int)mode, logits, logits.Length);
        return logits;
      });
    }

    /// Generates a continuation of the prompt in sequence 0; parameters may be null.
    public Generation Generate(string prompt, GenerateParams parameters = null) {
      return Call(c => Generation.Take(gptq.generate(c, prompt, parameters)));
    }

    /// Continuations of several prompts together (needs NSeqMax >= their number).
    public Generation GenerateBatch(IEnumerable<string> prompts, GenerateParams parameters = null) {
      return Call(c => Generation.Take(Native.WithStrings(prompts, list => gptq.generate_batch(c, list, parameters))));
    }

    /// Streams the continuation of one prompt token by token; dispose the stream when done.
    public TokenStream Stream(string prompt, GenerateParams parameters = null) {
      return StreamBatch(new[] { prompt }, parameters);
    }

    public TokenStream StreamBatch(IEnumerable<string> prompts, GenerateParams parameters = null) {
      lock (gate) {
        SWIGTYPE_p_gptq_context c = Handle.Acquire();
        try {
          stream = Call(unused => new TokenStream(this,
              Native.WithStrings(prompts, list => gptq.stream_begin(c, list, parameters))));
          return stream;
        } catch {
          Handle.Release();
          throw;
        }
      }
    }

    /// Called by the stream when freed: it held one borrow of this context.
    internal void StreamClosed() {
      lock (gate) stream = null;
      Handle.Release();
    }

    /// Perplexity of the model on a text (windows of the parameters' length, sequence 0).
    public PerplexityResult Perplexity(string text, PerplexityParams parameters = null,
                                       ProgressHandler progress = null) {
      return Call(c => Callbacks.With(Callbacks.Progress(progress), id => gptq.perplexity(c, text, parameters, id)));
    }

    public PerplexityResult PerplexityOfFile(string path, PerplexityParams parameters = null,
                                             ProgressHandler progress = null) {
      return Call(c => Callbacks.With(Callbacks.Progress(progress), id => gptq.perplexity_file(c, path, parameters, id)));
    }
  }
}
