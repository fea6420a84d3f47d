package dev.quill.engine;

import dev.quill.engine.gguf.GgufFile;
import dev.quill.engine.gguf.GgufReader;
import dev.quill.engine.gguf.GgufValueType;
import dev.quill.engine.gguf.GgufWriter;
import dev.quill.engine.gguf.GgufWriter.TensorSpec;
import dev.quill.engine.gguf.Metadata;
import dev.quill.engine.gguf.TensorInfo;
import dev.quill.engine.model.LanguageModel;
import dev.quill.engine.model.ModelConfig;
import dev.quill.engine.model.Models;
import dev.quill.engine.sampling.SamplingParams;
import dev.quill.engine.scheduler.Scheduler;
import dev.quill.engine.tensor.GgmlType;
import dev.quill.engine.tensor.Quantization;
import dev.quill.engine.tensor.ThreadPool;
import dev.quill.engine.tensor.VectorOps;
import dev.quill.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SequencedSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Gets HotSpot to compile the forward pass and sampling before the first real request. New code runs interpreted,
 * then in C1, until C2 compiles it, and the Vector API kernels are 20–100× slower until then: a cold engine's first
 * request crawls (a 4-token prompt took 1.3 s on the built-in model, a 6-token one 4.6 s on a 1B Q8_0 model).
 *
 * <p>The warm-up writes a <em>miniature</em> of the loaded model to a temporary file: the same architecture, rope
 * and norm settings, head size and query/KV grouping, and for each layer the tensor types of a layer of the real
 * model, but only as wide as the largest block size (32, or 256 with K-quants), four layers deep and with a
 * 256-token vocabulary, so that its cost does not depend on the real model's size. It then runs a fixed mix of
 * requests through a {@link Scheduler} on it, on the engine's own thread pool and with the engine's KV cache
 * settings: a prompt long enough for the panel kernels (with prompt logprobs), decode batches of every size from 8
 * down to 1 (the fused kernels), attention, sampling with every filter and penalty, logprobs, and the real
 * tokenizer's streaming decoder. The per-token vector operations also run at the real model's widths, where their
 * loops are long. Compiled code belongs to the classes, not to a model, so the real model then runs compiled code
 * from its first token.
 *
 * <p>The mix is repeated in rounds until at least {@link #MIN_ROUNDS} have run (the JIT compiles a method after
 * thousands of calls), the last {@link #PATIENCE} were no faster than the fastest before them, and none of Quill's
 * methods is waiting for or in the JIT compiler. On a JVM that has already run a model this takes little more than
 * the minimum rounds, each a few milliseconds.
 *
 * <p>The real model, its KV cache and its scheduler are never touched, the mix uses fixed prompts and seeds, and no
 * kernel's result depends on whether it ran interpreted or compiled, so the warm-up never changes any output; only
 * how many rounds it takes depends on timing.
 */
public final class Warmup {

    private static final System.Logger LOG = System.getLogger(Warmup.class.getName());

    /** The miniature is as wide as the largest block size of the model's tensor types, and at least this. */
    static final int MIN_DIM = 32;
    static final int MIN_LAYERS = 4;
    static final int MAX_VOCAB = 256;
    static final int CONTEXT = 256;
    static final int MIN_ROUNDS = 50;
    static final int PATIENCE = 10;
    static final int MAX_ROUNDS = 200;
    /** A bound for very slow machines: the warm-up only saves time on the first requests. */
    static final long MAX_NANOS = 20_000_000_000L;

    /** What a warm-up did: rounds of the request mix and the time it took, writing the miniature included. */
    public record Result(int rounds, long nanos) {

        /** The progress line the CLI prints, e.g. {@code warmed up kernels in 1.52 s (50 rounds on a miniature model)}. */
        public String summary() {
            return String.format(Locale.ROOT, "warmed up kernels in %.2f s (%d rounds on a miniature model)", nanos / 1e9, rounds);
        }
    }

    private Warmup() {}

    /**
     * Warms up the code that runs the model in {@code file} with {@code tokenizer}, on {@code pool} and with the
     * KV cache and batch settings of {@code options}. Leaves no file behind.
     *
     * @throws UncheckedIOException when the miniature cannot be written to the temporary folder
     */
    public static Result run(GgufFile file, Tokenizer tokenizer, ThreadPool pool, EngineOptions options) {
        long start = System.nanoTime();
        Path mini;
        try {
            mini = Files.createTempFile("quill-warmup-", ".gguf");
            // The finally below misses a server stopped during its warm-up (Ctrl-C, SIGTERM); exit hooks do not.
            mini.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the warm-up model's temporary file: " + e.getMessage(), e);
        }
        try {
            writeMiniature(file, Math.min(MAX_VOCAB, tokenizer.vocabSize()), mini);
            try (GgufFile miniFile = GgufReader.open(mini)) {
                int rounds = runRounds(miniFile, ModelConfig.from(file.metadata()), tokenizer, pool, options);
                return new Result(rounds, System.nanoTime() - start);
            }
        } finally {
            try {
                Files.deleteIfExists(mini);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot delete the warm-up model " + mini, e);
            }
        }
    }

    // ---- the miniature model ---------------------------------------------------------------------------------

    /** The matrices of one transformer block, by their name after {@code blk.N.}. */
    private static final List<String> LAYER_MATRICES = List.of("attn_q.weight", "attn_k.weight", "attn_v.weight",
            "attn_output.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight");

    /** Writes the miniature of the model in {@code file} with a vocabulary of {@code vocab} tokens to {@code out}. */
    static void writeMiniature(GgufFile file, int vocab, Path out) {
        Metadata real = file.metadata();
        ModelConfig c = ModelConfig.from(real);
        String p = c.architecture().id + ".";
        Map<String, TensorInfo> tensors = file.tensors();
        List<List<GgmlType>> layerTypes = distinctLayerTypes(tensors, c.layers());
        int layers = Math.max(MIN_LAYERS, layerTypes.size());
        int dim = MIN_DIM;
        for (TensorInfo t : tensors.values()) dim = Math.max(dim, t.type().blockSize);
        int ffnDim = dim;
        // Query heads come in the real model's groups per KV head; enough groups that the attention output (heads ×
        // value size columns of attn_output) is a whole number of blocks of any type.
        int group = c.groupSize();
        int kvHeads = dim / gcd(dim, group * c.valueDim());
        int heads = kvHeads * group;

        Metadata md = new Metadata();
        md.putString("general.architecture", c.architecture().id);
        md.putString("general.name", "quill-warmup");
        for (var e : real.entries().entrySet()) {
            if (!e.getKey().startsWith(p)) continue; // rope, norm epsilon and scaling as the real model has them
            Metadata.Value v = e.getValue();
            if (v.type() == GgufValueType.ARRAY) md.putArray(e.getKey(), v.elementType(), v.value());
            else md.put(e.getKey(), v.type(), v.value());
        }
        md.putUInt32(p + "vocab_size", vocab);
        md.putUInt32(p + "context_length", CONTEXT);
        md.putUInt32(p + "embedding_length", dim);
        md.putUInt32(p + "block_count", layers);
        md.putUInt32(p + "feed_forward_length", ffnDim);
        md.putUInt32(p + "attention.head_count", heads);
        md.putUInt32(p + "attention.head_count_kv", kvHeads);
        md.putUInt32(p + "attention.key_length", c.headDim());
        md.putUInt32(p + "attention.value_length", c.valueDim());
        md.putUInt32(p + "rope.dimension_count", c.ropeDims());

        int q = heads * c.headDim();
        int kv = kvHeads * c.headDim();
        int v = kvHeads * c.valueDim();
        int attnOut = heads * c.valueDim();
        SplittableRandom random = new SplittableRandom(20260101);
        List<TensorSpec> specs = new ArrayList<>();
        specs.add(matrix("token_embd.weight", type(tensors, "token_embd.weight"), vocab, dim, random));
        if (tensors.containsKey("rope_freqs.weight")) {
            specs.add(vector("rope_freqs.weight", real(file, "rope_freqs.weight", c.ropeDims() / 2)));
        }
        for (int l = 0; l < layers; l++) {
            List<GgmlType> t = layerTypes.get(l % layerTypes.size());
            String b = "blk." + l + ".";
            specs.add(vector(b + "attn_norm.weight", norm(dim, random)));
            specs.add(matrix(b + "attn_q.weight", t.get(0), q, dim, random));
            specs.add(matrix(b + "attn_k.weight", t.get(1), kv, dim, random));
            specs.add(matrix(b + "attn_v.weight", t.get(2), v, dim, random));
            if (c.architecture().qkvBias) {
                specs.add(vector(b + "attn_q.bias", gaussian(q, 0.1, random)));
                specs.add(vector(b + "attn_k.bias", gaussian(kv, 0.1, random)));
                specs.add(vector(b + "attn_v.bias", gaussian(v, 0.1, random)));
            }
            if (c.architecture().qkNorm) {
                specs.add(vector(b + "attn_q_norm.weight", norm(c.headDim(), random)));
                specs.add(vector(b + "attn_k_norm.weight", norm(c.headDim(), random)));
            }
            specs.add(matrix(b + "attn_output.weight", t.get(3), dim, attnOut, random));
            specs.add(vector(b + "ffn_norm.weight", norm(dim, random)));
            specs.add(matrix(b + "ffn_gate.weight", t.get(4), ffnDim, dim, random));
            specs.add(matrix(b + "ffn_up.weight", t.get(5), ffnDim, dim, random));
            specs.add(matrix(b + "ffn_down.weight", t.get(6), dim, ffnDim, random));
        }
        specs.add(vector("output_norm.weight", norm(dim, random)));
        if (tensors.containsKey("output.weight")) {
            specs.add(matrix("output.weight", type(tensors, "output.weight"), vocab, dim, random));
        }
        GgufWriter.write(out, md, specs);
    }

    /** The distinct combinations of matrix types of the real model's layers, in order of first appearance. */
    private static List<List<GgmlType>> distinctLayerTypes(Map<String, TensorInfo> tensors, int layers) {
        SequencedSet<List<GgmlType>> distinct = new LinkedHashSet<>();
        for (int l = 0; l < layers; l++) {
            List<GgmlType> types = new ArrayList<>();
            for (String m : LAYER_MATRICES) types.add(type(tensors, "blk." + l + "." + m));
            distinct.add(List.copyOf(types));
        }
        return List.copyOf(distinct);
    }

    private static GgmlType type(Map<String, TensorInfo> tensors, String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new IllegalStateException("the loaded model has no tensor '" + name + "'");
        return t.type();
    }

    /** A rows × cols matrix of small random weights; ggml dims are {cols, rows}. */
    private static TensorSpec matrix(String name, GgmlType type, int rows, int cols, SplittableRandom random) {
        byte[] data = Quantization.quantize(type, gaussian(rows * cols, 0.05, random));
        return new TensorSpec(name, new long[] {cols, rows}, type, () -> data);
    }

    private static TensorSpec vector(String name, float[] values) {
        byte[] data = Quantization.quantize(GgmlType.F32, values);
        return new TensorSpec(name, new long[] {values.length}, GgmlType.F32, () -> data);
    }

    private static float[] gaussian(int n, double std, SplittableRandom random) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) w[i] = (float) (random.nextGaussian() * std);
        return w;
    }

    private static float[] norm(int n, SplittableRandom random) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) w[i] = (float) (0.9 + 0.2 * random.nextDouble());
        return w;
    }

    /** A small 1-D tensor of the real model (the Llama 3 rope factors), as floats. */
    private static float[] real(GgufFile file, String name, int n) {
        TensorInfo t = file.tensor(name);
        float[] out = new float[n];
        Quantization.dequantize(t.type(), file.data(t), 0, out, 0, n);
        return out;
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    // ---- the request mix -------------------------------------------------------------------------------------

    /** Sequences of one round of the mix (eight at once: the largest batch with the fused decode kernels). */
    static final int MIX_SEQUENCES = 8;
    /** Tokens of the mix's longest prompt: more than four vectors of positions, at 16 lanes too. */
    static final int LONG_PROMPT = 70;

    /**
     * Runs rounds of the mix until they stop getting faster and C2 has nothing of Quill's left to compile (or
     * {@link #MAX_ROUNDS} or {@link #MAX_NANOS} is reached); returns how many ran. Each round runs on a new thread
     * with a new instance of the model and a new scheduler, so that per-thread and per-model scratch buffers start
     * empty every time: the JIT sees them grow, rather than compiling their growth as an uncommon trap that the real
     * model's larger buffers would hit, deoptimizing the kernels during the first request.
     */
    private static int runRounds(GgufFile mini, ModelConfig real, Tokenizer tokenizer, ThreadPool pool,
                                 EngineOptions options) {
        // The real settings that choose code paths (KV element type, block size, batch budget); room for the mix.
        EngineOptions mixOptions = options.withContextLength(CONTEXT).withMaxSequences(MIX_SEQUENCES)
                .withMaxQueue(MIX_SEQUENCES).withKvCacheBytes(Long.MAX_VALUE / 4);
        RealWidths widths = new RealWidths(real);
        long fastest = Long.MAX_VALUE;
        long first = 0;
        long last = 0;
        int sinceFaster = 0;
        int rounds = 0;
        CompilerQueue jit = new CompilerQueue();
        long deadline = System.nanoTime() + MAX_NANOS;
        while (rounds < MAX_ROUNDS && deadline - System.nanoTime() > 0 && !Thread.currentThread().isInterrupted()) {
            long start = System.nanoTime();
            runOnNewThread(() -> {
                try (LanguageModel model = Models.load(mini, pool)) {
                    runMix(new Scheduler(model, tokenizer, mixOptions), model.vocabSize());
                }
                widths.run();
            });
            last = System.nanoTime() - start;
            if (rounds++ == 0) first = last;
            sinceFaster = last < fastest * 0.9 ? 0 : sinceFaster + 1;
            fastest = Math.min(fastest, last);
            if (rounds < MIN_ROUNDS || sinceFaster < PATIENCE) continue;
            if (!jit.compilingQuill()) break;
            // Leave the cores to C2 rather than run rounds that only keep it waiting; then watch the rounds again.
            jit.awaitQuillCompiled(deadline);
            sinceFaster = 0;
        }
        long firstNanos = first, lastNanos = last, fastestNanos = fastest;
        int done = rounds;
        LOG.log(System.Logger.Level.DEBUG, () -> "warm-up: " + done + " rounds; the first took " + firstNanos / 1000
                + " µs, the fastest " + fastestNanos / 1000 + " µs, the last " + lastNanos / 1000 + " µs");
        return rounds;
    }

    private static void runOnNewThread(Runnable body) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = Thread.ofPlatform().name("quill-warmup").start(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        Throwable t = failure.get();
        if (t instanceof RuntimeException e) throw e;
        if (t instanceof Error e) throw e;
    }

    /**
     * HotSpot's compile queues, read with the {@code Compiler.queue} diagnostic command (what {@code jcmd} shows). A
     * large kernel can take C2 a second to compile on a busy machine, and round times do not change until it is
     * installed, so the rounds also go on while one of Quill's methods is queued or being compiled. The platform
     * MBean server that runs the command takes a few hundred milliseconds to start, so it starts in the background
     * while the first rounds run.
     */
    static final class CompilerQueue {
        private static final String[] SIGNATURE = {String[].class.getName()};
        private static final int POLL_MILLIS = 10;
        private final FutureTask<MBeanServer> server = new FutureTask<>(ManagementFactory::getPlatformMBeanServer);

        CompilerQueue() {
            Thread.ofPlatform().name("quill-warmup-jmx").daemon(true).start(server);
        }

        /**
         * Whether C2 is compiling a method of Quill's or has one queued; false when the queue cannot be read. (Code
         * that runs once per round, such as loading the miniature, reaches C1 but not C2 during the warm-up.)
         */
        boolean compilingQuill() {
            try {
                Object queue = server.get().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
                        "compilerQueue", new Object[] {null}, SIGNATURE);
                return queue instanceof String text && text.lines().anyMatch(CompilerQueue::isQuillForC2);
            } catch (JMException | ExecutionException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "cannot read the JIT compile queue; warming up by round times alone", e);
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        /** Waits while C2 compiles Quill's methods, until {@code deadline} (a {@link System#nanoTime()}) at most. */
        void awaitQuillCompiled(long deadline) {
            try {
                while (compilingQuill() && deadline - System.nanoTime() > 0) Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /**
         * Whether a task line such as {@code 2887 %     4       dev.quill.engine.model.Transformer::rope (158 bytes)}
         * is C2 (tier 4) work on a method that serving runs (the warm-up's own do not count).
         */
        static boolean isQuillForC2(String line) {
            String[] fields = line.strip().split("\\s+");
            for (int i = 1; i < fields.length; i++) {
                if (fields[i].startsWith("dev.quill.")) {
                    return fields[i - 1].equals("4") && !fields[i].startsWith(Warmup.class.getName()); // tier, then method
                }
            }
            return false;
        }
    }

    /**
     * The per-token vector operations of a layer at the real model's widths. In the miniature they run over a few
     * vectors, so they neither reach the JIT's thresholds nor show in the round times the way they would in the real
     * model, whose long loops over C1-compiled Vector API code are very slow.
     */
    private static final class RealWidths {
        private static final int CALLS = 32;
        private final int dim;
        private final int ffn;
        private final float[] x, weight, out, gate, up, activations;
        private final float eps;

        RealWidths(ModelConfig c) {
            dim = c.dim();
            ffn = c.ffnDim();
            eps = c.rmsEps();
            x = ramp(dim);
            weight = ramp(dim);
            out = new float[dim];
            gate = ramp(ffn);
            up = ramp(ffn);
            activations = new float[ffn];
        }

        void run() {
            for (int i = 0; i < CALLS; i++) {
                VectorOps.rmsnorm(out, 0, x, 0, weight, 0, dim, eps);
                VectorOps.axpy(1f, out, 0, x, 0, dim);
                VectorOps.axpy(-1f, out, 0, x, 0, dim);
                System.arraycopy(gate, 0, activations, 0, ffn); // siluMul works in place; start from the same values
                VectorOps.siluMul(activations, 0, up, 0, ffn);
            }
        }

        private static float[] ramp(int n) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = 0.5f + (i % 17) / 34f;
            return v;
        }
    }

    /** One round: eight sequences at once that end one after the other, then waits for all to finish. */
    private static void runMix(Scheduler scheduler, int vocab) {
        SamplingParams everything = new SamplingParams(0.8, 0.9, 40, 0.02, 0.5, 0.5, 1.1, Map.of(1, 1.5), 1L);
        SamplingParams plain = new SamplingParams(1.0, 1, 0, 0, 0, 0, 1, Map.of(), 2L);
        SamplingParams greedy = new SamplingParams(0, 1, 0, 0, 0, 0, 1, Map.of(), 3L);
        Counter done = new Counter();
        // A prompt long enough for the panel kernels and for attention's four-vectors-at-once loop over the keys
        // (a shorter one left that loop to be compiled as an uncommon trap, which the first real prompt hit), with
        // prompt logprobs; it generates the longest.
        submit(scheduler, prompt(LONG_PROMPT, vocab, 1), everything, 10, 5, true, 1, done);
        // Two sequences sharing one prompt (n = 2).
        submit(scheduler, prompt(9, vocab, 2), plain, 8, 0, false, 2, done);
        // Short prompts, greedy and sampled, ending one after another so decode batches shrink from 8 to 1.
        for (int i = 0; i < 5; i++) {
            submit(scheduler, prompt(1 + i, vocab, 3 + i), i % 2 == 0 ? greedy : plain,
                    2 + i, i == 0 ? 2 : -1, false, 1, done);
        }
        while (scheduler.step()) {
            // steps until every sequence of the round has finished
        }
        if (done.finished.get() != MIX_SEQUENCES) {
            throw new IllegalStateException("warm-up: " + done.finished.get() + " of " + MIX_SEQUENCES
                    + " sequences finished" + (done.error == null ? "" : ": " + done.error.getMessage()), done.error);
        }
    }

    private static void submit(Scheduler scheduler, int[] prompt, SamplingParams sampling, int maxTokens, int logprobs,
                               boolean promptLogprobs, int sequences, Counter done) {
        GenerationRequest request = new GenerationRequest(prompt, sampling, maxTokens, logprobs, promptLogprobs, Set.of(), true);
        scheduler.submit(request, Collections.nCopies(sequences, done));
    }

    /** {@code length} token ids spread over the vocabulary, the same every time. */
    private static int[] prompt(int length, int vocab, int salt) {
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) ids[i] = (int) ((i * 7919L + salt * 104729L) % vocab);
        return ids;
    }

    /** Counts finished sequences; the warm-up's output itself is thrown away. */
    private static final class Counter implements GenerationListener {
        final AtomicInteger finished = new AtomicInteger();
        volatile Throwable error;

        @Override
        public void onToken(GeneratedToken token) {}

        @Override
        public void onFinish(FinishReason reason, int stopTokenId, float stopTokenLogprob, int promptTokens, int generatedTokens,
                             int cachedPromptTokens) {
            finished.incrementAndGet();
        }

        @Override
        public void onError(Throwable error) {
            this.error = error;
        }
    }
}
