package dev.quill.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;


/** Q8_0: blocks of 32 elements, f16 scale d then 32 signed bytes; x = q·d (exact in f32). */
final class Q8_0Matrix extends TiledMatrix {

    private static final int BLOCK_BYTES = 34;

    Q8_0Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q8_0, data, rows, cols);
    }

    @Override
    void dequantizeRows(int r, int count, float[] dst, int off, Scratch scratch) {
        byte[] raw = copyRows(r, count, scratch);
        for (int i = 0; i < count; i++) {
            int b = i * rowBytes;
            int o = off + i * cols;
            for (int c = 0; c < cols; c += 32, b += BLOCK_BYTES) {
                float d = f16(raw, b);
                for (int k = 0; k < 32; k += L) weights(raw, b + 2 + k, d).intoArray(dst, o + c + k);
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
        for (int c = 0, b0 = ro, b1 = ro + rowBytes; c < cols; c += 32, b0 += BLOCK_BYTES, b1 += BLOCK_BYTES) {
            // f16 scales decoded in place: a call to a helper here was not inlined (C2's budget) and cost half the time.
            float d0 = Float.float16ToFloat((short) ((raw[b0] & 0xFF) | (raw[b0 + 1] << 8)));
            float d1 = Float.float16ToFloat((short) ((raw[b1] & 0xFF) | (raw[b1 + 1] << 8)));
            for (int k = 0; k < 32; k += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xo + c + k);
                a0 = weights(raw, b0 + 2 + k, d0).fma(xv, a0);
                a1 = weights(raw, b1 + 2 + k, d1).fma(xv, a1);
            }
        }
        float[] acc = s.acc;
        a0.intoArray(acc, 0);
        a1.intoArray(acc, 16);
        fold4(acc, 0); // lanes 2, 3 fold stale values that are not used
        out[oo] = acc[0];
        out[oo + 1] = acc[1];
    }

    /** L dequantized weights from the quants at {@code q}. */
    private static FloatVector weights(byte[] raw, int q, float d) {
        ByteVector bytes = ByteVector.fromArray(B, raw, q);
        return ((FloatVector) bytes.convertShape(VectorOperators.B2F, F, 0)).mul(d);
    }
}
