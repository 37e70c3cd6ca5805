package org.libgptq;

/** A libgptq call failed: the status and the library's message. */
public class GptqException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final Status status;

    public GptqException(Status status, String message) {
        super(message + " (" + status + ")");
        this.status = status;
    }

    /** Made by the JNI glue (swig/java.swg) from the failing call's slot. */
    GptqException(int status, byte[] message) {
        this(Status.swigToEnum(status), Utf8.decode(message));
    }

    public Status getStatus() { return status; }
}
