using System;
using NUnit.Framework;
using LibGptq;

namespace LibGptq.Tests {
  /// Devices: defaults, the CPU placement, memory budgets on the CPU, and GPUs that are not there
  /// (always) or are (when present).
  [TestFixture]
  public class DeviceTests {
    /// A GPU that is never there: "cuda" without GPUs, one past the last with them.
    static string MissingGpu() {
      int count = Gptq.DeviceCount;
      return count == 0 ? "cuda" : "cuda:" + count;
    }

    [Test]
    public void MissingGpuRaisesTheLibraryReason() {
      string device = MissingGpu();
      using (var parameters = new ModelParams { Device = device }) {
        var e = Assert.Throws<GptqException>(() => Model.Load(Fixtures.ModelDir, parameters));
        Assert.AreEqual(Status.ERR_UNSUPPORTED, e.Status);
        StringAssert.Contains("device '" + device + "' is not available: ", e.Message);
      }
    }

    [Test]
    public void DefaultsAndTheCpuPlacement() {
      using (var parameters = new ModelParams())
      using (var contextParameters = new ContextParams()) {
        Assert.AreEqual("cpu", parameters.Device);
        Assert.AreEqual(-1, parameters.NGpuLayers);
        Assert.AreEqual(Dtype.AUTO, parameters.ComputeDtype);
        Assert.AreEqual(Dtype.AUTO, contextParameters.KvDtype);
        // GPU settings are accepted and have no effect on the CPU.
        parameters.ComputeDtype = Dtype.BF16;
        parameters.NGpuLayers = 2;
        contextParameters.KvDtype = Dtype.F16;
        using (Model model = Model.Load(Fixtures.ModelDir, parameters))
        using (ModelInfo info = model.Info)
        using (Context context = model.NewContext(contextParameters)) {
          Assert.AreEqual("cpu", info.Device);
          Assert.AreEqual("embedding=cpu layers[0-5]=cpu head=cpu", info.Placement);
          Assert.AreEqual(0, info.NGpuLayers);
          Assert.AreEqual(Dtype.F32, info.ComputeDtype);
          Assert.AreEqual(0, info.GpuWeightBytes);
        }
      }
    }

    [Test]
    public void BadSettingsRaiseNamingTheField() {
      using (var parameters = new ModelParams { NGpuLayers = -2 }) {
        var e = Assert.Throws<GptqException>(() => Model.Load(Fixtures.ModelDir, parameters));
        Assert.AreEqual(Status.ERR_INVALID_ARGUMENT, e.Status);
        StringAssert.Contains("n_gpu_layers", e.Message);
        parameters.NGpuLayers = -1;
        parameters.Device = "tpu";
        e = Assert.Throws<GptqException>(() => Model.Load(Fixtures.ModelDir, parameters));
        Assert.AreEqual(Status.ERR_INVALID_ARGUMENT, e.Status);
      }
      Assert.AreEqual(Status.ERR_INVALID_ARGUMENT,
                      Assert.Throws<GptqException>(() => Gptq.DeviceName(Gptq.DeviceCount)).Status);
      Assert.Throws<GptqException>(() => Gptq.DeviceName(-1));
    }

    [Test]
    public void MemoryBudgetsPlanOrRefuseOnTheCpu() {
      using (var parameters = new ModelParams()) {
        Assert.AreEqual("", parameters.MaxMemory);
        Assert.AreEqual(0, parameters.PlanNCtx);
        Assert.AreEqual(1, parameters.PlanNSeq);
        // The params object keeps its own copy of the string.
        parameters.MaxMemory = new System.Text.StringBuilder("cpu=").Append(4).Append("GiB").ToString();
        parameters.PlanNCtx = 256;
        parameters.PlanNSeq = 2;
        GC.Collect();
        Assert.AreEqual("cpu=4GiB", parameters.MaxMemory);
        Assert.AreEqual(256, parameters.PlanNCtx);
        Assert.AreEqual(2, parameters.PlanNSeq);
        using (Model model = Model.Load(Fixtures.ModelDir, parameters))
        using (ModelInfo info = model.Info) {
          Assert.AreEqual("cpu", info.Device);
          Assert.AreEqual("embedding=cpu layers[0-5]=cpu head=cpu", info.Placement);
        }
        parameters.MaxMemory = "cpu=1MiB";
        var e = Assert.Throws<GptqException>(() => Model.Load(Fixtures.ModelDir, parameters));
        Assert.AreEqual(Status.ERR_OUT_OF_MEMORY, e.Status);
        StringAssert.Contains("does not fit", e.Message);
        parameters.MaxMemory = "cpu=lots";
        e = Assert.Throws<GptqException>(() => Model.Load(Fixtures.ModelDir, parameters));
        Assert.AreEqual(Status.ERR_INVALID_ARGUMENT, e.Status);
        StringAssert.Contains("max_memory", e.Message);
        parameters.MaxMemory = "cpu=4GiB";
        parameters.PlanNSeq = 0;
        e = Assert.Throws<GptqException>(() => Model.Load(Fixtures.ModelDir, parameters));
        Assert.AreEqual(Status.ERR_INVALID_ARGUMENT, e.Status);
        StringAssert.Contains("plan_n_seq", e.Message);
      }
    }

    [Test]
    public void GpuLoadsAndGenerates() {
      int count = Gptq.DeviceCount;
      if (count == 0) {
        string reason = "no usable GPU (" + Gptq.SystemInfo + ")";
        Console.WriteLine("DeviceTests.GpuLoadsAndGenerates skipped: " + reason);
        Assert.Ignore(reason);
      }
      for (int i = 0; i < count; i++) Assert.IsNotEmpty(Gptq.DeviceName(i));
      using (var parameters = new ModelParams { Device = "cuda" })
      using (Model model = Model.Load(Fixtures.ModelDir, parameters))
      using (ModelInfo info = model.Info)
      using (Context context = model.NewContext())
      using (var generate = new GenerateParams { MaxNewTokens = 4, StopOnEos = false }) {
        Assert.AreEqual("cuda:0", info.Device);
        Assert.AreEqual(6, info.NGpuLayers);
        Assert.Greater(info.GpuWeightBytes, 0);
        Assert.AreEqual(4, context.Generate(Fixtures.Prompt, generate).Tokens.Length);
      }
    }
  }
}
