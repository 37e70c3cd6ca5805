package org.libgptq;

import static org.junit.Assert.*;

import java.nio.file.Path;
import org.junit.Test;

public class ErrorTest {
    @Test
    public void badModelPathRaisesTheLibraryMessage() {
        GptqException e = assertThrows(GptqException.class, () -> Model.load(Path.of("/no/such/model")));
        assertEquals(Status.ERR_NOT_FOUND, e.getStatus());
        assertTrue(e.getMessage(), e.getMessage().contains("'/no/such/model' does not exist"));
    }

    @Test
    public void closedHandlesRaiseInsteadOfCrashing() {
        Model model = Model.load(Fixtures.modelDir());
        Context context = model.newContext();
        model.close();
        // The open context keeps the model alive.
        try (GenerateParams params = Fixtures.greedy32()) {
            assertEquals(32, context.generate(Fixtures.PROMPT, params).tokens().length);
            context.close();
            assertThrows(IllegalStateException.class, () -> context.generate(Fixtures.PROMPT, params));
        }
        assertThrows(IllegalStateException.class, () -> model.tokenize("x"));
        assertThrows(IllegalStateException.class, model::newContext);
        model.close();
        assertTrue(model.isClosed());
    }

    @Test
    public void badArgumentsRaise() {
        try (Model model = Model.load(Fixtures.modelDir()); Context context = model.newContext()) {
            assertEquals(Status.ERR_INVALID_ARGUMENT,
                    assertThrows(GptqException.class, () -> model.tokenText(1 << 20)).getStatus());
            assertThrows(GptqException.class, () -> context.eval(7, new int[] {1}, LogitsMode.LAST));
            GenerateParams params = new GenerateParams();
            params.setTemperature(-1);
            assertThrows(GptqException.class, () -> context.generate("x", params));
            assertThrows(GptqException.class, () -> model.calibrationFromFile(Path.of("/no/file"), 1, 8, 0));
        }
    }

    @Test
    public void libraryFacts() {
        assertEquals(100, Gptq.version());
        assertEquals("0.1.0", Gptq.versionString());
        assertTrue(Gptq.systemInfo().startsWith("libgptq 0.1.0"));
        assertEquals(Gptq.hasFeature(Gptq.FEATURE_CUDA), (Gptq.features() & Gptq.FEATURE_CUDA) != 0);
    }

    @Test
    public void logListenerReceivesMessagesFromAnyThread() {
        java.util.List<String> lines = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        Gptq.setLogListener((level, message) -> lines.add(level + " " + message), LogLevel.DEBUG);
        try (Model model = Model.load(Fixtures.modelDir())) {
            assertFalse(lines.isEmpty());
        } finally {
            Gptq.setLogListener(null, LogLevel.OFF);
        }
        int seen = lines.size();
        Model.load(Fixtures.modelDir()).close();
        assertEquals(seen, lines.size());
    }

    @Test
    public void infoDescribesTheModel() {
        try (Model model = Model.load(Fixtures.modelDir()); ModelInfo info = model.info()) {
            assertEquals("llama", info.getArchitecture());
            assertEquals("sentencepiece", info.getTokenizer());
            assertEquals(8192, info.getVocabSize());
            assertEquals(6, info.getNLayers());
            assertEquals(Dtype.F16, info.getWeightType());
            assertTrue(info.getTiedEmbeddings());
            assertEquals(0, info.getQuantBits());
        }
    }
}
