package org.libgptq;

import static org.junit.Assert.*;
import static org.junit.Assume.assumeTrue;

import org.junit.Test;

/**
 * Devices: defaults, the CPU placement, memory budgets on the CPU, and GPUs that are not there
 * (always) or are (when present).
 */
public class DeviceTest {
    /** A GPU that is never there: "cuda" without GPUs, one past the last with them. */
    private static String missingGpu() {
        int count = Gptq.deviceCount();
        return count == 0 ? "cuda" : "cuda:" + count;
    }

    @Test
    public void missingGpuRaisesTheLibraryReason() {
        String device = missingGpu();
        try (ModelParams params = new ModelParams()) {
            params.setDevice(device);
            GptqException e = assertThrows(GptqException.class, () -> Model.load(Fixtures.modelDir(), params));
            assertEquals(Status.ERR_UNSUPPORTED, e.getStatus());
            assertTrue(e.getMessage(), e.getMessage().contains("device '" + device + "' is not available: "));
        }
    }

    @Test
    public void defaultsAndTheCpuPlacement() {
        try (ModelParams params = new ModelParams(); ContextParams contextParams = new ContextParams()) {
            assertEquals("cpu", params.getDevice());
            assertEquals(-1, params.getNGpuLayers());
            assertEquals(Dtype.AUTO, params.getComputeDtype());
            assertEquals(Dtype.AUTO, contextParams.getKvDtype());
            // GPU settings are accepted and have no effect on the CPU.
            params.setComputeDtype(Dtype.BF16);
            params.setNGpuLayers(2);
            contextParams.setKvDtype(Dtype.F16);
            try (Model model = Model.load(Fixtures.modelDir(), params);
                 ModelInfo info = model.info();
                 Context context = model.newContext(contextParams)) {
                assertEquals("cpu", info.getDevice());
                assertEquals("embedding=cpu layers[0-5]=cpu head=cpu", info.getPlacement());
                assertEquals(0, info.getNGpuLayers());
                assertEquals(Dtype.F32, info.getComputeDtype());
                assertEquals(0, info.getGpuWeightBytes());
            }
        }
    }

    @Test
    public void badSettingsRaiseNamingTheField() {
        try (ModelParams params = new ModelParams()) {
            params.setNGpuLayers(-2);
            GptqException e = assertThrows(GptqException.class, () -> Model.load(Fixtures.modelDir(), params));
            assertEquals(Status.ERR_INVALID_ARGUMENT, e.getStatus());
            assertTrue(e.getMessage(), e.getMessage().contains("n_gpu_layers"));
            params.setNGpuLayers(-1);
            params.setDevice("tpu");
            e = assertThrows(GptqException.class, () -> Model.load(Fixtures.modelDir(), params));
            assertEquals(Status.ERR_INVALID_ARGUMENT, e.getStatus());
        }
        GptqException e = assertThrows(GptqException.class, () -> Gptq.deviceName(Gptq.deviceCount()));
        assertEquals(Status.ERR_INVALID_ARGUMENT, e.getStatus());
        assertThrows(GptqException.class, () -> Gptq.deviceName(-1));
    }

    @Test
    public void memoryBudgetsPlanOrRefuseOnTheCpu() {
        try (ModelParams params = new ModelParams()) {
            assertEquals("", params.getMaxMemory());
            assertEquals(0, params.getPlanNCtx());
            assertEquals(1, params.getPlanNSeq());
            // The params object keeps its own copy of the string.
            params.setMaxMemory(new StringBuilder("cpu=").append(4).append("GiB").toString());
            params.setPlanNCtx(256);
            params.setPlanNSeq(2);
            assertEquals("cpu=4GiB", params.getMaxMemory());
            assertEquals(256, params.getPlanNCtx());
            assertEquals(2, params.getPlanNSeq());
            try (Model model = Model.load(Fixtures.modelDir(), params); ModelInfo info = model.info()) {
                assertEquals("cpu", info.getDevice());
                assertEquals("embedding=cpu layers[0-5]=cpu head=cpu", info.getPlacement());
            }
            params.setMaxMemory("cpu=1MiB");
            GptqException e = assertThrows(GptqException.class, () -> Model.load(Fixtures.modelDir(), params));
            assertEquals(Status.ERR_OUT_OF_MEMORY, e.getStatus());
            assertTrue(e.getMessage(), e.getMessage().contains("does not fit"));
            params.setMaxMemory("cpu=lots");
            e = assertThrows(GptqException.class, () -> Model.load(Fixtures.modelDir(), params));
            assertEquals(Status.ERR_INVALID_ARGUMENT, e.getStatus());
            assertTrue(e.getMessage(), e.getMessage().contains("max_memory"));
            params.setMaxMemory("cpu=4GiB");
            params.setPlanNSeq(0);
            e = assertThrows(GptqException.class, () -> Model.load(Fixtures.modelDir(), params));
            assertEquals(Status.ERR_INVALID_ARGUMENT, e.getStatus());
            assertTrue(e.getMessage(), e.getMessage().contains("plan_n_seq"));
        }
    }

    @Test
    public void gpuLoadsAndGenerates() {
        int count = Gptq.deviceCount();
        if (count == 0) {
            String reason = "no usable GPU (" + Gptq.systemInfo() + ")";
            System.out.println("DeviceTest.gpuLoadsAndGenerates skipped: " + reason);
            assumeTrue(reason, false);
        }
        for (int i = 0; i < count; i++) assertFalse(Gptq.deviceName(i).isEmpty());
        try (ModelParams params = new ModelParams()) {
            params.setDevice("cuda");
            try (Model model = Model.load(Fixtures.modelDir(), params);
                 ModelInfo info = model.info();
                 Context context = model.newContext();
                 GenerateParams generate = new GenerateParams()) {
                assertEquals("cuda:0", info.getDevice());
                assertEquals(6, info.getNGpuLayers());
                assertTrue(info.getGpuWeightBytes() > 0);
                generate.setMaxNewTokens(4);
                generate.setStopOnEos(false);
                assertEquals(4, context.generate(Fixtures.PROMPT, generate).tokens().length);
            }
        }
    }
}
