package dev.quill.engine.tensor;

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

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

/** Cost of one {@link ThreadPool#parallelFor} dispatch with trivial tasks (a decode step issues ~100 of them). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ThreadPoolBenchmark {

    @Param({"2"})
    public int threads;

    @Param({"2", "8"})
    public int tasks;

    private ThreadPool pool;
    private AtomicIntegerArray counters;

    @Setup(Level.Trial)
    public void setUp() {
        pool = new ThreadPool(threads);
        counters = new AtomicIntegerArray(tasks * 16);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
    }

    @Benchmark
    public void dispatch() {
        pool.parallelFor(tasks, i -> counters.incrementAndGet(i * 16));
    }
}
