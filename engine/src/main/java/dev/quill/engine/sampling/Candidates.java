package dev.quill.engine.sampling;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The tokens still in the running during one sampling step, with their probabilities, and the filters that narrow
 * them down. The workspace of a {@link Sampler}; nothing in it survives from one step to the next, so there is one
 * per thread rather than one per sequence (64 sequences on a 152k vocabulary would otherwise pin 80 MB).
 *
 * <p>Probabilities are kept relative to the most likely token, {@code p = exp((logit - max) / T)}, so the top token
 * has exactly 1 and nothing overflows; a token with p = 0 is out. Every step is a deterministic function of its
 * inputs, independent of the CPU's vector width: the exponential uses only exactly rounded IEEE operations (the same
 * ones in vector lanes and in the scalar tail), and every sum runs in a fixed order.
 *
 * <p>Two ways in. {@link #fromLogits} computes every token's probability; until a filter needs them the survivors
 * are implicit (every token with p &gt; 0) and the mass is summed per block of {@value #BLOCK} tokens, so that a draw
 * can skip whole blocks. Top-k and top-p then gather, in ascending id order, the tokens above a probability threshold
 * low enough to contain the answer (lowering it if not), and find the cut by a radix select on the probabilities'
 * float bits: no sort, no allocation. {@link #fromTopLogits} serves a small top-k (the common 40 or 50) straight from
 * the logits, ranking being the same, so the exponential runs on k tokens instead of the whole vocabulary.
 */
final class Candidates {

    private static final ThreadLocal<Candidates> PER_THREAD = ThreadLocal.withInitial(Candidates::new);
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int BLOCK = 1024;
    private static final int RADIX_BITS = 10;
    private static final int RADIX = 1 << RADIX_BITS;
    /** The largest k that {@link #fromTopLogits} serves (it keeps its best-k list by insertion). */
    static final int SMALL_TOP_K = 128;
    /** Relative probabilities at which to gather candidates for top-k/top-p, tried in turn. */
    private static final float[] GATHER_THRESHOLDS = {0x1p-10f, 0x1p-20f, Float.MIN_VALUE};

    private float[] scratch = new float[0];   // logits while they are adjusted, then probabilities, by token id
    private double[] blockMass = new double[0];
    private int vocab;
    private double totalMass;                 // all tokens with p > 0, as the sum of blockMass in order
    private float floor;                      // probabilities below it were already set to 0
    private boolean listed;                   // whether ids[0 .. size) lists the survivors (else: every p > 0)
    private int[] ids = new int[0];           // ascending
    private int size;
    private double listMass;                  // sum of the listed survivors' probabilities, in id order
    private final double[] histogram = new double[RADIX];

    /** This thread's workspace, with room for {@code vocab} tokens. */
    static Candidates forThread(int vocab) {
        Candidates c = PER_THREAD.get();
        if (c.scratch.length < vocab) {
            c.scratch = new float[vocab];
            c.ids = new int[vocab];
            c.blockMass = new double[(vocab + BLOCK - 1) / BLOCK];
        }
        return c;
    }

    /** A buffer of at least {@code vocab} floats that {@link #fromLogits} may read from and overwrite. */
    float[] scratch() {
        return scratch;
    }

    /** The largest logit of the row; NaN counts as -infinity. */
    static float maxLogit(float[] row, int offset, int vocab) {
        int i = 0;
        float max = Float.NEGATIVE_INFINITY;
        if (vocab >= SPECIES.length()) {
            FloatVector best = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
            for (int bound = SPECIES.loopBound(vocab); i < bound; i += SPECIES.length()) {
                FloatVector x = FloatVector.fromArray(SPECIES, row, offset + i);
                best = best.blend(x, x.compare(VectorOperators.GT, best));   // a NaN lane never compares greater
            }
            max = best.reduceLanes(VectorOperators.MAX);
        }
        for (; i < vocab; i++) {
            float x = row[offset + i];
            if (x > max) max = x;
        }
        return max;
    }

    /** The index of the largest logit, the lowest on ties; NaN never wins. */
    static int argmax(float[] row, int offset, int vocab) {
        float max = maxLogit(row, offset, vocab);
        if (max == Float.NEGATIVE_INFINITY) throw nothingToSample(vocab);
        int i = 0;
        for (int bound = SPECIES.loopBound(vocab); i < bound; i += SPECIES.length()) {
            VectorMask<Float> hit = FloatVector.fromArray(SPECIES, row, offset + i).compare(VectorOperators.EQ, max);
            if (hit.anyTrue()) return i + hit.firstTrue();
        }
        while (row[offset + i] != max) i++;
        return i;
    }

    static IllegalStateException nothingToSample(int vocab) {
        return new IllegalStateException("no token can be sampled: all " + vocab
                + " logits are -Infinity or NaN (after the token mask, bias and penalties)");
    }

    /**
     * Steps 6 to 9 of {@link Sampler}: probabilities at the temperature, then top-k, top-p and min-p, leaving the
     * survivors ready for {@link #draw}. Not for greedy parameters.
     */
    void filter(float[] logits, int offset, int vocab, SamplingParams params) {
        int topK = params.topK();
        float minP = (float) params.minP();
        if (topK > 0 && topK <= SMALL_TOP_K) {
            fromTopLogits(logits, offset, vocab, params.temperature(), topK);
        } else {
            // With top_p off, min_p commutes with top_k, so it can drop tokens as soon as their probability is known.
            float floor = params.topP() >= 1 ? Math.max(minP, Float.MIN_VALUE) : Float.MIN_VALUE;
            fromLogits(logits, offset, vocab, params.temperature(), floor);
            if (topK > 0 && topK < vocab) keepTop(topK);
        }
        if (params.topP() < 1) keepNucleus(params.topP());
        if (minP > 0) keepAtLeast(minP);
    }

    /**
     * Makes every token whose relative probability at this temperature is at least {@code floor} a candidate.
     * {@code logits} may be {@link #scratch()} itself. NaN logits count as -infinity. If the largest logit is
     * +infinity, the tokens at +infinity share all the probability (the limit of the softmax).
     *
     * @param floor relative probability in (0, 1] below which tokens are dropped at once
     * @return the largest logit, which the probabilities are relative to
     * @throws IllegalStateException when no logit is above -infinity
     */
    float fromLogits(float[] logits, int offset, int vocab, double temperature, float floor) {
        this.vocab = vocab;
        this.listed = false;
        this.floor = floor;
        float max = maxLogit(logits, offset, vocab);
        if (max == Float.NEGATIVE_INFINITY) throw nothingToSample(vocab);
        if (max == Float.POSITIVE_INFINITY) {
            for (int i = 0; i < vocab; i++) scratch[i] = logits[offset + i] == Float.POSITIVE_INFINITY ? 1f : 0f;
        } else {
            probabilities(logits, offset, max, (float) (1 / temperature), floor);
        }
        totalMass = 0;
        for (int b = 0, from = 0; from < vocab; b++, from += BLOCK) {
            blockMass[b] = sum(from, Math.min(from + BLOCK, vocab));
            totalMass += blockMass[b];
        }
        return max;
    }

    /** scratch[i] = e^((logits[offset + i] - max) * scale), or 0 when below {@code floor}. */
    private void probabilities(float[] logits, int offset, float max, float scale, float floor) {
        int i = 0;
        for (int bound = SPECIES.loopBound(vocab); i < bound; i += SPECIES.length()) {
            FloatVector x = FloatVector.fromArray(SPECIES, logits, offset + i).sub(max).mul(scale);
            FloatVector p = expNonPositive(x);
            VectorMask<Float> out = x.compare(VectorOperators.GE, EXP_MIN).not().or(p.compare(VectorOperators.LT, floor));
            p.blend(0f, out).intoArray(scratch, i);
        }
        for (; i < vocab; i++) {
            float p = expNonPositive((logits[offset + i] - max) * scale);
            scratch[i] = p >= floor ? p : 0f;
        }
    }

    /** Sum of scratch[from .. to) in four interleaved lanes (fixed order, so deterministic, and not latency-bound). */
    private double sum(int from, int to) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = from;
        for (; i + 3 < to; i += 4) {
            s0 += scratch[i];
            s1 += scratch[i + 1];
            s2 += scratch[i + 2];
            s3 += scratch[i + 3];
        }
        for (; i < to; i++) s0 += scratch[i];
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * Makes the {@code k} most likely tokens (k up to {@value #SMALL_TOP_K}) the candidates, choosing them by logit, so
     * only their probabilities are computed; otherwise the same as {@link #fromLogits} followed by {@link #keepTop}.
     * {@code logits} may be {@link #scratch()} itself.
     *
     * @return the largest logit, which the probabilities are relative to
     */
    float fromTopLogits(float[] logits, int offset, int vocab, double temperature, int k) {
        int n = Math.min(k, vocab);
        int[] top = new int[n];
        float[] topLogits = new float[n];
        best(logits, offset, vocab, top, topLogits);
        float max = topLogits[0];
        if (max == Float.NEGATIVE_INFINITY) throw nothingToSample(vocab);
        this.vocab = vocab;
        this.floor = Float.MIN_VALUE;
        float scale = (float) (1 / temperature);
        for (int j = 0; j < n; j++) {
            float x = topLogits[j];
            scratch[top[j]] = max == Float.POSITIVE_INFINITY ? (x == max ? 1f : 0f) : expNonPositive((x - max) * scale);
        }
        Arrays.sort(top);
        size = 0;
        for (int id : top) if (scratch[id] > 0) ids[size++] = id;
        listed = true;
        listMass = listedMass();
        return max;
    }

    /**
     * Fills {@code ids}/{@code values} with the row's best tokens by logit, best first, an equal logit never
     * displacing a lower id; NaN counts as -infinity. Once the list is full, whole vectors below its last entry are
     * skipped at a glance, so this costs little more than one pass over the row for a short list.
     */
    static void best(float[] logits, int offset, int vocab, int[] ids, float[] values) {
        int n = ids.length;
        if (n == 0) return;
        int filled = 0;
        int i = 0;
        int lanes = SPECIES.length();
        while (i < vocab) {
            if (filled == n && i + lanes <= vocab
                    && !FloatVector.fromArray(SPECIES, logits, offset + i).compare(VectorOperators.GT, values[n - 1]).anyTrue()) {
                i += lanes;
                continue;
            }
            int end = filled == n ? Math.min(i + lanes, vocab) : i + 1;
            for (; i < end; i++) {
                float x = logits[offset + i];
                if (x != x) x = Float.NEGATIVE_INFINITY;
                if (filled < n || x > values[n - 1]) {
                    int at = filled < n ? filled++ : n - 1;
                    while (at > 0 && values[at - 1] < x) {
                        values[at] = values[at - 1];
                        ids[at] = ids[at - 1];
                        at--;
                    }
                    values[at] = x;
                    ids[at] = i;
                }
            }
        }
    }

    /** Keeps the {@code k} most likely tokens (top-k). */
    void keepTop(int k) {
        if (!listed) {
            for (float threshold : GATHER_THRESHOLDS) {
                gather(threshold);
                if (size >= k) break;
            }
        }
        if (k < size) keepPrefixReaching(k, false);
    }

    /** Keeps the smallest set of most likely tokens whose share of the current mass reaches {@code p} (top-p). */
    void keepNucleus(double p) {
        if (p >= 1) return;
        double target;
        if (listed) {
            target = p * listMass;
        } else {
            target = p * totalMass;
            for (float threshold : GATHER_THRESHOLDS) {
                gather(threshold);
                if (listMass >= target) break;
            }
        }
        keepPrefixReaching(target, true);
    }

    /** Keeps the tokens whose relative probability is at least {@code floor} (min-p: the top token has 1). */
    void keepAtLeast(float floor) {
        if (!listed) {
            if (floor > this.floor) gather(floor);
            return;
        }
        int kept = 0;
        double mass = 0;
        for (int j = 0; j < size; j++) {
            int id = ids[j];
            float p = scratch[id];
            if (p >= floor) {
                ids[kept++] = id;
                mass += p;
            }
        }
        size = kept;
        listMass = mass;
    }

    /** Lists the tokens with p >= threshold (a prefix of the ranking, ties included). */
    private void gather(float threshold) {
        int n = 0;
        int i = 0;
        for (int bound = SPECIES.loopBound(vocab); i < bound; i += SPECIES.length()) {
            // Most vectors hold no passing token; in the others, visit just the passing lanes.
            long passing = FloatVector.fromArray(SPECIES, scratch, i).compare(VectorOperators.GE, threshold).toLong();
            for (; passing != 0; passing &= passing - 1) ids[n++] = i + Long.numberOfTrailingZeros(passing);
        }
        for (; i < vocab; i++) {
            if (scratch[i] >= threshold) ids[n++] = i;
        }
        size = n;
        listed = true;
        listMass = listedMass();
    }

    private double listedMass() {
        double mass = 0;
        for (int j = 0; j < size; j++) mass += scratch[ids[j]];
        return mass;
    }

    /**
     * Draws a survivor with probability proportional to its relative probability.
     *
     * @param u uniform in [0, 1)
     */
    int draw(double u) {
        return listed ? drawListed(u) : drawAll(u);
    }

    private int drawListed(double u) {
        double target = u * listMass;
        double cumulative = 0;
        for (int j = 0; j < size; j++) {
            cumulative += scratch[ids[j]];
            if (cumulative > target) return ids[j];
        }
        return ids[size - 1];   // only when rounding put target at the very end
    }

    private int drawAll(double u) {
        double target = u * totalMass;
        double cumulative = 0;
        int lastBlock = 0;
        for (int b = 0, from = 0; from < vocab; b++, from += BLOCK) {
            if (blockMass[b] == 0) continue;
            lastBlock = from;
            if (cumulative + blockMass[b] > target) {
                int to = Math.min(from + BLOCK, vocab);
                int last = from;
                for (int i = from; i < to; i++) {
                    float p = scratch[i];
                    if (p == 0) continue;
                    cumulative += p;
                    last = i;
                    if (cumulative > target) return i;
                }
                return last;   // the block's own sum ran a hair short of its blockMass
            }
            cumulative += blockMass[b];
        }
        int i = Math.min(lastBlock + BLOCK, vocab) - 1;   // rounding put target at the very end
        while (scratch[i] == 0) i--;
        return i;
    }

    /** The survivors in ascending id order (for tests and diagnostics; allocates). */
    int[] survivors() {
        if (listed) return Arrays.copyOf(ids, size);
        int[] all = new int[vocab];
        int n = 0;
        for (int i = 0; i < vocab; i++) if (scratch[i] > 0) all[n++] = i;
        return Arrays.copyOf(all, n);
    }

    /** The survivors' relative probabilities, summed. */
    double mass() {
        return listed ? listMass : totalMass;
    }

    /** A candidate's probability relative to the most likely token (0 if it was dropped when computed). */
    float relativeProbability(int token) {
        return scratch[token];
    }

    /**
     * Keeps the shortest prefix of the ranking (probability descending, id ascending) of the listed tokens whose
     * total weight reaches {@code limit}, weight being 1 per token or the token's probability. At least one token
     * always stays.
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
     * Keeps the listed tokens whose key, shifted right by {@code shift}, is above {@code prefix}, or equal to it with
     * an id of at most {@code maxIdAtPrefix}; recomputes the mass.
     */
    private void compact(int prefix, int shift, int maxIdAtPrefix) {
        int kept = 0;
        double mass = 0;
        for (int j = 0; j < size; j++) {
            int id = ids[j];
            float p = scratch[id];
            int high = Float.floatToRawIntBits(p) >>> shift;
            if (high > prefix || (high == prefix && id <= maxIdAtPrefix)) {
                ids[kept++] = id;
                mass += p;
            }
        }
        size = kept;
        listMass = mass;
    }

    // ---- e^x for x <= 0, in float, identical in vector lanes and in scalar code ----
    //
    // x = k ln2 + r with k = round(x / ln2) and |r| <= ln2/2 (Cody-Waite with ln2 split in two floats, through fma);
    // e^r by its degree-7 Taylor polynomial (truncation error below 6e-9); 2^k built from its exponent bits. Only
    // exactly rounded operations (+, *, fma) are used, so the result is the same bits on every CPU and JDK; within
    // two float ulps of e^x. Exactly 1 at x = 0; 0 below -87 (relative probabilities under 1.7e-38) and for NaN.

    static final float EXP_MIN = -87f;
    private static final float LOG2_E = 1.4426950216293335f;
    private static final float LN2_HI = 0.6931471824645996f;
    private static final float LN2_LO = -1.904654323148236e-09f;
    private static final float ROUNDER = 0x1.8p23f;   // adding it rounds to an integer, kept in the low bits
    private static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);
    private static final float C2 = 0.5f, C3 = 1 / 6f, C4 = 1 / 24f, C5 = 1 / 120f, C6 = 1 / 720f, C7 = 1 / 5040f;

    static float expNonPositive(float x) {
        if (!(x >= EXP_MIN)) return 0f;
        float t = Math.fma(x, LOG2_E, ROUNDER);
        float k = t - ROUNDER;
        float r = Math.fma(k, -LN2_LO, Math.fma(k, -LN2_HI, x));
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(C7, r, C6), r, C5), r, C4), r, C3), r, C2);
        p = Math.fma(Math.fma(p, r, 1f), r, 1f);
        return p * Float.intBitsToFloat((Float.floatToRawIntBits(t) - ROUNDER_BITS + 127) << 23);
    }

    /** The lane-wise twin of {@link #expNonPositive(float)}, without the range check (the caller masks). */
    static FloatVector expNonPositive(FloatVector x) {
        FloatVector t = x.fma(LOG2_E, ROUNDER);
        FloatVector k = t.sub(ROUNDER);
        FloatVector r = k.fma(broadcast(-LN2_LO), k.fma(broadcast(-LN2_HI), x));
        FloatVector p = broadcast(C7).fma(r, broadcast(C6)).fma(r, broadcast(C5)).fma(r, broadcast(C4))
                .fma(r, broadcast(C3)).fma(r, broadcast(C2)).fma(r, broadcast(1f)).fma(r, broadcast(1f));
        IntVector scale = ((IntVector) t.reinterpretAsInts()).sub(ROUNDER_BITS - 127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(scale.reinterpretAsFloats());
    }

    private static FloatVector broadcast(float c) {
        return FloatVector.broadcast(SPECIES, c);
    }
}
