package dev.quill.engine.tensor;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * {@link Matmul#run} on a 2-thread {@link ThreadPool}. Besides time per call, the aux counters report weight bytes
 * streamed per second ({@code weightBytes}: decode is bandwidth-bound) and floating-point operations per second
 * ({@code flops}: 2·rows·cols·n, prefill is compute-bound).
 *
 * <pre>
 * mvn -B -q -o -pl engine test-compile &amp;&amp; mvn -B -q -o -pl engine dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java --add-modules jdk.incubator.vector -cp engine/target/test-classes:engine/target/classes:$(cat /tmp/cp.txt) \
 *     org.openjdk.jmh.Main MatmulBenchmark -p type=Q8_0 -p n=1
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MatmulBenchmark {

    @Param({"Q8_0", "Q4_0", "F16", "BF16", "F32", "Q4_K", "Q5_K", "Q6_K"})
    public GgmlType type;

    /** rows×cols: an attention projection and an FFN up/gate projection of a 1B model. */
    @Param({"2048x2048", "8192x2048"})
    public String shape;

    /** Tokens: one decode step, a small decode batch (the fused tile kernels), a prefill chunk (the panels). */
    @Param({"1", "4", "64"})
    public int n;

    @Param({"2"})
    public int threads;

    private Arena arena;
    private ThreadPool pool;
    private WeightMatrix w;
    private float[] x, out;

    @Setup(Level.Trial)
    public void setUp() {
        int rows = Integer.parseInt(shape.substring(0, shape.indexOf('x')));
        int cols = Integer.parseInt(shape.substring(shape.indexOf('x') + 1));
        Random random = new Random(42);
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) values[i] = (float) random.nextGaussian() * 0.02f;
        byte[] bytes = Quantization.quantize(type, values);
        arena = Arena.ofShared();
        MemorySegment data = arena.allocate(bytes.length, 4096);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, data, 0, bytes.length);
        w = WeightMatrices.of(type, data, rows, cols);
        x = new float[n * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        out = new float[n * rows];
        pool = new ThreadPool(threads);
        compileOnShortRows(random);
    }

    /**
     * Runs every path of the kernels on a matrix one block wide, as the engine's warm-up does with its miniature
     * model, so that C2 compiles them by call count. Otherwise a kernel's first compilation is on-stack replacement
     * inside a long call, and on 8-lane (AVX2) machines the normal compilation that followed kept its accumulators as
     * heap objects, an allocation per FMA, which the server never runs (see docs/performance.md, 8-lane machines).
     */
    private void compileOnShortRows(Random random) {
        int cols = type.blockSize, rows = 64;
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) values[i] = (float) random.nextGaussian() * 0.02f;
        byte[] bytes = Quantization.quantize(type, values);
        MemorySegment data = arena.allocate(bytes.length, 4096);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, data, 0, bytes.length);
        WeightMatrix small = WeightMatrices.of(type, data, rows, cols);
        float[] xs = new float[16 * cols], outs = new float[16 * rows];
        for (int i = 0; i < 3000; i++) {
            for (int tokens : new int[] {1, 2, 3, 4, 5, 8, 16}) Matmul.run(pool, small, xs, tokens, outs);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Rates {
        public long weightBytes;
        public long flops;
    }

    @Benchmark
    public float[] matmul(Rates rates) {
        Matmul.run(pool, w, x, n, out);
        rates.weightBytes += w.rows() * w.type().bytesFor(w.cols());
        rates.flops += 2L * w.rows() * w.cols() * n;
        return out;
    }
}
