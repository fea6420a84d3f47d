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
        int chunks = Math.max(1, Math.min(pool.threads() * CHUNKS_PER_THREAD, rows / ROW_ALIGN));
        int chunkRows = ceilDiv(ceilDiv(rows, chunks), ROW_ALIGN) * ROW_ALIGN;
        int tasks = ceilDiv(rows, chunkRows);
        pool.parallelFor(tasks, i -> w.matmul(x, n, out, outStride, i * chunkRows, Math.min(rows, (i + 1) * chunkRows)));
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
