package dev.quill.engine;

/** A submitted generation; cancel() removes it at the next engine step and frees its KV blocks. */
public interface GenerationHandle {
    void cancel();

    boolean isDone();
}
