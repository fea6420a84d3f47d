package dev.quill.engine.sampling;

import dev.quill.engine.TokenLogprob;
import java.util.ArrayList;
import java.util.List;

/**
 * Log-probabilities of one position: the chosen token's and the most likely alternatives'.
 *
 * <p>Computed from the row it is given, at temperature 1. The scheduler gives it the RAW logits (the model's full
 * softmax before logit bias, penalties, temperature or filters) — what evaluation harnesses (perplexity,
 * multiple-choice scoring through prompt echo) expect, and vLLM's default — except for grammar-constrained
 * sequences, whose grammar mask is applied first so that the reported distribution is the one actually sampled
 * from (issue 6).
 *
 * <p>NaN logits count as -infinity. If the largest logit is +infinity, the tokens at +infinity share the probability
 * equally, as in {@link Sampler}. Impossible tokens get a logprob of -infinity; mapping that to a wire format is the
 * caller's business.
 *
 * @param chosen the chosen token and its logprob
 * @param top    the requested number of most likely tokens, most likely first, ties broken by lower id
 */
public record Logprobs(TokenLogprob chosen, List<TokenLogprob> top) {

    /** The most alternatives one call reports (OpenAI's limit for top_logprobs). */
    public static final int MAX_TOP = 20;

    public Logprobs {
        top = List.copyOf(top);
    }

    /**
     * The logprobs of row {@code logits[offset .. offset + vocab)}: {@code logit - logsumexp(row)}, with the sum
     * taken around the row's maximum so nothing overflows. Each term {@code e^(logit - max)} comes from the
     * sampler's float exponential (within 2 ulps; terms under e^-87 are dropped), the sum and the logarithm are
     * double precision, so a result is within about 1e-6 of the exact value, then rounded to float.
     *
     * <p>Uses the calling thread's sampling workspace: not reentrant with {@link Sampler#sample} on the same thread.
     *
     * @param chosenToken the token whose logprob is wanted (the sampled one, or the prompt token for echo)
     * @param topN        how many alternatives to list, 0 to {@value #MAX_TOP} (fewer if the vocabulary is smaller)
     * @throws IllegalArgumentException on a row outside the array, a token outside the vocabulary, a bad topN, or a
     *                                  row with no logit above -infinity
     */
    public static Logprobs of(float[] logits, int offset, int vocab, int chosenToken, int topN) {
        if (logits == null) throw new IllegalArgumentException("logits must not be null");
        if (vocab <= 0) throw new IllegalArgumentException("vocabulary size must be positive, got " + vocab);
        if (offset < 0 || offset > logits.length - vocab) {
            throw new IllegalArgumentException("logits row [" + offset + ", " + ((long) offset + vocab)
                    + ") is outside an array of length " + logits.length);
        }
        if (chosenToken < 0 || chosenToken >= vocab) {
            throw new IllegalArgumentException("token " + chosenToken + " is outside the vocabulary (size " + vocab + ")");
        }
        if (topN < 0 || topN > MAX_TOP) {
            throw new IllegalArgumentException("number of top logprobs must be between 0 and " + MAX_TOP + ", got " + topN);
        }
        if (Candidates.maxLogit(logits, offset, vocab) == Float.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException("cannot compute logprobs: all " + vocab + " logits are -Infinity or NaN");
        }

        var candidates = Candidates.forThread(vocab);
        float max = candidates.fromLogits(logits, offset, vocab, 1, Float.MIN_VALUE);
        double logMass = Math.log(candidates.mass());

        int n = Math.min(topN, vocab);
        int[] topIds = new int[n];
        float[] topLogits = new float[n];
        Candidates.best(logits, offset, vocab, topIds, topLogits);
        var alternatives = new ArrayList<TokenLogprob>(n);
        for (int j = 0; j < n; j++) alternatives.add(new TokenLogprob(topIds[j], logprob(topLogits[j], max, logMass)));
        float chosenLogit = logit(logits[offset + chosenToken]);
        return new Logprobs(new TokenLogprob(chosenToken, logprob(chosenLogit, max, logMass)), alternatives);
    }

    /** {@code x - max - log(sum e^(x - max))}; at an infinite max, only the tokens at +infinity are possible. */
    private static float logprob(float x, float max, double logMass) {
        if (max == Float.POSITIVE_INFINITY) return x == max ? (float) -logMass : Float.NEGATIVE_INFINITY;
        return (float) (((double) x - max) - logMass);
    }

    private static float logit(float x) {
        return x != x ? Float.NEGATIVE_INFINITY : x;
    }
}
