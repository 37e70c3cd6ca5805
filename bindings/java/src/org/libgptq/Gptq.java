package org.libgptq;

/** The library as a whole: version, build, features and logging. */
public final class Gptq {
    private Gptq() {}

    public static final int FEATURE_AVX2 = gptqConstants.FEATURE_AVX2;
    public static final int FEATURE_AVX512 = gptqConstants.FEATURE_AVX512;
    /** Built with CUDA (or HIP) support; {@link #deviceCount()} tells whether a GPU is usable. */
    public static final int FEATURE_CUDA = gptqConstants.FEATURE_CUDA;
    public static final int FEATURE_HIP = gptqConstants.FEATURE_HIP;

    private static Callbacks.Registration logger = Callbacks.register(null);

    /** The loaded library's version as MAJOR * 10000 + MINOR * 100 + PATCH. */
    public static long version() { return gptq.version(); }

    public static String versionString() { return gptq.version_string(); }

    /** A set of FEATURE_* bits for this build on this machine. */
    public static long features() { return gptq.features(); }

    public static boolean hasFeature(int feature) { return (features() & feature) != 0; }

    /** One line on the build, the CPU kernels in use and the GPUs. */
    public static String systemInfo() { return gptq.system_info(); }

    /** GPUs this build can use: 0 without GPU support, a driver or a device. */
    public static int deviceCount() { return gptq.device_count(); }

    /**
     * A description of GPU {@code index}, e.g. "NVIDIA H200, sm_90, 139.8 GiB"
     * (the device "cuda:index"); raises for an index out of range.
     */
    public static String deviceName(int index) { return gptq.device_name(index); }

    /** Installs the process-wide log listener (null: discard messages). */
    public static synchronized void setLogListener(LogListener listener, LogLevel minLevel) {
        Callbacks.Registration previous = logger;
        logger = Callbacks.register(listener == null ? null : (level, unused, d1, d2, message) -> {
            listener.onLog(LogLevel.swigToEnum(level), message);
            return 0;
        });
        gptq.log_set(logger.id, minLevel.swigValue());
        previous.close();
    }
}
