package dev.quill.engine;

/** Why a sequence stopped. */
public enum FinishReason {
    /** An end-of-generation token or a stop token id was produced. */
    STOP,
    /** maxTokens were generated, or the context is full. */
    LENGTH,
    /** The caller cancelled (disconnect, stop string matched, timeout, shutdown). */
    CANCELLED
}
