using System;
using System.IO;
using System.Linq;
using LibGptq;

namespace LibGptq.Tests {
  /// The shared test material and the reference it was checked against.
  static class Fixtures {
    internal static string ModelDir {
      get {
        string shared = Environment.GetEnvironmentVariable("GPTQ_SHARED_DIR") ?? "../shared";
        return Path.Combine(shared, "models", "tinydoc-llama-13m");
      }
    }

    /// prompt_0 of models/tinydoc-llama-13m-reference.safetensors.
    internal const string Prompt = "The history of the city";

    /// gen_ids_0 of models/tinydoc-llama-13m-reference.safetensors (BOS, the
    /// prompt's 7 tokens, 32 greedy tokens by transformers), read once with
    /// python3's json + struct from the safetensors header and data.
    internal static readonly int[] ReferenceIds = {
      1, 383, 2550, 532, 313, 271, 276, 590, 295, 271, 5961, 6004, 6034, 6024, 6015, 530,
      369, 325, 280, 377, 420, 1685, 341, 839, 1389, 1936, 604, 266, 534, 4039, 6016, 604,
      319, 266, 534, 4039, 6016, 631, 383, 276};
    internal const int PromptTokens = 8;
    internal static int[] ReferencePrompt { get { return ReferenceIds.Take(PromptTokens).ToArray(); } }
    internal static int[] ReferenceContinuation { get { return ReferenceIds.Skip(PromptTokens).ToArray(); } }

    /// Greedy, 32 tokens, not stopping at EOS: the reference's settings.
    internal static GenerateParams Greedy32() {
      return new GenerateParams { MaxNewTokens = 32, StopOnEos = false };
    }

    /// Resident memory of this process in KiB.
    internal static long ResidentKiB() {
      string line = File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("VmRSS:"));
      return long.Parse(new string(line.Where(char.IsDigit).ToArray()));
    }
  }
}
