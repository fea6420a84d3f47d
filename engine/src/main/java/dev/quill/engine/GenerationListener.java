package dev.quill.engine;

import java.util.List;

/**
 * Receives a sequence's output. Called from the engine's thread: implementations must return quickly and never
 * block (hand work to another thread if needed).
 */
public interface GenerationListener {

    /**
     * Prompt-token logprobs, when requested: one entry per prompt token, the first {@code null} (nothing precedes
     * it). Each entry's {@link GeneratedToken#topLogprobs} holds the requested alternatives.
     */
    default void onPromptLogprobs(List<GeneratedToken> promptTokens) {}

    void onToken(GeneratedToken token);

    /**
     * The sequence ended.
     *
     * @param stopTokenId the token that ended it when reason is STOP, otherwise -1
     * @param cachedPromptTokens prompt tokens whose KV came from the prefix cache
     */
    void onFinish(FinishReason reason, int stopTokenId, int promptTokens, int generatedTokens, int cachedPromptTokens);

    /** The sequence failed; no more calls follow. */
    void onError(Throwable error);
}
