package org.libgptq;

/** Progress of a model load or a perplexity run. */
@FunctionalInterface
public interface ProgressListener {
    /**
     * @param fraction from 0 to 1
     * @param stage the step, e.g. "load" or "perplexity"
     * @return true to go on, false to cancel (the call then throws
     *     GptqException with status ERR_CANCELLED)
     */
    boolean onProgress(double fraction, String stage);

    static Callbacks.Target target(ProgressListener l) {
        return l == null ? null : (i1, i2, fraction, unused, stage) -> l.onProgress(fraction, stage) ? 0 : 1;
    }
}
