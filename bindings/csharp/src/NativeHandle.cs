using System;

namespace LibGptq {
  /// Owns one native handle for a public class (which cannot derive from
  /// this: the handle types are internal). Calls borrow it through Use; Dispose frees it
  /// once no call (or dependent object, e.g. a context of a model) still
  /// borrows it, so disposing never pulls memory from under a running call,
  /// and any use after Dispose raises ObjectDisposedException. The finalizer
  /// frees what was never disposed.
  sealed class NativeHandle<T> : IDisposable where T : class {
    readonly object gate = new object();
    readonly string kind;
    readonly Action<T> free;
    T handle;
    int borrowers;
    bool disposed;

    internal NativeHandle(string kind, T handle, Action<T> free) {
      if (handle == null) throw new GptqException(Status.ERR_INTERNAL, kind + " handle is null");
      this.kind = kind;
      this.handle = handle;
      this.free = free;
    }

    // Borrowers still count: a context finalized after its model frees the
    // model through Release.
    ~NativeHandle() {
      Close();
    }

    internal T Acquire() {
      lock (gate) {
        if (disposed) throw new ObjectDisposedException(kind);
        borrowers++;
        return handle;
      }
    }

    internal void Release() {
      T done = null;
      lock (gate) {
        if (--borrowers == 0 && disposed) {
          done = handle;
          handle = null;
        }
      }
      if (done != null) free(done);
    }

    internal R Use<R>(Func<T, R> call) {
      T h = Acquire();
      try {
        return call(h);
      } finally {
        Release();
      }
    }

    public bool IsDisposed {
      get { lock (gate) return disposed; }
    }

    public void Dispose() {
      Close();
      GC.SuppressFinalize(this);
    }

    void Close() {
      T done = null;
      lock (gate) {
        if (disposed) return;
        disposed = true;
        if (borrowers == 0) {
          done = handle;
          handle = null;
        }
      }
      if (done != null) free(done);
    }
  }
}
