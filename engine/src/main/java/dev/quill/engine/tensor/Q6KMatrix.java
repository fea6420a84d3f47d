package dev.quill.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

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
    void dequantizeRows(int r, int count, float[] dst, int off, Scratch scratch) {
        byte[] raw = copyRows(r, count, scratch);
        for (int i = 0; i < count; i++) {
            int b = i * rowBytes;
            int o = off + i * cols;
            for (int c = 0; c < cols; c += 256, b += BLOCK_BYTES) {
                float d = f16(raw, b + 208);
                for (int h = 0; h < 2; h++) {
                    int ql = b + 64 * h, qh = b + 128 + 32 * h, e = 128 * h, y = o + c + e;
                    // Quarter u: low 4 bits from ql (nibble u / 2 of byte l + 32·(u % 2)), high 2 bits from qh bits 2u.
                    for (int k = 0; k < 32; k += L) {
                        ByteVector low = ByteVector.fromArray(B, raw, ql + k).and((byte) 0x0F);
                        ByteVector high = ByteVector.fromArray(B, raw, qh + k).and((byte) 0x03).lanewise(VectorOperators.LSHL, 4);
                        weights(low, high, d * scale(raw, b, e + k)).intoArray(dst, y + k);
                    }
                    for (int k = 0; k < 32; k += L) {
                        ByteVector low = ByteVector.fromArray(B, raw, ql + 32 + k).and((byte) 0x0F);
                        ByteVector high = ByteVector.fromArray(B, raw, qh + k).and((byte) 0x0C).lanewise(VectorOperators.LSHL, 2);
                        weights(low, high, d * scale(raw, b, e + 32 + k)).intoArray(dst, y + 32 + k);
                    }
                    for (int k = 0; k < 32; k += L) {
                        ByteVector low = ByteVector.fromArray(B, raw, ql + k).lanewise(VectorOperators.LSHR, 4);
                        ByteVector high = ByteVector.fromArray(B, raw, qh + k).and((byte) 0x30);
                        weights(low, high, d * scale(raw, b, e + 64 + k)).intoArray(dst, y + 64 + k);
                    }
                    for (int k = 0; k < 32; k += L) {
                        ByteVector low = ByteVector.fromArray(B, raw, ql + 32 + k).lanewise(VectorOperators.LSHR, 4);
                        ByteVector high = ByteVector.fromArray(B, raw, qh + k).lanewise(VectorOperators.LSHR, 2).and((byte) 0x30);
                        weights(low, high, d * scale(raw, b, e + 96 + k)).intoArray(dst, y + 96 + k);
                    }
                }
            }
        }
    }

    /** The int8 scale of element e (all L elements of a vector share it: L divides 16). */
    private static int scale(byte[] raw, int b, int e) {
        return raw[b + 192 + e / 16];
    }

    /** (q − 32)·s for the 6-bit quants q = low | high. */
    private static FloatVector weights(ByteVector low, ByteVector high, float s) {
        return ((FloatVector) low.or(high).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0)).mul(s);
    }
}
