using System;

namespace LibGptq {
  /// A libgptq call failed: the status and the library's message.
  public class GptqException : Exception {
    public Status Status { get; private set; }

    public GptqException(Status status, string message) : base(message + " (" + status + ")") {
      Status = status;
    }
  }

  /// Progress of a model load or a perplexity run; return false to cancel.
  public delegate bool ProgressHandler(double fraction, string stage);

  /// Called after each quantized module; return false to cancel.
  public delegate bool QuantizeProgressHandler(int layer, int layers, string module, double loss, double fraction);

  /// Receives the library's log messages; may be called from any thread.
  public delegate void LogHandler(LogLevel level, string message);
}
