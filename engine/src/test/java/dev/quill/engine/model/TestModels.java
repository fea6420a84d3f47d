package dev.quill.engine.model;

import dev.quill.engine.fixture.ModelShape;
import dev.quill.engine.fixture.RandomModel;
import dev.quill.engine.tensor.GgmlType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tiny random models covering every architectural feature, written once per test run into a temporary directory.
 * Weights use a larger spread than a real model (0.1 rather than 0.02) so that attention is sharply peaked and a
 * wrong position, rope or mask changes the logits visibly.
 */
final class TestModels {

    /** The model variants, between them covering every switch of the forward pass. */
    enum Variant {
        /** Llama with grouped-query attention (4 query heads share 2 KV heads) and a separate output matrix. */
        LLAMA_GQA(Architecture.LLAMA, ModelShape.TINY, false, false),
        /** Llama with all 4 query heads on one KV head: attention takes the four heads of a token together. */
        LLAMA_ONE_KV_HEAD(Architecture.LLAMA, ModelShape.TINY.withKvHeads(1), false, false),
        /** Llama 3.1-style rope frequency factors, tied embeddings, one KV head per query head. */
        LLAMA_ROPE_FACTORS_TIED(Architecture.LLAMA, ModelShape.TINY.withKvHeads(4), true, true),
        /** Qwen2 with Q/K/V biases, NeoX rope, tied embeddings. */
        QWEN2_BIAS_TIED(Architecture.QWEN2, ModelShape.TINY, true, false),
        /** Qwen3 with per-head Q/K norms and head size 128 ≠ dim / heads = 64, GQA. */
        QWEN3_QK_NORM(Architecture.QWEN3, ModelShape.TINY.withHeadDim(128), false, false);

        final Architecture architecture;
        final ModelShape shape;
        final boolean tied;
        final boolean ropeFactors;

        Variant(Architecture architecture, ModelShape shape, boolean tied, boolean ropeFactors) {
            this.architecture = architecture;
            this.shape = shape;
            this.tied = tied;
            this.ropeFactors = ropeFactors;
        }
    }

    private static final Path DIR;
    private static final Map<String, Path> FILES = new ConcurrentHashMap<>();

    static {
        try {
            DIR = Files.createTempDirectory("quill-test-models");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try (var files = Files.list(DIR)) {
                files.forEach(f -> f.toFile().delete());
                DIR.toFile().delete();
            } catch (IOException ignored) {
                // best effort: it is a temporary directory
            }
        }));
    }

    private TestModels() {
    }

    static Path file(Variant v, GgmlType type) {
        String name = (v.name() + "-" + type.name()).toLowerCase(Locale.ROOT) + ".gguf";
        return FILES.computeIfAbsent(name, n -> {
            Path path = DIR.resolve(n);
            new RandomModel(v.architecture, v.shape, type).seed(v.ordinal() * 100L + type.id).weightStd(0.1f)
                    .tiedEmbeddings(v.tied).ropeFactors(v.ropeFactors).write(path, msg -> { });
            return path;
        });
    }

    static Path directory() {
        return DIR;
    }
}
