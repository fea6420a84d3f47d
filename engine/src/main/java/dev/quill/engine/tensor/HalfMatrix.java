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

    /**
     * Four rows per call: each is an independent FMA chain and its own stream of weights, and decode is bound by
     * memory bandwidth, which four streams use better than two (8.0–8.9 vs 6.6–7.6 tokens/s on the 1B F16 model).
     * Eight made the kernels too big for C2 to inline their Vector API calls (1.7–1.9 tokens/s).
     */
    @Override
    int fusedRows() {
        return 4;
    }

    @Override
    boolean fusedReadsSegment() {
        return true;
    }

    @Override
    void dotRows(long offset, int apart, float[] x, int xo, float[] out, int oo, float[] acc) {
        long stride = (long) apart * rowBytes;
        // One kernel per case, so each stays small enough for C2 to inline all of its Vector API calls.
        if (bf16) {
            bf16Rows(offset, stride, x, xo, acc);
            fold4(acc, 0);
        } else {
            boolean finiteWeights = f16Rows(offset, stride, x, xo, acc);
            fold4(acc, 0);
            // The scaled kernel is exact unless a weight is inf or NaN, or some x·2^112 overflowed (which leaves a sum
            // inf or NaN); the exact kernel also gives every non-finite result its canonical value.
            if (!finiteWeights || !(Float.isFinite(acc[0]) && Float.isFinite(acc[1]) && Float.isFinite(acc[2])
                    && Float.isFinite(acc[3]))) {
                f16RowsExact(offset, stride, x, xo, acc);
                fold4(acc, 0);
            }
        }
        for (int i = 0; i < 4; i++) {
            out[oo + i * apart] = colsV == cols ? acc[i] : tail(acc[i], offset + i * stride, x, xo);
        }
    }

    /**
     * Accumulators of the four rows at bytes {@code offset + i · stride}, stored to {@code acc[0, 16, 32, 48 ..]}, with each weight
     * w taken as {@link #f16Scaled} = w·2^−112 and each x as x·2^112: the products are exactly w·x, so every fma
     * rounds exactly as with w and x, and one multiply per L columns replaces one per L weights. Returns false,
     * leaving garbage, if a weight is inf or NaN (which this kernel gets wrong).
     */
    private boolean f16Rows(long offset, long stride, float[] x, int xo, float[] acc) {
        MemorySegment seg = data;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        ShortVector exponents = ShortVector.zero(S);
        for (long c = 0, b0 = offset, b1 = b0 + stride, b2 = b1 + stride, b3 = b2 + stride; c < colsV;
             c += L, b0 += 2 * L, b1 += 2 * L, b2 += 2 * L, b3 += 2 * L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + (int) c).mul(0x1p112f);
            ShortVector h0 = halves(seg, b0), h1 = halves(seg, b1), h2 = halves(seg, b2), h3 = halves(seg, b3);
            exponents = exponents.max(h0.and(F16_EXPONENT)).max(h1.and(F16_EXPONENT))
                    .max(h2.and(F16_EXPONENT)).max(h3.and(F16_EXPONENT));
            a0 = f16Scaled(h0).fma(xv, a0);
            a1 = f16Scaled(h1).fma(xv, a1);
            a2 = f16Scaled(h2).fma(xv, a2);
            a3 = f16Scaled(h3).fma(xv, a3);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, 16);
        a2.intoArray(acc, 32);
        a3.intoArray(acc, 48);
        return exponents.reduceLanes(VectorOperators.MAX) != F16_EXPONENT;
    }

    /** As {@link #f16Rows} with the weights widened exactly: for rows with inf or NaN weights, and huge x. */
    private void f16RowsExact(long offset, long stride, float[] x, int xo, float[] acc) {
        MemorySegment seg = data;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (long c = 0, b0 = offset, b1 = b0 + stride, b2 = b1 + stride, b3 = b2 + stride; c < colsV;
             c += L, b0 += 2 * L, b1 += 2 * L, b2 += 2 * L, b3 += 2 * L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + (int) c);
            a0 = f16ToFloat(halves(seg, b0)).fma(xv, a0);
            a1 = f16ToFloat(halves(seg, b1)).fma(xv, a1);
            a2 = f16ToFloat(halves(seg, b2)).fma(xv, a2);
            a3 = f16ToFloat(halves(seg, b3)).fma(xv, a3);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, 16);
        a2.intoArray(acc, 32);
        a3.intoArray(acc, 48);
    }

    private void bf16Rows(long offset, long stride, float[] x, int xo, float[] acc) {
        MemorySegment seg = data;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (long c = 0, b0 = offset, b1 = b0 + stride, b2 = b1 + stride, b3 = b2 + stride; c < colsV;
             c += L, b0 += 2 * L, b1 += 2 * L, b2 += 2 * L, b3 += 2 * L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + (int) c);
            a0 = bf16ToFloat(halves(seg, b0)).fma(xv, a0);
            a1 = bf16ToFloat(halves(seg, b1)).fma(xv, a1);
            a2 = bf16ToFloat(halves(seg, b2)).fma(xv, a2);
            a3 = bf16ToFloat(halves(seg, b3)).fma(xv, a3);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, 16);
        a2.intoArray(acc, 32);
        a3.intoArray(acc, 48);
    }

    /** Adds the scalar tail columns of the row at byte {@code offset} to its folded sum, in canonical order. */
    private float tail(float s, long offset, float[] x, int xo) {
        for (int c = colsV; c < cols; c++) {
            short h = data.get(SHORT_LE, offset + 2L * c);
            s = Math.fma(bf16 ? Float.intBitsToFloat(h << 16) : Float.float16ToFloat(h), x[xo + c], s);
        }
        return s;
    }

    /** The L halves at byte {@code b} of {@code seg}. */
    private static ShortVector halves(MemorySegment seg, long b) {
        return ShortVector.fromMemorySegment(S, seg, b, ByteOrder.LITTLE_ENDIAN);
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
