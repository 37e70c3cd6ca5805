package org.libgptq;

/** Called after each quantized module. */
@FunctionalInterface
public interface QuantizeListener {
    /**
     * @param loss the module's average GPTQ loss (0 for RTN)
     * @param fraction of all modules done
     * @return true to go on, false to cancel (the call then throws
     *     GptqException with status ERR_CANCELLED)
     */
    boolean onModule(int layer, int layers, String module, double loss, double fraction);

    static Callbacks.Target target(QuantizeListener l) {
        return l == null ? null
            : (layer, layers, loss, fraction, module) -> l.onModule(layer, layers, module, loss, fraction) ? 0 : 1;
    }
}
