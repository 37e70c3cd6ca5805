using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using NUnit.Framework;
using LibGptq;

namespace LibGptq.Tests {
  [TestFixture]
  public class GenerationTests {
    Model model;

    [TestFixtureSetUp] public void Load() { model = Model.Load(Fixtures.ModelDir); }
    [TestFixtureTearDown] public void Close() { model.Dispose(); }

    [Test]
    public void GreedyContinuationMatchesTransformers() {
      using (Context context = model.NewContext())
      using (GenerateParams p = Fixtures.Greedy32()) {
        Generation g = context.Generate(Fixtures.Prompt, p);
        Assert.AreEqual(Fixtures.ReferencePrompt, g[0].PromptTokens);
        Assert.AreEqual(Fixtures.ReferenceContinuation, g.Tokens);
        Assert.AreEqual(StopReason.LENGTH, g[0].StopReason);
        Assert.AreEqual(32, g.Timing.GeneratedTokens);
        Assert.AreEqual(Fixtures.Prompt + g.Text, model.Detokenize(Fixtures.ReferenceIds, true));
      }
    }

    [Test]
    public void TokenizeMatchesTheReferencePrompt() {
      int[] ids = model.Tokenize(Fixtures.Prompt);
      Assert.AreEqual(Fixtures.ReferencePrompt, ids);
      Assert.AreEqual(ids.Skip(1).ToArray(), model.Tokenize(Fixtures.Prompt, addSpecial: false));
      Assert.AreEqual("<s>", model.TokenText(1));
      Assert.IsTrue(model.IsEndOfGeneration(2));
      const string text = "naïve café — 東京 🙂";
      Assert.AreEqual(text, model.Detokenize(model.Tokenize(text, addSpecial: false)));
    }

    [Test]
    public void EvalLogitsPickTheGreedyToken() {
      using (Context context = model.NewContext()) {
        float[] logits = context.Eval(0, Fixtures.ReferencePrompt, LogitsMode.LAST);
        int best = Array.IndexOf(logits, logits.Max());
        Assert.AreEqual(Fixtures.ReferenceContinuation[0], best);
        Assert.AreEqual(Fixtures.PromptTokens, context.SeqLength(0));
        Assert.AreEqual(2 * logits.Length, context.Eval(0, new[] { best, 5 }, LogitsMode.ALL).Length);
        context.Clear(-1);
        Assert.AreEqual(0, context.SeqLength(0));
      }
    }

    [Test]
    public void StreamedTextIsTheGeneratedText() {
      using (Context context = model.NewContext())
      using (GenerateParams p = Fixtures.Greedy32()) {
        var text = new StringBuilder();
        var ids = new List<int>();
        Generation result;
        using (TokenStream stream = context.Stream(Fixtures.Prompt, p)) {
          foreach (Token t in stream) {
            text.Append(t.Text);
            ids.Add(t.Id);
          }
          result = stream.Result();
        }
        Assert.AreEqual(result.Text, text.ToString());
        Assert.AreEqual(result.Tokens, ids.ToArray());
        Assert.AreEqual(context.Generate(Fixtures.Prompt, p).Text, text.ToString());
      }
    }

    [Test]
    public void StreamOwnsTheContextUntilDisposed() {
      using (Context context = model.NewContext())
      using (GenerateParams p = Fixtures.Greedy32()) {
        TokenStream stream = context.Stream(Fixtures.Prompt, p);
        Token first;
        Assert.IsTrue(stream.TryNext(out first));
        Assert.Throws<InvalidOperationException>(() => context.Generate("x", p));
        stream.Stop(0);
        foreach (Token t in stream) {}
        Assert.AreEqual(StopReason.CALLBACK, stream.Result()[0].StopReason);
        stream.Dispose();
        Assert.Throws<ObjectDisposedException>(() => stream.TryNext(out first));
        Assert.AreEqual(32, context.Generate(Fixtures.Prompt, p).Tokens.Length);
      }
    }

