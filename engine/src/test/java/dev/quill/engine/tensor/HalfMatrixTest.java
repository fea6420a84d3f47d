package dev.quill.engine.tensor;

import jdk.incubator.vector.ShortVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static dev.quill.engine.tensor.Quantization.SHORT_LE;
import static org.assertj.core.api.Assertions.assertThat;

class HalfMatrixTest {

    /** All 65,536 f16 bit patterns, one per element, in order. */
    private static short[] everyHalf() {
        short[] h = new short[1 << 16];
        for (int i = 0; i < h.length; i++) h[i] = (short) i;
        return h;
    }

    @Test
    void vectorF16ConversionEqualsFloat16ToFloatForEveryPattern() {
        short[] h = everyHalf();
        float[] converted = new float[h.length];
        for (int i = 0; i < h.length; i += TiledMatrix.L) {
            HalfMatrix.f16ToFloat(ShortVector.fromArray(TiledMatrix.S, h, i)).intoArray(converted, i);
        }
        for (int i = 0; i < h.length; i++) {
            float expected = Float.float16ToFloat(h[i]);
            if (Float.isNaN(expected)) {
                assertThat(converted[i]).as("f16 0x%04x", i).isNaN();
            } else {
                assertThat(Float.floatToRawIntBits(converted[i])).as("f16 0x%04x (%s)", i, expected)
                        .isEqualTo(Float.floatToRawIntBits(expected));
            }
        }
    }

    /** The decode kernel's form of a finite f16: exactly its value times 2^−112, so w·x = scaled·(x·2^112). */
    @Test
    void scaledF16IsTheValueTimes2ToTheMinus112ForEveryFinitePattern() {
        short[] h = everyHalf();
        float[] scaled = new float[h.length];
        for (int i = 0; i < h.length; i += TiledMatrix.L) {
            HalfMatrix.f16Scaled(ShortVector.fromArray(TiledMatrix.S, h, i)).intoArray(scaled, i);
        }
        for (int i = 0; i < h.length; i++) {
            float value = Float.float16ToFloat(h[i]);
            if (!Float.isFinite(value)) continue;
            assertThat(Float.floatToRawIntBits(scaled[i] * 0x1p112f)).as("f16 0x%04x (%s)", i, value)
                    .isEqualTo(Float.floatToRawIntBits(value));
            assertThat(Math.scalb((double) scaled[i], 112)).as("f16 0x%04x", i).isEqualTo((double) value);
        }
    }

    @Test
    void vectorBf16ConversionIsTheTopHalfOfAnF32ForEveryPattern() {
        short[] h = everyHalf();
        float[] converted = new float[h.length];
        for (int i = 0; i < h.length; i += TiledMatrix.L) {
            HalfMatrix.bf16ToFloat(ShortVector.fromArray(TiledMatrix.S, h, i)).intoArray(converted, i);
        }
        for (int i = 0; i < h.length; i++) {
            assertThat(Float.floatToRawIntBits(converted[i])).as("bf16 0x%04x", i).isEqualTo(i << 16);
        }
    }

    /** Activations of 2^16 and more overflow the decode kernel's x·2^112; such rows are recomputed exactly. */
    @Test
    void hugeActivationsGiveTheCanonicalResult() {
        Random random = new Random(6);
        int rows = 6, cols = 64;
        WeightMatrix w = TestMatrices.random(GgmlType.F16, rows, cols, random);
        MemorySegment data = ((TiledMatrix) w).data;
        float[] x = TestMatrices.gaussian(random, cols, 1f);
        x[5] = 0x1p16f;
        x[40] = -3e38f;
        float[] out = new float[rows];
        w.matmul(x, 1, out, rows, 0, rows);
        for (int r = 0; r < rows; r++) {
            float expected = TestMatrices.canonicalDot(TestMatrices.referenceRow(w, data, r), x, 0, TiledMatrix.L);
            assertThat(Float.floatToRawIntBits(out[r])).as("row %d: %s", r, expected)
                    .isEqualTo(Float.floatToRawIntBits(expected));
        }
    }

    /**
     * Rows holding every bit pattern (subnormals, ±0, ±inf, NaNs) give the canonical result on the fused decode path
     * (n = 1) and the panel path (n = 4) alike; rows with an inf or NaN give NaN or ±inf like the reference.
     */
    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16"})
    void everyBitPatternFollowsTheCanonicalOrderOnBothPaths(GgmlType type) {
        int cols = 1000, rows = (1 << 16) / cols + 1; // 1000 = 62·16 + 8: the scalar tail is used too
        short[] h = everyHalf();
        MemorySegment data = Arena.ofAuto().allocate(2L * rows * cols);
        for (int e = 0; e < rows * cols; e++) data.set(SHORT_LE, 2L * e, h[e % h.length]);
        WeightMatrix w = WeightMatrices.of(type, data, rows, cols);
        // Small activations keep the sums of the largest bf16 weights finite.
        float[] x = TestMatrices.gaussian(new Random(5), 4 * cols, type == GgmlType.BF16 ? 0x1p-100f : 1f);
        for (int n : new int[]{1, 4}) {
            float[] out = new float[n * rows];
            w.matmul(x, n, out, rows, 0, rows);
            for (int r = 0; r < rows; r++) {
                float[] wr = TestMatrices.referenceRow(w, data, r);
                for (int t = 0; t < n; t++) {
                    float expected = TestMatrices.canonicalDot(wr, x, t * cols, TiledMatrix.L);
                    float actual = out[t * rows + r];
                    if (Float.isNaN(expected)) {
                        assertThat(actual).as("%s n=%d t=%d row %d", type, n, t, r).isNaN();
                    } else {
                        assertThat(Float.floatToRawIntBits(actual)).as("%s n=%d t=%d row %d: %s", type, n, t, r, expected)
                                .isEqualTo(Float.floatToRawIntBits(expected));
                    }
                }
            }
        }
    }
}
