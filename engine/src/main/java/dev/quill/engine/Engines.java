package dev.quill.engine;

import dev.quill.engine.gguf.GgufFile;
import dev.quill.engine.gguf.GgufReader;
import dev.quill.engine.gguf.Metadata;
import dev.quill.engine.model.LanguageModel;
import dev.quill.engine.model.Models;
import dev.quill.engine.scheduler.Scheduler;
import dev.quill.engine.tensor.ThreadPool;
import dev.quill.engine.tokenizer.Tokenizer;
import dev.quill.engine.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Consumer;

/** Loads a model file into a running {@link Engine}. */
public final class Engines {

    /** Part of every fingerprint: a new engine version may compute different numbers. */
    public static final String ENGINE_VERSION = "0.1.0";

    private static final System.Logger LOG = System.getLogger(Engines.class.getName());
    private static final int FINGERPRINT_SAMPLE_BYTES = 1 << 20;

    private Engines() {}

    /**
     * Maps the GGUF file, builds its tokenizer and model, sizes the KV cache and starts the engine loop.
     *
     * @throws dev.quill.engine.gguf.GgufException when the file is missing, corrupt or of an unsupported kind
     * @throws IllegalArgumentException            when the options do not fit the model (e.g. a KV budget too small)
     */
    public static Engine load(Path path, EngineOptions options) {
        return load(path, options, message -> { });
    }

    /**
     * As {@link #load(Path, EngineOptions)}, telling {@code progress} about the steps that take a while, one line
     * each: for now the {@link Warmup} (e.g. {@code warmed up kernels in 1.52 s (50 rounds on a miniature model)}).
     */
    public static Engine load(Path path, EngineOptions options, Consumer<String> progress) {
        ThreadPool pool = new ThreadPool(options.threads());
        GgufFile file = null;
        LanguageModel model = null;
        try {
            file = GgufReader.open(path);
            Metadata md = file.metadata();
            Tokenizer tokenizer = Tokenizers.fromMetadata(md);
            model = Models.load(file, pool);
            Scheduler scheduler = new Scheduler(model, tokenizer, options, pool::offload);
            // After the options proved to fit the model, before the engine loop starts using the pool.
            if (options.warmup()) warmUp(file, tokenizer, pool, options, progress);
            String fileName = path.getFileName().toString();
            ModelInfo info = new ModelInfo(
                    md.findString("general.name").orElse(fileName),
                    md.getString("general.architecture"),
                    scheduler.contextLength(),
                    model.vocabSize(),
                    md.findString("tokenizer.chat_template").orElse(null),
                    fingerprint(path, options));
            var stats = scheduler.stats();
            LOG.log(System.Logger.Level.DEBUG, () -> "loaded " + info.name() + " (" + info.architecture() + ", vocab "
                    + info.vocabSize() + ") with " + options.threads() + " threads; context " + info.contextLength()
                    + ", KV cache " + stats.kvBlocksTotal() + " blocks of " + options.blockSize() + " tokens");
            return new LocalEngine(info, tokenizer, scheduler, model, file, pool);
        } catch (RuntimeException | Error e) {
            if (model != null) model.close();
            if (file != null) file.close();
            pool.close();
            throw e;
        }
    }

    /** Runs the {@link Warmup}; a failure only costs speed, so it is reported and loading goes on. */
    private static void warmUp(GgufFile file, Tokenizer tokenizer, ThreadPool pool, EngineOptions options,
                               Consumer<String> progress) {
        try {
            progress.accept(Warmup.run(file, tokenizer, pool, options).summary());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "kernel warm-up failed; the first requests will run slowly", e);
            progress.accept("kernel warm-up failed, continuing without it: " + e.getMessage());
        }
    }

    /**
     * A short id that changes whenever the output could: the model file (size, modification time and its first
     * megabyte), the engine version and the options that change numerics (KV element type, block size).
     */
    static String fingerprint(Path path, EngineOptions options) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(("quill-engine " + ENGINE_VERSION + "; kv " + (options.kvF16() ? "f16" : "f32")
                    + "; block " + options.blockSize()).getBytes(StandardCharsets.UTF_8));
            sha.update(ByteBuffer.allocate(16).putLong(Files.size(path))
                    .putLong(Files.getLastModifiedTime(path).toMillis()).array());
            try (InputStream in = Files.newInputStream(path)) {
                sha.update(in.readNBytes(FINGERPRINT_SAMPLE_BYTES));
            }
            return "fp_" + HexFormat.of().formatHex(sha.digest(), 0, 5);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + " for its fingerprint", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }
}
