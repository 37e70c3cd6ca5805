using System;
using System.Runtime.InteropServices;
using System.Text;

namespace LibGptq {
  /// Strings cross to C as NUL-terminated UTF-8 (used by the generated code).
  static class Utf8 {
    internal static byte[] Encode(string s) {
      if (s == null) return null;
      byte[] bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
      Encoding.UTF8.GetBytes(s, 0, s.Length, bytes, 0);
      return bytes;
    }

    internal static unsafe string Decode(IntPtr p) {
      if (p == IntPtr.Zero) return null;
      byte* bytes = (byte*)p;
      int n = 0;
      while (bytes[n] != 0) n++;
      return Encoding.UTF8.GetString(bytes, n);
    }

    /// For strings the C side copied out for us (swig/csharp.swg).
    internal static string DecodeAndFree(IntPtr p) {
      try {
        return Decode(p);
      } finally {
        if (p != IntPtr.Zero) gptqPINVOKE.GptqbFree(p);
      }
    }
  }
}
