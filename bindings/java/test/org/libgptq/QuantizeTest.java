package org.libgptq;

import static org.junit.Assert.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.After;
import org.junit.AfterClass;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.Test;

public class QuantizeTest {
    private static Model model;
    private Path dir;

    @BeforeClass
    public static void load() { model = Model.load(Fixtures.modelDir()); }

    @AfterClass
    public static void close() { model.close(); }

    @Before
    public void tempDir() throws IOException { dir = Files.createTempDirectory("gptq-java"); }

    @After
    public void removeTempDir() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static QuantizeParams rtn4() {
        QuantizeParams p = new QuantizeParams();
        p.setQuantMethod(QuantMethod.RTN);
        p.setBits(4);
        p.setGroupSize(128);
        return p;
    }

    private static int[] greedy(Model m) {
        try (Context c = m.newContext(); GenerateParams params = Fixtures.greedy32()) {
            return c.generate(Fixtures.PROMPT, params).tokens();
        }
    }

    @Test
    public void rtnSaveLoadRoundTrip() {
        List<String> modules = new ArrayList<>();
        try (QuantizeParams params = rtn4();
             Model quantized = model.quantize(null, params, (layer, layers, module, loss, fraction) -> modules.add(module))) {
            assertEquals(6 * 7, modules.size());
            SaveParams save = new SaveParams();
            save.setCheckpointFormat(CheckpointFormat.GPTQ_V2);
            Path out = dir.resolve("w4");
            quantized.save(out, save);
            assertTrue(Files.exists(out.resolve("config.json")));
            try (Model reloaded = Model.load(out); ModelInfo info = reloaded.info()) {
                assertEquals(4, info.getQuantBits());
                assertEquals("gptq_v2", info.getQuantFormat());
                assertArrayEquals(greedy(quantized), greedy(reloaded));
            }
        }
    }

    @Test
    public void gptqWithCalibrationAndSkippedModules() {
        try (Calibration calibration = model.calibrationFromTexts(
                     List.of("The history of the city is long.", "Python is a programming language."), 32);
             QuantizeParams params = new QuantizeParams()) {
            calibration.add(model.tokenize("Linux kernel documentation"));
            assertEquals(3, calibration.size());
            params.setGroupSize(64);
            params.addSkipModule("mlp.down_proj");
            List<Double> losses = new ArrayList<>();
            try (Model quantized = model.quantize(calibration, params, (l, n, m, loss, f) -> losses.add(loss))) {
                assertEquals(6 * 6, losses.size());
                assertTrue(losses.stream().anyMatch(loss -> loss > 0));
                assertEquals(32, greedy(quantized).length);
            }
        }
    }

    @Test
    public void cancellingAndFailingListeners() {
        try (QuantizeParams params = rtn4()) {
            GptqException cancelled = assertThrows(GptqException.class,
                    () -> model.quantize(null, params, (l, n, m, loss, f) -> false));
            assertEquals(Status.ERR_CANCELLED, cancelled.getStatus());
            IllegalArgumentException thrown = new IllegalArgumentException("from the listener");
            assertSame(thrown, assertThrows(IllegalArgumentException.class,
                    () -> model.quantize(null, params, (l, n, m, loss, f) -> { throw thrown; })));
        }
    }
}
