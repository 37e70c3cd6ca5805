package org.libgptq;

import java.nio.file.Path;
import java.util.List;

/**
 * A loaded model: immutable, shareable by any number of threads, each with
 * its own {@link Context}. Closing it while contexts are open defers the
 * release until the last of them is closed.
 */
public final class Model extends NativeHandle<SWIGTYPE_p_gptq_model> {
    private Model(SWIGTYPE_p_gptq_model handle) {
        super("model", handle, gptq::model_free);
    }

    public static Model load(Path dir) { return load(dir, null, null); }

    public static Model load(Path dir, ModelParams params) { return load(dir, params, null); }

    /** Loads a Hugging Face checkpoint directory; params may be null (defaults). */
    public static Model load(Path dir, ModelParams params, ProgressListener progress) {
        return new Model(Callbacks.with(ProgressListener.target(progress),
                id -> gptq.model_load(dir.toString(), params, id)));
    }

    /** Architecture, sizes, tokens and quantization of the model. */
    public ModelInfo info() { return use(gptq::model_info); }

    /** The vocabulary entry of a token as the tokenizer stores it (e.g. "▁the"). */
    public String tokenText(int token) { return use(m -> gptq.token_text(m, token)); }

    /** Whether generation ends at this token. */
    public boolean isEndOfGeneration(int token) { return use(m -> gptq.token_is_eog(m, token) != 0); }

    /** Tokenizes with the specials the tokenizer asks for and without parsing special-token text. */
    public int[] tokenize(String text) { return tokenize(text, true, false); }

    public int[] tokenize(String text, boolean addSpecial, boolean parseSpecial) {
        int flags = (addSpecial ? gptqConstants.TOKENIZE_ADD_SPECIAL : 0)
            | (parseSpecial ? gptqConstants.TOKENIZE_PARSE_SPECIAL : 0);
        return use(m -> Tokens.take(gptq.tokenize(m, text, flags)));
    }

    public String detokenize(int[] tokens) { return detokenize(tokens, false); }

    public String detokenize(int[] tokens, boolean skipSpecial) {
        int flags = skipSpecial ? gptqConstants.DETOKENIZE_SKIP_SPECIAL : 0;
        return use(m -> gptq.detokenize(m, tokens, flags));
    }

    public Context newContext() { return newContext(null); }

    /** A context (KV cache, scratch, threads) for one thread at a time; params may be null. */
    public Context newContext(ContextParams params) {
        SWIGTYPE_p_gptq_model m = acquire();
        try {
            return new Context(this, gptq.context_new(m, params));
        } catch (RuntimeException e) {
            release();
            throw e;
        }
    }

    /** Calibration samples: windows of {@code seqlen} tokens at seeded random offsets of the text. */
    public Calibration calibrationFromText(String text, int samples, int seqlen, long seed) {
        return new Calibration(use(m -> gptq.calibration_from_text(m, text, samples, seqlen, seed)));
    }

    /** One calibration sample per text, with BOS, cut to {@code seqlen} tokens. */
    public Calibration calibrationFromTexts(List<String> texts, int seqlen) {
        return new Calibration(use(m -> Tokens.withStrings(texts,
                list -> gptq.calibration_from_texts(m, list, seqlen))));
    }

    /** From a .jsonl file (one sample per line's "text" or "input_ids") or plain text (random windows). */
    public Calibration calibrationFromFile(Path file, int samples, int seqlen, long seed) {
        return new Calibration(use(m -> gptq.calibration_from_file(m, file.toString(), samples, seqlen, seed)));
    }

    public Model quantize(Calibration calibration, QuantizeParams params) {
        return quantize(calibration, params, null);
    }

    /**
     * Quantizes the linear layers into a new, independent model.
     * calibration may be null for the RTN method; params may be null.
     */
    public Model quantize(Calibration calibration, QuantizeParams params, QuantizeListener progress) {
        return use(m -> {
            if (calibration == null) return quantizeWith(m, null, params, progress);
            return calibration.use(c -> quantizeWith(m, c, params, progress));
        });
    }

    private static Model quantizeWith(SWIGTYPE_p_gptq_model m, SWIGTYPE_p_gptq_calibration c,
                                      QuantizeParams params, QuantizeListener progress) {
        return new Model(Callbacks.with(QuantizeListener.target(progress),
                id -> gptq.quantize(m, c, params, id)));
    }

    /** Writes a GPTQ checkpoint directory (which must not exist or be empty); params may be null. */
    public void save(Path dir, SaveParams params) {
        use(m -> {
            gptq.model_save(m, dir.toString(), params);
            return null;
        });
    }
}
