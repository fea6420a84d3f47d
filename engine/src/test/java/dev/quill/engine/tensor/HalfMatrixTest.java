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
