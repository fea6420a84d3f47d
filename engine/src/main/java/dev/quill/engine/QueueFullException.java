package dev.quill.engine;

/**
 * {@link Engine#submit} refused a request because the wait queue is full. Nothing was queued; the caller should
 * answer "busy" (HTTP 429 with {@code Retry-After: retryAfterSeconds}) rather than wait.
 */
public final class QueueFullException extends RuntimeException {
    private final int queueLength;
    private final int retryAfterSeconds;

    public QueueFullException(int queueLength, int retryAfterSeconds) {
        super("the engine's wait queue is full (" + queueLength + " requests waiting); retry in " + retryAfterSeconds + " s");
        this.queueLength = queueLength;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public int queueLength() {
        return queueLength;
    }

    /** A guess, from the recent completion rate, of when a queue slot frees up; at least 1. */
    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
