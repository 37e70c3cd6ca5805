package org.libgptq;

/** Token sequences the GPTQ quantizer runs through the model. */
public final class Calibration extends NativeHandle<SWIGTYPE_p_gptq_calibration> {
    Calibration(SWIGTYPE_p_gptq_calibration handle) {
        super("calibration", handle, gptq::calibration_free);
    }

    /** An empty set; add samples with {@link #add}. */
    public Calibration() {
        this(gptq.calibration_new());
    }

    /** Adds one sample (copied). */
    public void add(int[] tokens) {
        use(c -> {
            gptq.calibration_add(c, tokens);
            return null;
        });
    }

    public int size() { return use(gptq::calibration_count); }
}
