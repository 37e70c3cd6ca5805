package org.libgptq;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Generated tokens pulled one at a time (built on gptq_stream_*). Iterate
 * it once; close it (try-with-resources) to give the context back, which
 * also stops a generation left unfinished.
 */
public final class TokenStream extends NativeHandle<SWIGTYPE_p_gptq_stream>
        implements Iterable<Token>, Iterator<Token> {
    private final StreamEvent event;
    private Token next;
    private boolean done;

    TokenStream(Context context, SWIGTYPE_p_gptq_stream handle) {
        this(context, handle, new StreamEvent());
    }

    /** Freeing the stream gives back the context it borrowed at creation. */
    private TokenStream(Context context, SWIGTYPE_p_gptq_stream handle, StreamEvent event) {
        super("stream", handle, h -> {
            gptq.stream_free(h);
            event.delete();
            context.streamClosed();
        });
        this.event = event;
    }

    @Override
    public Iterator<Token> iterator() { return this; }

    @Override
    public synchronized boolean hasNext() {
        if (isClosed()) throw new IllegalStateException("this stream is closed");
        if (next == null && !done) {
            next = use(s -> gptq.stream_next(s, event) != 0
                    ? new Token(event.getSequence(), event.getToken(), event.getText(), event.getFinished())
                    : null);
            done = next == null;
        }
        return next != null;
    }

    @Override
    public synchronized Token next() {
        if (!hasNext()) throw new NoSuchElementException("the stream has ended");
        Token t = next;
        next = null;
        return t;
    }

    /** Stops one sequence before its next token (stop reason CALLBACK). */
    public void stop(int sequence) {
        use(s -> {
            gptq.stream_stop(s, sequence);
            return null;
        });
    }

    /** The generation so far; complete once the stream has ended. */
    public Generation result() { return use(s -> Generation.take(gptq.stream_result(s))); }
}
