package dev.quill.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.quill.engine.tensor.Quantization.f16;

/**
 * Q4_0: blocks of 32 elements, f16 scale d then 16 bytes; element j &lt; 16 is the low nibble of byte j, element
 * 16 + j its high nibble; x = (q − 8)·d (exact in f32).
 */
final class Q4_0Matrix extends TiledMatrix {

    private static final int BLOCK_BYTES = 18;

    Q4_0Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q4_0, data, rows, cols);
    }

    @Override
    void dequantizeRows(int r, int count, float[] dst, int off) {
        MemorySegment seg = data;
        for (int i = 0; i < count; i++) {
            long b = (r + i) * rowBytes;
            int o = off + i * cols;
            for (int c = 0; c < cols; c += 32, b += BLOCK_BYTES) {
                float d = f16(seg, b);
                for (int k = 0; k < 16; k += L) low(seg, b + 2 + k, d).intoArray(dst, o + c + k);
                for (int k = 0; k < 16; k += L) high(seg, b + 2 + k, d).intoArray(dst, o + c + 16 + k);
            }
        }
    }

    @Override
    void dot4(int r, float[] x, int xo, float[] out, int oo, Scratch s) {
        MemorySegment seg = data;
        long b0 = r * rowBytes, b1 = b0 + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < cols; c += 32, b0 += BLOCK_BYTES, b1 += BLOCK_BYTES, b2 += BLOCK_BYTES, b3 += BLOCK_BYTES) {
            float d0 = f16(seg, b0), d1 = f16(seg, b1), d2 = f16(seg, b2), d3 = f16(seg, b3);
            for (int k = 0; k < 16; k += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xo + c + k);
                a0 = low(seg, b0 + 2 + k, d0).fma(xv, a0);
                a1 = low(seg, b1 + 2 + k, d1).fma(xv, a1);
                a2 = low(seg, b2 + 2 + k, d2).fma(xv, a2);
                a3 = low(seg, b3 + 2 + k, d3).fma(xv, a3);
            }
            for (int k = 0; k < 16; k += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xo + c + 16 + k);
                a0 = high(seg, b0 + 2 + k, d0).fma(xv, a0);
                a1 = high(seg, b1 + 2 + k, d1).fma(xv, a1);
                a2 = high(seg, b2 + 2 + k, d2).fma(xv, a2);
                a3 = high(seg, b3 + 2 + k, d3).fma(xv, a3);
            }
        }
        out[oo] = foldHalves(a0);
        out[oo + 1] = foldHalves(a1);
        out[oo + 2] = foldHalves(a2);
        out[oo + 3] = foldHalves(a3);
    }

    private static FloatVector low(MemorySegment seg, long q, float d) {
        ByteVector nibbles = ByteVector.fromMemorySegment(B, seg, q, ByteOrder.LITTLE_ENDIAN).and((byte) 0xF);
        return ((FloatVector) nibbles.sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d);
    }

    private static FloatVector high(MemorySegment seg, long q, float d) {
        ByteVector nibbles = ByteVector.fromMemorySegment(B, seg, q, ByteOrder.LITTLE_ENDIAN)
                .lanewise(VectorOperators.LSHR, 4);
        return ((FloatVector) nibbles.sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d);
    }
}
