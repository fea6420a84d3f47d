package dev.quill.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.quill.engine.tensor.Quantization.SHORT_LE;


/** Q8_0: blocks of 32 elements, f16 scale d then 32 signed bytes; x = q·d (exact in f32). */
final class Q8_0Matrix extends TiledMatrix {

    private static final int BLOCK_BYTES = 34;

    Q8_0Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q8_0, data, rows, cols);
    }

    @Override
    void dequantizeRows(int r, int count, float[] dst, int off, Scratch scratch) {
        // Straight from the mapped weights: a copy to the heap first stalled on every cache miss with nothing to overlap.
        MemorySegment seg = data;
        for (int i = 0; i < count; i++) {
            long b = (long) (r + i) * rowBytes;
            int o = off + i * cols;
            for (int c = 0; c < cols; c += 32, b += BLOCK_BYTES) {
                float d = Float.float16ToFloat(seg.get(SHORT_LE, b));
                for (int k = 0; k < 32; k += 2 * L) { // two steps per iteration, as in dotRows
                    weights(seg, b + 2 + k, d).intoArray(dst, o + c + k);
                    weights(seg, b + 2 + k + L, d).intoArray(dst, o + c + k + L);
                }
            }
        }
    }

    @Override
    int fusedRows() {
        return 4;
    }

    @Override
    boolean fusedReadsSegment() {
        return true;
    }

    @Override
    void dotRows(long offset, int apart, float[] x, int xo, float[] out, int oo, float[] acc) {
        MemorySegment seg = data;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        long gap = (long) apart * rowBytes;
        long b0 = offset, b1 = b0 + gap, b2 = b1 + gap, b3 = b2 + gap;
        for (int c = 0; c < cols; c += 32, b0 += BLOCK_BYTES, b1 += BLOCK_BYTES, b2 += BLOCK_BYTES, b3 += BLOCK_BYTES) {
            float d0 = Float.float16ToFloat(seg.get(SHORT_LE, b0));
            float d1 = Float.float16ToFloat(seg.get(SHORT_LE, b1));
            float d2 = Float.float16ToFloat(seg.get(SHORT_LE, b2));
            float d3 = Float.float16ToFloat(seg.get(SHORT_LE, b3));
            // Two steps per iteration: one-step iterations (four per block with 8 lanes) cost more in loop and
            // bounds-check bookkeeping than in arithmetic; writing all four out crossed C2's node budget.
            for (int k = 0; k < 32; k += 2 * L) {
                FloatVector xv = FloatVector.fromArray(F, x, xo + c + k);
                a0 = weights(seg, b0 + 2 + k, d0).fma(xv, a0);
                a1 = weights(seg, b1 + 2 + k, d1).fma(xv, a1);
                a2 = weights(seg, b2 + 2 + k, d2).fma(xv, a2);
                a3 = weights(seg, b3 + 2 + k, d3).fma(xv, a3);
                xv = FloatVector.fromArray(F, x, xo + c + k + L);
                a0 = weights(seg, b0 + 2 + k + L, d0).fma(xv, a0);
                a1 = weights(seg, b1 + 2 + k + L, d1).fma(xv, a1);
                a2 = weights(seg, b2 + 2 + k + L, d2).fma(xv, a2);
                a3 = weights(seg, b3 + 2 + k + L, d3).fma(xv, a3);
            }
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, 16);
        a2.intoArray(acc, 32);
        a3.intoArray(acc, 48);
        storeRows(acc, 0, apart, out, oo);
    }

    /**
     * Four spaced rows × two tokens: each weight is widened and scaled once for both tokens (2–3 concurrent streams
     * otherwise paid the 4-token tile's arithmetic, as much as 4 streams).
     */
    @Override
    void dotRowsPair(long offset, int apart, float[] x, int x0, int x1, float[] out, int o0, int o1, float[] acc) {
        MemorySegment seg = data;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        FloatVector c0 = a0, c1 = a0, c2 = a0, c3 = a0;
        long gap = (long) apart * rowBytes;
        long b0 = offset, b1 = b0 + gap, b2 = b1 + gap, b3 = b2 + gap;
        for (int c = 0; c < cols; c += 32, b0 += BLOCK_BYTES, b1 += BLOCK_BYTES, b2 += BLOCK_BYTES, b3 += BLOCK_BYTES) {
            float d0 = Float.float16ToFloat(seg.get(SHORT_LE, b0));
            float d1 = Float.float16ToFloat(seg.get(SHORT_LE, b1));
            float d2 = Float.float16ToFloat(seg.get(SHORT_LE, b2));
            float d3 = Float.float16ToFloat(seg.get(SHORT_LE, b3));
            for (int k = 0; k < 32; k += L) {
                FloatVector xv = FloatVector.fromArray(F, x, x0 + c + k), yv = FloatVector.fromArray(F, x, x1 + c + k);
                FloatVector w0 = weights(seg, b0 + 2 + k, d0), w1 = weights(seg, b1 + 2 + k, d1);
                FloatVector w2 = weights(seg, b2 + 2 + k, d2), w3 = weights(seg, b3 + 2 + k, d3);
                a0 = w0.fma(xv, a0);
                c0 = w0.fma(yv, c0);
                a1 = w1.fma(xv, a1);
                c1 = w1.fma(yv, c1);
                a2 = w2.fma(xv, a2);
                c2 = w2.fma(yv, c2);
                a3 = w3.fma(xv, a3);
                c3 = w3.fma(yv, c3);
            }
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, 16);
        a2.intoArray(acc, 32);
        a3.intoArray(acc, 48);
        c0.intoArray(acc, 64);
        c1.intoArray(acc, 80);
        c2.intoArray(acc, 96);
        c3.intoArray(acc, 112);
        storeRows(acc, 0, apart, out, o0);
        storeRows(acc, 64, apart, out, o1);
    }

    @Override
    boolean hasTokenTile() {
        return true;
    }

    /**
     * Four rows per token tile where vectors have 16 lanes: each widened weight feeds four tokens and each x load four
     * rows. With 8 lanes (AVX2: 16 vector registers) the 16 accumulators and 4 weights of that tile spill to the stack
     * on every step, so those machines take two rows.
     */
    @Override
    int tileRows() {
        return L >= 16 ? 4 : 2;
    }

    @Override
    void dotRowsTile(long offset, int apart, float[] x, int x0, int x1, int x2, int x3, float[] out, int o0, int o1,
                     int o2, int o3, float[] acc) {
        if (L < 16) {
            dotTwoRowsTile(offset, apart, x, x0, x1, x2, x3, out, o0, o1, o2, o3, acc);
            return;
        }
        MemorySegment seg = data;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        long gap = (long) apart * rowBytes;
        long b0 = offset, b1 = b0 + gap, b2 = b1 + gap, b3 = b2 + gap;
        for (int c = 0; c < cols; c += 32, b0 += BLOCK_BYTES, b1 += BLOCK_BYTES, b2 += BLOCK_BYTES, b3 += BLOCK_BYTES) {
            float d0 = Float.float16ToFloat(seg.get(SHORT_LE, b0));
            float d1 = Float.float16ToFloat(seg.get(SHORT_LE, b1));
            float d2 = Float.float16ToFloat(seg.get(SHORT_LE, b2));
            float d3 = Float.float16ToFloat(seg.get(SHORT_LE, b3));
            for (int k = 0; k < 32; k += L) {
                FloatVector w0 = weights(seg, b0 + 2 + k, d0), w1 = weights(seg, b1 + 2 + k, d1);
                FloatVector w2 = weights(seg, b2 + 2 + k, d2), w3 = weights(seg, b3 + 2 + k, d3);
                FloatVector xv = FloatVector.fromArray(F, x, x0 + c + k);
                a00 = w0.fma(xv, a00);
                a10 = w1.fma(xv, a10);
                a20 = w2.fma(xv, a20);
                a30 = w3.fma(xv, a30);
                xv = FloatVector.fromArray(F, x, x1 + c + k);
                a01 = w0.fma(xv, a01);
                a11 = w1.fma(xv, a11);
                a21 = w2.fma(xv, a21);
                a31 = w3.fma(xv, a31);
                xv = FloatVector.fromArray(F, x, x2 + c + k);
                a02 = w0.fma(xv, a02);
                a12 = w1.fma(xv, a12);
                a22 = w2.fma(xv, a22);
                a32 = w3.fma(xv, a32);
                xv = FloatVector.fromArray(F, x, x3 + c + k);
                a03 = w0.fma(xv, a03);
                a13 = w1.fma(xv, a13);
                a23 = w2.fma(xv, a23);
                a33 = w3.fma(xv, a33);
            }
        }
        a00.intoArray(acc, 0);
        a10.intoArray(acc, 16);
        a20.intoArray(acc, 32);
        a30.intoArray(acc, 48);
        a01.intoArray(acc, 64);
        a11.intoArray(acc, 80);
        a21.intoArray(acc, 96);
        a31.intoArray(acc, 112);
        a02.intoArray(acc, 128);
        a12.intoArray(acc, 144);
        a22.intoArray(acc, 160);
        a32.intoArray(acc, 176);
        a03.intoArray(acc, 192);
        a13.intoArray(acc, 208);
        a23.intoArray(acc, 224);
        a33.intoArray(acc, 240);
        storeRows(acc, 0, apart, out, o0);
        storeRows(acc, 64, apart, out, o1);
        storeRows(acc, 128, apart, out, o2);
        storeRows(acc, 192, apart, out, o3);
    }

    /** The token tile over two rows (see {@link #tileRows}). */
    private void dotTwoRowsTile(long offset, int apart, float[] x, int x0, int x1, int x2, int x3, float[] out, int o0,
                                int o1, int o2, int o3, float[] acc) {
        MemorySegment seg = data;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        long b0 = offset, b1 = offset + (long) apart * rowBytes;
        for (int c = 0; c < cols; c += 32, b0 += BLOCK_BYTES, b1 += BLOCK_BYTES) {
            float d0 = Float.float16ToFloat(seg.get(SHORT_LE, b0));
            float d1 = Float.float16ToFloat(seg.get(SHORT_LE, b1));
            for (int k = 0; k < 32; k += 2 * L) { // two steps per iteration, as in dotRows
                FloatVector w0 = weights(seg, b0 + 2 + k, d0), w1 = weights(seg, b1 + 2 + k, d1);
                FloatVector xv = FloatVector.fromArray(F, x, x0 + c + k);
                a00 = w0.fma(xv, a00);
                a10 = w1.fma(xv, a10);
                xv = FloatVector.fromArray(F, x, x1 + c + k);
                a01 = w0.fma(xv, a01);
                a11 = w1.fma(xv, a11);
                xv = FloatVector.fromArray(F, x, x2 + c + k);
                a02 = w0.fma(xv, a02);
                a12 = w1.fma(xv, a12);
                xv = FloatVector.fromArray(F, x, x3 + c + k);
                a03 = w0.fma(xv, a03);
                a13 = w1.fma(xv, a13);
                w0 = weights(seg, b0 + 2 + k + L, d0);
                w1 = weights(seg, b1 + 2 + k + L, d1);
                xv = FloatVector.fromArray(F, x, x0 + c + k + L);
                a00 = w0.fma(xv, a00);
                a10 = w1.fma(xv, a10);
                xv = FloatVector.fromArray(F, x, x1 + c + k + L);
                a01 = w0.fma(xv, a01);
                a11 = w1.fma(xv, a11);
                xv = FloatVector.fromArray(F, x, x2 + c + k + L);
                a02 = w0.fma(xv, a02);
                a12 = w1.fma(xv, a12);
                xv = FloatVector.fromArray(F, x, x3 + c + k + L);
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

    /** Folds the four row accumulators of one token at {@code acc[i ..]} and writes them {@code apart} apart. */
    private static void storeRows(float[] acc, int i, int apart, float[] out, int o) {
        fold4(acc, i);
        out[o] = acc[i];
        out[o + apart] = acc[i + 1];
        out[o + 2 * apart] = acc[i + 2];
        out[o + 3 * apart] = acc[i + 3];
    }

    /** L dequantized weights from the quants at byte {@code q} of {@code seg}. */
    private static FloatVector weights(MemorySegment seg, long q, float d) {
        ByteVector bytes = ByteVector.fromMemorySegment(B, seg, q, ByteOrder.LITTLE_ENDIAN);
        return ((FloatVector) bytes.convertShape(VectorOperators.B2F, F, 0)).mul(d);
    }

}
