package dev.quill.engine.sampling;

import java.util.Arrays;

/**
 * The tokens still in the running during one sampling step, with their unnormalised probabilities, and the filters
 * that narrow them down. The workspace of a {@link Sampler}; nothing in it survives from one step to the next, so
 * there is one per thread rather than one per sequence (64 sequences on a 152k vocabulary would otherwise pin 80 MB).
 *
 * <p>Probabilities are kept relative to the most likely token, {@code p = exp((logit - max) / T)}, so the top token
 * has exactly 1 and nothing overflows. The survivors are kept in ascending id order; every sum runs in that order,
 * which makes each step a deterministic function of its inputs.
 *
 * <p>Top-k and top-p both keep a prefix of the tokens ranked by decreasing probability (ties: lower id first). The
 * prefix boundary is found by a radix select on the probability's float bits (three 10-bit levels) instead of a sort:
 * O(vocab) whatever the distribution, no allocation.
 */
final class Candidates {

    private static final ThreadLocal<Candidates> PER_THREAD = ThreadLocal.withInitial(Candidates::new);
    private static final int RADIX_BITS = 10;
    private static final int RADIX = 1 << RADIX_BITS;

    private float[] scratch = new float[0];   // logits while they are adjusted, then probabilities, by token id
    private int[] ids = new int[0];           // surviving token ids, ascending
    private int size;
    private double mass;                      // sum of the survivors' probabilities, in id order
    private final double[] histogram = new double[RADIX];

    /** This thread's workspace, with room for {@code vocab} tokens. */
    static Candidates forThread(int vocab) {
        Candidates c = PER_THREAD.get();
        if (c.scratch.length < vocab) {
            c.scratch = new float[vocab];
            c.ids = new int[vocab];
        }
        return c;
    }

    /** A buffer of at least {@code vocab} floats that {@link #fromLogits} may read from and overwrite. */
    float[] scratch() {
        return scratch;
    }

