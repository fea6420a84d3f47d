package dev.quill.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quill.engine.fixture.ModelShape;
import dev.quill.engine.fixture.RandomModel;
import dev.quill.engine.gguf.GgufFile;
import dev.quill.engine.gguf.GgufReader;
import dev.quill.engine.gguf.GgufWriter;
import dev.quill.engine.gguf.GgufWriter.TensorSpec;
import dev.quill.engine.gguf.TensorInfo;
import dev.quill.engine.model.Architecture;
import dev.quill.engine.model.KvCache;
import dev.quill.engine.model.LanguageModel;
import dev.quill.engine.model.ModelConfig;
import dev.quill.engine.model.Models;
import dev.quill.engine.model.SequenceChunk;
import dev.quill.engine.sampling.SamplingParams;
import dev.quill.engine.tensor.GgmlType;
import dev.quill.engine.tensor.Quantization;
import dev.quill.engine.tensor.ThreadPool;
import dev.quill.engine.tokenizer.Tokenizers;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kernel warm-up: the miniature it builds, and an engine that is warmed up computing exactly what a cold one does. */
class WarmupTest {

    @TempDir Path dir;

    @Test
    void theMiniatureHasTheModelsArchitectureAndEachLayersTensorTypes() {
        Path base = dir.resolve("qwen2.gguf");
        new RandomModel(Architecture.QWEN2, ModelShape.TINY, GgmlType.Q8_0).seed(4).write(base, m -> { });
        // Layer 1 differs from layer 0, as in llama.cpp's mixed quantizations (Q4_K_M keeps some tensors in Q6_K).
        Path real = dir.resolve("qwen2-mixed.gguf");
        retype(base, real, Map.of("blk.1.attn_v.weight", GgmlType.Q4_K, "blk.1.ffn_down.weight", GgmlType.Q6_K,
                "output.weight", GgmlType.Q6_K));
        Path mini = dir.resolve("mini.gguf");

        try (GgufFile file = GgufReader.open(real)) {
            Warmup.writeMiniature(file, 256, mini);
            ModelConfig r = ModelConfig.from(file.metadata());
            try (GgufFile m = GgufReader.open(mini)) {
                ModelConfig c = ModelConfig.from(m.metadata());
                assertThat(c.architecture()).isEqualTo(Architecture.QWEN2);
                assertThat(c.dim()).as("the largest block size, of Q4_K and Q6_K").isEqualTo(256);
                assertThat(c.layers()).isEqualTo(Warmup.MIN_LAYERS);
                assertThat(c.vocabSize()).isEqualTo(256);
                assertThat(c.headDim()).isEqualTo(r.headDim());
                assertThat(c.groupSize()).isEqualTo(r.groupSize());
                assertThat(c.ropeTheta()).isEqualTo(r.ropeTheta());
                assertThat(c.rmsEps()).isEqualTo(r.rmsEps());
                for (int l = 0; l < c.layers(); l++) {
                    for (String t : List.of("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")) {
                        String name = "." + t + ".weight";
                        assertThat(m.tensor("blk." + l + name).type()).as("layer " + l + t)
                                .isEqualTo(file.tensor("blk." + (l % 2) + name).type());
                    }
                    assertThat(m.tensors()).containsKey("blk." + l + ".attn_q.bias");
                }
                assertThat(m.tensor("output.weight").type()).isEqualTo(GgmlType.Q6_K);
                assertThat(m.tensor("token_embd.weight").type()).isEqualTo(GgmlType.Q8_0);
            }
        }
        assertComputesFiniteLogits(mini);
    }

    @Test
    void theMiniatureKeepsTiedEmbeddingsRopeFactorsAndPerHeadNorms() {
        Path real = dir.resolve("qwen3.gguf");
        new RandomModel(Architecture.QWEN3, ModelShape.TINY, GgmlType.F16).seed(5).tiedEmbeddings(true).ropeFactors(true)
                .write(real, m -> { });
        Path mini = dir.resolve("mini.gguf");

        try (GgufFile file = GgufReader.open(real)) {
            Warmup.writeMiniature(file, 256, mini);
            try (GgufFile m = GgufReader.open(mini)) {
                assertThat(ModelConfig.from(m.metadata()).dim()).isEqualTo(Warmup.MIN_DIM);
                assertThat(m.tensors()).doesNotContainKey("output.weight").containsKey("blk.0.attn_q_norm.weight");
                assertThat(floats(m, "rope_freqs.weight")).containsExactly(floats(file, "rope_freqs.weight"));
            }
        }
        assertComputesFiniteLogits(mini);
    }

    @Test
    void aWarmedUpEngineComputesExactlyWhatAColdOneDoes() throws Exception {
        Path model = dir.resolve("llama.gguf");
        new RandomModel(Architecture.LLAMA, ModelShape.TINY, GgmlType.Q8_0).seed(6).weightStd(0.1f).write(model, m -> { });
        EngineOptions options = EnginesTest.options().withThreads(2).withMaxSequences(4);
        SamplingParams sampling = new SamplingParams(0.9, 0.95, 50, 0, 0, 0, 1.1, Map.of(), 42L);
        GenerationRequest request = new GenerationRequest(IntStream.range(0, 19).map(i -> 300 + 7 * i).toArray(),
                sampling, 12, 3, true, Set.of(), true);

        EnginesTest.Collector cold = new EnginesTest.Collector();
        try (Engine engine = Engines.load(model, options.withWarmup(false))) {
            engine.submit(request, cold);
            cold.await();
        }
        List<String> progress = new ArrayList<>();
        EnginesTest.Collector warm = new EnginesTest.Collector();
        try (Engine engine = Engines.load(model, options, progress::add)) {
            engine.submit(request, warm);
            warm.await();
        }

        assertThat(progress).singleElement().asString().matches("warmed up kernels in [0-9.]+ s \\(\\d+ rounds on a miniature model\\)");
        assertThat(warm.ids()).hasSize(12).containsExactly(cold.ids());
        // Records compare their floats bit for bit.
        assertThat(warm.tokens).containsExactlyElementsOf(cold.tokens);
        assertThat(warm.promptLogprobs).hasSize(19).containsExactlyElementsOf(cold.promptLogprobs);
    }

