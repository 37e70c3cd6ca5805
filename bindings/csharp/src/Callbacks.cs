using System;
using System.Collections.Concurrent;
using System.Threading;

namespace LibGptq {
  /// Calls from the native trampolines land in Dispatch (registered by the
  /// P/Invoke class, swig/csharp.swg), which finds the target by the id
  /// given to the C call. A target is registered only for the duration of
  /// that call (the log handler until it is replaced). Its exception cancels
  /// the native call and is rethrown in place of the cancellation; none may
  /// unwind through native frames.
  static class Callbacks {
    /// Returns nonzero to cancel the native call.
    internal delegate int Target(int i1, int i2, double d1, double d2, string text);

    internal sealed class Registration : IDisposable {
      internal readonly long Id;
      internal readonly Target Target;
      internal Exception Failure;

      internal Registration(long id, Target target) {
        Id = id;
        Target = target;
      }

      public void Dispose() {
        Registration unused;
        live.TryRemove(Id, out unused);
      }
    }

    static readonly ConcurrentDictionary<long, Registration> live = new ConcurrentDictionary<long, Registration>();
    static long nextId;

    /// The id 0 stands for "no callback".
    internal static Registration Register(Target target) {
      if (target == null) return new Registration(0, null);
      var r = new Registration(Interlocked.Increment(ref nextId), target);
      live[r.Id] = r;
      return r;
    }

    internal static R With<R>(Target target, Func<long, R> call) {
      using (Registration r = Register(target)) {
        try {
          return call(r.Id);
        } catch (GptqException) {
          if (r.Failure != null) throw new GptqCallbackException(r.Failure);
          throw;
        }
      }
    }

    internal static int Dispatch(long id, int i1, int i2, double d1, double d2, IntPtr text) {
      Registration r;
      if (!live.TryGetValue(id, out r)) return 0;
      try {
        return r.Target(i1, i2, d1, d2, Utf8.Decode(text));
      } catch (Exception e) {
        r.Failure = e;
        return 1;
      }
    }

    internal static Target Progress(ProgressHandler h) {
      if (h == null) return null;
      return (i1, i2, fraction, unused, stage) => h(fraction, stage) ? 0 : 1;
    }

    internal static Target Quantize(QuantizeProgressHandler h) {
      if (h == null) return null;
      return (layer, layers, loss, fraction, module) => h(layer, layers, module, loss, fraction) ? 0 : 1;
    }
  }

  /// A callback threw: the native call was cancelled; InnerException is what it threw.
  public class GptqCallbackException : Exception {
    public GptqCallbackException(Exception inner) : base("a callback failed: " + inner.Message, inner) {}
  }
}