    /**
     * Makes every token whose relative probability at this temperature is at least {@code floor} a candidate.
     * {@code logits} may be {@link #scratch()} itself. NaN logits count as negative infinity. If the largest logit
     * is positive infinity, the tokens at positive infinity share all the probability (the limit of the softmax).
     *
     * @param floor relative probability in (0, 1] below which tokens are dropped at once
     * @throws IllegalStateException when no logit is above negative infinity
     */
    void fromLogits(float[] logits, int offset, int vocab, double temperature, float floor) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            float x = logits[offset + i];
            if (x > max) max = x;
        }
        if (max == Float.NEGATIVE_INFINITY) throw nothingToSample(vocab);
        size = 0;
        mass = 0;
        if (max == Float.POSITIVE_INFINITY) {
            for (int i = 0; i < vocab; i++) {
                if (logits[offset + i] == Float.POSITIVE_INFINITY) add(i, 1f);
            }
            return;
        }
        double scale = 1 / temperature;
        for (int i = 0; i < vocab; i++) {
            float p = expNonPositive((logits[offset + i] - (double) max) * scale);
            scratch[i] = p;
            if (p >= floor) {
                ids[size++] = i;
                mass += p;
            }
        }
    }

    private void add(int token, float p) {
        scratch[token] = p;
        ids[size++] = token;
        mass += p;
    }

    static IllegalStateException nothingToSample(int vocab) {
        return new IllegalStateException("no token can be sampled: all " + vocab
                + " logits are -Infinity or NaN (after the token mask, bias and penalties)");
    }

    /** Keeps the {@code k} most likely tokens (top-k). */
    void keepTop(int k) {
        if (k < size) keepPrefixReaching(k, false);
    }

    /** Keeps the smallest set of most likely tokens whose share of the current mass reaches {@code p} (top-p). */
    void keepNucleus(double p) {
        if (p < 1) keepPrefixReaching(p * mass, true);
    }

    /** Keeps the tokens whose relative probability is at least {@code floor} (min-p: the top token has 1). */
    void keepAtLeast(float floor) {
        int kept = 0;
        double newMass = 0;
        for (int j = 0; j < size; j++) {
            int id = ids[j];
            float p = scratch[id];
            if (p >= floor) {
                ids[kept++] = id;
                newMass += p;
            }
        }
        size = kept;
        mass = newMass;
    }

    /**
     * Draws a survivor with probability proportional to its relative probability.
     *
     * @param u uniform in [0, 1)
     */
    int draw(double u) {
        double target = u * mass;
        double cumulative = 0;
        for (int j = 0; j < size; j++) {
            cumulative += scratch[ids[j]];
            if (cumulative > target) return ids[j];
        }
        return ids[size - 1];   // only when rounding put target at the very end
    }

    int size() {
        return size;
    }

    /** The {@code j}-th survivor in ascending id order. */
    int id(int j) {
        return ids[j];
    }

    /** The survivors' relative probabilities, summed. */
    double mass() {
        return mass;
    }

    /** A survivor's probability relative to the most likely token. */
    float relativeProbability(int token) {
        return scratch[token];
    }

    /**
     * Keeps the shortest prefix of the ranking (probability descending, id ascending) whose total weight reaches
     * {@code limit}, weight being 1 per token or the token's probability. At least one token always stays.
     *
     * <p>Probabilities are positive floats, so their bit patterns ({@code key}s, below 2^30) sort like the values.
     * Each level histograms the next 10 bits of the keys that share the boundary's bits fixed so far and walks the
     * buckets from the top until the limit is reached; after three levels the boundary key is exact and the tokens
     * holding it are taken in id order.
     */
    private void keepPrefixReaching(double limit, boolean byMass) {
        int prefix = 0;               // the boundary key's bits above the current level
        double remaining = limit;     // weight still needed from keys that start with prefix
        for (int shift = 2 * RADIX_BITS; shift >= 0; shift -= RADIX_BITS) {
            Arrays.fill(histogram, 0);
            for (int j = 0; j < size; j++) {
                float p = scratch[ids[j]];
                int key = Float.floatToRawIntBits(p);
                if (key >>> (shift + RADIX_BITS) == prefix) histogram[(key >>> shift) & (RADIX - 1)] += byMass ? p : 1;
            }
            int bucket = -1;
            int lowest = -1;
            double above = 0;
            for (int b = RADIX - 1; b >= 0; b--) {
                double weight = histogram[b];
                if (weight == 0) continue;
                if (above + weight >= remaining) {
                    bucket = b;
                    break;
                }
                above += weight;
                lowest = b;
            }
            if (bucket < 0) {
                // Rounding kept the total just under the limit: everything stays.
                bucket = lowest;
                above -= histogram[lowest];
                remaining = Double.POSITIVE_INFINITY;
            }
            remaining -= above;
            prefix = (prefix << RADIX_BITS) | bucket;
            compact(prefix, shift, Integer.MAX_VALUE);
        }
        // prefix is now the boundary key; its tokens join in id order until the limit is reached.
        int boundaryId = -1;
        double cumulative = 0;
        for (int j = 0; j < size; j++) {
            float p = scratch[ids[j]];
            if (Float.floatToRawIntBits(p) == prefix) {
                cumulative += byMass ? p : 1;
                boundaryId = ids[j];
                if (cumulative >= remaining) break;
            }
        }
        compact(prefix, 0, boundaryId);
    }

    /**
     * Keeps the survivors whose key, shifted right by {@code shift}, is above {@code prefix}, or equal to it with an
     * id of at most {@code maxIdAtPrefix}; recomputes the mass.
     */
    private void compact(int prefix, int shift, int maxIdAtPrefix) {
        int kept = 0;
        double newMass = 0;
        for (int j = 0; j < size; j++) {
            int id = ids[j];
            float p = scratch[id];
            int high = Float.floatToRawIntBits(p) >>> shift;
            if (high > prefix || (high == prefix && id <= maxIdAtPrefix)) {
                ids[kept++] = id;
                newMass += p;
            }
        }
        size = kept;
        mass = newMass;
    }

    private static final double LOG2_E = 1.4426950408889634;
    private static final double LN_2 = 0.6931471805599453;

    /**
     * e^d for d &lt;= 0, rounded to float. Built from IEEE double operations only, so unlike {@code Math.exp} (whose
     * intrinsics may differ by an ulp between CPUs and JDKs) it gives the same bits everywhere; the seeded draw
     * depends on it. Range reduction d = k ln2 + r with |r| &lt;= ln2/2, then the degree-7 Taylor polynomial of e^r
     * (truncation error below 6e-9 relative, under a tenth of a float ulp). Exactly 1 at d = 0; 0 below -104, where
     * e^d is under the smallest float, and for NaN.
     */
    static float expNonPositive(double d) {
        if (!(d > -104)) return 0f;
        double k = Math.rint(d * LOG2_E);
        double r = d - k * LN_2;
        double poly = 1 + r * (1 + r * (1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24
                + r * (1.0 / 120 + r * (1.0 / 720 + r * (1.0 / 5040)))))));
        return (float) (poly * Double.longBitsToDouble(((long) k + 1023) << 52));
    }
}
