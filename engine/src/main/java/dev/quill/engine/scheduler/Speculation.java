package dev.quill.engine.scheduler;

import java.util.Arrays;

/**
 * Speculative decoding without a draft model ("prompt lookup"): a sequence decoding alone (or one of two) guesses
 * its next tokens from its own past, the pass computes the real next token and the guesses together, and every
 * guess the model agrees with is a token gained. On a CPU one decode step is bound by reading the weights, so a pass
 * over 2 or 4 tokens costs far less than 2 or 4 passes.
 *
 * <p>The output never changes. Each row of the pass computes exactly what a one-token step at that position would
 * (the kernels are batch invariant), the sampler draws from the rows in order with the same random stream, and a
 * guess is kept only if the token drawn equals it; the first token drawn that differs is the sequence's real next
 * token, and the guesses after it are dropped (their KV entries are overwritten later).
 *
 * <p>Guesses: the request's predicted output where it has one ({@link #fromPrediction}), else the tokens that
 * followed the latest earlier occurrence of the sequence's last {@value #MAX_NGRAM} (failing that
 * {@value #MIN_NGRAM}) tokens, continued periodically when the occurrence is recent (a repeating pattern keeps
 * repeating). How many to try depends on how often this sequence's guesses have been right: a pass costs about
 * {@link #COST} times a one-token pass for 1, 2 and 4 tokens, and k guesses each right with probability p yield
 * 1 + p + … + p^k tokens; the k with the best ratio wins, and after {@link #RETRY_AFTER} steps without guessing one
 * guess is tried again so that the estimate can recover. A new sequence starts from the estimate of the sequences
 * before it.
 */
final class Speculation {

    static final int MIN_NGRAM = 2;
    static final int MAX_NGRAM = 3;
    /**
     * Relative cost of a decode pass over 1, 2 and 4 tokens of one sequence: Q8_0 `MatmulBenchmark` on two cores
     * computes 2 tokens for 1.43× and 4 for ~2× the time of 1, and attention and the rest add little.
     */
    static final double[] COST = {1.0, 1.45, 2.0};
    /** Guess counts the cost table covers: 0, 1 or 3 (one pass of 1, 2 or 4 tokens). */
    static final int[] GUESSES = {0, 1, 3};
    static final int RETRY_AFTER = 8;
    /** Weight of the latest outcome in the running estimate of how often guesses are right. */
    static final double ALPHA = 0.25;

    private static final int[] NONE = new int[0];

    /** Where a sequence's estimate starts before anything is known. */
    static final double PRIOR = 0.5;
    /** Where the estimate of a request with a predicted output starts at least: its author expects it to hold. */
    static final double PREDICTED_PRIOR = 0.8;

    /** Estimated probability that this sequence's next guess is right. */
    private double hitRate = PRIOR;
    private int stepsWithoutGuessing;

    /**
     * Starts the estimate at {@code hitRate}: the scheduler passes what earlier sequences measured, since requests to
     * one model tend to be alike (a model that repeats itself does so for every prompt).
     */
    void startAt(double hitRate) {
        this.hitRate = hitRate;
    }

    /**
     * Guesses for the next step of a sequence whose tokens are {@code tokens[0 .. length)} (the first
     * {@code promptLength} its prompt): at most {@code max}, fewer when the estimate says so, none when nothing
     * matches. The request's predicted output, if any, is asked first.
     */
    int[] propose(int[] tokens, int length, int promptLength, int[] predicted, int max) {
        int k = Math.min(max, guesses());
        if (k == 0) {
            stepsWithoutGuessing++;
            return NONE;
        }
        stepsWithoutGuessing = 0;
        int[] guess = fromPrediction(tokens, length, promptLength, predicted, k);
        return guess.length > 0 ? guess : lookup(tokens, length, k);
    }

    /**
     * Guesses from a predicted output: its next tokens while the output so far is a prefix of it, otherwise what
     * follows the first occurrence in it of the output's last {@value #MAX_NGRAM} (else {@value #MIN_NGRAM}) tokens
     * (an edit departs from the prediction and rejoins it later). Empty if neither applies.
     */
    static int[] fromPrediction(int[] tokens, int length, int promptLength, int[] predicted, int max) {
        if (predicted.length == 0 || max <= 0) return NONE;
        int generated = length - promptLength;
        if (generated < predicted.length && Arrays.equals(tokens, promptLength, length, predicted, 0, generated)) {
            return Arrays.copyOfRange(predicted, generated, Math.min(predicted.length, generated + max));
        }
        for (int n = MAX_NGRAM; n >= MIN_NGRAM; n--) {
            if (generated < n) continue;
            for (int start = 0; start + n < predicted.length; start++) {
                if (Arrays.equals(predicted, start, start + n, tokens, length - n, length)) {
                    return Arrays.copyOfRange(predicted, start + n, Math.min(predicted.length, start + n + max));
                }
            }
        }
        return NONE;
    }

    /** Updates the estimate after a step that tried {@code guessed} guesses of which the first {@code kept} held. */
    void record(int guessed, int kept) {
        for (int i = 0; i < kept; i++) hitRate += ALPHA * (1 - hitRate);
        if (kept < guessed) hitRate -= ALPHA * hitRate;
    }

    double hitRate() {
        return hitRate;
    }

    /** How many guesses the estimate pays for (0, 1 or 3), or 1 now and then to re-test a low estimate. */
    int guesses() {
        int best = 0;
        double bestRatio = 1.0;
        for (int i = 1; i < GUESSES.length; i++) {
            double tokens = 0, power = 1;
            for (int j = 0; j <= GUESSES[i]; j++, power *= hitRate) tokens += power;
            double ratio = tokens / COST[i];
            if (ratio > bestRatio) {
                best = GUESSES[i];
                bestRatio = ratio;
            }
        }
        if (best == 0 && stepsWithoutGuessing >= RETRY_AFTER) return 1;
        return best;
    }

    /**
     * Up to {@code max} tokens that followed the latest earlier occurrence of the last {@value #MAX_NGRAM} (else
     * {@value #MIN_NGRAM}) tokens of {@code tokens[0 .. length)}; where they run past the end, the continuation
     * repeats itself (an occurrence p tokens back means a pattern of period p). Empty if there is no occurrence.
     */
    static int[] lookup(int[] tokens, int length, int max) {
        if (max <= 0) return NONE;
        for (int n = MAX_NGRAM; n >= MIN_NGRAM; n--) {
            int tail = length - n;
            if (tail <= 0) continue;
            for (int start = tail - 1; start >= 0; start--) {
                if (!Arrays.equals(tokens, start, start + n, tokens, tail, length)) continue;
                int from = start + n;
                int[] guess = new int[max];
                for (int i = 0; i < max; i++) {
                    int at = from + i;
                    guess[i] = at < length ? tokens[at] : guess[at - length];
                }
                return guess;
            }
        }
        return NONE;
    }
}
