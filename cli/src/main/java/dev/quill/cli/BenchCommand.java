package dev.quill.cli;

import dev.quill.engine.EngineOptions;
import dev.quill.engine.Warmup;
import dev.quill.engine.gguf.GgufFile;
import dev.quill.engine.gguf.GgufReader;
import dev.quill.engine.gguf.TensorInfo;
import dev.quill.engine.model.KvCache;
import dev.quill.engine.model.LanguageModel;
import dev.quill.engine.model.Models;
import dev.quill.engine.model.SequenceChunk;
import dev.quill.engine.tensor.ThreadPool;
import dev.quill.engine.tokenizer.Tokenizers;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.function.IntToDoubleFunction;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code quill bench}: prompt processing and generation speed of the forward pass alone, the way llama-bench
 * measures them. {@code ppN} computes an N-token prompt in one pass into an empty cache; {@code tgN} decodes N tokens
 * one pass each, starting from an empty cache; with {@code --batch B}, B sequences decode side by side (one token of
 * each per pass, each with its own cache blocks) and the rate counts all their tokens. With {@code --depth D} every
 * sequence's cache already holds D tokens when each test starts ({@code pp512 @ d1024}, as llama-bench's
 * {@code -d}), which is where attention's share of the work shows. Tokens are random ids; the model's output is not
 * used.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prompt processing (ppN) and generation (tgN) speed in tokens/s, like llama-bench.")
