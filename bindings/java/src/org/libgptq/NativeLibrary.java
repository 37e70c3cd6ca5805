package org.libgptq;

/** Loads the JNI glue library once, before any native call. */
final class NativeLibrary {
    private NativeLibrary() {}

    private static boolean loaded;

    /**
     * The system property {@code libgptq.jni} names the glue library's file;
     * without it, {@code libgptq_jni.so} is looked up on java.library.path.
     */
    static synchronized void load() {
        if (loaded) return;
        String path = System.getProperty("libgptq.jni");
        if (path != null && !path.isEmpty()) System.load(java.nio.file.Path.of(path).toAbsolutePath().toString());
        else System.loadLibrary("gptq_jni");
        loaded = true;
    }
}
