package org.libgptq;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The result of a generation, copied out of the library: one {@link Sequence} per prompt, or with beam
 * search {@code numReturnSequences} per prompt (prompt by prompt, best first).
 */
public final class Generation {
    /**
     * @param text the generated text, without the prompt
     * @param tokens the generated token ids
     * @param promptTokens the prompt's ids as fed to the model (BOS included)
     * @param promptIndex the prompt it continues
     * @param score beam search's score (sum of log-probabilities / length^lengthPenalty); NaN without
     *     beam search
     */
    public record Sequence(String text, int[] tokens, int[] promptTokens, StopReason stopReason,
                           int promptIndex, double score) {}

    public record Timing(long promptTokens, double promptSeconds, long generatedTokens,
                         double generateSeconds, double promptTokensPerSecond,
                         double generatedTokensPerSecond) {}

    private final List<Sequence> sequences;
    private final Timing timing;

    private Generation(List<Sequence> sequences, Timing timing) {
        this.sequences = Collections.unmodifiableList(sequences);
        this.timing = timing;
    }

    /** Copies a native generation and frees it. */
    static Generation take(SWIGTYPE_p_gptq_generation g) {
        try {
            int n = gptq.generation_count(g);
            List<Sequence> sequences = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                sequences.add(new Sequence(gptq.generation_text(g, i),
                        Tokens.take(gptq.generation_tokens(g, i)),
                        Tokens.take(gptq.generation_prompt_tokens(g, i)),
                        StopReason.swigToEnum(gptq.generation_stop_reason(g, i)),
                        gptq.generation_prompt_index(g, i), gptq.generation_score(g, i)));
            }
            try (Timings t = gptq.generation_timings(g)) {
                return new Generation(sequences, new Timing(t.getPromptTokens(), t.getPromptSeconds(),
                        t.getGeneratedTokens(), t.getGenerateSeconds(), t.getPromptTokensPerSecond(),
                        t.getGeneratedTokensPerSecond()));
            }
        } finally {
            gptq.generation_free(g);
        }
    }

    public List<Sequence> sequences() { return sequences; }

    public Sequence get(int index) { return sequences.get(index); }

    /** The text of the first (often the only) sequence. */
    public String text() { return sequences.get(0).text(); }

    /** The token ids of the first sequence. */
    public int[] tokens() { return sequences.get(0).tokens(); }

    public Timing timing() { return timing; }
}
