package dev.quill.engine.sampling;

import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One sampling step over a 128k vocabulary (Llama 3 size). Logits are Gaussian (sd 2.5) with five strong tokens on
 * top, a rough stand-in for a language model's row. Run after {@code mvn -pl engine test-compile}, with the test
 * classpath: {@code java --add-modules jdk.incubator.vector -cp ... org.openjdk.jmh.Main SamplerBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SamplerBenchmark {

    static final int VOCAB = 128_256;

    static float[] logits() {
        var random = new SplittableRandom(1);
        float[] logits = new float[VOCAB];
        for (int i = 0; i < VOCAB; i++) logits[i] = (float) (random.nextGaussian() * 2.5);
        for (int i = 0; i < 5; i++) logits[random.nextInt(VOCAB)] = 14 + i;
        return logits;
    }

    @State(Scope.Thread)
    public static class Sampling {
        @Param({"top_p_0.9", "greedy", "temperature_only", "top_k_40", "penalties_top_p_0.9"})
        public String config;

        float[] logits;
        Sampler sampler;

        @Setup
        public void setUp() {
            logits = logits();
            SamplingParams params = switch (config) {
                case "top_p_0.9" -> new SamplingParams(1, 0.9, 0, 0, 0, 0, 1, Map.of(), 7L);
                case "greedy" -> SamplingParams.GREEDY;
                case "temperature_only" -> new SamplingParams(0.8, 1, 0, 0, 0, 0, 1, Map.of(), 7L);
                case "top_k_40" -> new SamplingParams(0.8, 1, 40, 0, 0, 0, 1, Map.of(), 7L);
                case "penalties_top_p_0.9" -> new SamplingParams(1, 0.9, 0, 0, 0.5, 0.5, 1.1, Map.of(5, 2.0), 7L);
                default -> throw new IllegalArgumentException(config);
            };
            var random = new SplittableRandom(2);
            sampler = new Sampler(params, VOCAB, random.ints(2000, 0, VOCAB).toArray());
            for (int i = 0; i < 200; i++) sampler.accept(random.nextInt(VOCAB));
        }
    }

    @State(Scope.Thread)
    public static class Row {
        float[] logits = logits();
    }

    @Benchmark
    public int sample(Sampling state) {
        return state.sampler.sample(state.logits, 0);
    }

    /** Logprobs of one position with the 5 best alternatives (what {@code top_logprobs: 5} costs per token). */
    @Benchmark
    public Logprobs logprobsTop5(Row row) {
        return Logprobs.of(row.logits, 0, VOCAB, 42, 5);
    }
}
