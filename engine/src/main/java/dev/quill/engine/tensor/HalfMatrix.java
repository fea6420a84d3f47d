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

/** F16 and BF16 weights: 2 little-endian bytes per element, widened to f32 exactly in registers. */
final class HalfMatrix extends TiledMatrix {

    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(L * Integer.SIZE));

    private final boolean bf16;

    HalfMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        super(type, data, rows, cols);
        if (type != GgmlType.F16 && type != GgmlType.BF16) throw new IllegalArgumentException(type.toString());
        this.bf16 = type == GgmlType.BF16;
    }

    @Override
    void dequantizeRows(int r, int count, float[] dst, int off) {
        MemorySegment seg = data;
        for (int i = 0; i < count; i++) {
            long ro = (r + i) * rowBytes;
            int d = off + i * cols;
            if (bf16) {
                for (int c = 0; c < colsV; c += L) bf16(seg, ro + 2L * c).intoArray(dst, d + c);
            } else {
                for (int c = 0; c < colsV; c += L) f16(seg, ro + 2L * c).intoArray(dst, d + c);
            }
            for (int c = colsV; c < cols; c++) dst[d + c] = scalar(seg, ro + 2L * c);
        }
    }

    @Override
    void dot4(int r, float[] x, int xo, float[] out, int oo, Scratch s) {
        if (bf16) dot4Bf16(r, x, xo, out, oo, s);
        else dot4F16(r, x, xo, out, oo, s);
    }

    private void dot4F16(int r, float[] x, int xo, float[] out, int oo, Scratch s) {
        MemorySegment seg = data;
        long o0 = r * rowBytes, o1 = o0 + rowBytes, o2 = o1 + rowBytes, o3 = o2 + rowBytes;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < colsV; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + c);
            long b = 2L * c;
            a0 = f16(seg, o0 + b).fma(xv, a0);
            a1 = f16(seg, o1 + b).fma(xv, a1);
            a2 = f16(seg, o2 + b).fma(xv, a2);
            a3 = f16(seg, o3 + b).fma(xv, a3);
        }
        out[oo] = finish(a0, seg, o0, x, xo);
        out[oo + 1] = finish(a1, seg, o1, x, xo);
        out[oo + 2] = finish(a2, seg, o2, x, xo);
        out[oo + 3] = finish(a3, seg, o3, x, xo);
    }

    private void dot4Bf16(int r, float[] x, int xo, float[] out, int oo, Scratch s) {
        MemorySegment seg = data;
        long o0 = r * rowBytes, o1 = o0 + rowBytes, o2 = o1 + rowBytes, o3 = o2 + rowBytes;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < colsV; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + c);
            long b = 2L * c;
            a0 = bf16(seg, o0 + b).fma(xv, a0);
            a1 = bf16(seg, o1 + b).fma(xv, a1);
            a2 = bf16(seg, o2 + b).fma(xv, a2);
            a3 = bf16(seg, o3 + b).fma(xv, a3);
        }
        out[oo] = finish(a0, seg, o0, x, xo);
        out[oo + 1] = finish(a1, seg, o1, x, xo);
        out[oo + 2] = finish(a2, seg, o2, x, xo);
        out[oo + 3] = finish(a3, seg, o3, x, xo);
    }

    private float finish(FloatVector acc, MemorySegment seg, long rowOffset, float[] x, int xo) {
        float s = foldHalves(acc);
        for (int c = colsV; c < cols; c++) {
            s = Math.fma(scalar(seg, rowOffset + 2L * c), x[xo + c], s);
        }
        return s;
    }

    private float scalar(MemorySegment seg, long offset) {
        short h = seg.get(SHORT_LE, offset);
        return bf16 ? Quantization.bf16ToFloat(h) : Float.float16ToFloat(h);
    }

    /** L bfloat16 values: the f32 bit pattern is the bf16 one shifted left by 16. */
    static FloatVector bf16(MemorySegment seg, long offset) {
        ShortVector h = ShortVector.fromMemorySegment(S, seg, offset, ByteOrder.LITTLE_ENDIAN);
        return ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                .reinterpretAsFloats();
    }

    /**
     * L IEEE half-precision values, exactly: exponent and mantissa are moved into f32 position and rescaled by
     * 2^112 (which also normalises subnormals exactly); infinities and NaNs get the all-ones f32 exponent.
     */
    static FloatVector f16(MemorySegment seg, long offset) {
        ShortVector h = ShortVector.fromMemorySegment(S, seg, offset, ByteOrder.LITTLE_ENDIAN);
        IntVector i = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
        IntVector magnitude = i.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector bits = magnitude.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = i.and(0x7C00).eq(0x7C00);
        bits = bits.blend(magnitude.or(0x7F800000), special);
        return bits.or(i.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }
}
