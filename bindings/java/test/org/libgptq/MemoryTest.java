package org.libgptq;

import static org.junit.Assert.*;

import org.junit.Test;

public class MemoryTest {
    /** A model, context or generation leaked per round would add megabytes each time. */
    @Test
    public void loadGenerateFreeKeepsResidentMemoryFlat() throws Exception {
        long baseline = 0;
        for (int i = 0; i < 30; i++) {
            try (Model model = Model.load(Fixtures.modelDir());
                 Context context = model.newContext();
                 GenerateParams params = Fixtures.greedy32()) {
                context.generate(Fixtures.PROMPT, params);
                try (TokenStream stream = context.stream(Fixtures.PROMPT, params)) {
                    stream.forEach(t -> {});
                }
            }
            if (i == 9) {
                System.gc();
                baseline = Fixtures.residentKiB();
            }
        }
        System.gc();
        long growth = Fixtures.residentKiB() - baseline;
        assertTrue("resident memory grew by " + growth + " KiB over 20 rounds", growth < 48 * 1024);
    }
}
