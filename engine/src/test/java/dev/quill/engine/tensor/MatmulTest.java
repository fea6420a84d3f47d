package dev.quill.engine.tensor;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class MatmulTest {

    /** Splitting rows over threads never changes a result: each (token, row) is computed independently. */
    @Test
    void resultsAreIdenticalForAnyThreadCount() {
        Random random = new Random(6);
        for (GgmlType type : new GgmlType[]{GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.F16}) {
            int rows = 101, cols = 512;
            WeightMatrix w = TestMatrices.random(type, rows, cols, random);
            for (int n : new int[]{1, 6}) {
                float[] x = TestMatrices.gaussian(random, n * cols, 1f);
                float[] expected = new float[n * rows];
                w.matmul(x, n, expected, rows, 0, rows);
                for (int threads = 1; threads <= 3; threads++) {
                    try (ThreadPool pool = new ThreadPool(threads)) {
                        float[] out = new float[n * rows];
                        Matmul.run(pool, w, x, n, out);
                        assertThat(out).as("%s n=%d threads=%d", type, n, threads).containsExactly(expected);
                    }
                }
            }
        }
    }

    @Test
    void writesTokenRowsAtTheGivenStride() {
        Random random = new Random(7);
        int rows = 40, cols = 64, n = 3, stride = 50;
        WeightMatrix w = TestMatrices.random(GgmlType.Q8_0, rows, cols, random);
        float[] x = TestMatrices.gaussian(random, n * cols, 1f);
        float[] packed = new float[n * rows];
        float[] strided = new float[n * stride];
        java.util.Arrays.fill(strided, Float.NaN);
        try (ThreadPool pool = new ThreadPool(2)) {
            Matmul.run(pool, w, x, n, packed);
            Matmul.run(pool, w, x, n, strided, stride);
        }
        for (int t = 0; t < n; t++) {
            for (int r = 0; r < rows; r++) assertThat(strided[t * stride + r]).isEqualTo(packed[t * rows + r]);
            for (int r = rows; r < stride && t < n - 1; r++) assertThat(strided[t * stride + r]).isNaN();
        }
    }

    /** Matrices sharing an input run as one loop with exactly the results of running each on its own. */
    @Test
    void severalMatricesOverOneInputEqualSeparateRuns() {
        Random random = new Random(8);
        int cols = 256;
        WeightMatrix[] ws = {
                TestMatrices.random(GgmlType.Q8_0, 70, cols, random),
                TestMatrices.random(GgmlType.Q4_0, 16, cols, random),
                TestMatrices.random(GgmlType.F16, 133, cols, random)};
        for (int n : new int[]{1, 5}) {
            float[] x = TestMatrices.gaussian(random, n * cols, 1f);
            float[][] outs = new float[ws.length][];
            for (int m = 0; m < ws.length; m++) outs[m] = new float[n * ws[m].rows()];
            try (ThreadPool pool = new ThreadPool(2)) {
                Matmul.run(pool, ws, x, n, outs);
                for (int m = 0; m < ws.length; m++) {
                    float[] alone = new float[n * ws[m].rows()];
                    Matmul.run(pool, ws[m], x, n, alone);
                    assertThat(outs[m]).as("matrix %d n=%d", m, n).containsExactly(alone);
                }
            }
        }
    }

    @Test
    void severalMatricesNeedOneOutputEach() {
        WeightMatrix w = TestMatrices.random(GgmlType.Q8_0, 16, 64, new Random(9));
        try (ThreadPool pool = new ThreadPool(1)) {
            org.assertj.core.api.Assertions.assertThatThrownBy(
                            () -> Matmul.run(pool, new WeightMatrix[]{w, w}, new float[64], 1, new float[][]{new float[16]}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("2 matrices but 1 outputs");
        }
    }
}
