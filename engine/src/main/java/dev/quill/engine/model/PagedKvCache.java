package dev.quill.engine.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The KV cache in one off-heap allocation (so multi-GiB caches work and stay out of the Java heap), as F32 or F16.
 *
 * <p>Layout: block-major, so that {@link #copyBlock} is one copy. Within a block, for each layer: keys
 * {@code [kvHeads][headDim][blockSize]} (transposed: one dimension of the block's positions is contiguous, so a
 * vector of query·key scores for {@code L} positions needs no horizontal sums), then values
 * {@code [kvHeads][blockSize][valueDim]}.
 *
 * <p>Every score and every output element is a sequential fma chain in a fixed order (over the head dimension for
 * scores, over positions for values), computed the same way in a vector lane or in the scalar tail: attention gives
 * the same bits for a token whatever else is in the batch and however the work is split.
 */
public final class PagedKvCache implements KvCache {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Shorts with as many lanes as {@link #F}: one vector of f16 widens to one vector of floats. */
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(L * Short.SIZE));
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int numBlocks;
    private final int blockSize;
    private final int layers;
    private final int kvHeads;
    private final int headDim;
    private final int valueDim;
    private final boolean f16;
    private final long elementBytes;
    private final long layerElements;
    private final long blockElements;
    private final long valuesStart;
    private final MemorySegment memory;

    public PagedKvCache(ModelConfig config, int numBlocks, int blockSize, boolean f16) {
        if (numBlocks <= 0 || blockSize <= 0) {
            throw new IllegalArgumentException("KV cache needs a positive block count and block size, got "
                    + numBlocks + " blocks of " + blockSize);
        }
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.layers = config.layers();
        this.kvHeads = config.kvHeads();
        this.headDim = config.headDim();
        this.valueDim = config.valueDim();
        this.f16 = f16;
        this.elementBytes = f16 ? 2 : 4;
        this.valuesStart = (long) kvHeads * blockSize * headDim;
        this.layerElements = valuesStart + (long) kvHeads * blockSize * valueDim;
        this.blockElements = layers * layerElements;
        long bytes = Math.multiplyExact(Math.multiplyExact(blockElements, (long) numBlocks), elementBytes);
        // Freed when the cache becomes unreachable: the interface has no close, and the engine keeps one for its life.
        this.memory = Arena.ofAuto().allocate(bytes, 64);
    }

    /** Bytes one token position takes (all layers, keys and values). */
    public static long bytesPerToken(ModelConfig c, boolean f16) {
        return (long) c.layers() * c.kvHeads() * (c.headDim() + c.valueDim()) * (f16 ? 2 : 4);
    }

    @Override
    public int numBlocks() {
        return numBlocks;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    public boolean isF16() {
        return f16;
    }

    public long byteSize() {
        return memory.byteSize();
    }

    /** Whether this cache has the layout a model of config {@code c} needs. */
    boolean fits(ModelConfig c) {
        return c.layers() == layers && c.kvHeads() == kvHeads && c.headDim() == headDim && c.valueDim() == valueDim;
    }

    @Override
    public void copyBlock(int src, int dst) {
        for (int block : new int[] {src, dst}) {
            if (block < 0 || block >= numBlocks) {
                throw new IllegalArgumentException("block " + block + " is not a block of this cache [0, " + numBlocks + ")");
            }
        }
        long bytes = blockElements * elementBytes;
        MemorySegment.copy(memory, src * bytes, memory, dst * bytes, bytes);
    }

    /** Byte offset of element [d][slot 0] of a head's transposed keys. */
    private long keys(int layer, int block, int kvHead) {
        return (block * blockElements + layer * layerElements + (long) kvHead * headDim * blockSize) * elementBytes;
    }

    /** Byte offset of element [slot 0][0] of a head's values. */
    private long values(int layer, int block, int kvHead) {
        return (block * blockElements + layer * layerElements + valuesStart + (long) kvHead * blockSize * valueDim)
                * elementBytes;
    }

    /** Stores one token's keys {@code k[kOff ..]} ({@code kvHeads × headDim}) and values {@code v[vOff ..]}. */
    void store(int layer, int block, int slot, float[] k, int kOff, float[] v, int vOff) {
        if (f16) {
            storeHalves(layer, block, slot, k, kOff, v, vOff);
            return;
        }
        for (int h = 0; h < kvHeads; h++) {
            long kAt = keys(layer, block, h) + slot * elementBytes;
            for (int d = 0; d < headDim; d++) put(kAt + d * blockSize * elementBytes, k[kOff + h * headDim + d]);
            long vAt = values(layer, block, h) + (long) slot * valueDim * elementBytes;
            for (int d = 0; d < valueDim; d++) put(vAt + d * elementBytes, v[vOff + h * valueDim + d]);
        }
    }

    /**
     * {@link #store} into an F16 cache: each head's values are converted in one loop that the JIT vectorizes and
     * copied in one go, and its keys converted the same way before their strided writes (element by element, the
     * conversion and the segment access were ~4% of a prefill).
     */
    private void storeHalves(int layer, int block, int slot, float[] k, int kOff, float[] v, int vOff) {
        short[] halves = new short[Math.max(headDim, valueDim)];
        long keyStride = blockSize * elementBytes;
        for (int h = 0; h < kvHeads; h++) {
            toHalves(k, kOff + h * headDim, halves, headDim);
            long kAt = keys(layer, block, h) + slot * elementBytes;
            for (int d = 0; d < headDim; d++) memory.set(F16, kAt + d * keyStride, halves[d]);
            toHalves(v, vOff + h * valueDim, halves, valueDim);
            MemorySegment.copy(halves, 0, memory, F16, values(layer, block, h) + (long) slot * valueDim * elementBytes,
                    valueDim);
        }
    }

    private static void toHalves(float[] src, int off, short[] dst, int n) {
        for (int i = 0; i < n; i++) dst[i] = Float.floatToFloat16(src[off + i]);
    }

    private void put(long at, float x) {
        if (f16) {
            memory.set(F16, at, Float.floatToFloat16(x));
        } else {
            memory.set(F32, at, x);
        }
    }

    private float get(long at) {
        return f16 ? Float.float16ToFloat(memory.get(F16, at)) : memory.get(F32, at);
    }

    private FloatVector load(long at) {
        return f16 ? halfToFloat(at) : FloatVector.fromMemorySegment(F, memory, at, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Attention scores of one query head against the first {@code count} positions of a block:
     * {@code scores[sOff + i] = scale · Σ_d q[qOff + d] · key_i[d]}, the sum an fma chain in order of d. Lanes past
     * {@code count} up to the next multiple of the vector width within the block may be written with junk, so
     * {@code scores} must have room for the whole block.
     */
    void keyScores(int layer, int block, int kvHead, int count, float[] q, int qOff, float scale, float[] scores, int sOff) {
        long base = keys(layer, block, kvHead);
        long rowBytes = blockSize * elementBytes;
        int i = 0;
        for (; i < count && i + L <= blockSize; i += L) {
            keyScoreVector(base + i * elementBytes, rowBytes, q, qOff, scale, scores, sOff + i);
        }
        for (; i < count; i++) {
            long at = base + i * elementBytes;
            float acc = 0;
            for (int d = 0; d < headDim; d++) acc = Math.fma(get(at + d * rowBytes), q[qOff + d], acc);
            scores[sOff + i] = acc * scale;
        }
    }

    /**
     * Adds the first {@code count} positions' values of a block, weighted, to one head's output:
     * {@code out[outOff + d] += Σ_i weights[wOff + i] · value_i[d]}, accumulated in order of i.
     */
    void accumulateValues(int layer, int block, int kvHead, int count, float[] weights, int wOff, float[] out, int outOff) {
        long base = values(layer, block, kvHead);
        long rowBytes = valueDim * elementBytes;
        int d = 0;
        for (; d + L <= valueDim; d += L) {
            FloatVector acc = FloatVector.fromArray(F, out, outOff + d);
            long at = base + d * elementBytes;
            for (int i = 0; i < count; i++) {
                acc = load(at + i * rowBytes).fma(FloatVector.broadcast(F, weights[wOff + i]), acc);
            }
            acc.intoArray(out, outOff + d);
        }
        for (; d < valueDim; d++) {
            float acc = out[outOff + d];
            long at = base + d * elementBytes;
            for (int i = 0; i < count; i++) acc = Math.fma(get(at + i * rowBytes), weights[wOff + i], acc);
            out[outOff + d] = acc;
        }
    }

    /**
     * {@link #keyScores} for positions {@code [0, len)} of a sequence whose blocks are {@code table[0 ..]}, into
     * {@code scores[0 ..]}. With whole vectors per block, four vectors of positions are scored at once: a score is an
     * fma chain over the head dimension, and one chain at a time waited on the fma latency (a third of prefill time
     * went to attention). Each lane still runs exactly the chain {@link #keyScores} runs, so the bits are the same.
     */
    void keyScores(int layer, int[] table, int kvHead, int len, float[] q, int qOff, float scale, float[] scores) {
        if (blockSize % L != 0) {
            for (int b = 0, p = 0; p < len; b++, p += blockSize) {
                keyScores(layer, table[b], kvHead, Math.min(blockSize, len - p), q, qOff, scale, scores, p);
            }
            return;
        }
        long rowBytes = blockSize * elementBytes;
        int vectors = (len + L - 1) / L;
        int v = 0;
        for (; v + 4 <= vectors; v += 4) {
            long at0 = keyVector(layer, table, kvHead, v), at1 = keyVector(layer, table, kvHead, v + 1);
            long at2 = keyVector(layer, table, kvHead, v + 2), at3 = keyVector(layer, table, kvHead, v + 3);
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            for (int d = 0; d < headDim; d++) {
                FloatVector qd = FloatVector.broadcast(F, q[qOff + d]);
                long o = d * rowBytes;
                s0 = load(at0 + o).fma(qd, s0);
                s1 = load(at1 + o).fma(qd, s1);
                s2 = load(at2 + o).fma(qd, s2);
                s3 = load(at3 + o).fma(qd, s3);
            }
            s0.mul(scale).intoArray(scores, v * L);
            s1.mul(scale).intoArray(scores, (v + 1) * L);
            s2.mul(scale).intoArray(scores, (v + 2) * L);
            s3.mul(scale).intoArray(scores, (v + 3) * L);
        }
        for (; v < vectors; v++) keyScoreVector(keyVector(layer, table, kvHead, v), rowBytes, q, qOff, scale, scores, v * L);
    }

    /**
     * One vector of scores: the transposed keys at byte {@code at}. Its own method, so that the four-chain loop of
     * the caller stays within C2's inlining budget (NodeCountInliningCutoff).
     */
    private void keyScoreVector(long at, long rowBytes, float[] q, int qOff, float scale, float[] scores, int sOff) {
        FloatVector acc = FloatVector.zero(F);
        for (int d = 0; d < headDim; d++) {
            acc = load(at + d * rowBytes).fma(FloatVector.broadcast(F, q[qOff + d]), acc);
        }
        acc.mul(scale).intoArray(scores, sOff);
    }

    /** Byte offset of the transposed keys of positions {@code [v·L, v·L + L)} (within one block) at dimension 0. */
    private long keyVector(int layer, int[] table, int kvHead, int v) {
        int p = v * L;
        return keys(layer, table[p / blockSize], kvHead) + (long) (p % blockSize) * elementBytes;
    }

    /**
     * {@link #accumulateValues} over positions {@code [0, len)} of a sequence whose blocks are {@code table[0 ..]},
     * with {@code weights[p]} for position p. When the value dimension is a multiple of 4 vectors, four output
     * vectors advance together (four independent fma chains instead of one); each output element still accumulates
     * its positions in order, exactly as block-by-block calls do.
     */
    void accumulateValues(int layer, int[] table, int kvHead, int len, float[] weights, float[] out, int outOff) {
        if (valueDim % (4 * L) != 0) {
            for (int b = 0, p = 0; p < len; b++, p += blockSize) {
                accumulateValues(layer, table[b], kvHead, Math.min(blockSize, len - p), weights, p, out, outOff);
            }
            return;
        }
        long rowBytes = valueDim * elementBytes;
        long step = L * elementBytes;
        for (int d = 0; d < valueDim; d += 4 * L) {
            FloatVector c0 = FloatVector.fromArray(F, out, outOff + d), c1 = FloatVector.fromArray(F, out, outOff + d + L);
            FloatVector c2 = FloatVector.fromArray(F, out, outOff + d + 2 * L);
            FloatVector c3 = FloatVector.fromArray(F, out, outOff + d + 3 * L);
            for (int b = 0, p = 0; p < len; b++) {
                long at = values(layer, table[b], kvHead) + d * elementBytes;
                for (int end = Math.min(len, p + blockSize); p < end; p++, at += rowBytes) {
                    FloatVector w = FloatVector.broadcast(F, weights[p]);
                    c0 = load(at).fma(w, c0);
                    c1 = load(at + step).fma(w, c1);
                    c2 = load(at + 2 * step).fma(w, c2);
                    c3 = load(at + 3 * step).fma(w, c3);
                }
            }
            c0.intoArray(out, outOff + d);
            c1.intoArray(out, outOff + d + L);
            c2.intoArray(out, outOff + d + 2 * L);
            c3.intoArray(out, outOff + d + 3 * L);
        }
    }

    /** Query tokens {@link #keyScores4} and {@link #accumulateValues4} take at once. */
    static final int QUERY_TILE = 4;

    /**
     * Whether {@link #keyScores4} and {@link #accumulateValues4} apply: whole vectors of positions per block, and
     * value rows of whole pairs of vectors.
     */
    boolean hasQueryTile() {
        return blockSize % L == 0 && valueDim % (2 * L) == 0;
    }

    /**
     * {@link #keyScores(int, int[], int, int, float[], int, float, float[])} for four query vectors that read the same
     * keys: the queries of four consecutive tokens of one sequence ({@code step} 1: query i attends to positions
     * {@code [0, len + i)}), or four query heads of one token sharing this KV head ({@code step} 0: all attend to
     * {@code [0, len)}). Query i's scores go to {@code scores[i · stride ..]}. Each loaded key vector is widened once
     * for the four queries instead of once per query; each score is still the same fma chain over the head dimension,
     * so the bits are those of four single-query calls (positions a query does not attend to are computed and left
     * for the caller to ignore).
     * Only when {@link #hasQueryTile()}.
     */
    void keyScores4(int layer, int[] table, int kvHead, int len, int step, float[] q, int q0, int q1, int q2, int q3,
                    float scale, float[] scores, int stride) {
        long rowBytes = blockSize * elementBytes;
        int vectors = (len + (QUERY_TILE - 1) * step + L - 1) / L;
        int v = 0;
        for (; v + 2 <= vectors; v += 2) {
            long at0 = keyVector(layer, table, kvHead, v), at1 = keyVector(layer, table, kvHead, v + 1);
            FloatVector s00 = FloatVector.zero(F), s01 = s00, s02 = s00, s03 = s00;
            FloatVector s10 = s00, s11 = s00, s12 = s00, s13 = s00;
            for (int d = 0; d < headDim; d++) {
                long o = d * rowBytes;
                FloatVector k0 = load(at0 + o), k1 = load(at1 + o);
                FloatVector b = FloatVector.broadcast(F, q[q0 + d]);
                s00 = k0.fma(b, s00);
                s10 = k1.fma(b, s10);
                b = FloatVector.broadcast(F, q[q1 + d]);
                s01 = k0.fma(b, s01);
                s11 = k1.fma(b, s11);
                b = FloatVector.broadcast(F, q[q2 + d]);
                s02 = k0.fma(b, s02);
                s12 = k1.fma(b, s12);
                b = FloatVector.broadcast(F, q[q3 + d]);
                s03 = k0.fma(b, s03);
                s13 = k1.fma(b, s13);
            }
            int p = v * L;
            s00.mul(scale).intoArray(scores, p);
            s10.mul(scale).intoArray(scores, p + L);
            s01.mul(scale).intoArray(scores, stride + p);
            s11.mul(scale).intoArray(scores, stride + p + L);
            s02.mul(scale).intoArray(scores, 2 * stride + p);
            s12.mul(scale).intoArray(scores, 2 * stride + p + L);
            s03.mul(scale).intoArray(scores, 3 * stride + p);
            s13.mul(scale).intoArray(scores, 3 * stride + p + L);
        }
        if (v < vectors) {
            long at = keyVector(layer, table, kvHead, v);
            keyScoreVector(at, rowBytes, q, q0, scale, scores, v * L);
            keyScoreVector(at, rowBytes, q, q1, scale, scores, stride + v * L);
            keyScoreVector(at, rowBytes, q, q2, scale, scores, 2 * stride + v * L);
            keyScoreVector(at, rowBytes, q, q3, scale, scores, 3 * stride + v * L);
        }
    }

    /**
     * {@link #accumulateValues(int, int[], int, int, float[], float[], int)} for the four queries of
     * {@link #keyScores4}: query i attends to positions {@code [0, len + i · step)} with weights
     * {@code weights[i · stride + p]} and accumulates into {@code out[o_i ..]}. Each loaded value vector is widened
     * once for the queries that attend to it; every output element still adds its positions in order, so the bits are
     * those of four single calls.
     * Only when {@link #hasQueryTile()}.
     */
    void accumulateValues4(int layer, int[] table, int kvHead, int len, int step, float[] weights, int stride,
                           float[] out, int o0, int o1, int o2, int o3) {
        long rowBytes = valueDim * elementBytes;
        long half = L * elementBytes;
        int w1 = stride, w2 = 2 * stride, w3 = 3 * stride;
        int len1 = len + step, len2 = len1 + step, end = len2 + step;
        for (int e = 0; e < valueDim; e += 2 * L) {
            // Two value vectors × four queries per pass: eight chains.
            FloatVector a0 = FloatVector.fromArray(F, out, o0 + e), b0 = FloatVector.fromArray(F, out, o0 + e + L);
            FloatVector a1 = FloatVector.fromArray(F, out, o1 + e), b1 = FloatVector.fromArray(F, out, o1 + e + L);
            FloatVector a2 = FloatVector.fromArray(F, out, o2 + e), b2 = FloatVector.fromArray(F, out, o2 + e + L);
            FloatVector a3 = FloatVector.fromArray(F, out, o3 + e), b3 = FloatVector.fromArray(F, out, o3 + e + L);
            for (int b = 0, p = 0; p < end; b++) {
                long at = values(layer, table[b], kvHead) + e * elementBytes;
                for (int blockEnd = Math.min(end, p + blockSize); p < blockEnd; p++, at += rowBytes) {
                    FloatVector v0 = load(at), v1 = load(at + half);
                    if (p < len) {
                        FloatVector w = FloatVector.broadcast(F, weights[p]);
                        a0 = v0.fma(w, a0);
                        b0 = v1.fma(w, b0);
                    }
                    if (p < len1) {
                        FloatVector w = FloatVector.broadcast(F, weights[w1 + p]);
                        a1 = v0.fma(w, a1);
                        b1 = v1.fma(w, b1);
                    }
                    if (p < len2) {
                        FloatVector w = FloatVector.broadcast(F, weights[w2 + p]);
                        a2 = v0.fma(w, a2);
                        b2 = v1.fma(w, b2);
                    }
                    FloatVector w = FloatVector.broadcast(F, weights[w3 + p]);
                    a3 = v0.fma(w, a3);
                    b3 = v1.fma(w, b3);
                }
            }
            a0.intoArray(out, o0 + e);
            b0.intoArray(out, o0 + e + L);
            a1.intoArray(out, o1 + e);
            b1.intoArray(out, o1 + e + L);
            a2.intoArray(out, o2 + e);
            b2.intoArray(out, o2 + e + L);
            a3.intoArray(out, o3 + e);
            b3.intoArray(out, o3 + e + L);
        }
    }

    /**
     * Widens L halves to floats exactly with integer operations (the Vector API has no f16 conversion): the halves,
     * sign-extended to ints and shifted left by 13, hold the sign in bit 31 and the 15 magnitude bits in float
     * position (masking clears the sign copies in between), which is the value scaled by 2^-112, subnormals included;
     * multiplying by 2^112 is exact. Infinity and NaN are not representable this way; finite f16 values only. Four
     * vector operations, so that kernels with several chains stay within C2's inlining budget.
     */
    private FloatVector halfToFloat(long at) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(H, memory, at, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.S2I, I, 0);
        return h.lanewise(VectorOperators.LSHL, 13).and(0x8fffe000).reinterpretAsFloats().mul(0x1p112f);
    }
}
