package org.libgptq;

import static org.junit.Assert.*;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

public class GenerationTest {
    private static Model model;

    @BeforeClass
    public static void load() { model = Model.load(Fixtures.modelDir()); }

    @AfterClass
    public static void close() { model.close(); }

    @Test
    public void greedyContinuationMatchesTransformers() {
        try (Context context = model.newContext(); GenerateParams params = Fixtures.greedy32()) {
            Generation g = context.generate(Fixtures.PROMPT, params);
            int[] ref = Fixtures.REFERENCE_IDS;
            assertArrayEquals(Arrays.copyOf(ref, Fixtures.PROMPT_TOKENS), g.get(0).promptTokens());
            assertArrayEquals(Arrays.copyOfRange(ref, Fixtures.PROMPT_TOKENS, ref.length), g.tokens());
            assertEquals(StopReason.LENGTH, g.get(0).stopReason());
            assertEquals(32, g.timing().generatedTokens());
            assertEquals(Fixtures.PROMPT + g.text(), model.detokenize(ref, true));
        }
    }

    @Test
    public void beamSearchReturnsTheBestSequencesWithTheirScores() {
        try (ContextParams contextParams = new ContextParams(); GenerateParams params = new GenerateParams()) {
            assertEquals(EarlyStopping.FALSE, params.getEarlyStopping());
            assertEquals(1.0f, params.getLengthPenalty(), 0);
            contextParams.setNSeqMax(3);
            params.setMaxNewTokens(6);
            params.setNumBeams(3);
            params.setNumReturnSequences(2);
            params.setLengthPenalty(0);
            params.setEarlyStopping(EarlyStopping.NEVER);
            try (Context context = model.newContext(contextParams)) {
                Generation g = context.generate(Fixtures.PROMPT, params);
                assertEquals(2, g.sequences().size());
                assertTrue(g.get(0).score() >= g.get(1).score());
                assertFalse(Arrays.equals(g.get(0).tokens(), g.get(1).tokens()));
                for (Generation.Sequence s : g.sequences()) {
                    assertEquals(0, s.promptIndex());
                    // length_penalty 0: the score is the sequence's log-likelihood.
                    assertEquals(logLikelihood(context, s.promptTokens(), s.tokens()), s.score(), 1e-3);
                }
                params.setNumReturnSequences(4);
                GptqException e = assertThrows(GptqException.class, () -> context.generate(Fixtures.PROMPT, params));
                assertEquals(Status.ERR_INVALID_ARGUMENT, e.getStatus());
                assertTrue(e.getMessage(), e.getMessage().contains("num_return_sequences"));
            }
        }
        try (Context context = model.newContext(); GenerateParams greedy = Fixtures.greedy32()) {
            assertEquals(1, greedy.getNumBeams());
            assertTrue(Double.isNaN(context.generate(Fixtures.PROMPT, greedy).get(0).score()));
        }
    }

    /** The sum of log p(token) over the tokens after the prompt, from one fresh evaluation. */
    private static double logLikelihood(Context context, int[] prompt, int[] tokens) {
        int[] all = Arrays.copyOf(prompt, prompt.length + tokens.length - 1);
        System.arraycopy(tokens, 0, all, prompt.length, tokens.length - 1);
        context.clear(0);
        float[] logits = context.eval(0, all, LogitsMode.ALL);
        int vocab = logits.length / all.length;
        double sum = 0;
        for (int i = 0; i < tokens.length; i++) {
            int row = (prompt.length - 1 + i) * vocab;
            double max = Double.NEGATIVE_INFINITY, total = 0;
            for (int v = 0; v < vocab; v++) max = Math.max(max, logits[row + v]);
            for (int v = 0; v < vocab; v++) total += Math.exp(logits[row + v] - max);
            sum += logits[row + tokens[i]] - max - Math.log(total);
        }
        return sum;
    }

    @Test
    public void tokenizeMatchesTheReferencePrompt() {
        int[] ids = model.tokenize(Fixtures.PROMPT);
        assertArrayEquals(Arrays.copyOf(Fixtures.REFERENCE_IDS, Fixtures.PROMPT_TOKENS), ids);
        assertEquals(Fixtures.PROMPT, model.detokenize(ids, true));
        assertArrayEquals(Arrays.copyOfRange(ids, 1, ids.length), model.tokenize(Fixtures.PROMPT, false, false));
        assertEquals("<s>", model.tokenText(1));
        assertTrue(model.isEndOfGeneration(2));
    }

