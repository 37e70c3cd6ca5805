namespace LibGptq {
  /// The library as a whole: version, build, features and logging.
  public static class Gptq {
    public const int FeatureAvx2 = 1 << 0;
    public const int FeatureAvx512 = 1 << 1;
    /// Built with CUDA (or HIP) support; DeviceCount tells whether a GPU is usable.
    public const int FeatureCuda = 1 << 8;
    public const int FeatureHip = 1 << 9;

    static Callbacks.Registration logger = Callbacks.Register(null);
    static readonly object logGate = new object();

    /// The loaded library's version as MAJOR * 10000 + MINOR * 100 + PATCH.
    public static long Version { get { return gptq.version(); } }
    public static string VersionString { get { return gptq.version_string(); } }
    /// A set of Feature* bits for this build on this machine.
    public static long Features { get { return gptq.features(); } }
    public static bool HasFeature(int feature) { return (Features & feature) != 0; }
    /// One line on the build, the CPU kernels in use and the GPUs.
    public static string SystemInfo { get { return gptq.system_info(); } }

    /// GPUs this build can use: 0 without GPU support, a driver or a device.
    public static int DeviceCount { get { return gptq.device_count(); } }

    /// A description of GPU index, e.g. "NVIDIA H200, sm_90, 139.8 GiB" (the
    /// device "cuda:index"); raises for an index out of range.
    public static string DeviceName(int index) { return gptq.device_name(index); }

    /// Installs the process-wide log handler (null: discard messages).
    public static void SetLogHandler(LogHandler handler, LogLevel minLevel) {
      lock (logGate) {
        Callbacks.Registration previous = logger;
        logger = Callbacks.Register(handler == null ? null : (Callbacks.Target)((level, unused, d1, d2, message) => {
          handler((LogLevel)level, message);
          return 0;
        }));
        gptq.log_set(logger.Id, (int)minLevel);
        previous.Dispose();
      }
    }
  }
}
