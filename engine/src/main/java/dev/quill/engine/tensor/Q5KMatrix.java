package dev.quill.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.quill.engine.tensor.Quantization.f16;
import static dev.quill.engine.tensor.Quantization.kMin;
import static dev.quill.engine.tensor.Quantization.kScale;

/**
 * Q5_K: like {@link Q4KMatrix} (176 bytes: d, dmin, 12 scale bytes, qh[32] at 16, qs[128] at 48) with a fifth bit
 * per element: bit j of qh[l] belongs to element l of sub-block j.
 */
final class Q5KMatrix extends TiledMatrix {

    private static final int BLOCK_BYTES = 176;

    Q5KMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q5_K, data, rows, cols);
    }

    @Override
    void dequantizeRows(int r, int count, float[] dst, int off) {
        MemorySegment seg = data;
        for (int i = 0; i < count; i++) {
            long b = (r + i) * rowBytes;
            int o = off + i * cols;
            for (int c = 0; c < cols; c += 256, b += BLOCK_BYTES) {
                float d = f16(seg, b), dmin = f16(seg, b + 2);
                for (int j = 0; j < 8; j++) {
                    float s = d * kScale(seg, b + 4, j), m = -(dmin * kMin(seg, b + 4, j));
                    for (int k = 0; k < 32; k += L) quants(seg, b, j, k).fma(s, m).intoArray(dst, o + c + 32 * j + k);
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
            float d0 = f16(seg, b0), d1 = f16(seg, b1), d2 = f16(seg, b2), d3 = f16(seg, b3);
            float n0 = f16(seg, b0 + 2), n1 = f16(seg, b1 + 2), n2 = f16(seg, b2 + 2), n3 = f16(seg, b3 + 2);
            for (int j = 0; j < 8; j++) {
                float s0 = d0 * kScale(seg, b0 + 4, j), m0 = -(n0 * kMin(seg, b0 + 4, j));
                float s1 = d1 * kScale(seg, b1 + 4, j), m1 = -(n1 * kMin(seg, b1 + 4, j));
                float s2 = d2 * kScale(seg, b2 + 4, j), m2 = -(n2 * kMin(seg, b2 + 4, j));
                float s3 = d3 * kScale(seg, b3 + 4, j), m3 = -(n3 * kMin(seg, b3 + 4, j));
                for (int k = 0; k < 32; k += L) {
                    FloatVector xv = FloatVector.fromArray(F, x, xo + c + 32 * j + k);
                    a0 = quants(seg, b0, j, k).fma(s0, m0).fma(xv, a0);
                    a1 = quants(seg, b1, j, k).fma(s1, m1).fma(xv, a1);
                    a2 = quants(seg, b2, j, k).fma(s2, m2).fma(xv, a2);
                    a3 = quants(seg, b3, j, k).fma(s3, m3).fma(xv, a3);
                }
            }
        }
        out[oo] = foldHalves(a0);
        out[oo + 1] = foldHalves(a1);
        out[oo + 2] = foldHalves(a2);
        out[oo + 3] = foldHalves(a3);
    }

    /** The 5-bit quants of elements k..k+L of sub-block j of the super-block at {@code b}, as floats. */
    private static FloatVector quants(MemorySegment seg, long b, int j, int k) {
        ByteVector qs = ByteVector.fromMemorySegment(B, seg, b + 48 + 32 * (j >> 1) + k, ByteOrder.LITTLE_ENDIAN);
        ByteVector low = (j & 1) == 0 ? qs.and((byte) 0xF) : qs.lanewise(VectorOperators.LSHR, 4);
        ByteVector qh = ByteVector.fromMemorySegment(B, seg, b + 16 + k, ByteOrder.LITTLE_ENDIAN);
        ByteVector fifth = qh.lanewise(VectorOperators.LSHR, j).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
        return (FloatVector) low.or(fifth).convertShape(VectorOperators.B2F, F, 0);
    }
}
