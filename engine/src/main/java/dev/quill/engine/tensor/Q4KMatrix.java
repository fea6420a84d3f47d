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

    private static FloatVector low(byte[] raw, int q) {
        ByteVector v = ByteVector.fromArray(B, raw, q).and((byte) 0xF);
        return (FloatVector) v.convertShape(VectorOperators.B2F, F, 0);
    }

    private static FloatVector high(byte[] raw, int q) {
        ByteVector v = ByteVector.fromArray(B, raw, q).lanewise(VectorOperators.LSHR, 4);
        return (FloatVector) v.convertShape(VectorOperators.B2F, F, 0);
    }
}
