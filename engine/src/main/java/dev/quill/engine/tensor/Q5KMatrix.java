package dev.quill.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

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
    void dequantizeRows(int r, int count, float[] dst, int off, Scratch scratch) {
        byte[] raw = copyRows(r, count, scratch);
        for (int i = 0; i < count; i++) {
            int b = i * rowBytes;
            int o = off + i * cols;
            for (int c = 0; c < cols; c += 256, b += BLOCK_BYTES) {
                float d = f16(raw, b), dmin = f16(raw, b + 2);
                for (int j = 0; j < 8; j += 2) {
                    int q = b + 48 + 16 * j, h = b + 16;
                    float s = d * kScale(raw, b + 4, j), m = -(dmin * kMin(raw, b + 4, j));
                    for (int k = 0; k < 32; k += L) low(raw, q + k, h + k, j).fma(s, m).intoArray(dst, o + c + 32 * j + k);
                    s = d * kScale(raw, b + 4, j + 1);
                    m = -(dmin * kMin(raw, b + 4, j + 1));
                    for (int k = 0; k < 32; k += L) {
                        high(raw, q + k, h + k, j + 1).fma(s, m).intoArray(dst, o + c + 32 * j + 32 + k);
                    }
                }
            }
        }
    }

    /** Quants of an even sub-block: low nibbles at {@code q} plus bit {@code bit} of the qh bytes at {@code h}. */
    private static FloatVector low(byte[] raw, int q, int h, int bit) {
        ByteVector nibbles = ByteVector.fromArray(B, raw, q).and((byte) 0xF);
        return withFifthBit(nibbles, raw, h, bit);
    }

    /** Quants of an odd sub-block: high nibbles at {@code q} plus bit {@code bit} of the qh bytes at {@code h}. */
    private static FloatVector high(byte[] raw, int q, int h, int bit) {
        ByteVector nibbles = shiftRight(ByteVector.fromArray(B, raw, q), 4);
        return withFifthBit(nibbles, raw, h, bit);
    }

    private static FloatVector withFifthBit(ByteVector nibbles, byte[] raw, int h, int bit) {
        ByteVector fifth = shiftRight(ByteVector.fromArray(B, raw, h), bit).and((byte) 1);
        return (FloatVector) nibbles.or(shiftLeftSmall(fifth, 4)).convertShape(VectorOperators.B2F, F, 0);
    }
}
