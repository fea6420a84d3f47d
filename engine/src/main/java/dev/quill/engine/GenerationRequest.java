package dev.quill.engine;

import dev.quill.engine.grammar.Grammar;
import dev.quill.engine.sampling.SamplingParams;
import java.util.Set;

/**
 * One sequence to generate.
 *
 * @param prompt         prompt token ids (already including BOS when the model wants it)
 * @param sampling       how to pick tokens
 * @param maxTokens      generated tokens at most (0 is allowed: only prompt logprobs are computed)
 * @param logprobs       number of top alternatives to report per generated token; -1 reports no logprobs at all,
 *                       0 reports only the chosen token's logprob
 * @param promptLogprobs also report the logprob (and {@code logprobs} alternatives) of every prompt token
 * @param stopTokenIds   extra token ids that end generation (besides the model's end-of-generation tokens)
 * @param ignoreEos      keep generating past end-of-generation tokens (benchmarks)
 * @param grammar        constrains the generated text (JSON schema, GBNF, regex, choice), or null; see
 *                       {@link dev.quill.engine.grammar.Grammars}. The sequence ends with STOP once the text is
 *                       complete and nothing else may follow, or nothing else fits in the tokens left
 * @param predicted      tokens the output is expected to resemble (OpenAI's predicted outputs), empty if none: a
 *                       source of speculative guesses only, it never changes the output
 * @param reuseCachedPrefix whether the prompt may start from KV blocks that earlier requests left in the prefix cache
 *                       (llama.cpp's {@code cache_prompt}); false computes the whole prompt, as a benchmark of cold
 *                       prefill wants. Its own blocks are cached for later requests either way. Outputs are the same.
 */
public record GenerationRequest(
        int[] prompt,
        SamplingParams sampling,
        int maxTokens,
        int logprobs,
        boolean promptLogprobs,
        Set<Integer> stopTokenIds,
        boolean ignoreEos,
        Grammar grammar,
        int[] predicted,
        boolean reuseCachedPrefix) {

    public GenerationRequest {
        if (prompt == null || prompt.length == 0) throw new IllegalArgumentException("prompt must contain at least one token");
        if (maxTokens < 0) throw new IllegalArgumentException("maxTokens must be >= 0");
        if (sampling == null) sampling = SamplingParams.GREEDY;
        stopTokenIds = stopTokenIds == null ? Set.of() : Set.copyOf(stopTokenIds);
        predicted = predicted == null ? new int[0] : predicted.clone();
    }

    /** A request that may reuse cached prompt prefixes. */
    public GenerationRequest(int[] prompt, SamplingParams sampling, int maxTokens, int logprobs, boolean promptLogprobs,
                             Set<Integer> stopTokenIds, boolean ignoreEos, Grammar grammar, int[] predicted) {
        this(prompt, sampling, maxTokens, logprobs, promptLogprobs, stopTokenIds, ignoreEos, grammar, predicted, true);
    }

    /** A request without a predicted output. */
    public GenerationRequest(int[] prompt, SamplingParams sampling, int maxTokens, int logprobs, boolean promptLogprobs,
                             Set<Integer> stopTokenIds, boolean ignoreEos, Grammar grammar) {
        this(prompt, sampling, maxTokens, logprobs, promptLogprobs, stopTokenIds, ignoreEos, grammar, null);
    }

    /** An unconstrained request. */
    public GenerationRequest(int[] prompt, SamplingParams sampling, int maxTokens, int logprobs, boolean promptLogprobs,
                             Set<Integer> stopTokenIds, boolean ignoreEos) {
        this(prompt, sampling, maxTokens, logprobs, promptLogprobs, stopTokenIds, ignoreEos, null, null);
    }

    public static GenerationRequest of(int[] prompt, SamplingParams sampling, int maxTokens) {
        return new GenerationRequest(prompt, sampling, maxTokens, -1, false, Set.of(), false);
    }

    /** This request with its output constrained by {@code grammar} (null: unconstrained). */
    public GenerationRequest withGrammar(Grammar grammar) {
        return new GenerationRequest(prompt, sampling, maxTokens, logprobs, promptLogprobs, stopTokenIds, ignoreEos, grammar,
                predicted, reuseCachedPrefix);
    }

    /** This request with {@code tokens} as its predicted output (see {@code predicted}). */
    public GenerationRequest withPrediction(int[] tokens) {
        return new GenerationRequest(prompt, sampling, maxTokens, logprobs, promptLogprobs, stopTokenIds, ignoreEos, grammar,
                tokens, reuseCachedPrefix);
    }

    /** This request with {@code reuse} as its {@code reuseCachedPrefix}. */
    public GenerationRequest withCachedPrefix(boolean reuse) {
        return new GenerationRequest(prompt, sampling, maxTokens, logprobs, promptLogprobs, stopTokenIds, ignoreEos, grammar,
                predicted, reuse);
    }
}
