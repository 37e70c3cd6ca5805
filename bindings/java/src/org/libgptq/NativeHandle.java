package org.libgptq;

import java.lang.ref.Cleaner;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Owns one native handle. Calls borrow it through {@link #use}; close()
 * frees it once no call (or dependent object, e.g. a context of a model)
 * still borrows it, so closing never pulls memory from under a running
 * call, and any use after close raises IllegalStateException. A handle
 * never closed is closed by a Cleaner once unreachable.
 */
abstract class NativeHandle<T> implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    /** Everything the Cleaner needs, without a reference back to the owner. */
    private static final class State<T> implements Runnable {
        final String kind;
        final Consumer<T> free;
        T handle;
        int borrowers;
        boolean closed;

        State(String kind, T handle, Consumer<T> free) {
            this.kind = kind;
            this.handle = handle;
            this.free = free;
        }

        synchronized T acquire() {
            if (closed) throw new IllegalStateException("this " + kind + " is closed");
            borrowers++;
            return handle;
        }

        void release() {
            T done = null;
            synchronized (this) {
                if (--borrowers == 0 && closed) {
                    done = handle;
                    handle = null;
                }
            }
            if (done != null) free.accept(done);
        }

        @Override
        public void run() {
            T done = null;
            synchronized (this) {
                closed = true;
                if (borrowers == 0) {
                    done = handle;
                    handle = null;
                }
            }
            if (done != null) free.accept(done);
        }
    }

    private final State<T> state;
    private final Cleaner.Cleanable cleanable;

    /** {@code free} must not refer to the new object, or it would never become unreachable. */
    NativeHandle(String kind, T handle, Consumer<T> free) {
        if (handle == null) throw new GptqException(Status.ERR_INTERNAL, kind + " handle is null");
        state = new State<>(kind, handle, free);
        cleanable = CLEANER.register(this, state);
    }

    final T acquire() { return state.acquire(); }

    final void release() { state.release(); }

    final <R> R use(Function<T, R> call) {
        T h = acquire();
        try {
            return call.apply(h);
        } finally {
            release();
        }
    }

    public final boolean isClosed() {
        synchronized (state) {
            return state.closed;
        }
    }

    @Override
    public final void close() { cleanable.clean(); }
}
