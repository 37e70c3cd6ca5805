using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using NUnit.Framework;
using LibGptq;

namespace LibGptq.Tests {
  [TestFixture]
  public class LifecycleTests {
    [Test]
    public void BadModelPathRaisesTheLibraryMessage() {
      var e = Assert.Throws<GptqException>(() => Model.Load("/no/such/model"));
      Assert.AreEqual(Status.ERR_NOT_FOUND, e.Status);
      StringAssert.Contains("'/no/such/model' does not exist", e.Message);
    }

    [Test]
    public void DisposedHandlesRaiseInsteadOfCrashing() {
      Model model = Model.Load(Fixtures.ModelDir);
      Context context = model.NewContext();
      model.Dispose();
      using (GenerateParams p = Fixtures.Greedy32()) {
        // The open context keeps the model alive.
        Assert.AreEqual(32, context.Generate(Fixtures.Prompt, p).Tokens.Length);
        context.Dispose();
        Assert.Throws<ObjectDisposedException>(() => context.Generate(Fixtures.Prompt, p));
      }
      Assert.Throws<ObjectDisposedException>(() => model.Tokenize("x"));
      Assert.Throws<ObjectDisposedException>(() => model.NewContext());
      Assert.IsTrue(model.IsDisposed);
    }

    [Test]
    public void BadArgumentsRaise() {
      using (Model model = Model.Load(Fixtures.ModelDir))
      using (Context context = model.NewContext()) {
        Assert.AreEqual(Status.ERR_INVALID_ARGUMENT, Assert.Throws<GptqException>(() => model.TokenText(1 << 20)).Status);
        Assert.Throws<GptqException>(() => context.Eval(7, new[] { 1 }, LogitsMode.LAST));
        using (var p = new GenerateParams { Temperature = -1 })
          Assert.Throws<GptqException>(() => context.Generate("x", p));
        Assert.Throws<GptqException>(() => model.CalibrationFromFile("/no/file", 1, 8, 0));
      }
    }

    [Test]
    public void LibraryFactsAndInfo() {
      Assert.AreEqual(100, Gptq.Version);
      Assert.AreEqual("0.1.0", Gptq.VersionString);
      StringAssert.StartsWith("libgptq 0.1.0", Gptq.SystemInfo);
      using (Model model = Model.Load(Fixtures.ModelDir))
      using (ModelInfo info = model.Info) {
        Assert.AreEqual("llama", info.Architecture);
        Assert.AreEqual(8192, info.VocabSize);
        Assert.AreEqual(Dtype.F16, info.WeightType);
        Assert.IsTrue(info.TiedEmbeddings);
      }
    }

    [Test]
    public void LogHandlerReceivesMessages() {
      var lines = new List<string>();
      Gptq.SetLogHandler((level, message) => { lock (lines) lines.Add(level + " " + message); }, LogLevel.DEBUG);
      try {
        using (Model model = Model.Load(Fixtures.ModelDir)) Assert.IsNotEmpty(lines);
      } finally {
        Gptq.SetLogHandler(null, LogLevel.OFF);
      }
      int seen = lines.Count;
      Model.Load(Fixtures.ModelDir).Dispose();
      Assert.AreEqual(seen, lines.Count);
    }

    /// A model, context or generation leaked per round would add megabytes each time.
    [Test]
    public void LoadGenerateFreeKeepsResidentMemoryFlat() {
      long baseline = 0;
      for (int i = 0; i < 30; i++) {
        using (Model model = Model.Load(Fixtures.ModelDir))
        using (Context context = model.NewContext())
        using (GenerateParams p = Fixtures.Greedy32()) {
          context.Generate(Fixtures.Prompt, p);
          using (TokenStream stream = context.Stream(Fixtures.Prompt, p))
            foreach (Token t in stream) {}
        }
        if (i == 9) {
          GC.Collect();
          GC.WaitForPendingFinalizers();
          baseline = Fixtures.ResidentKiB();
        }
      }
      GC.Collect();
      GC.WaitForPendingFinalizers();
      long growth = Fixtures.ResidentKiB() - baseline;
      Assert.Less(growth, 48 * 1024, "resident memory grew by " + growth + " KiB over 20 rounds");
    }
  }
}
