package org.libgptq;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The shared test material and the reference it was checked against. */
final class Fixtures {
    private Fixtures() {}

    static Path shared() {
        String dir = System.getenv("GPTQ_SHARED_DIR");
        return Path.of(dir != null ? dir : "../shared");
    }

    static Path modelDir() { return shared().resolve("models/tinydoc-llama-13m"); }

    /** prompt_0 of models/tinydoc-llama-13m-reference.safetensors. */
    static final String PROMPT = "The history of the city";

    /**
     * gen_ids_0 of models/tinydoc-llama-13m-reference.safetensors (BOS, the
     * prompt's 7 tokens, 32 greedy tokens by transformers), read once with
     * python3's json + struct from the safetensors header and data.
     */
    static final int[] REFERENCE_IDS = {
        1, 383, 2550, 532, 313, 271, 276, 590, 295, 271, 5961, 6004, 6034, 6024, 6015, 530,
        369, 325, 280, 377, 420, 1685, 341, 839, 1389, 1936, 604, 266, 534, 4039, 6016, 604,
        319, 266, 534, 4039, 6016, 631, 383, 276};
    static final int PROMPT_TOKENS = 8;

    /** Greedy, 32 tokens, not stopping at EOS: the reference's settings. */
    static GenerateParams greedy32() {
        GenerateParams p = new GenerateParams();
        p.setMaxNewTokens(32);
        p.setStopOnEos(false);
        return p;
    }

    /** Resident memory of this process in KiB. */
    static long residentKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        throw new IOException("no VmRSS in /proc/self/status");
    }
}
