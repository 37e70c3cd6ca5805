using System;
namespace LibGptq {
  /// Token sequences the GPTQ quantizer runs through the model.
  public sealed class Calibration : IDisposable {
    internal readonly NativeHandle<SWIGTYPE_p_gptq_calibration> Handle;

    public void Dispose() { Handle.Dispose(); }

    public bool IsDisposed { get { return Handle.IsDisposed; } }

    internal Calibration(SWIGTYPE_p_gptq_calibration handle) {
      Handle = new NativeHandle<SWIGTYPE_p_gptq_calibration>("calibration", handle, gptq.calibration_free);
    }

    /// An empty set; add samples with Add.
    public Calibration() : this(gptq.calibration_new()) {}

    /// Adds one sample (copied).
    public void Add(int[] tokens) {
      Handle.Use(c => { gptq.calibration_add(c, tokens, tokens.Length); return 0; });
    }

    public int Count { get { return Handle.Use(c => gptq.calibration_count(c)); } }
  }
}
