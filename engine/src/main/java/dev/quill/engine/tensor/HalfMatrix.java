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
 * F16 and BF16 weights: 2 little-endian bytes per element. Decode runs a fused kernel that widens L halves at a time
 * in registers straight from the mapped weights; larger batches widen rows to f32 panels (for F16 a plain loop that
 * C2 vectorises into vcvtph2ps). Both widenings are exact, so both paths give the canonical result.
 */
final class HalfMatrix extends TiledMatrix {

    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(L * Integer.SIZE));

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
        // One kernel per type, so each stays small enough for C2 to inline all of its Vector API calls.
        if (bf16) dotRowsBf16(offset, x, xo, acc);
        else dotRowsF16(offset, x, xo, acc);
        fold4(acc, 0); // lanes 2, 3 fold stale values that are not used
        if (colsV == cols) {
            out[oo] = acc[0];
            out[oo + 1] = acc[1];
        } else {
            out[oo] = tail(acc[0], offset, x, xo);
            out[oo + 1] = tail(acc[1], offset + rowBytes, x, xo);
        }
    }

    /** Accumulators of the two rows at byte {@code offset}, stored to {@code acc[0 ..]} and {@code acc[16 ..]}. */
    private void dotRowsF16(long offset, float[] x, int xo, float[] acc) {
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

    private void dotRowsBf16(long offset, float[] x, int xo, float[] acc) {
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
     * Lane-wise {@link Float#float16ToFloat}, exactly (JDK 25's Vector API has no f16 conversion). The magnitude bits
     * shifted into f32 position, read as an f32, are the f16 value times 2^−112 (for subnormals too: an f16
     * subnormal lands on an f32 subnormal), so one exact multiply by 2^112 rescales normals, subnormals and zeros.
     * The sign is kept in place, so the multiply also signs the result. Only inf and NaN (exponent 31, which lands on
     * a finite f32) need their exponent set to all ones; like the scalar conversion, NaN payloads are kept.
     */
    static FloatVector f16ToFloat(ShortVector h) {
        IntVector i = (IntVector) h.convertShape(VectorOperators.S2I, I, 0); // sign-extended: bits 31..15 = sign
        IntVector signAndMagnitude = i.lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000);
        VectorMask<Integer> infOrNaN = signAndMagnitude.and(0x0F80_0000).eq(0x0F80_0000);
        IntVector scaled = signAndMagnitude.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        return scaled.lanewise(VectorOperators.OR, 0x7F80_0000, infOrNaN).reinterpretAsFloats();
    }

    /** Lane-wise bf16 → f32: bf16 is the top half of an f32. */
    static FloatVector bf16ToFloat(ShortVector h) {
        return ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }
}
