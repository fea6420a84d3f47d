package dev.quill.engine.sampling;

import dev.quill.engine.TokenLogprob;
import java.util.ArrayList;
import java.util.List;

/**
 * Log-probabilities of one position: the chosen token's and the most likely alternatives'.
 *
 * <p>Always computed from the RAW logits row, i.e. the model's full softmax at temperature 1, before logit bias,
 * penalties, temperature, masks or filters. That is what evaluation harnesses (perplexity, multiple-choice scoring
 * through prompt echo) expect, and it makes a token's logprob independent of how it was sampled. (vLLM's default;
 * OpenAI reports the same kind of value.)
 *
 * <p>NaN logits count as -infinity. If the largest logit is +infinity, the tokens at +infinity share the probability
 * equally, as in {@link Sampler}. Impossible tokens get a logprob of -infinity; mapping that to a wire format is the
 * caller's business.
 *
 * @param chosen the chosen token and its logprob
 * @param top    the {@code topN} most likely tokens, most likely first, ties broken by lower id
 */
public record Logprobs(TokenLogprob chosen, List<TokenLogprob> top) {

    /** The most alternatives one call reports (OpenAI's limit for top_logprobs). */
    public static final int MAX_TOP = 20;

    public Logprobs {
        top = List.copyOf(top);
    }

    /**
     * The logprobs of row {@code logits[offset .. offset + vocab)}: {@code logit - logsumexp(row)}, computed in double
     * precision around the row's maximum so that no logit can overflow.
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

        // One pass: the maximum and the topN best (kept sorted, best first; a later equal logit never displaces).
        int n = Math.min(topN, vocab);
        int[] topIds = new int[n];
        float[] topLogits = new float[n];
        int filled = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            float x = logit(logits, offset + i);
            if (x > max) max = x;
            if (filled < n || (n > 0 && x > topLogits[n - 1])) {
                int at = Math.min(filled, n - 1);
                while (at > 0 && topLogits[at - 1] < x) {
                    topLogits[at] = topLogits[at - 1];
                    topIds[at] = topIds[at - 1];
                    at--;
                }
                topLogits[at] = x;
                topIds[at] = i;
                if (filled < n) filled++;
            }
        }
        if (max == Float.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException("cannot compute logprobs: all " + vocab + " logits are -Infinity or NaN");
        }

        double logSumExp;
        if (max == Float.POSITIVE_INFINITY) {
            // The limit of the softmax: the tokens at +infinity share everything; shift them to 0 and the rest to -inf.
            int infinite = 0;
            for (int i = 0; i < vocab; i++) if (logits[offset + i] == Float.POSITIVE_INFINITY) infinite++;
            logSumExp = Math.log(infinite);
        } else {
            double sum = 0;
            for (int i = 0; i < vocab; i++) sum += Math.exp(logit(logits, offset + i) - (double) max);
            logSumExp = Math.log(sum);
        }

        var alternatives = new ArrayList<TokenLogprob>(n);
        for (int j = 0; j < n; j++) {
            alternatives.add(new TokenLogprob(topIds[j], logprob(topLogits[j], max, logSumExp)));
        }
        var chosen = new TokenLogprob(chosenToken, logprob(logit(logits, offset + chosenToken), max, logSumExp));
        return new Logprobs(chosen, alternatives);
    }

    private static float logit(float[] logits, int index) {
        float x = logits[index];
        return x != x ? Float.NEGATIVE_INFINITY : x;
    }

    /** {@code x - max - log(sum exp(x - max))}; at an infinite max, finite tokens are impossible. */
    private static float logprob(float x, float max, double logSumExp) {
        if (max == Float.POSITIVE_INFINITY) return x == max ? (float) -logSumExp : Float.NEGATIVE_INFINITY;
        return (float) ((x - (double) max) - logSumExp);
    }
}
