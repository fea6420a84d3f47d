package dev.quill.engine.tensor;

import java.util.Objects;

/** Batched matrix × activations over a {@link ThreadPool}: rows are split across threads (results do not depend on it). */
public final class Matmul {

    /** Row chunks are multiples of this, so every thread runs whole register tiles. */
    private static final int ROW_ALIGN = 16;
    /** Chunks per thread: a few, so a thread slowed by a noisy neighbour does not hold up the others. */
    private static final int CHUNKS_PER_THREAD = 4;

    private Matmul() {
    }

    /** {@code out[t * w.rows() + r] = Σ_c W[r][c] · x[t * w.cols() + c]} for {@code t < n}, {@code r < w.rows()}. */
    public static void run(ThreadPool pool, WeightMatrix w, float[] x, int n, float[] out) {
        run(pool, w, x, n, out, w.rows());
    }

    /** As {@link #run(ThreadPool, WeightMatrix, float[], int, float[])} with token rows {@code outStride} apart in out. */
    public static void run(ThreadPool pool, WeightMatrix w, float[] x, int n, float[] out, int outStride) {
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(w, "w");
        int rows = w.rows();
        int chunkRows = chunkRows(pool, rows);
        int tasks = ceilDiv(rows, chunkRows);
        pool.parallelFor(tasks, i -> w.matmul(x, n, out, outStride, i * chunkRows, Math.min(rows, (i + 1) * chunkRows)));
    }

    /**
     * {@link #run(ThreadPool, WeightMatrix, float[], int, float[])} for several matrices that read the same
     * activations ({@code ws[i]} into {@code outs[i]}), as one parallel loop: one dispatch instead of several, and the
     * threads balance over all their rows together. Decode issues a few hundred matmuls per token, so this matters.
     */
    public static void run(ThreadPool pool, WeightMatrix[] ws, float[] x, int n, float[][] outs) {
        Objects.requireNonNull(pool, "pool");
        if (ws.length != outs.length) {
            throw new IllegalArgumentException(ws.length + " matrices but " + outs.length + " outputs");
        }
        int[] chunkRows = new int[ws.length];
        int[] firstTask = new int[ws.length + 1];
        for (int m = 0; m < ws.length; m++) {
            chunkRows[m] = chunkRows(pool, ws[m].rows());
            firstTask[m + 1] = firstTask[m] + ceilDiv(ws[m].rows(), chunkRows[m]);
        }
        pool.parallelFor(firstTask[ws.length], i -> {
            int m = 0;
            while (i >= firstTask[m + 1]) m++;
            WeightMatrix w = ws[m];
            int r0 = (i - firstTask[m]) * chunkRows[m];
            w.matmul(x, n, outs[m], w.rows(), r0, Math.min(w.rows(), r0 + chunkRows[m]));
        });
    }

    private static int chunkRows(ThreadPool pool, int rows) {
        int chunks = Math.max(1, Math.min(pool.threads() * CHUNKS_PER_THREAD, rows / ROW_ALIGN));
        return ceilDiv(ceilDiv(rows, chunks), ROW_ALIGN) * ROW_ALIGN;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
