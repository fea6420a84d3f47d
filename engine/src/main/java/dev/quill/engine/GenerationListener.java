package dev.quill.engine;

import java.util.List;

/**
 * Receives a sequence's output. Called from one of the engine's threads (the loop's, or the pool worker it hands
 * each step's calls to), one call at a time and in order: implementations must return quickly and never block (hand
 * work to another thread if needed).
 */
public interface GenerationListener {

    /**
     * Prompt-token logprobs, when requested: one entry per prompt token, the first {@code null} (nothing precedes
     * it). Each entry's {@link GeneratedToken#topLogprobs} holds the requested alternatives.
     */
    default void onPromptLogprobs(List<GeneratedToken> promptTokens) {}

    /**
     * A generated token. A token that ends the sequence as a stop (end-of-generation or stop token id) is not
     * passed here; it arrives as {@code stopTokenId} in {@link #onFinish}. The text of the last token of a sequence
     * ending at its length limit includes whatever the detokenizer still held.
     */
    void onToken(GeneratedToken token);

    /**
     * The sequence ended.
     *
     * @param stopTokenId the token that ended it when reason is STOP, otherwise -1
     * @param stopTokenLogprob that token's logprob when the request asked for logprobs, otherwise NaN (best_of ranks
     *                         candidates by their tokens' mean logprob, and the stop token is one of them)
     * @param generatedTokens tokens sampled, the stop token included
     * @param cachedPromptTokens prompt tokens whose KV came from the prefix cache
     */
    void onFinish(FinishReason reason, int stopTokenId, float stopTokenLogprob, int promptTokens, int generatedTokens,
                  int cachedPromptTokens);

    /** The sequence failed; no more calls follow. */
    void onError(Throwable error);
}
