package dev.quill.server.serving;

import dev.quill.engine.GenerationHandle;
import dev.quill.server.protocol.ApiException;
import dev.quill.server.protocol.ErrorKind;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One generation request in flight, as the HTTP layer follows it (it is the request's {@link Generation.Watcher}):
 * it holds the response stream back until the engine accepts the request, times the request for {@link Metrics},
 * lets a server shutdown or the client's disconnect cancel the request's sequences, and knows the status the
 * request ended with.
 */
final class Exchange implements Generation.Watcher, AutoCloseable {

    private final InFlight owner;
    private final Metrics.RequestTiming timing;
    // Request thread only.
    private SseStream stream;
    private ApiException refusal;
    private boolean completed;
    // Shared with the thread that shuts the server down; guarded by this.
    private List<GenerationHandle> handles = List.of();
    private boolean cancelled;
    private boolean clientGone;

    private Exchange(InFlight owner, Metrics.RequestTiming timing) {
        this.owner = owner;
        this.timing = timing;
    }

    /** How the service answers: JSON headers directly, or a stream that stays held until the engine accepts. */
    Responder responder(Context ctx) {
        return new Responder() {
            @Override
            public void headers(Map<String, String> headers) {
                headers.forEach(ctx::header);
            }

            @Override
            public SseStream openStream(Map<String, String> headers) {
                stream = new SseStream(ctx.res());
                stream.open(headers);
                return stream;
            }
        };
    }

    @Override
    public void accepted(List<GenerationHandle> accepted) {
        synchronized (this) {
            handles = accepted;
            if (cancelled) accepted.forEach(GenerationHandle::cancel);
        }
        if (stream != null) stream.release();
    }

    @Override
    public void refused(ApiException e) {
        refusal = e;
    }

    @Override
    public void token(int seq) {
        timing.token(seq, System.nanoTime());
    }

    @Override
    public void finished(int seq) {
        timing.sequenceFinished(seq);
    }

    @Override
    public void completed() {
        completed = true;
    }

    /**
     * Ends the response after the service returned: a stream the engine refused becomes the refusal's plain HTTP
     * error (thrown); a stream still held (it never reached the engine) is sent as it is.
     */
    void finishResponse(Context ctx) {
        if (stream == null || !stream.isHeld()) return;
        if (refusal != null) {
            ctx.res().reset(); // nothing was sent: drop the stream's status and headers
            throw refusal;
        }
        stream.release();
    }

    /** Records the end-to-end latency when every sequence generated to its end. */
    void responseSent() {
        if (completed) timing.completed(System.nanoTime());
    }

    /**
     * The status the request ended with, when it differs from the response's status line: the error status of a
     * stream that ended with an error event, or {@link ClientGone#STATUS} when the client left first; else 0.
     */
    synchronized int outcomeStatus() {
        if (clientGone) return ClientGone.STATUS;
        return stream != null && stream.failure() != null ? stream.failure().status() : 0;
    }

    /** Cancels the request's sequences, now or as soon as the engine accepts them. Any thread. */
    synchronized void cancel() {
        cancelled = true;
        handles.forEach(GenerationHandle::cancel);
    }

    /** The client closed its connection: cancels like {@link #cancel()}, and the request ends as {@link ClientGone}. */
    synchronized void clientGone() {
        clientGone = true;
        cancel();
    }

    @Override
    public synchronized RuntimeException cancellation() {
        return clientGone ? new ClientGone()
                : ApiException.of(ErrorKind.UNAVAILABLE, "Generation was cancelled: the server is shutting down");
    }

    @Override
    public void close() {
        owner.end(this);
    }

    /** The generation requests in flight, and the graceful shutdown that drains them. */
    static final class InFlight {
        /** How long cancelled requests get to send their error and end. */
        private static final Duration CANCEL_WAIT = Duration.ofSeconds(5);

        private final Set<Exchange> exchanges = new HashSet<>(); // guarded by this
        private boolean draining; // guarded by this

        /** Starts following a request; 503 once the server is shutting down. */
        synchronized Exchange begin(Metrics.RequestTiming timing) {
            if (draining) throw ApiException.of(ErrorKind.UNAVAILABLE, "The server is shutting down; no new requests are accepted");
            Exchange x = new Exchange(this, timing);
            exchanges.add(x);
            return x;
        }

        synchronized boolean draining() {
            return draining;
        }

        private synchronized void end(Exchange x) {
            exchanges.remove(x);
            if (exchanges.isEmpty()) notifyAll();
        }

        /**
         * Refuses new requests, lets those in flight run for up to {@code grace}, then cancels the rest (their
         * clients get an error: a 503, or an error event and {@code [DONE]} on a stream) and waits briefly for them
         * to send it.
         *
         * @return whether every request ended
         */
        boolean drain(Duration grace) throws InterruptedException {
            List<Exchange> left;
            synchronized (this) {
                draining = true;
                awaitEmpty(grace);
                left = new ArrayList<>(exchanges);
            }
            for (Exchange x : left) x.cancel();
            synchronized (this) {
                awaitEmpty(CANCEL_WAIT);
                return exchanges.isEmpty();
            }
        }

        private void awaitEmpty(Duration limit) throws InterruptedException {
            long deadline = System.nanoTime() + limit.toNanos();
            for (long left = limit.toNanos(); !exchanges.isEmpty() && left > 0; left = deadline - System.nanoTime()) {
                wait(Math.max(1, left / 1_000_000));
            }
        }
    }
}
