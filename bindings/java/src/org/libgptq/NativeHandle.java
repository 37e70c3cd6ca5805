package org.libgptq;

import java.util.function.Function;

/**
 * Owns one native handle. Calls borrow it through {@link #use}; close()
 * frees it once no call (or dependent object, e.g. a context of a model)
 * still borrows it, so closing never pulls memory from under a running
 * call, and any use after close raises IllegalStateException.
 */
abstract class NativeHandle<T> implements AutoCloseable {
    private final String kind;
    private T handle;
    private int borrowers;
    private boolean closed;

    NativeHandle(String kind, T handle) {
        if (handle == null) throw new GptqException(Status.ERR_INTERNAL, kind + " handle is null");
        this.kind = kind;
        this.handle = handle;
    }

    /** Frees the handle; runs once. */
    abstract void free(T handle);

    final synchronized T acquire() {
        if (closed) throw new IllegalStateException("this " + kind + " is closed");
        borrowers++;
        return handle;
    }

    final void release() {
        T done = null;
        synchronized (this) {
            if (--borrowers == 0 && closed) {
                done = handle;
                handle = null;
            }
        }
        if (done != null) free(done);
    }

    final <R> R use(Function<T, R> call) {
        T h = acquire();
        try {
            return call.apply(h);
        } finally {
            release();
        }
    }

    public final boolean isClosed() {
        synchronized (this) {
            return closed;
        }
    }

    @Override
    public final void close() {
        T done = null;
        synchronized (this) {
            if (closed) return;
            closed = true;
            if (borrowers == 0) {
                done = handle;
                handle = null;
            }
        }
        if (done != null) free(done);
    }
}
