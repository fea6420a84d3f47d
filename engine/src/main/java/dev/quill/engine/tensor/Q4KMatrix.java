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
 * Q4_K: super-blocks of 256 elements (144 bytes): f16 d, f16 dmin, 12 bytes of 6-bit scale/min pairs for eight
 * sub-blocks of 32, then 128 bytes of nibbles. Chunk j of 64 elements reads bytes 32j..32j+31: low nibbles are
 * sub-block 2j, high nibbles sub-block 2j+1; x = (d·sc)·q − dmin·m, computed as one fma (the product is exact).
 */
final class Q4KMatrix extends TiledMatrix {

    private static final int BLOCK_BYTES = 144;

    Q4KMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q4_K, data, rows, cols);
    }

    @Override
    void dequantizeRows(int r, int count, float[] dst, int off) {
        MemorySegment seg = data;
        for (int i = 0; i < count; i++) {
            long b = (r + i) * rowBytes;
            int o = off + i * cols;
            for (int c = 0; c < cols; c += 256, b += BLOCK_BYTES) {
                float d = f16(seg, b), dmin = f16(seg, b + 2);
                for (int j = 0; j < 4; j++) {
                    long q = b + 16 + 32 * j;
                    float s = d * kScale(seg, b + 4, 2 * j), m = -(dmin * kMin(seg, b + 4, 2 * j));
                    for (int k = 0; k < 32; k += L) low(seg, q + k).fma(s, m).intoArray(dst, o + c + 64 * j + k);
                    s = d * kScale(seg, b + 4, 2 * j + 1);
                    m = -(dmin * kMin(seg, b + 4, 2 * j + 1));
                    for (int k = 0; k < 32; k += L) high(seg, q + k).fma(s, m).intoArray(dst, o + c + 64 * j + 32 + k);
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
                long q = 16 + 32 * (j >> 1);
                boolean high = (j & 1) != 0;
                for (int k = 0; k < 32; k += L) {
                    FloatVector xv = FloatVector.fromArray(F, x, xo + c + 32 * j + k);
                    long p = q + k;
                    a0 = quants(seg, b0 + p, high).fma(s0, m0).fma(xv, a0);
                    a1 = quants(seg, b1 + p, high).fma(s1, m1).fma(xv, a1);
                    a2 = quants(seg, b2 + p, high).fma(s2, m2).fma(xv, a2);
                    a3 = quants(seg, b3 + p, high).fma(s3, m3).fma(xv, a3);
                }
            }
        }
        out[oo] = foldHalves(a0);
        out[oo + 1] = foldHalves(a1);
        out[oo + 2] = foldHalves(a2);
        out[oo + 3] = foldHalves(a3);
    }

    private static FloatVector quants(MemorySegment seg, long q, boolean high) {
        return high ? high(seg, q) : low(seg, q);
    }

    private static FloatVector low(MemorySegment seg, long q) {
        ByteVector v = ByteVector.fromMemorySegment(B, seg, q, ByteOrder.LITTLE_ENDIAN).and((byte) 0xF);
        return (FloatVector) v.convertShape(VectorOperators.B2F, F, 0);
    }

    private static FloatVector high(MemorySegment seg, long q) {
        ByteVector v = ByteVector.fromMemorySegment(B, seg, q, ByteOrder.LITTLE_ENDIAN).lanewise(VectorOperators.LSHR, 4);
        return (FloatVector) v.convertShape(VectorOperators.B2F, F, 0);
    }
}
