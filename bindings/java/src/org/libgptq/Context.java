package org.libgptq;

import java.nio.file.Path;
import java.util.List;

/**
 * KV cache, scratch memory and worker threads for one user of a model.
 * Calls on one context are serialized (the library allows one thread at a
 * time); while a {@link TokenStream} is open, the stream owns the context.
 */
public final class Context extends NativeHandle<SWIGTYPE_p_gptq_context> {
    private final Model model;
    private TokenStream stream;

    /** Freeing the context gives back the model it borrowed at creation. */
    Context(Model model, SWIGTYPE_p_gptq_context handle) {
        super("context", handle, h -> {
            gptq.context_free(h);
            model.release();
        });
        this.model = model;
    }

    public Model model() { return model; }

    private interface Call<R> {
        R apply(SWIGTYPE_p_gptq_context c);
    }

    private synchronized <R> R call(Call<R> body) {
        if (stream != null) throw new IllegalStateException("the context is in use by an open stream");
        return use(body::apply);
    }

    public int nCtx() { return call(gptq::context_n_ctx); }

    public int nSeqMax() { return call(gptq::context_n_seq_max); }

    public int nThreads() { return call(gptq::context_n_threads); }

    /** Tokens sequence {@code seq} holds. */
    public int seqLength(int seq) { return call(c -> gptq.context_seq_length(c, seq)); }

    /** Forgets what a sequence holds (-1: every sequence). */
    public void clear(int seq) {
        call(c -> {
            gptq.context_clear(c, seq);
            return null;
        });
    }

    /**
     * Appends tokens to a sequence and runs the model over them.
     *
     * @return the logits {@code mode} asks for: vocab_size floats (LAST),
     *     tokens.length * vocab_size (ALL) or none (NONE)
     */
    public float[] eval(int seq, int[] tokens, LogitsMode mode) {
        return call(c -> {
            int vocab = mode == LogitsMode.NONE ? 0 : vocabSize();
            float[] logits = new float[mode == LogitsMode.ALL ? tokens.length * vocab : vocab];
            gptq.context_eval(c, seq, tokens, mode.swigValue(), logits);
            return logits;
        });
    }

    private int vocabSize() {
        try (ModelInfo info = model.info()) {
            return info.getVocabSize();
        }
    }

    /** Generates a continuation of the prompt in sequence 0; params may be null. */
    public Generation generate(String prompt, GenerateParams params) {
        return call(c -> Generation.take(gptq.generate(c, prompt, params)));
    }

    /** Continuations of several prompts together (needs nSeqMax >= prompts). */
    public Generation generateBatch(List<String> prompts, GenerateParams params) {
        return call(c -> Generation.take(Tokens.withStrings(prompts, list -> gptq.generate_batch(c, list, params))));
    }

    /** Streams the continuation of one prompt token by token; close the stream when done. */
    public TokenStream stream(String prompt, GenerateParams params) {
        return streamBatch(List.of(prompt), params);
    }

    public synchronized TokenStream streamBatch(List<String> prompts, GenerateParams params) {
        SWIGTYPE_p_gptq_context c = acquire();
        try {
            stream = call(unused -> new TokenStream(this,
                    Tokens.withStrings(prompts, list -> gptq.stream_begin(c, list, params))));
            return stream;
        } catch (RuntimeException e) {
            release();
            throw e;
        }
    }

    /** Called by the stream on close: it held one borrow of this context. */
    synchronized void streamClosed() {
        stream = null;
        release();
    }

    public PerplexityResult perplexity(String text, PerplexityParams params) {
        return perplexity(text, params, null);
    }

    /** Perplexity of the model on a text (windows of params' length, sequence 0). */
    public PerplexityResult perplexity(String text, PerplexityParams params, ProgressListener progress) {
        return call(c -> Callbacks.with(ProgressListener.target(progress),
                id -> gptq.perplexity(c, text, params, id)));
    }

    public PerplexityResult perplexity(Path file, PerplexityParams params, ProgressListener progress) {
        return call(c -> Callbacks.with(ProgressListener.target(progress),
                id -> gptq.perplexity_file(c, file.toString(), params, id)));
    }
}