public final class BenchCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model file")
    Path model;

    @Option(names = {"-p", "--n-prompt"}, defaultValue = "512", description = "prompt tokens, 0 to skip (default: ${DEFAULT-VALUE})")
    int promptTokens;

    @Option(names = {"-n", "--n-gen"}, defaultValue = "128", description = "generated tokens, 0 to skip (default: ${DEFAULT-VALUE})")
    int genTokens;

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: all cores)")
    Integer threads;

    @Option(names = {"-r", "--repetitions"}, defaultValue = "5", description = "measured runs of each test (default: ${DEFAULT-VALUE})")
    int repetitions;

    @Option(names = {"-b", "--batch"}, defaultValue = "1",
            description = "sequences decoding together in tgN: each pass computes one token of each (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = {"-d", "--depth"}, defaultValue = "0",
            description = "tokens already in each sequence's KV cache before every test, as after a long prompt"
                    + " (tests are then named like 'tg128 @ d1024'; default: ${DEFAULT-VALUE})")
    int depth;

    @Option(names = "--kv-f32", description = "keep the KV cache in F32 instead of F16")
    boolean kvF32;

    @Option(names = "--no-warmup", description = "skip the engine's kernel warm-up (each test still has its own warm-up run)")
    boolean noWarmup;

    private static final int BLOCK_SIZE = 16;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (promptTokens < 0 || genTokens < 0 || depth < 0 || repetitions < 1 || batch < 1
                || (threads != null && threads < 1)) {
            err.println("bench: -p, -n and --depth must be 0 or more, --repetitions, --batch and --threads at least 1");
            return 2;
        }
        int pool = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        try (ThreadPool workers = new ThreadPool(pool); GgufFile file = GgufReader.open(model)) {
            LanguageModel lm = Models.load(file, workers);
            try {
                if (!noWarmup) {
                    EngineOptions options = EngineOptions.defaults().withThreads(pool).withBlockSize(BLOCK_SIZE).withKvF16(!kvF32);
                    err.println(Warmup.run(file, Tokenizers.fromMetadata(file.metadata()), workers, options).summary());
                }
                int positions = depth + Math.max(Math.max(promptTokens, genTokens), 1);
                if (positions > lm.contextLength()) {
                    err.println("bench: --depth " + depth + " plus the test's tokens is " + positions
                            + " positions, more than the model's context of " + lm.contextLength());
                    return 2;
                }
                int blocks = (positions + BLOCK_SIZE - 1) / BLOCK_SIZE;
                KvCache cache = lm.createKvCache(blocks * batch, BLOCK_SIZE, !kvF32);
                int[][] blockTables = new int[batch][];
                for (int b = 0; b < batch; b++) blockTables[b] = IntStream.range(b * blocks, (b + 1) * blocks).toArray();
                Runner runner = new Runner(lm, cache, blockTables, depth);
                if (depth > 0) {
                    err.printf(Locale.ROOT, "filling the KV cache: %d tokens × %d sequences%n", depth, batch);
                    runner.fill();
                }
                String at = depth > 0 ? " @ d" + depth : "";

                String name = file.metadata().findString("general.name").orElse(model.getFileName().toString());
                long params = file.tensors().values().stream().mapToLong(TensorInfo::elementCount).sum();
                out.println("| model                          |       size |     params | threads |  test |              t/s |");
                out.println("| ------------------------------ | ---------: | ---------: | ------: | ----: | ---------------: |");
                String prefix = String.format(Locale.ROOT, "| %-30s | %10s | %10s | %7d |", name,
                        size(Files.size(model)), count(params), pool);
                if (promptTokens > 0) {
                    out.println(prefix + measure(err, "pp" + promptTokens + at, promptTokens, runner::prompt, runner::prompt));
                    out.flush();
                }
                if (genTokens > 0) {
                    int warmUp = Math.min(genTokens, 32);
                    String test = "tg" + genTokens + (batch > 1 ? "x" + batch : "") + at;
                    out.println(prefix + measure(err, test, genTokens * batch,
                            n -> runner.generate(genTokens), n -> runner.generate(warmUp)));
                    out.flush();
                }
            } finally {
                lm.close();
            }
            return 0;
        } catch (Exception e) {
            err.println("bench: " + e.getMessage());
            return 1;
        }
    }

    /** One warm-up, then {@code repetitions} timed runs; the table cells "test | mean ± sd |". */
    private String measure(PrintWriter err, String test, int tokens, IntToDoubleFunction run, IntToDoubleFunction warmUp) {
        err.printf(Locale.ROOT, "%s: warm-up%n", test);
        warmUp.applyAsDouble(tokens);
        double[] rates = new double[repetitions];
        for (int i = 0; i < repetitions; i++) {
            rates[i] = tokens / run.applyAsDouble(tokens);
            err.printf(Locale.ROOT, "%s: run %d/%d: %.2f tokens/s%n", test, i + 1, repetitions, rates[i]);
        }
        return String.format(Locale.ROOT, " %5s | %8.2f ± %5.2f |", test, Stats.mean(rates), Stats.sd(rates));
    }

    private static String size(long bytes) {
        return bytes >= 1L << 30
                ? String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%.2f MiB", bytes / (double) (1L << 20));
    }

    private static String count(long n) {
        return n >= 1_000_000_000L
                ? String.format(Locale.ROOT, "%.2f B", n / 1e9)
                : String.format(Locale.ROOT, "%.2f M", n / 1e6);
    }

    /**
     * Runs the timed passes; each returns its duration in seconds. Positions {@code [0, depth)} of every sequence are
     * filled once by {@link #fill} and stay valid: the timed passes only write the positions after them.
     */
    private record Runner(LanguageModel model, KvCache cache, int[][] blockTables, int depth) {
        private static final SplittableRandom RANDOM = new SplittableRandom(42);

        /** Untimed: a {@code depth}-token prompt for every sequence. */
        void fill() {
            for (int[] table : blockTables) {
                int[] tokens = RANDOM.ints(depth, 0, model.vocabSize()).toArray();
                model.forward(List.of(new SequenceChunk(tokens, 0, table, false)), cache);
            }
        }

        /** One pass over {@code n} prompt tokens at positions depth.. (only the last token's logits). */
        double prompt(int n) {
            int[] tokens = RANDOM.ints(n, 0, model.vocabSize()).toArray();
            long start = System.nanoTime();
            model.forward(List.of(new SequenceChunk(tokens, depth, blockTables[0], false)), cache);
            return (System.nanoTime() - start) / 1e9;
        }

        /** {@code n} passes at positions depth .. depth+n-1, each computing one token of every sequence in the batch. */
        double generate(int n) {
            int[][] tokens = new int[blockTables.length][];
            for (int b = 0; b < tokens.length; b++) tokens[b] = RANDOM.ints(n, 0, model.vocabSize()).toArray();
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                List<SequenceChunk> chunks = new ArrayList<>(tokens.length);
                for (int b = 0; b < tokens.length; b++) {
                    chunks.add(new SequenceChunk(new int[] {tokens[b][i]}, depth + i, blockTables[b], false));
                }
                model.forward(chunks, cache);
            }
            return (System.nanoTime() - start) / 1e9;
        }
    }
}
