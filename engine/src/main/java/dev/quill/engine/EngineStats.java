package dev.quill.engine;

/**
 * A snapshot of the engine loop for metrics. Counters (the {@code long}s) only grow.
 *
 * @param queued            requests accepted but not started yet (the bounded wait queue)
 * @param running           sequences being computed (prefill or decode)
 * @param kvBlocksTotal     KV cache blocks in all
 * @param kvBlocksUsed      blocks referenced by sequences
 * @param kvBlocksFree      blocks holding nothing
 * @param kvBlocksCached    unreferenced blocks kept for prefix reuse (evicted when memory is needed)
 * @param prefixQueryTokens prompt tokens looked up in the prefix cache
 * @param prefixHitTokens   of those, tokens found cached (their prefill was skipped)
 * @param promptTokens      prompt tokens of started requests
 * @param generatedTokens   tokens sampled
 * @param preemptions       times a running sequence was evicted to make room (and later recomputed)
 * @param guessedTokens     draft tokens verified by speculative decoding
 * @param keptGuesses       of those, tokens the model agreed with (each one a decode step saved)
 */
public record EngineStats(
        int queued,
        int running,
        int kvBlocksTotal,
        int kvBlocksUsed,
        int kvBlocksFree,
        int kvBlocksCached,
        long prefixQueryTokens,
        long prefixHitTokens,
        long promptTokens,
        long generatedTokens,
        long preemptions,
        long guessedTokens,
        long keptGuesses) {

    public EngineStats withQueued(int queued) {
        return new EngineStats(queued, running, kvBlocksTotal, kvBlocksUsed, kvBlocksFree, kvBlocksCached,
                prefixQueryTokens, prefixHitTokens, promptTokens, generatedTokens, preemptions, guessedTokens, keptGuesses);
    }
}
