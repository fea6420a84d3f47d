package dev.quill.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorised helpers for the forward pass. Every result is computed by a fixed sequence of operations that depends
 * only on the length of the input (never on batching or JIT state): sums accumulate {@link #L} lanes with fma in
 * index order and fold the lanes in halves; {@link #exp} is a polynomial built from exactly rounded operations, so
 * the interpreter, C2 and the scalar tail agree bit for bit.
 */
public final class VectorOps {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    private static final VectorShuffle<Float> FOLD8 = VectorShuffle.fromOp(F, i -> (i + 8) % L);
    private static final VectorShuffle<Float> FOLD4 = VectorShuffle.fromOp(F, i -> (i + 4) % L);
    private static final VectorShuffle<Float> FOLD2 = VectorShuffle.fromOp(F, i -> (i + 2) % L);
    private static final VectorShuffle<Float> FOLD1 = VectorShuffle.fromOp(F, i -> (i + 1) % L);

    private VectorOps() {
    }

    /** Σ a[aOff + i]·b[bOff + i] for i &lt; len. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        int v = len - len % L;
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < v; i += L) {
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        }
        float s = foldHalves(acc);
        for (int i = v; i < len; i++) s = Math.fma(a[aOff + i], b[bOff + i], s);
        return s;
    }

    /** y[yOff + i] += alpha·x[xOff + i] (one fma per element). */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int len) {
        int v = len - len % L;
        for (int i = 0; i < v; i += L) {
            FloatVector.fromArray(F, x, xOff + i).fma(FloatVector.broadcast(F, alpha), FloatVector.fromArray(F, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (int i = v; i < len; i++) y[yOff + i] = Math.fma(x[xOff + i], alpha, y[yOff + i]);
    }

    /** out = x / sqrt(mean(x²) + eps) · weight, element-wise; out may be x. */
    public static void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int wOff, int len,
                               float eps) {
        float inv = (float) (1.0 / Math.sqrt(dot(x, xOff, x, xOff, len) / len + eps));
        int v = len - len % L;
        for (int i = 0; i < v; i += L) {
            FloatVector.fromArray(F, x, xOff + i).mul(inv).mul(FloatVector.fromArray(F, weight, wOff + i))
                    .intoArray(out, outOff + i);
        }
        for (int i = v; i < len; i++) out[outOff + i] = x[xOff + i] * inv * weight[wOff + i];
    }

    /** In-place softmax of x[off .. off + len); entries of −∞ become exactly 0. */
    public static void softmax(float[] x, int off, int len) {
        if (len <= 0) return;
        int v = len - len % L;
        float max = Float.NEGATIVE_INFINITY;
        if (v > 0) {
            FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (int i = 0; i < v; i += L) m = m.max(FloatVector.fromArray(F, x, off + i));
            max = m.reduceLanes(VectorOperators.MAX); // max is exact in any order
        }
        for (int i = v; i < len; i++) max = Math.max(max, x[off + i]);
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < v; i += L) {
            FloatVector e = exp(FloatVector.fromArray(F, x, off + i).sub(max));
            e.intoArray(x, off + i);
            acc = acc.add(e);
        }
        float sum = foldHalves(acc);
        for (int i = v; i < len; i++) {
            x[off + i] = exp(x[off + i] - max);
            sum += x[off + i];
        }
        float inv = 1f / sum;
        for (int i = 0; i < v; i += L) FloatVector.fromArray(F, x, off + i).mul(inv).intoArray(x, off + i);
        for (int i = v; i < len; i++) x[off + i] *= inv;
    }

    /** a[aOff + i] = silu(a[aOff + i]) · b[bOff + i], where silu(z) = z / (1 + e^−z) (SwiGLU). */
    public static void siluMul(float[] a, int aOff, float[] b, int bOff, int len) {
        int v = len - len % L;
        for (int i = 0; i < v; i += L) {
            FloatVector z = FloatVector.fromArray(F, a, aOff + i);
            z.div(exp(z.neg()).add(1f)).mul(FloatVector.fromArray(F, b, bOff + i)).intoArray(a, aOff + i);
        }
        for (int i = v; i < len; i++) {
            float z = a[aOff + i];
            a[aOff + i] = z / (exp(-z) + 1f) * b[bOff + i];
        }
    }

    /** Sum of the L values in the fixed fold-halves order: v[i] += v[i + L/2], then v[i + L/4], …; clobbers v. */
    static float foldHalves(float[] v) {
        for (int h = L / 2; h > 0; h /= 2) {
            for (int i = 0; i < h; i++) v[i] += v[i + h];
        }
        return v[0];
    }

    /** Sum of the lanes in the fixed fold-halves order: lane i += lane i + L/2, then i + L/4, … */
    static float foldHalves(FloatVector v) {
        if (L >= 16) v = v.add(v.rearrange(FOLD8));
        if (L >= 8) v = v.add(v.rearrange(FOLD4));
        if (L >= 4) v = v.add(v.rearrange(FOLD2));
        if (L >= 2) v = v.add(v.rearrange(FOLD1));
        return v.lane(0);
    }

    // e^x = 2^n · e^r with n = round(x·log2 e), r = x − n·ln 2 (two-part ln 2), e^r by a degree-6 polynomial.
    private static final float EXP_LO = -87f, EXP_HI = 88f;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 0x1.8p23f;
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    /** e^x to about 2 ulp; 0 below −87, e^88 above 88. Bit-identical to each lane of {@link #exp(FloatVector)}. */
    public static float exp(float x) {
        if (!(x >= EXP_LO)) return x != x ? x : 0f;
        x = Math.min(x, EXP_HI);
        float n = Math.fma(x, LOG2E, ROUND) - ROUND;
        float r = Math.fma(n, -LN2_LO, Math.fma(n, -LN2_HI, x));
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(P0, r, P1), r, P2), r, P3), r, P4), r, P5);
        float e = Math.fma(p, r * r, r) + 1f;
        return e * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    /** Lane-wise {@link #exp(float)}. */
    public static FloatVector exp(FloatVector x) {
        VectorMask<Float> tiny = x.lt(EXP_LO);
        x = x.max(EXP_LO).min(EXP_HI);
        FloatVector n = x.fma(LOG2E, ROUND).sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_LO), n.fma(FloatVector.broadcast(F, -LN2_HI), x));
        FloatVector p = FloatVector.broadcast(F, P0).fma(r, FloatVector.broadcast(F, P1)).fma(r, FloatVector.broadcast(F, P2))
                .fma(r, FloatVector.broadcast(F, P3)).fma(r, FloatVector.broadcast(F, P4)).fma(r, FloatVector.broadcast(F, P5));
        FloatVector e = p.fma(r.mul(r), r).add(1f);
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return e.mul(bits.reinterpretAsFloats()).blend(0f, tiny);
    }
}
