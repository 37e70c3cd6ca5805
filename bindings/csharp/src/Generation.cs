using System.Collections.Generic;
using System.Collections.ObjectModel;

namespace LibGptq {
  /// The generated continuation of one prompt.
  public sealed class Sequence {
    /// The generated text, without the prompt.
    public string Text { get; internal set; }
    public int[] Tokens { get; internal set; }
    /// The prompt's ids as fed to the model (BOS included).
    public int[] PromptTokens { get; internal set; }
    public StopReason StopReason { get; internal set; }
    /// The prompt it continues.
    public int PromptIndex { get; internal set; }
    /// Beam search's score (sum of log-probabilities / length^LengthPenalty); NaN without beam search.
    public double Score { get; internal set; }
  }

  public sealed class Timing {
    public long PromptTokens { get; internal set; }
    public double PromptSeconds { get; internal set; }
    public long GeneratedTokens { get; internal set; }
    public double GenerateSeconds { get; internal set; }
    public double PromptTokensPerSecond { get; internal set; }
    public double GeneratedTokensPerSecond { get; internal set; }
  }

  /// The result of a generation, copied out of the library: one Sequence per prompt, or with beam
  /// search NumReturnSequences per prompt (prompt by prompt, best first).
  public sealed class Generation {
    public ReadOnlyCollection<Sequence> Sequences { get; private set; }
    public Timing Timing { get; private set; }
    /// The first (often the only) sequence's text and ids.
    public string Text { get { return Sequences[0].Text; } }
    public int[] Tokens { get { return Sequences[0].Tokens; } }
    public Sequence this[int index] { get { return Sequences[index]; } }

    /// Copies a native generation and frees it.
    internal static Generation Take(SWIGTYPE_p_gptq_generation g) {
      try {
        int n = gptq.generation_count(g);
        var sequences = new List<Sequence>(n);
        for (int i = 0; i < n; i++) {
          sequences.Add(new Sequence {
            Text = gptq.generation_text(g, i),
            Tokens = Native.Take(gptq.generation_tokens(g, i)),
            PromptTokens = Native.Take(gptq.generation_prompt_tokens(g, i)),
            StopReason = (StopReason)gptq.generation_stop_reason(g, i),
            PromptIndex = gptq.generation_prompt_index(g, i),
            Score = gptq.generation_score(g, i)
          });
        }
        using (Timings t = gptq.generation_timings(g)) {
          return new Generation {
            Sequences = sequences.AsReadOnly(),
            Timing = new Timing {
              PromptTokens = t.PromptTokens, PromptSeconds = t.PromptSeconds,
              GeneratedTokens = t.GeneratedTokens, GenerateSeconds = t.GenerateSeconds,
              PromptTokensPerSecond = t.PromptTokensPerSecond,
              GeneratedTokensPerSecond = t.GeneratedTokensPerSecond
            }
          };
        }
      } finally {
        gptq.generation_free(g);
      }
    }
  }

  /// Moves token lists and string lists across the native boundary.
  static class Native {
    /// Copies a native token list into an int[] and frees it.
    internal static int[] Take(SWIGTYPE_p_gptqb_ints ints) {
      try {
        var tokens = new int[gptq.ints_count(ints)];
        gptq.ints_copy(ints, tokens, tokens.Length);
        return tokens;
      } finally {
        gptq.ints_free(ints);
      }
    }

    /// Runs a call with the strings as a native list.
    internal static R WithStrings<R>(IEnumerable<string> strings, System.Func<SWIGTYPE_p_gptqb_strings, R> call) {
      SWIGTYPE_p_gptqb_strings list = gptq.strings_new();
      try {
        foreach (string s in strings) gptq.strings_add(list, s);
        return call(list);
      } finally {
        gptq.strings_free(list);
      }
    }
  }
}
