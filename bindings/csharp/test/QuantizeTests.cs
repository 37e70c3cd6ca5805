using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using NUnit.Framework;
using LibGptq;

namespace LibGptq.Tests {
  [TestFixture]
  public class QuantizeTests {
    Model model;
    string dir;

    [TestFixtureSetUp] public void Load() { model = Model.Load(Fixtures.ModelDir); }
    [TestFixtureTearDown] public void Close() { model.Dispose(); }

    [SetUp]
    public void TempDir() {
      dir = Path.Combine(Path.GetTempPath(), "gptq-cs-" + Guid.NewGuid());
      Directory.CreateDirectory(dir);
    }

    [TearDown] public void RemoveTempDir() { Directory.Delete(dir, true); }

    static QuantizeParams Rtn4() {
      return new QuantizeParams { QuantMethod = QuantMethod.RTN, Bits = 4, GroupSize = 128 };
    }

    static int[] Greedy(Model m) {
      using (Context c = m.NewContext())
      using (GenerateParams p = Fixtures.Greedy32())
        return c.Generate(Fixtures.Prompt, p).Tokens;
    }

    [Test]
    public void RtnSaveLoadRoundTrip() {
      var modules = new List<string>();
      using (QuantizeParams p = Rtn4())
      using (Model quantized = model.Quantize(null, p, (layer, layers, module, loss, fraction) => { modules.Add(module); return true; }))
      using (var save = new SaveParams { CheckpointFormat = CheckpointFormat.GPTQ_V2 }) {
        Assert.AreEqual(6 * 7, modules.Count);
        string output = Path.Combine(dir, "w4");
        quantized.Save(output, save);
        Assert.IsTrue(File.Exists(Path.Combine(output, "config.json")));
        using (Model reloaded = Model.Load(output))
        using (ModelInfo info = reloaded.Info) {
          Assert.AreEqual(4, info.QuantBits);
          Assert.AreEqual("gptq_v2", info.QuantFormat);
          Assert.AreEqual(Greedy(quantized), Greedy(reloaded));
        }
      }
    }

    [Test]
    public void GptqWithCalibrationAndSkippedModules() {
      using (Calibration calibration = model.CalibrationFromTexts(
                 new[] { "The history of the city is long.", "Python is a programming language." }, 32))
      using (var p = new QuantizeParams { GroupSize = 64 }) {
        calibration.Add(model.Tokenize("Linux kernel documentation"));
        Assert.AreEqual(3, calibration.Count);
        p.AddSkipModule("mlp.down_proj");
        var losses = new List<double>();
        using (Model quantized = model.Quantize(calibration, p, (l, n, m, loss, f) => { losses.Add(loss); return true; })) {
          Assert.AreEqual(6 * 6, losses.Count);
          Assert.IsTrue(losses.Any(loss => loss > 0));
          Assert.AreEqual(32, Greedy(quantized).Length);
        }
      }
    }

    [Test]
    public void CancellingAndFailingHandlers() {
      using (QuantizeParams p = Rtn4()) {
        var cancelled = Assert.Throws<GptqException>(() => model.Quantize(null, p, (l, n, m, loss, f) => false));
        Assert.AreEqual(Status.ERR_CANCELLED, cancelled.Status);
        var thrown = new ArgumentException("from the handler");
        var e = Assert.Throws<GptqCallbackException>(() => model.Quantize(null, p, (l, n, m, loss, f) => { throw thrown; }));
        Assert.AreSame(thrown, e.InnerException);
      }
    }
  }
}