    @Test
    public void textOutsideAsciiRoundTrips() {
        String text = "naïve café — 東京 🙂";
        assertEquals(text, model.detokenize(model.tokenize(text, false, false)));
    }

    @Test
    public void evalLogitsPickTheGreedyToken() {
        try (Context context = model.newContext()) {
            int[] prompt = Arrays.copyOf(Fixtures.REFERENCE_IDS, Fixtures.PROMPT_TOKENS);
            float[] logits = context.eval(0, prompt, LogitsMode.LAST);
            int best = 0;
            for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
            assertEquals(Fixtures.REFERENCE_IDS[Fixtures.PROMPT_TOKENS], best);
            assertEquals(Fixtures.PROMPT_TOKENS, context.seqLength(0));
            assertEquals(2 * logits.length, context.eval(0, new int[] {best, 5}, LogitsMode.ALL).length);
            context.clear(-1);
            assertEquals(0, context.seqLength(0));
        }
    }

    @Test
    public void streamedTextIsTheGeneratedText() {
        try (Context context = model.newContext(); GenerateParams params = Fixtures.greedy32()) {
            StringBuilder text = new StringBuilder();
            List<Integer> ids = new ArrayList<>();
            Generation result;
            try (TokenStream stream = context.stream(Fixtures.PROMPT, params)) {
                for (Token t : stream) {
                    text.append(t.text());
                    ids.add(t.id());
                }
                result = stream.result();
            }
            assertEquals(result.text(), text.toString());
            assertArrayEquals(result.tokens(), ids.stream().mapToInt(Integer::intValue).toArray());
            assertEquals(context.generate(Fixtures.PROMPT, params).text(), text.toString());
        }
    }

    @Test
    public void streamOwnsTheContextUntilClosed() {
        try (Context context = model.newContext(); GenerateParams params = Fixtures.greedy32()) {
            TokenStream stream = context.stream(Fixtures.PROMPT, params);
            assertTrue(stream.hasNext());
            assertThrows(IllegalStateException.class, () -> context.generate("x", params));
            stream.stop(0);
            stream.forEach(t -> {});
            assertEquals(StopReason.CALLBACK, stream.result().get(0).stopReason());
            stream.close();
            assertThrows(IllegalStateException.class, stream::next);
            assertEquals(32, context.generate(Fixtures.PROMPT, params).tokens().length);
        }
    }

    @Test
    public void batchAndStopStrings() {
        ContextParams cp = new ContextParams();
        cp.setNSeqMax(2);
        try (Context context = model.newContext(cp); GenerateParams params = Fixtures.greedy32()) {
            Generation batch = context.generateBatch(List.of(Fixtures.PROMPT, "Python is"), params);
            assertEquals(2, batch.sequences().size());
            assertEquals(context.generate(Fixtures.PROMPT, params).text(), batch.text());
            params.addStopString("Big Ten");
            Generation stopped = context.generate(Fixtures.PROMPT, params);
            assertEquals(StopReason.STRING, stopped.get(0).stopReason());
            assertFalse(stopped.text().contains("Big Ten"));
        }
    }

    @Test
    public void threadsSharingTheModelAgree() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<int[]>> runs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                runs.add(pool.submit(() -> {
                    ContextParams cp = new ContextParams();
                    cp.setNThreads(1);
                    try (Context context = model.newContext(cp); GenerateParams params = Fixtures.greedy32()) {
                        return context.generate(Fixtures.PROMPT, params).tokens();
                    }
                }));
            }
            int[] expected = Arrays.copyOfRange(Fixtures.REFERENCE_IDS, Fixtures.PROMPT_TOKENS,
                    Fixtures.REFERENCE_IDS.length);
            for (Future<int[]> run : runs) assertArrayEquals(expected, run.get());
        } finally {
            pool.shutdown();
        }
    }

    @Test
    public void perplexityOfAText() {
        PerplexityParams params = new PerplexityParams();
        params.setWindow(64);
        try (Context context = model.newContext()) {
            String text = String.join(" ", java.util.Collections.nCopies(40, "The history of the city is long."));
            List<Double> fractions = new ArrayList<>();
            PerplexityResult r = context.perplexity(text, params, (f, stage) -> fractions.add(f));
            assertTrue(r.getPerplexity() > 1 && r.getPerplexity() < 1000);
            assertTrue(r.getNWindows() >= 1);
            assertFalse(fractions.isEmpty());
        }
    }
}
