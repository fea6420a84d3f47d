package dev.quill.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.quill.engine.tensor.Quantization.f16;

/**
 * Q6_K: super-blocks of 256 elements (210 bytes): ql[128], qh[64], int8 scales[16], f16 d. Element e = 128h + 32u + l
 * (half h, quarter u, l &lt; 32) has low bits from ql[64h + l + 32·(u&amp;1)] (low nibble for u &lt; 2, high otherwise)
 * and high bits 2u..2u+1 of qh[32h + l]; x = (d·scales[e/16])·(q − 32), exact in f32.
 */
final class Q6KMatrix extends TiledMatrix {

    private static final int BLOCK_BYTES = 210;

    Q6KMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q6_K, data, rows, cols);
    }

    @Override
    void dequantizeRows(int r, int count, float[] dst, int off) {
        MemorySegment seg = data;
        for (int i = 0; i < count; i++) {
            long b = (r + i) * rowBytes;
            int o = off + i * cols;
            for (int c = 0; c < cols; c += 256, b += BLOCK_BYTES) {
                float d = f16(seg, b + 208);
                for (int e = 0; e < 256; e += L) {
                    quants(seg, b, e).mul(d * scale(seg, b, e)).intoArray(dst, o + c + e);
                }
            }
        }
    }

    @Override
    void dot4(int r, float[] x, int xo, float[] out, int oo, Scratch s) {
        MemorySegment seg = data;
        long b0 = r * rowBytes, b1 = b0 + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < cols; c += 256, b0 += BLOCK_BYTES, b1 += BLOCK_BYTES, b2 += BLOCK_BYTES, b3 += BLOCK_BYTES) {
            float d0 = f16(seg, b0 + 208), d1 = f16(seg, b1 + 208), d2 = f16(seg, b2 + 208), d3 = f16(seg, b3 + 208);
            for (int e = 0; e < 256; e += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xo + c + e);
                a0 = quants(seg, b0, e).mul(d0 * scale(seg, b0, e)).fma(xv, a0);
                a1 = quants(seg, b1, e).mul(d1 * scale(seg, b1, e)).fma(xv, a1);
                a2 = quants(seg, b2, e).mul(d2 * scale(seg, b2, e)).fma(xv, a2);
                a3 = quants(seg, b3, e).mul(d3 * scale(seg, b3, e)).fma(xv, a3);
            }
        }
        out[oo] = foldHalves(a0);
        out[oo + 1] = foldHalves(a1);
        out[oo + 2] = foldHalves(a2);
        out[oo + 3] = foldHalves(a3);
    }

    /** The int8 scale of element e (all L elements of a vector share it: L divides 16). */
    private static int scale(MemorySegment seg, long b, int e) {
        return seg.get(ValueLayout.JAVA_BYTE, b + 192 + e / 16);
    }

    /** The signed 6-bit quants (q − 32) of elements e..e+L of the super-block at {@code b}, as floats. */
    private static FloatVector quants(MemorySegment seg, long b, int e) {
        int h = e >> 7, u = (e >> 5) & 3, l = e & 31;
        ByteVector ql = ByteVector.fromMemorySegment(B, seg, b + 64 * h + l + 32 * (u & 1), ByteOrder.LITTLE_ENDIAN);
        ByteVector low = u < 2 ? ql.and((byte) 0xF) : ql.lanewise(VectorOperators.LSHR, 4);
        ByteVector qh = ByteVector.fromMemorySegment(B, seg, b + 128 + 32 * h + l, ByteOrder.LITTLE_ENDIAN);
        ByteVector high = qh.lanewise(VectorOperators.LSHR, 2 * u).and((byte) 3).lanewise(VectorOperators.LSHL, 4);
        return (FloatVector) low.or(high).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
    }
}
