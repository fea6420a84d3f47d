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
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The KV cache in one off-heap allocation (so multi-GiB caches work and stay out of the Java heap), as F32 or F16.
 *
 * <p>Layout: block-major, so that {@link #copyBlock} is one copy and a head's keys of one block are contiguous.
 * Within a block, for each layer: keys {@code [kvHeads][blockSize][headDim]}, then values
 * {@code [kvHeads][blockSize][valueDim]}.
 *
 * <p>The dot products here sum their lanes in a fixed order (halves folded onto each other), never with
 * {@code reduceLanes}, whose order can differ between interpreted and compiled code: attention must give the same
 * bits for a token whatever else is in the batch and whenever it runs.
 */
public final class PagedKvCache implements KvCache {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Shorts with as many lanes as {@link #F}: one vector of f16 widens to one vector of floats. */
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(L * Short.SIZE));
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** FOLD_h moves lane i + h onto lane i (separate constants so that the JIT sees them as constants). */
    private static final VectorShuffle<Float> FOLD_8 = L >= 16 ? fold(8) : null;
    private static final VectorShuffle<Float> FOLD_4 = L >= 8 ? fold(4) : null;
    private static final VectorShuffle<Float> FOLD_2 = L >= 4 ? fold(2) : null;
    private static final VectorShuffle<Float> FOLD_1 = fold(1);

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

    /** Whether this cache has the layout a model of config {@code c} needs. */
    boolean fits(ModelConfig c) {
        return c.layers() == layers && c.kvHeads() == kvHeads && c.headDim() == headDim && c.valueDim() == valueDim;
    }

    public long byteSize() {
        return memory.byteSize();
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

    private long keyOffset(int layer, int block, int slot, int kvHead) {
        return (block * blockElements + layer * layerElements + ((long) kvHead * blockSize + slot) * headDim) * elementBytes;
    }

    private long valueOffset(int layer, int block, int slot, int kvHead) {
        return (block * blockElements + layer * layerElements + valuesStart
                + ((long) kvHead * blockSize + slot) * valueDim) * elementBytes;
    }

    /** Stores one token's keys {@code k[kOff ..]} ({@code kvHeads × headDim}) and values {@code v[vOff ..]}. */
    void store(int layer, int block, int slot, float[] k, int kOff, float[] v, int vOff) {
        for (int h = 0; h < kvHeads; h++) {
            put(keyOffset(layer, block, slot, h), k, kOff + h * headDim, headDim);
            put(valueOffset(layer, block, slot, h), v, vOff + h * valueDim, valueDim);
        }
    }

    private void put(long at, float[] src, int off, int n) {
        if (f16) {
            for (int i = 0; i < n; i++) memory.set(F16, at + 2L * i, Float.floatToFloat16(src[off + i]));
        } else {
            MemorySegment.copy(src, off, memory, F32, at, n);
        }
    }

    /** {@code q[qOff .. qOff+headDim) · key(layer, block, slot, kvHead)}, summed in a fixed order. */
    float dotKey(int layer, int block, int slot, int kvHead, float[] q, int qOff) {
        long at = keyOffset(layer, block, slot, kvHead);
        FloatVector acc = FloatVector.zero(F);
        int d = 0;
        if (f16) {
            for (; d + L <= headDim; d += L) {
                acc = FloatVector.fromArray(F, q, qOff + d).fma(halfToFloat(at + 2L * d), acc);
            }
        } else {
            for (; d + L <= headDim; d += L) {
                acc = FloatVector.fromArray(F, q, qOff + d).fma(FloatVector.fromMemorySegment(F, memory, at + 4L * d, ByteOrder.LITTLE_ENDIAN), acc);
            }
        }
        float s = sumLanes(acc);
        for (; d < headDim; d++) s = Math.fma(q[qOff + d], element(at, d), s);
        return s;
    }

    /** {@code out[outOff .. outOff+valueDim) += a · value(layer, block, slot, kvHead)}. */
    void addValue(int layer, int block, int slot, int kvHead, float a, float[] out, int outOff) {
        long at = valueOffset(layer, block, slot, kvHead);
        FloatVector av = FloatVector.broadcast(F, a);
        int d = 0;
        for (; d + L <= valueDim; d += L) {
            FloatVector v = f16 ? halfToFloat(at + 2L * d) : FloatVector.fromMemorySegment(F, memory, at + 4L * d, ByteOrder.LITTLE_ENDIAN);
            v.fma(av, FloatVector.fromArray(F, out, outOff + d)).intoArray(out, outOff + d);
        }
        for (; d < valueDim; d++) out[outOff + d] = Math.fma(element(at, d), a, out[outOff + d]);
    }

    private float element(long at, int d) {
        return f16 ? Float.float16ToFloat(memory.get(F16, at + 2L * d)) : memory.get(F32, at + 4L * d);
    }

    /**
     * Widens L halves to floats exactly with integer operations (the Vector API has no f16 conversion): the 15
     * magnitude bits shifted into float position give the value scaled by 2^-112 (subnormals included), and
     * multiplying by 2^112 is exact. Infinity and NaN are not representable this way; finite f16 values only.
     */
    private FloatVector halfToFloat(long at) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(H, memory, at, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.S2I, I, 0);
        FloatVector magnitude = h.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        return magnitude.reinterpretAsInts().or(sign).reinterpretAsFloats();
    }

    /** The sum of the lanes, folding halves onto each other: lane i + L/2 onto lane i, then L/4, .. 1. */
    static float sumLanes(FloatVector v) {
        if (L > 16) throw new AssertionError("vectors wider than 16 floats");
        if (L >= 16) v = v.add(v.rearrange(FOLD_8));
        if (L >= 8) v = v.add(v.rearrange(FOLD_4));
        if (L >= 4) v = v.add(v.rearrange(FOLD_2));
        v = v.add(v.rearrange(FOLD_1));
        return v.lane(0);
    }

    private static VectorShuffle<Float> fold(int h) {
        return VectorShuffle.fromOp(F, i -> (i + h) % L);
    }
}
