package org.libgptq;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * Calls from the native trampolines (swig/java.swg) land in
 * {@link #dispatch}, which finds the Java target by the id given to the C
 * call. A target is registered only for the duration of that call (the log
 * callback until it is replaced). A target's exception cancels the native
 * call and is rethrown to the caller in place of the cancellation.
 */
final class Callbacks {
    private Callbacks() {}

    interface Target {
        /** Nonzero cancels the native call. */
        int call(int i1, int i2, double d1, double d2, String text);
    }

    static final class Registration implements AutoCloseable {
        final long id;
        final Target target;
        volatile Throwable failure;

        Registration(long id, Target target) {
            this.id = id;
            this.target = target;
        }

        @Override
        public void close() { live.remove(id); }
    }

    private static final ConcurrentHashMap<Long, Registration> live = new ConcurrentHashMap<>();
    private static final AtomicLong nextId = new AtomicLong();

    /** The id 0 stands for "no callback". */
    static Registration register(Target target) {
        if (target == null) return new Registration(0, null);
        Registration r = new Registration(nextId.incrementAndGet(), target);
        live.put(r.id, r);
        return r;
    }

    /** Runs a native call with {@code target} registered under the id it is given. */
    static <R> R with(Target target, LongFunction<R> call) {
        try (Registration r = register(target)) {
            try {
                return call.apply(r.id);
            } catch (GptqException e) {
                Throwable cause = r.failure;
                if (cause == null) throw e;
                if (cause instanceof RuntimeException) throw (RuntimeException) cause;
                if (cause instanceof Error) throw (Error) cause;
                throw new IllegalStateException("callback failed", cause);
            }
        }
    }

    static int dispatch(long id, int i1, int i2, double d1, double d2, byte[] text) {
        Registration r = live.get(id);
        if (r == null) return 0;
        try {
            return r.target.call(i1, i2, d1, d2, Utf8.decode(text));
        } catch (Throwable t) {
            r.failure = t;
            return 1;
        }
    }
}
