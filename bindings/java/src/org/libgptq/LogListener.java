package org.libgptq;

/** Receives the library's log messages; may be called from any thread. */
@FunctionalInterface
public interface LogListener {
    void onLog(LogLevel level, String message);
}
