package dev.quill.engine.sampling;

import java.util.Map;
import java.util.Objects;

/**
 * Chooses one sequence's tokens from its logits. One per sequence: it holds the request's random generator and what
 * the penalties need to remember. Not thread-safe.
 *
 * <p>Each {@link #sample} call runs these steps, in this order, never writing to the caller's logits (the steps that
 * change logits work on a per-thread copy):
 * <ol>
 *   <li><b>token mask</b> (optional, per call): disallowed tokens get -infinity, so no later step can revive them;
 *   <li><b>logit_bias</b>: the bias is added to the token's logit (±100 bans or forces it in practice);
 *   <li><b>repetition penalty</b> (CTRL / llama.cpp / vLLM formula): each distinct token of the whole context (all
 *       prompt tokens and every accepted token, as vLLM and transformers do; llama.cpp instead looks at the last 64)
 *       has a positive logit divided by the penalty and a negative one multiplied by it, once however often it
 *       occurs;
 *   <li><b>presence and frequency penalties</b> (OpenAI formula) over accepted tokens only:
 *       {@code logit[j] -= count[j] * frequency_penalty + (count[j] > 0 ? presence_penalty : 0)};
 *   <li>temperature 0: <b>greedy</b>, the argmax (ties go to the lowest id); the steps below are skipped;
 *   <li><b>temperature</b>: probabilities {@code softmax(logits / T)};
 *   <li><b>top_k</b>: keep the k most likely tokens;
 *   <li><b>top_p</b>: keep the smallest set of most likely tokens whose probability, renormalised over what top_k
 *       kept, reaches top_p;
 *   <li><b>min_p</b>: drop tokens less likely than min_p times the most likely one;
 *   <li><b>draw</b> one token from what is left, renormalised, with the request's seeded generator.
 * </ol>
 * Filter order is that of Hugging Face transformers' warpers. Whenever the ranking has ties, lower ids rank first.
 * NaN logits are treated as -infinity. Only temperature &gt; 0 uses the generator, one draw per call.
 *
 * <p>Reproducibility: the same seed, parameters, accepted tokens and logits give the same tokens on every JVM and
 * platform, and across Quill versions ({@link Xoshiro256StarStar} and the float arithmetic here are fully specified).
 *
 * <p>Scratch buffers are per thread (see {@link Candidates}): call from long-lived threads, such as the engine loop.
 */
public final class Sampler {

    private final SamplingParams params;
    private final int vocab;
    private final long seed;
    private final Xoshiro256StarStar random;
    private final int[] biasTokens;
    private final float[] biasValues;
    private final TokenCounts seen;            // null when no penalty is on

    /**
     * @param params       how to sample
     * @param vocabSize    length of a logits row
     * @param promptTokens the prompt, for the repetition penalty (may be null when that penalty is off)
     * @throws IllegalArgumentException if a logit_bias or prompt token id is outside the vocabulary
     */
    public Sampler(SamplingParams params, int vocabSize, int[] promptTokens) {
        this.params = Objects.requireNonNull(params, "params");
        if (vocabSize <= 0) throw new IllegalArgumentException("vocabulary size must be positive, got " + vocabSize);
        params.validateFor(vocabSize);
        this.vocab = vocabSize;
        this.seed = params.seed() != null ? params.seed() : Xoshiro256StarStar.freshSeed();
        this.random = new Xoshiro256StarStar(seed);

        var bias = params.logitBias().entrySet().stream().sorted(Map.Entry.comparingByKey()).toList();
        biasTokens = new int[bias.size()];
        biasValues = new float[bias.size()];
        for (int i = 0; i < bias.size(); i++) {
            biasTokens[i] = bias.get(i).getKey();
            biasValues[i] = bias.get(i).getValue().floatValue();
        }

        seen = params.penalized() ? new TokenCounts() : null;
        if (params.repetitionPenalty() != 1 && promptTokens != null) {
            for (int position = 0; position < promptTokens.length; position++) {
                int token = promptTokens[position];
                if (token < 0 || token >= vocab) {
                    throw new IllegalArgumentException("prompt token " + token + " at position " + position
                            + " is outside the vocabulary (size " + vocab + ")");
                }
                seen.add(token, 0);
            }
        }
    }

    /** Samples from {@code logits[offset .. offset + vocabSize)}; the caller's array is not modified. */
    public int sample(float[] logits, int offset) {
        return sample(logits, offset, null);
    }

    /**
     * Samples from {@code logits[offset .. offset + vocabSize)} among the tokens {@code allowed} permits (null: all).
     * The caller's array is not modified. Does not update the penalties: call {@link #accept} with the token that is
     * actually appended to the sequence.
     *
     * @throws IllegalArgumentException if the row is outside the array
     * @throws IllegalStateException    if every token is masked out or has a -infinity/NaN logit
     */
    public int sample(float[] logits, int offset, TokenMask allowed) {
        Objects.requireNonNull(logits, "logits");
        if (offset < 0 || offset > logits.length - vocab) {
            throw new IllegalArgumentException("logits row [" + offset + ", " + ((long) offset + vocab)
                    + ") is outside an array of length " + logits.length);
        }
        Candidates candidates = Candidates.forThread(vocab);
        float[] row = logits;
        int base = offset;
        if (allowed != null || biasTokens.length > 0 || (seen != null && seen.size() > 0)) {
            row = candidates.scratch();
            base = 0;
            System.arraycopy(logits, offset, row, 0, vocab);
            adjust(row, allowed);
        }
        if (params.greedy()) return Candidates.argmax(row, base, vocab);

        candidates.filter(row, base, vocab, params);
        return candidates.draw(random.nextDouble());
    }

    /** Records that {@code token} was appended to the sequence (for the penalties). */
    public void accept(int token) {
        if (token < 0 || token >= vocab) {
            throw new IllegalArgumentException("accepted token " + token + " is outside the vocabulary (size " + vocab + ")");
        }
        if (seen != null) seen.add(token, 1);
    }

    /** The seed in use: the request's, or the fresh one drawn for it. */
    public long seed() {
        return seed;
    }

    public SamplingParams params() {
        return params;
    }

    public int vocabSize() {
        return vocab;
    }

    /** Steps 1 to 4 (mask, bias, penalties), in place on {@code row[0 .. vocabSize)}. */
    void adjust(float[] row, TokenMask allowed) {
        if (allowed != null) allowed.disallowIn(row, vocab);
        for (int i = 0; i < biasTokens.length; i++) row[biasTokens[i]] += biasValues[i];
        if (seen == null) return;
        double repetition = params.repetitionPenalty();
        double presence = params.presencePenalty();
        double frequency = params.frequencyPenalty();
        for (int i = 0; i < seen.size(); i++) {
            int token = seen.token(i);
            int count = seen.count(i);
            double x = row[token];
            if (repetition != 1) x = x > 0 ? x / repetition : x * repetition;
            if (count > 0) x -= count * frequency + presence;
            row[token] = (float) x;
        }
    }
}
