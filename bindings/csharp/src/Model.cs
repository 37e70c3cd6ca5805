using System;
using System.Collections.Generic;

namespace LibGptq {
  /// A loaded model: immutable, shareable by any number of threads, each
  /// with its own Context. Disposing it while contexts are open defers the
  /// release until the last of them is disposed.
  public sealed class Model : IDisposable {
    internal readonly NativeHandle<SWIGTYPE_p_gptq_model> Handle;

    public void Dispose() { Handle.Dispose(); }

    public bool IsDisposed { get { return Handle.IsDisposed; } }

    Model(SWIGTYPE_p_gptq_model handle) {
      Handle = new NativeHandle<SWIGTYPE_p_gptq_model>("model", handle, gptq.model_free);
    }

    /// Loads a Hugging Face checkpoint directory; parameters may be null (defaults).
    public static Model Load(string dir, ModelParams parameters = null, ProgressHandler progress = null) {
      return new Model(Callbacks.With(Callbacks.Progress(progress), id => gptq.model_load(dir, parameters, id)));
    }

    /// Architecture, sizes, tokens and quantization of the model.
    public ModelInfo Info { get { return Handle.Use(m => gptq.model_info(m)); } }

    /// The vocabulary entry of a token as the tokenizer stores it (e.g. "▁the").
    public string TokenText(int token) { return Handle.Use(m => gptq.token_text(m, token)); }

    /// Whether generation ends at this token.
    public bool IsEndOfGeneration(int token) { return Handle.Use(m => gptq.token_is_eog(m, token) != 0); }

    public int[] Tokenize(string text, bool addSpecial = true, bool parseSpecial = false) {
      int flags = (addSpecial ? gptq.TOKENIZE_ADD_SPECIAL : 0) | (parseSpecial ? gptq.TOKENIZE_PARSE_SPECIAL : 0);
      return Handle.Use(m => Native.Take(gptq.tokenize(m, text, flags)));
    }

    public string Detokenize(int[] tokens, bool skipSpecial = false) {
      int flags = skipSpecial ? gptq.DETOKENIZE_SKIP_SPECIAL : 0;
      return Handle.Use(m => gptq.detokenize(m, tokens, tokens.Length, flags));
    }

    /// A context (KV cache, scratch, threads) for one thread at a time; parameters may be null.
    public Context NewContext(ContextParams parameters = null) {
      SWIGTYPE_p_gptq_model m = Handle.Acquire();
      try {
        return new Context(this, gptq.context_new(m, parameters));
      } catch {
        Handle.Release();
        throw;
      }
    }

    /// Calibration samples: windows of seqlen tokens at seeded random offsets of the text.
    public Calibration CalibrationFromText(string text, int samples, int seqlen, long seed) {
      return new Calibration(Handle.Use(m => gptq.calibration_from_text(m, text, samples, seqlen, seed)));
    }

    /// One calibration sample per text, with BOS, cut to seqlen tokens.
    public Calibration CalibrationFromTexts(IEnumerable<string> texts, int seqlen) {
      return new Calibration(Handle.Use(m => Native.WithStrings(texts, list => gptq.calibration_from_texts(m, list, seqlen))));
    }

    /// From a .jsonl file (one sample per line's "text" or "input_ids") or plain text (random windows).
    public Calibration CalibrationFromFile(string path, int samples, int seqlen, long seed) {
      return new Calibration(Handle.Use(m => gptq.calibration_from_file(m, path, samples, seqlen, seed)));
    }

    /// Quantizes the linear layers into a new, independent model.
    /// calibration may be null for the RTN method; parameters may be null.
    public Model Quantize(Calibration calibration, QuantizeParams parameters = null,
                          QuantizeProgressHandler progress = null) {
      return Handle.Use(m => calibration == null
          ? QuantizeWith(m, null, parameters, progress)
          : calibration.Handle.Use(c => QuantizeWith(m, c, parameters, progress)));
    }

    static Model QuantizeWith(SWIGTYPE_p_gptq_model m, SWIGTYPE_p_gptq_calibration c,
                              QuantizeParams parameters, QuantizeProgressHandler progress) {
      return new Model(Callbacks.With(Callbacks.Quantize(progress), id => gptq.quantize(m, c, parameters, id)));
    }

    /// Writes a GPTQ checkpoint directory (which must not exist or be empty); parameters may be null.
    public void Save(string dir, SaveParams parameters = null) {
      Handle.Use(m => { gptq.model_save(m, dir, parameters); return 0; });
    }
  }
}