    @Test
    void theMixReachesAttentionsFourVectorLoopOverTheKeys() {
        // PagedKvCache.keyScores scores four vectors of positions at once once a sequence has that many; a mix that
        // never got there left the loop to C2 as an uncommon trap, and the first real prompt deoptimized it.
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        assertThat(Warmup.LONG_PROMPT).isGreaterThan(4 * lanes);
        assertThat(Warmup.LONG_PROMPT + 10).isLessThanOrEqualTo(Warmup.CONTEXT);
    }

    @Test
    void runsAtLeastTheMinimumRoundsAndLeavesNoFileBehind() throws IOException {
        Path model = dir.resolve("llama.gguf");
        new RandomModel(Architecture.LLAMA, ModelShape.TINY, GgmlType.Q4_0).seed(7).write(model, m -> { });
        Set<Path> before = warmupFiles();

        Warmup.Result result;
        try (GgufFile file = GgufReader.open(model); ThreadPool pool = new ThreadPool(1)) {
            result = Warmup.run(file, Tokenizers.fromMetadata(file.metadata()), pool, EngineOptions.defaults().withThreads(1));
        }

        assertThat(result.rounds()).isBetween(Warmup.MIN_ROUNDS, Warmup.MAX_ROUNDS);
        assertThat(result.nanos()).isPositive();
        assertThat(warmupFiles()).isSubsetOf(before);
    }

    @Test
    void readsWhichOfQuillsMethodsC2IsCompilingFromTheCompileQueue() {
        assertThat(Warmup.CompilerQueue.isQuillForC2(
                "C2 CompilerThread0  3324 %     4       dev.quill.engine.model.Transformer::lambda$attention$0 @ 212 (276 bytes)")).isTrue();
        assertThat(Warmup.CompilerQueue.isQuillForC2(" 3205       4       dev.quill.engine.scheduler.BlockManager::mix (29 bytes)")).isTrue();
        assertThat(Warmup.CompilerQueue.isQuillForC2(" 3206       3       dev.quill.engine.scheduler.Scheduler::step (95 bytes)")).as("C1").isFalse();
        assertThat(Warmup.CompilerQueue.isQuillForC2(" 561       4       java.lang.StringLatin1::indexOfNonWhitespace (49 bytes)")).isFalse();
        assertThat(Warmup.CompilerQueue.isQuillForC2(" 3410       4       dev.quill.engine.Warmup$Counter::onToken (1 bytes)"))
                .as("the warm-up's own code").isFalse();
        assertThat(Warmup.CompilerQueue.isQuillForC2("C2 compile queue:")).isFalse();
        assertThat(Warmup.CompilerQueue.isQuillForC2("")).isFalse();
    }

    private static Set<Path> warmupFiles() throws IOException {
        try (Stream<Path> files = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return files.filter(p -> p.getFileName().toString().startsWith("quill-warmup-")).collect(Collectors.toSet());
        }
    }

    /** One forward pass of a few tokens over the model at {@code path}: it loads and computes. */
    private static void assertComputesFiniteLogits(Path path) {
        try (ThreadPool pool = new ThreadPool(1); LanguageModel model = Models.load(path, pool)) {
            KvCache cache = model.createKvCache(4, 16, true);
            float[] logits = model.forward(List.of(new SequenceChunk(new int[] {1, 17, 42, 99, 3}, 0, new int[] {0}, false)), cache);
            assertThat(logits).hasSize(model.vocabSize());
            for (float x : logits) assertThat(x).isFinite();
        }
    }

    private static float[] floats(GgufFile file, String name) {
        TensorInfo t = file.tensor(name);
        return file.data(t).toArray(ValueLayout.JAVA_FLOAT_UNALIGNED);
    }

    /** Copies the model at {@code src} to {@code dst} with the named tensors converted to other types. */
    private static void retype(Path src, Path dst, Map<String, GgmlType> types) {
        try (GgufFile file = GgufReader.open(src)) {
            List<TensorSpec> specs = new ArrayList<>();
            for (TensorInfo t : file.tensors().values()) {
                byte[] data = file.data(t).toArray(ValueLayout.JAVA_BYTE);
                GgmlType type = types.getOrDefault(t.name(), t.type());
                if (type != t.type()) {
                    float[] values = new float[Math.toIntExact(t.elementCount())];
                    Quantization.dequantize(t.type(), file.data(t), 0, values, 0, values.length);
                    data = Quantization.quantize(type, values);
                }
                byte[] bytes = data;
                specs.add(new TensorSpec(t.name(), t.dims(), type, () -> bytes));
            }
            GgufWriter.write(dst, file.metadata(), specs);
        }
    }
}
