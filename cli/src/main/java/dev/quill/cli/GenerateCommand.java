package dev.quill.cli;

import dev.quill.engine.Engine;
import dev.quill.engine.EngineOptions;
import dev.quill.engine.Engines;
import dev.quill.engine.FinishReason;
import dev.quill.engine.GeneratedToken;
import dev.quill.engine.GenerationListener;
import dev.quill.engine.GenerationRequest;
import dev.quill.engine.sampling.SamplingParams;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code quill generate}: streams a completion of a prompt, then reports prompt and generation speed. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Complete a prompt, printing the text as it is generated, then the speed in tokens/s.")
public final class GenerateCommand implements Callable<Integer> {

    /** Where the launcher's built-in model lives, relative to {@code quill.home}. */
    static final String BUILT_IN_MODEL = "models/quill-tiny.gguf";

    @Spec CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "FILE",
            description = "GGUF model file (default: the built-in ${sys:quill.home}/" + BUILT_IN_MODEL + ")")
    Path model;

    @Option(names = {"-p", "--prompt"}, required = true, description = "the text to continue")
    String prompt;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "64", description = "tokens to generate at most (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0.8", description = "0 is greedy (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-p", defaultValue = "0.95", description = "nucleus sampling, 1 is off (default: ${DEFAULT-VALUE})")
    double topP;

    @Option(names = "--top-k", defaultValue = "40", description = "0 is off (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--min-p", defaultValue = "0", description = "0 is off (default: ${DEFAULT-VALUE})")
    double minP;

    @Option(names = "--repeat-penalty", defaultValue = "1", description = "1 is off (default: ${DEFAULT-VALUE})")
    double repetitionPenalty;

    @Option(names = "--seed", description = "random seed (default: a fresh one)")
    Long seed;

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: all cores)")
    Integer threads;

    @Option(names = {"-c", "--ctx-size"}, defaultValue = "0", description = "context length, 0 for the model's (default: ${DEFAULT-VALUE})")
    int contextLength;

    @Option(names = "--kv-cache", defaultValue = "512MB",
            description = "KV cache memory at most; one sequence at full context is all it takes (default: ${DEFAULT-VALUE})")
    String kvCache;

    @Option(names = "--ignore-eos", description = "keep generating past end-of-generation tokens")
    boolean ignoreEos;

    @Option(names = "--no-warmup", description = "skip compiling the kernels at load (the first tokens then run slowly)")
    boolean noWarmup;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path path = model != null ? model : builtInModel(err);
        if (path == null) return 2;
        EngineOptions options;
        SamplingParams sampling;
        try {
            options = EngineOptions.defaults().withMaxSequences(1).withContextLength(contextLength)
                    .withKvCacheBytes(EngineOptions.parseBytes(kvCache)).withWarmup(!noWarmup);
            if (threads != null) options = options.withThreads(threads);
            sampling = new SamplingParams(temperature, topP, topK, minP, 0, 0, repetitionPenalty, Map.of(), seed);
            if (maxTokens < 0) throw new IllegalArgumentException("-n must be 0 or more, got " + maxTokens);
        } catch (IllegalArgumentException e) {
            err.println("generate: " + e.getMessage());
            return 2;
        }

        long loadStart = System.nanoTime();
        try (Engine engine = Engines.load(path, options, err::println)) {
            err.printf(Locale.ROOT, "loaded %s (%s) in %.2f s, %d threads, context %d%n", engine.info().name(),
                    path.getFileName(), seconds(System.nanoTime() - loadStart), options.threads(), engine.info().contextLength());
            int[] ids = engine.tokenizer().encode(prompt, true, false);
            Printer printer = new Printer(out);
            printer.start = System.nanoTime();
            engine.submit(new GenerationRequest(ids, sampling, maxTokens, -1, false, Set.of(), ignoreEos), printer);
            printer.ended.await();
            out.println();
            out.flush();
            if (printer.error != null) {
                err.println("generate: " + printer.error.getMessage());
                return 1;
            }
            printer.report(err, ids.length);
            return 0;
        } catch (RuntimeException e) {
            err.println("generate: " + e.getMessage());
            return 1;
        } finally {
            err.flush();
        }
    }

    /** The built-in model, or null after explaining why there is none. */
    private static Path builtInModel(PrintWriter err) {
        String home = System.getProperty("quill.home");
        if (home == null) {
            err.println("generate: no model given; pass -m FILE (the built-in model is only known when run through ./quill)");
            return null;
        }
        Path path = Path.of(home).resolve(BUILT_IN_MODEL);
        if (!Files.isRegularFile(path)) {
            err.println("generate: no model given and the built-in model " + path + " is missing; pass -m FILE");
            return null;
        }
        return path;
    }

    /** Prints each piece as it arrives and times the prompt (until the first token) and the rest. */
    private static final class Printer implements GenerationListener {
        final PrintWriter out;
        final CountDownLatch ended = new CountDownLatch(1);
        long start;
        long firstToken;
        long end;
        int generated;
        FinishReason reason;
        Throwable error;

        Printer(PrintWriter out) {
            this.out = out;
        }

        @Override
        public void onToken(GeneratedToken token) {
            if (firstToken == 0) firstToken = System.nanoTime();
            out.print(token.text());
            out.flush();
        }

        @Override
        public void onFinish(FinishReason reason, int stopTokenId, float stopTokenLogprob, int promptTokens, int generatedTokens,
                             int cachedPromptTokens) {
            end = System.nanoTime();
            if (firstToken == 0) firstToken = end;
            this.reason = reason;
            this.generated = generatedTokens;
            ended.countDown();
        }

        @Override
        public void onError(Throwable error) {
            this.error = error;
            ended.countDown();
        }

        void report(PrintWriter err, int promptTokens) {
            double prompt = seconds(firstToken - start);
            err.printf(Locale.ROOT, "prompt:     %5d tokens in %6.2f s = %8.2f tokens/s%n", promptTokens, prompt, promptTokens / prompt);
            double rest = seconds(end - firstToken);
            if (generated > 1 && rest > 0) {
                err.printf(Locale.ROOT, "generation: %5d tokens in %6.2f s = %8.2f tokens/s (after the first token)%n",
                        generated - 1, rest, (generated - 1) / rest);
            }
            err.printf(Locale.ROOT, "stopped: %s after %d tokens%n", reason.name().toLowerCase(Locale.ROOT), generated);
        }
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
