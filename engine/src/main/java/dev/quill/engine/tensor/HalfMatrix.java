package dev.quill.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.quill.engine.tensor.Quantization.SHORT_LE;

/**
 * F16 and BF16 weights: 2 little-endian bytes per element. Decode runs fused kernels that widen L halves at a time in
 * registers straight from the mapped weights; larger batches widen rows to f32 panels (for F16 a plain loop that C2
 * vectorises into vcvtph2ps). Every widening is exact, so all paths give the canonical result.
 */
final class HalfMatrix extends TiledMatrix {

    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(L * Integer.SIZE));
    /** The f16 exponent bits; all ones for inf and NaN. */
    private static final short F16_EXPONENT = 0x7C00;

    private final boolean bf16;

    HalfMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        super(type, data, rows, cols);
        if (type != GgmlType.F16 && type != GgmlType.BF16) throw new IllegalArgumentException(type.toString());
        this.bf16 = type == GgmlType.BF16;
    }

    @Override
    void dequantizeRows(int r, int count, float[] dst, int off, Scratch s) {
        int size = count * cols;
        short[] h = s.shorts(size);
        MemorySegment.copy(data, SHORT_LE, (long) r * rowBytes, h, 0, size);
        if (bf16) widenBf16(h, dst, off, size);
        else widenF16(h, dst, off, size);
    }

    private static void widenF16(short[] h, float[] dst, int off, int size) {
        for (int i = 0; i < size; i++) dst[off + i] = Float.float16ToFloat(h[i]);
    }

    /** bf16 is the top half of an f32: widen (C2 does not vectorise the scalar loop) and shift. */
    private static void widenBf16(short[] h, float[] dst, int off, int size) {
        int i = 0;
        for (; i <= size - L; i += L) {
            bf16ToFloat(ShortVector.fromArray(S, h, i)).intoArray(dst, off + i);
        }
        for (; i < size; i++) dst[off + i] = Float.intBitsToFloat(h[i] << 16);
    }

    @Override
    int fusedRows() {
        return 2;
    }

    @Override
    boolean fusedReadsSegment() {
        return true;
    }

    @Override
    void dotRows(long offset, float[] x, int xo, float[] out, int oo, float[] acc) {
        // One kernel per case, so each stays small enough for C2 to inline all of its Vector API calls.
        if (bf16) {
            bf16Rows(offset, x, xo, acc);
            fold4(acc, 0); // lanes 2, 3 fold stale values that are not used
        } else {
            boolean finiteWeights = f16Rows(offset, x, xo, acc);
            fold4(acc, 0);
            // The scaled kernel is exact unless a weight is inf/NaN or some x·2^112 overflowed (then a sum is not
            // finite); the exact kernel also gives every non-finite result its canonical value.
            if (!finiteWeights || !Float.isFinite(acc[0]) || !Float.isFinite(acc[1])) {
                f16RowsExact(offset, x, xo, acc);
                fold4(acc, 0);
            }
        }
        if (colsV == cols) {
            out[oo] = acc[0];
            out[oo + 1] = acc[1];
        } else {
            out[oo] = tail(acc[0], offset, x, xo);
            out[oo + 1] = tail(acc[1], offset + rowBytes, x, xo);
        }
    }

    /**
     * Accumulators of the two rows at byte {@code offset}, stored to {@code acc[0 ..]} and {@code acc[16 ..]}, with
     * each weight w taken as {@link #f16Scaled} = w·2^−112 and each x as x·2^112: the products are exactly w·x, so
     * every fma rounds exactly as with w and x, for the cost of one multiply per L columns. Returns false if a weight
     * is inf or NaN (which this kernel gets wrong).
     */
    private boolean f16Rows(long offset, float[] x, int xo, float[] acc) {
        MemorySegment seg = data;
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        ShortVector exponents = ShortVector.zero(S);
        for (long c = 0, b0 = offset, b1 = offset + rowBytes; c < colsV; c += L, b0 += 2 * L, b1 += 2 * L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + (int) c).mul(0x1p112f);
            ShortVector h0 = ShortVector.fromMemorySegment(S, seg, b0, ByteOrder.LITTLE_ENDIAN);
            ShortVector h1 = ShortVector.fromMemorySegment(S, seg, b1, ByteOrder.LITTLE_ENDIAN);
            exponents = exponents.max(h0.and(F16_EXPONENT)).max(h1.and(F16_EXPONENT));
            a0 = f16Scaled(h0).fma(xv, a0);
            a1 = f16Scaled(h1).fma(xv, a1);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, 16);
        return exponents.reduceLanes(VectorOperators.MAX) != F16_EXPONENT;
    }

    /** As {@link #f16Rows} with the weights widened exactly: for rows with inf or NaN weights, and huge x. */
    private void f16RowsExact(long offset, float[] x, int xo, float[] acc) {
        MemorySegment seg = data;
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (long c = 0, b0 = offset, b1 = offset + rowBytes; c < colsV; c += L, b0 += 2 * L, b1 += 2 * L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + (int) c);
            a0 = f16ToFloat(ShortVector.fromMemorySegment(S, seg, b0, ByteOrder.LITTLE_ENDIAN)).fma(xv, a0);
            a1 = f16ToFloat(ShortVector.fromMemorySegment(S, seg, b1, ByteOrder.LITTLE_ENDIAN)).fma(xv, a1);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, 16);
    }

    private void bf16Rows(long offset, float[] x, int xo, float[] acc) {
        MemorySegment seg = data;
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (long c = 0, b0 = offset, b1 = offset + rowBytes; c < colsV; c += L, b0 += 2 * L, b1 += 2 * L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + (int) c);
            a0 = bf16ToFloat(ShortVector.fromMemorySegment(S, seg, b0, ByteOrder.LITTLE_ENDIAN)).fma(xv, a0);
            a1 = bf16ToFloat(ShortVector.fromMemorySegment(S, seg, b1, ByteOrder.LITTLE_ENDIAN)).fma(xv, a1);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, 16);
    }

    /** Adds the scalar tail columns of the row at byte {@code offset} to its folded sum, in canonical order. */
    private float tail(float s, long offset, float[] x, int xo) {
        for (int c = colsV; c < cols; c++) {
            short h = data.get(SHORT_LE, offset + 2L * c);
            s = Math.fma(bf16 ? Float.intBitsToFloat(h << 16) : Float.float16ToFloat(h), x[xo + c], s);
        }
        return s;
    }

    /**
     * Lane-wise f16 value times 2^−112, exactly, for finite f16 (JDK 25's Vector API has no f16 conversion): the sign
     * moved to bit 31 and the exponent and mantissa bits to their f32 places. Read as an f32 this is the f16 value
     * with its exponent bias 15 taken as 127, i.e. scaled by 2^−112, and an f16 subnormal lands on the f32 subnormal
     * of the same scaled value. Inf and NaN (exponent 31) become finite values.
     */
    static FloatVector f16Scaled(ShortVector h) {
        IntVector i = (IntVector) h.convertShape(VectorOperators.S2I, I, 0); // sign-extended: bits 31..15 = sign
        return i.lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats();
    }

    /**
     * Lane-wise {@link Float#float16ToFloat}, exactly: {@link #f16Scaled} times 2^112 (exact), with the exponent of
     * inf and NaN, which the multiply leaves finite, set to all ones (NaN payloads are kept, as by the scalar method).
     */
    static FloatVector f16ToFloat(ShortVector h) {
        FloatVector v = f16Scaled(h).mul(0x1p112f);
        VectorMask<Integer> infOrNaN = h.and(F16_EXPONENT).eq(F16_EXPONENT).cast(I);
        return v.reinterpretAsInts().lanewise(VectorOperators.OR, 0x7F80_0000, infOrNaN).reinterpretAsFloats();
    }

    /** Lane-wise bf16 → f32: bf16 is the top half of an f32. */
    static FloatVector bf16ToFloat(ShortVector h) {
        return ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }
}
