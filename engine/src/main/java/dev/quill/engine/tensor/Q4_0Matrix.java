package dev.quill.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.quill.engine.tensor.Quantization.SHORT_LE;


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
    void dequantizeRows(int r, int count, float[] dst, int off, Scratch scratch) {
        // Straight from the mapped weights, as in Q8_0Matrix.
        MemorySegment seg = data;
        for (int i = 0; i < count; i++) {
            long b = (long) (r + i) * rowBytes;
            int o = off + i * cols;
            for (int c = 0; c < cols; c += 32, b += BLOCK_BYTES) {
                float d = Float.float16ToFloat(seg.get(SHORT_LE, b));
                float offset = -8 * d;
                for (int k = 0; k < 16; k += L) {
                    ByteVector q = quants(seg, b + 2 + k);
                    low(q).fma(d, offset).intoArray(dst, o + c + k);
                    high(q).fma(d, offset).intoArray(dst, o + c + 16 + k);
                }
            }
        }
    }

    @Override
    int fusedRows() {
        return 2;
    }

    @Override
    boolean fusedReadsSegment() {
        return true;
    }

    @Override
    void dotRows(long offset, int apart, float[] x, int xo, float[] out, int oo, float[] acc) {
        MemorySegment seg = data;
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        long b0 = offset, b1 = offset + (long) apart * rowBytes;
        for (int c = 0; c < cols; c += 32, b0 += BLOCK_BYTES, b1 += BLOCK_BYTES) {
            float d0 = Float.float16ToFloat(seg.get(SHORT_LE, b0));
            float d1 = Float.float16ToFloat(seg.get(SHORT_LE, b1));
            float o0 = -8 * d0, o1 = -8 * d1;
            if (L == 16) {
                // One load per row gives both halves: low nibbles are columns c .. c + 16, high nibbles c + 16 .. c + 32.
                ByteVector q0 = quants(seg, b0 + 2), q1 = quants(seg, b1 + 2);
                FloatVector xv = FloatVector.fromArray(F, x, xo + c);
                a0 = low(q0).fma(d0, o0).fma(xv, a0);
                a1 = low(q1).fma(d1, o1).fma(xv, a1);
                xv = FloatVector.fromArray(F, x, xo + c + 16);
                a0 = high(q0).fma(d0, o0).fma(xv, a0);
                a1 = high(q1).fma(d1, o1).fma(xv, a1);
                continue;
            }
            // Narrower vectors: low nibbles (columns c .. c + 16) first, then high ones, the canonical column order.
            for (int k = 0; k < 16; k += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xo + c + k);
                a0 = low(quants(seg, b0 + 2 + k)).fma(d0, o0).fma(xv, a0);
                a1 = low(quants(seg, b1 + 2 + k)).fma(d1, o1).fma(xv, a1);
            }
            for (int k = 0; k < 16; k += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xo + c + 16 + k);
                a0 = high(quants(seg, b0 + 2 + k)).fma(d0, o0).fma(xv, a0);
                a1 = high(quants(seg, b1 + 2 + k)).fma(d1, o1).fma(xv, a1);
            }
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, 16);
        fold4(acc, 0); // lanes 2, 3 fold stale values that are not used
        out[oo] = acc[0];
        out[oo + apart] = acc[1];
    }

    /** Two spaced rows × two tokens, each weight unpacked once for both (see {@code Q8_0Matrix.dotRowsPair}). */
    @Override
    void dotRowsPair(long offset, int apart, float[] x, int x0, int x1, float[] out, int o0, int o1, float[] acc) {
        if (L != 16) {
            super.dotRowsPair(offset, apart, x, x0, x1, out, o0, o1, acc);
            return;
        }
        MemorySegment seg = data;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, c0 = a0, c1 = a0;
        long b0 = offset, b1 = offset + (long) apart * rowBytes;
        // Low nibbles are columns c .. c + 16, high nibbles c + 16 .. c + 32.
        for (int c = 0; c < cols; c += 32, b0 += BLOCK_BYTES, b1 += BLOCK_BYTES) {
            float d0 = Float.float16ToFloat(seg.get(SHORT_LE, b0));
            float d1 = Float.float16ToFloat(seg.get(SHORT_LE, b1));
            float m0 = -8 * d0, m1 = -8 * d1;
            ByteVector q0 = quants(seg, b0 + 2), q1 = quants(seg, b1 + 2);
            FloatVector w0 = low(q0).fma(d0, m0), w1 = low(q1).fma(d1, m1);
            FloatVector xv = FloatVector.fromArray(F, x, x0 + c), yv = FloatVector.fromArray(F, x, x1 + c);
            a0 = w0.fma(xv, a0);
            a1 = w1.fma(xv, a1);
            c0 = w0.fma(yv, c0);
            c1 = w1.fma(yv, c1);
            w0 = high(q0).fma(d0, m0);
            w1 = high(q1).fma(d1, m1);
            xv = FloatVector.fromArray(F, x, x0 + c + 16);
            yv = FloatVector.fromArray(F, x, x1 + c + 16);
            a0 = w0.fma(xv, a0);
            a1 = w1.fma(xv, a1);
            c0 = w0.fma(yv, c0);
            c1 = w1.fma(yv, c1);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, 16);
        c0.intoArray(acc, 32);
        c1.intoArray(acc, 48);
        fold4(acc, 0);
        out[o0] = acc[0];
        out[o0 + apart] = acc[1];
        out[o1] = acc[2];
        out[o1 + apart] = acc[3];
    }

    @Override
    boolean hasTokenTile() {
        return L == 16;
    }

    @Override
    void dotRowsTile(long offset, int apart, float[] x, int x0, int x1, int x2, int x3, float[] out, int o0, int o1,
                     int o2, int o3, float[] acc) {
        MemorySegment seg = data;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        long b0 = offset, b1 = offset + (long) apart * rowBytes;
        // L = 16 only (see hasTokenTile): low nibbles are columns c .. c + 16, high nibbles c + 16 .. c + 32.
        for (int c = 0; c < cols; c += 32, b0 += BLOCK_BYTES, b1 += BLOCK_BYTES) {
            float d0 = Float.float16ToFloat(seg.get(SHORT_LE, b0));
            float d1 = Float.float16ToFloat(seg.get(SHORT_LE, b1));
            float o0f = -8 * d0, o1f = -8 * d1;
            ByteVector q0 = quants(seg, b0 + 2), q1 = quants(seg, b1 + 2);
            for (int half = 0; half < 32; half += 16) {
                FloatVector w0 = (half == 0 ? low(q0) : high(q0)).fma(d0, o0f);
                FloatVector w1 = (half == 0 ? low(q1) : high(q1)).fma(d1, o1f);
                FloatVector xv = FloatVector.fromArray(F, x, x0 + c + half);
                a00 = w0.fma(xv, a00);
                a10 = w1.fma(xv, a10);
                xv = FloatVector.fromArray(F, x, x1 + c + half);
                a01 = w0.fma(xv, a01);
                a11 = w1.fma(xv, a11);
                xv = FloatVector.fromArray(F, x, x2 + c + half);
                a02 = w0.fma(xv, a02);
                a12 = w1.fma(xv, a12);
                xv = FloatVector.fromArray(F, x, x3 + c + half);
                a03 = w0.fma(xv, a03);
                a13 = w1.fma(xv, a13);
            }
        }
        a00.intoArray(acc, 0);
        a10.intoArray(acc, 16);
        a01.intoArray(acc, 32);
        a11.intoArray(acc, 48);
        a02.intoArray(acc, 64);
        a12.intoArray(acc, 80);
        a03.intoArray(acc, 96);
        a13.intoArray(acc, 112);
        storeTile(acc, apart, out, o0, o1, o2, o3);
    }

    private static ByteVector quants(MemorySegment seg, long q) {
        return ByteVector.fromMemorySegment(B, seg, q, ByteOrder.LITTLE_ENDIAN);
    }

    /** Low nibbles as floats q; the weight (q − 8)·d is computed as fma(q, d, −8d), exact like the reference. */
    private static FloatVector low(ByteVector q) {
        return (FloatVector) q.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0);
    }

    private static FloatVector high(ByteVector q) {
        return (FloatVector) shiftRight(q, 4).convertShape(VectorOperators.B2F, F, 0);
    }
}
