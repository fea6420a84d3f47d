package dev.quill.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

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
    void dequantizeRows(int r, int count, float[] dst, int off, Scratch scratch) {
        byte[] raw = copyRows(r, count, scratch);
        for (int i = 0; i < count; i++) {
            int b = i * rowBytes;
            int o = off + i * cols;
            for (int c = 0; c < cols; c += 256, b += BLOCK_BYTES) {
                float d = f16(raw, b), dmin = f16(raw, b + 2);
                for (int j = 0; j < 4; j++) {
                    int q = b + 16 + 32 * j;
                    float s = d * kScale(raw, b + 4, 2 * j), m = -(dmin * kMin(raw, b + 4, 2 * j));
                    for (int k = 0; k < 32; k += L) low(raw, q + k).fma(s, m).intoArray(dst, o + c + 64 * j + k);
                    s = d * kScale(raw, b + 4, 2 * j + 1);
                    m = -(dmin * kMin(raw, b + 4, 2 * j + 1));
                    for (int k = 0; k < 32; k += L) high(raw, q + k).fma(s, m).intoArray(dst, o + c + 64 * j + 32 + k);
                }
            }
        }
    }

    @Override
    int fusedRows() {
        return 2;
    }

    @Override
    void dotRows(byte[] raw, int ro, float[] x, int xo, float[] out, int oo, Scratch s) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int c = 0, b0 = ro, b1 = ro + rowBytes; c < cols; c += 256, b0 += BLOCK_BYTES, b1 += BLOCK_BYTES) {
            float d0 = f16(raw, b0), d1 = f16(raw, b1), n0 = f16(raw, b0 + 2), n1 = f16(raw, b1 + 2);
            for (int j = 0; j < 8; j += 2) {
                int q = 16 + 16 * j, xc = xo + c + 32 * j;
                float s0 = d0 * kScale(raw, b0 + 4, j), m0 = -(n0 * kMin(raw, b0 + 4, j));
                float s1 = d1 * kScale(raw, b1 + 4, j), m1 = -(n1 * kMin(raw, b1 + 4, j));
                for (int k = 0; k < 32; k += L) {
                    FloatVector xv = FloatVector.fromArray(F, x, xc + k);
                    a0 = low(raw, b0 + q + k).fma(s0, m0).fma(xv, a0);
                    a1 = low(raw, b1 + q + k).fma(s1, m1).fma(xv, a1);
                }
                s0 = d0 * kScale(raw, b0 + 4, j + 1);
                m0 = -(n0 * kMin(raw, b0 + 4, j + 1));
                s1 = d1 * kScale(raw, b1 + 4, j + 1);
                m1 = -(n1 * kMin(raw, b1 + 4, j + 1));
                for (int k = 0; k < 32; k += L) {
                    FloatVector xv = FloatVector.fromArray(F, x, xc + 32 + k);
                    a0 = high(raw, b0 + q + k).fma(s0, m0).fma(xv, a0);
                    a1 = high(raw, b1 + q + k).fma(s1, m1).fma(xv, a1);
                }
            }
        }
        float[] acc = s.acc;
        a0.intoArray(acc, 0);
        a1.intoArray(acc, 16);
        fold4(acc, 0); // lanes 2, 3 fold stale values that are not used
        out[oo] = acc[0];
        out[oo + 1] = acc[1];
    }

    private static FloatVector low(byte[] raw, int q) {
        ByteVector v = ByteVector.fromArray(B, raw, q).and((byte) 0xF);
        return (FloatVector) v.convertShape(VectorOperators.B2F, F, 0);
    }

    private static FloatVector high(byte[] raw, int q) {
        ByteVector v = shiftRight(ByteVector.fromArray(B, raw, q), 4);
        return (FloatVector) v.convertShape(VectorOperators.B2F, F, 0);
    }
}
