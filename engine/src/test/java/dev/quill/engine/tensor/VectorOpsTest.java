package dev.quill.engine.tensor;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

class VectorOpsTest {

    private static final int[] LENGTHS = {1, 5, 16, 17, 64, 100, 2048};

    @Test
    void dotFollowsTheCanonicalOrderAndIsAccurate() {
        Random random = new Random(8);
        for (int len : LENGTHS) {
            float[] a = TestMatrices.gaussian(random, len + 3, 1f), b = TestMatrices.gaussian(random, len + 1, 1f);
            float actual = VectorOps.dot(a, 3, b, 1, len);
            float[] w = java.util.Arrays.copyOfRange(a, 3, 3 + len);
            assertThat(actual).isEqualTo(TestMatrices.canonicalDot(w, b, 1, VectorOps.L));
            double exact = 0, magnitude = 0;
            for (int i = 0; i < len; i++) {
                exact += (double) a[3 + i] * b[1 + i];
                magnitude += Math.abs((double) a[3 + i] * b[1 + i]);
            }
            assertThat((double) actual).isCloseTo(exact, offset(1e-6 * magnitude));
        }
    }

    @Test
    void axpyIsOneFmaPerElement() {
        Random random = new Random(9);
        for (int len : LENGTHS) {
            float[] x = TestMatrices.gaussian(random, len, 1f), y = TestMatrices.gaussian(random, len + 2, 1f);
            float[] expected = y.clone();
            for (int i = 0; i < len; i++) expected[2 + i] = Math.fma(x[i], 0.37f, y[2 + i]);
            VectorOps.axpy(0.37f, x, 0, y, 2, len);
            assertThat(y).containsExactly(expected);
        }
    }

    @Test
    void rmsnormNormalisesAndScales() {
        Random random = new Random(10);
        for (int len : LENGTHS) {
            float[] x = TestMatrices.gaussian(random, len, 3f), weight = TestMatrices.gaussian(random, len, 1f);
            float[] out = new float[len];
            VectorOps.rmsnorm(out, 0, x, 0, weight, 0, len, 1e-5f);
            double ss = 0;
            for (float v : x) ss += (double) v * v;
            double inv = 1 / Math.sqrt(ss / len + 1e-5);
            for (int i = 0; i < len; i++) {
                assertThat((double) out[i]).isCloseTo(x[i] * inv * weight[i], offset(1e-5 * Math.abs(x[i] * inv * weight[i]) + 1e-7));
            }
            VectorOps.rmsnorm(x, 0, x, 0, weight, 0, len, 1e-5f); // in place gives the same
            assertThat(x).containsExactly(out);
        }
    }

    @Test
    void softmaxMatchesTheDefinitionAndMapsMinusInfinityToZero() {
        Random random = new Random(11);
        for (int len : LENGTHS) {
            float[] x = TestMatrices.gaussian(random, len, 4f);
            if (len > 2) x[len / 2] = Float.NEGATIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (float v : x) max = Math.max(max, v);
            for (float v : x) sum += Math.exp(v - max);
            float[] y = x.clone();
            VectorOps.softmax(y, 0, len);
            double total = 0;
            for (int i = 0; i < len; i++) {
                assertThat((double) y[i]).isCloseTo(Math.exp(x[i] - max) / sum, offset(1e-6));
                total += y[i];
            }
            assertThat(total).isCloseTo(1.0, offset(1e-5));
            if (len > 2) assertThat(y[len / 2]).isZero();
            // the same values at another offset of a bigger array give bit-identical results
            float[] shifted = new float[len + 7];
            System.arraycopy(x, 0, shifted, 7, len);
            VectorOps.softmax(shifted, 7, len);
            assertThat(java.util.Arrays.copyOfRange(shifted, 7, 7 + len)).containsExactly(y);
        }
    }

    @Test
    void siluMulIsSwiGlu() {
        Random random = new Random(12);
        for (int len : LENGTHS) {
            float[] a = TestMatrices.gaussian(random, len, 4f), b = TestMatrices.gaussian(random, len, 1f);
            float[] out = a.clone();
            VectorOps.siluMul(out, 0, b, 0, len);
            for (int i = 0; i < len; i++) {
                double expected = a[i] / (1 + Math.exp(-a[i])) * b[i];
                assertThat((double) out[i]).isCloseTo(expected, offset(1e-6 * Math.abs(expected) + 1e-12));
            }
        }
        float[] extreme = {-200f, 200f, 0f};
        VectorOps.siluMul(extreme, 0, new float[]{1f, 1f, 1f}, 0, 3);
        assertThat(extreme[0]).isCloseTo(0f, offset(1e-30f));
        assertThat(extreme[1]).isEqualTo(200f);
        assertThat(extreme[2]).isZero();
    }

    @Test
    void expIsAccurateAndEveryLaneMatchesTheScalarVersion() {
        Random random = new Random(13);
        int l = VectorOps.L;
        float[] in = new float[4096], lanes = new float[l];
        for (int i = 0; i < in.length; i++) in[i] = -87f + random.nextFloat() * 175f;
        for (int i = 0; i < in.length; i += l) {
            VectorOps.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, in, i)).intoArray(lanes, 0);
            for (int k = 0; k < l; k++) {
                float x = in[i + k];
                assertThat(lanes[k]).as("lane %d of exp(%s)", k, x).isEqualTo(VectorOps.exp(x));
                assertThat((double) lanes[k]).isCloseTo(Math.exp(x), offset(3e-7 * Math.exp(x)));
            }
        }
        assertThat(VectorOps.exp(0f)).isEqualTo(1f);
        assertThat(VectorOps.exp(Float.NEGATIVE_INFINITY)).isZero();
        assertThat(VectorOps.exp(-100f)).isZero();
        assertThat(VectorOps.exp(Float.NaN)).isNaN();
    }
}