    [Test]
    public void BatchAndStopStrings() {
      using (var cp = new ContextParams { NSeqMax = 2 })
      using (Context context = model.NewContext(cp))
      using (GenerateParams p = Fixtures.Greedy32()) {
        Generation batch = context.GenerateBatch(new[] { Fixtures.Prompt, "Python is" }, p);
        Assert.AreEqual(2, batch.Sequences.Count);
        Assert.AreEqual(context.Generate(Fixtures.Prompt, p).Text, batch.Text);
        p.AddStopString("Big Ten");
        Generation stopped = context.Generate(Fixtures.Prompt, p);
        Assert.AreEqual(StopReason.STRING, stopped[0].StopReason);
        StringAssert.DoesNotContain("Big Ten", stopped.Text);
      }
    }

    [Test]
    public void BeamSearchReturnsTheBestSequencesWithTheirScores() {
      using (var cp = new ContextParams { NSeqMax = 3 })
      using (Context context = model.NewContext(cp))
      using (var p = new GenerateParams { MaxNewTokens = 6, NumBeams = 3, NumReturnSequences = 2 }) {
        Assert.AreEqual(EarlyStopping.FALSE, p.EarlyStopping);
        Assert.AreEqual(1.0f, p.LengthPenalty);
        p.LengthPenalty = 0;
        p.EarlyStopping = EarlyStopping.NEVER;
        Generation g = context.Generate(Fixtures.Prompt, p);
        Assert.AreEqual(2, g.Sequences.Count);
        Assert.GreaterOrEqual(g[0].Score, g[1].Score);
        Assert.AreNotEqual(g[0].Tokens, g[1].Tokens);
        foreach (Sequence s in g.Sequences) {
          Assert.AreEqual(0, s.PromptIndex);
          // length_penalty 0: the score is the sequence's log-likelihood.
          Assert.AreEqual(LogLikelihood(context, s.PromptTokens, s.Tokens), s.Score, 1e-3);
        }
        p.NumReturnSequences = 4;
        var e = Assert.Throws<GptqException>(() => context.Generate(Fixtures.Prompt, p));
        Assert.AreEqual(Status.ERR_INVALID_ARGUMENT, e.Status);
        StringAssert.Contains("num_return_sequences", e.Message);
      }
      using (Context context = model.NewContext())
      using (GenerateParams greedy = Fixtures.Greedy32())
        Assert.IsTrue(double.IsNaN(context.Generate(Fixtures.Prompt, greedy)[0].Score));
    }

    /// The sum of log p(token) over the tokens after the prompt, from one fresh evaluation.
    static double LogLikelihood(Context context, int[] prompt, int[] tokens) {
      int[] all = prompt.Concat(tokens.Take(tokens.Length - 1)).ToArray();
      context.Clear(0);
      float[] logits = context.Eval(0, all, LogitsMode.ALL);
      int vocab = logits.Length / all.Length;
      double sum = 0;
      for (int i = 0; i < tokens.Length; i++) {
        int row = (prompt.Length - 1 + i) * vocab;
        double max = double.NegativeInfinity, total = 0;
        for (int v = 0; v < vocab; v++) max = Math.Max(max, logits[row + v]);
        for (int v = 0; v < vocab; v++) total += Math.Exp(logits[row + v] - max);
        sum += logits[row + tokens[i]] - max - Math.Log(total);
      }
      return sum;
    }

    [Test]
    public void ThreadsSharingTheModelAgree() {
      var runs = Enumerable.Range(0, 4).Select(i => Task.Factory.StartNew(() => {
        using (var cp = new ContextParams { NThreads = 1 })
        using (Context context = model.NewContext(cp))
        using (GenerateParams p = Fixtures.Greedy32())
          return context.Generate(Fixtures.Prompt, p).Tokens;
      }, TaskCreationOptions.LongRunning)).ToArray();
      foreach (var run in runs) Assert.AreEqual(Fixtures.ReferenceContinuation, run.Result);
    }

    [Test]
    public void PerplexityOfAText() {
      using (var p = new PerplexityParams { Window = 64 })
      using (Context context = model.NewContext()) {
        string text = string.Join(" ", Enumerable.Repeat("The history of the city is long.", 40));
        var fractions = new List<double>();
        using (PerplexityResult r = context.Perplexity(text, p, (f, stage) => { fractions.Add(f); return true; })) {
          Assert.That(r.Perplexity, Is.InRange(1.0, 1000.0));
          Assert.That(r.NWindows, Is.GreaterThanOrEqualTo(1));
        }
        Assert.IsNotEmpty(fractions);
      }
    }
  }
}
