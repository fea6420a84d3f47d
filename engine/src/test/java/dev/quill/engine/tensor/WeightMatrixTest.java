package dev.quill.engine.tensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WeightMatrixTest {

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void dequantizeRowIsBitIdenticalToTheScalarReference(GgmlType type) {
        Random random = new Random(1);
        for (int cols : TestMatrices.colsFor(type)) {
            WeightMatrix w = TestMatrices.random(type, 5, cols, random);
            MemorySegment data = segmentOf(w);
            for (int r = 0; r < 5; r++) {
                float[] row = new float[cols + 3];
                w.dequantizeRow(r, row, 3);
                float[] expected = TestMatrices.referenceRow(w, data, r);
                for (int c = 0; c < cols; c++) {
                    assertThat(row[3 + c]).as("%s %d×%d row %d col %d", type, 5, cols, r, c).isEqualTo(expected[c]);
                }
            }
        }
    }

    /**
     * Every path (fused decode for n ≤ 3, register-tiled panels for larger n, row tails) reproduces the canonical
     * order bit for bit; the canonical order itself is within float rounding of the exact dot product.
     */
    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void matmulFollowsTheCanonicalOrderAndMatchesTheReference(GgmlType type) {
        Random random = new Random(2);
        for (int cols : TestMatrices.colsFor(type)) {
            for (int rows : new int[]{1, 4, 7, 13}) {
                WeightMatrix w = TestMatrices.random(type, rows, cols, random);
                MemorySegment data = segmentOf(w);
                for (int n : new int[]{1, 2, 3, 4, 5, 8, 9, 13, 16}) {
                    float[] x = TestMatrices.gaussian(random, n * cols, 1f);
                    float[] out = new float[n * rows];
                    w.matmul(x, n, out, rows, 0, rows);
                    for (int r = 0; r < rows; r++) {
                        float[] wr = TestMatrices.referenceRow(w, data, r);
                        for (int t = 0; t < n; t++) {
                            float actual = out[t * rows + r];
                            assertThat(actual).as("%s %d×%d n=%d (t=%d, r=%d)", type, rows, cols, n, t, r)
                                    .isEqualTo(TestMatrices.canonicalDot(wr, x, t * cols, TiledMatrix.L));
                            double exact = 0, magnitude = 0;
                            for (int c = 0; c < cols; c++) {
                                exact += (double) wr[c] * x[t * cols + c];
                                magnitude += Math.abs((double) wr[c] * x[t * cols + c]);
                            }
                            assertThat((double) actual).isCloseTo(exact,
                                    org.assertj.core.data.Offset.offset(1e-6 * magnitude + 1e-30));
                        }
                    }
                }
            }
        }
    }

    /** out[t][r] must not depend on the batch size, the token's position in the batch, or the row range computed. */
    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void resultsAreBatchInvariant(GgmlType type) {
        Random random = new Random(3);
        int cols = TestMatrices.colsFor(type)[1], rows = 23;
        WeightMatrix w = TestMatrices.random(type, rows, cols, random);
        float[] probe = TestMatrices.gaussian(random, cols, 1f);
        float[] single = new float[rows];
        w.matmul(probe, 1, single, rows, 0, rows);
        for (int n = 1; n <= 17; n++) {
            int position = random.nextInt(n);
            float[] x = TestMatrices.gaussian(random, n * cols, 1f);
            System.arraycopy(probe, 0, x, position * cols, cols);
            float[] out = new float[n * rows];
            int split = random.nextInt(rows + 1);
            w.matmul(x, n, out, rows, 0, split);
            w.matmul(x, n, out, rows, split, rows);
            for (int r = 0; r < rows; r++) {
                assertThat(out[position * rows + r]).as("%s n=%d position=%d split=%d row=%d", type, n, position, split, r)
                        .isEqualTo(single[r]);
            }
        }
    }

    /**
     * Whatever row range a call computes, each row gets the bits it gets alone (1 to 17 tokens: every decode kernel
     * and tile with its leftovers): the decode kernels group rows that are (r1 − r0) / k apart within the range, so every range size exercises a different grouping, tail and output
     * placement, and rows outside the range are left untouched.
     */
    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16", "Q8_0", "Q4_0"})
    void everyRowRangeGivesEachRowItsOwnResult(GgmlType type) {
        int rows = 19, cols = TestMatrices.colsFor(type)[1];
        WeightMatrix w = TestMatrices.random(type, rows, cols, new Random(4));
        Random random = new Random(5);
        for (int n = 1; n <= 17; n++) {
            float[] x = TestMatrices.gaussian(random, n * cols, 1f);
            float[] alone = new float[n * rows];
            for (int r = 0; r < rows; r++) w.matmul(x, n, alone, rows, r, r + 1);
            for (int r0 = 0; r0 < rows; r0++) {
                for (int r1 = r0 + 1; r1 <= rows; r1++) {
                    float[] out = new float[n * rows];
                    java.util.Arrays.fill(out, Float.NaN);
                    w.matmul(x, n, out, rows, r0, r1);
                    for (int t = 0; t < n; t++) {
                        for (int r = 0; r < rows; r++) {
                            float expected = r >= r0 && r < r1 ? alone[t * rows + r] : Float.NaN;
                            assertThat(Float.floatToRawIntBits(out[t * rows + r]))
                                    .as("%s n=%d rows [%d, %d) t=%d r=%d", type, n, r0, r1, t, r)
                                    .isEqualTo(Float.floatToRawIntBits(expected));
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_K"})
    void matmulRejectsBadArguments(GgmlType type) {
        int cols = type.blockSize * 2;
        WeightMatrix w = TestMatrices.random(type, 8, cols, new Random(4));
        float[] x = new float[2 * cols];
        assertThatThrownBy(() -> w.matmul(x, 3, new float[24], 8, 0, 8))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("x has " + x.length);
        assertThatThrownBy(() -> w.matmul(x, 2, new float[10], 8, 0, 8))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out has 10");
        assertThatThrownBy(() -> w.matmul(x, 2, new float[16], 8, 4, 9))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("row range [4, 9)");
        assertThatThrownBy(() -> w.dequantizeRow(8, new float[cols], 0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> w.dequantizeRow(0, new float[cols], 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside an array of length " + cols);
    }

    private static MemorySegment segmentOf(WeightMatrix w) {
        return ((TiledMatrix) w).data;
    }
}
