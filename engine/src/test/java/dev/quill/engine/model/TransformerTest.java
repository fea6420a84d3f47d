package dev.quill.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.quill.engine.gguf.GgufFile;
import dev.quill.engine.gguf.GgufReader;
import dev.quill.engine.model.TestModels.Variant;
import dev.quill.engine.tensor.GgmlType;
import dev.quill.engine.tensor.ThreadPool;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class TransformerTest {

    /**
     * Engine vs reference: the largest logit difference may be this fraction of the reference logits' RMS. Both use
     * the same dequantized weights, so the difference is only float32 vs double rounding (observed around 1e-6 of
     * the RMS); real mistakes (wrong rope pairing, a missing bias or norm, an off-by-one position) move logits by
     * tens of percent, as {@link #toleranceCatchesTheWrongRopeStyle} checks.
     */
    private static final double TOLERANCE = 1e-4;
    /** F16 keys and values carry 11 significant bits, so their logits may differ by ~1e-3 of the RMS; allow 1e-2. */
    private static final double F16_KV_TOLERANCE = 1e-2;
    private static final GgmlType[] TYPES = {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0,
            GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K};

    private static final ThreadPool POOL = new ThreadPool(2);

    @AfterAll
    static void closePool() {
        POOL.close();
    }

    static Stream<Arguments> everyVariantAndType() {
        return Arrays.stream(Variant.values()).flatMap(v -> Arrays.stream(TYPES).map(t -> Arguments.of(v, t)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everyVariantAndType")
    void matchesTheReferenceForwardPass(Variant variant, GgmlType type) {
        try (GgufFile file = GgufReader.open(TestModels.file(variant, type)); Transformer model = Models.load(file, POOL)) {
            ReferenceModel reference = new ReferenceModel(file);
            int[] prompt = randomTokens(11, model.vocabSize(), 1);
            int[] table = {5, 1, 7, 3, 0};
            PagedKvCache cache = model.createKvCache(8, 4, false);

            float[] prefill = model.forward(List.of(new SequenceChunk(prompt, 0, table, true)), cache);
            for (int i = 0; i < prompt.length; i++) {
                assertClose(row(prefill, i, model.vocabSize()), reference.step(prompt[i]), TOLERANCE, "prompt token " + i);
            }
            int[] next = randomTokens(6, model.vocabSize(), 2);
            for (int i = 0; i < next.length; i++) {
                float[] logits = model.forward(List.of(new SequenceChunk(new int[] {next[i]}, prompt.length + i, table, false)), cache);
                assertClose(logits, reference.step(next[i]), TOLERANCE, "decoded token " + i);
            }
        }
    }

    @Test
    void toleranceCatchesTheWrongRopeStyle() {
        try (GgufFile file = GgufReader.open(TestModels.file(Variant.LLAMA_GQA, GgmlType.F32)); Transformer model = Models.load(file, POOL)) {
            ReferenceModel wrongRope = new ReferenceModel(file, true);
            int[] prompt = randomTokens(8, model.vocabSize(), 3);
            float[] logits = model.forward(List.of(new SequenceChunk(prompt, 0, new int[] {0, 1}, true)), model.createKvCache(2, 4, false));
            double worst = 0;
            for (int i = 0; i < prompt.length; i++) {
                double[] ref = wrongRope.step(prompt[i]);
                worst = Math.max(worst, maxAbsDiff(row(logits, i, model.vocabSize()), ref) / rms(ref));
            }
            assertThat(worst).isGreaterThan(100 * TOLERANCE);
        }
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void prefillInOneChunkTokenByTokenOrOddChunksGivesIdenticalLogits(Variant variant) {
        try (Transformer model = Models.load(TestModels.file(variant, GgmlType.Q8_0), POOL)) {
            int v = model.vocabSize();
            int[] prompt = randomTokens(13, v, 4);
            int[] table = {0, 1, 2, 3};

            float[] whole = model.forward(List.of(new SequenceChunk(prompt, 0, table, true)), model.createKvCache(4, 4, false));

            PagedKvCache stepCache = model.createKvCache(4, 4, false);
            for (int i = 0; i < prompt.length; i++) {
                float[] one = model.forward(List.of(new SequenceChunk(new int[] {prompt[i]}, i, table, false)), stepCache);
                assertArrayEquals(row(whole, i, v), one, "token " + i + " alone");
            }

            PagedKvCache chunkCache = model.createKvCache(4, 4, false);
            int pos = 0;
            for (int size : new int[] {3, 5, 1, 4}) {
                int[] part = Arrays.copyOfRange(prompt, pos, pos + size);
                float[] logits = model.forward(List.of(new SequenceChunk(part, pos, table, true)), chunkCache);
                for (int i = 0; i < size; i++) {
                    assertArrayEquals(row(whole, pos + i, v), row(logits, i, v), "token " + (pos + i) + " in a chunk of " + size);
                }
                pos += size;
            }
        }
    }

    /**
     * With blocks of whole vectors, attention takes four queries at a time (four consecutive prompt tokens, or four
     * query heads sharing a KV head); with blocks of 12 positions (not a multiple of any vector width) it takes one at
     * a time. Both compute every score and every output element in the same order, so the logits are bit-identical:
     * for a prompt, for single decode steps, and for a 4-token chunk after it (as speculative decoding verifies).
     */
    @ParameterizedTest
    @EnumSource(Variant.class)
    void attentionGivesTheSameBitsWithOrWithoutQueryTiles(Variant variant) {
        try (Transformer model = Models.load(TestModels.file(variant, GgmlType.Q8_0), POOL)) {
            int v = model.vocabSize();
            int[] prompt = randomTokens(37, v, 9);
            int[] next = randomTokens(9, v, 10);
            for (boolean f16 : new boolean[] {false, true}) {
                PagedKvCache tiled = model.createKvCache(4, 32, f16);
                PagedKvCache plain = model.createKvCache(6, 12, f16);
                assertThat(tiled.hasQueryTile()).isTrue();
                assertThat(plain.hasQueryTile()).isFalse();
                int[] tiledTable = {3, 0, 2, 1};
                int[] plainTable = {5, 1, 4, 0, 2, 3};
                float[] whole = model.forward(List.of(new SequenceChunk(prompt, 0, plainTable, true)), plain);
                assertArrayEquals(whole, model.forward(List.of(new SequenceChunk(prompt, 0, tiledTable, true)), tiled),
                        "prompt");
                // The same prompt in chunks, so that groups of four start at positions off any vector or block edge.
                PagedKvCache chunked = model.createKvCache(4, 32, f16);
                int start = 0;
                for (int size : new int[] {7, 5, 9, 16}) {
                    int[] part = Arrays.copyOfRange(prompt, start, start + size);
                    float[] logits = model.forward(List.of(new SequenceChunk(part, start, tiledTable, true)), chunked);
                    for (int i = 0; i < size; i++) {
                        assertArrayEquals(row(whole, start + i, v), row(logits, i, v), "prompt token " + (start + i));
                    }
                    start += size;
                }
                int pos = prompt.length;
                for (int i = 0; i < 5; i++, pos++) {
                    int[] token = {next[i]};
                    assertArrayEquals(model.forward(List.of(new SequenceChunk(token, pos, plainTable, false)), plain),
                            model.forward(List.of(new SequenceChunk(token, pos, tiledTable, false)), tiled), "step " + i);
                }
                int[] four = Arrays.copyOfRange(next, 5, 9);
                assertArrayEquals(model.forward(List.of(new SequenceChunk(four, pos, plainTable, true)), plain),
                        model.forward(List.of(new SequenceChunk(four, pos, tiledTable, true)), tiled), "four-token chunk");
            }
        }
    }

    @Test
    void shuffledBlockTablesGiveTheSameLogitsAsContiguousBlocks() {
        try (Transformer model = Models.load(TestModels.file(Variant.QWEN3_QK_NORM, GgmlType.F16), POOL)) {
            int[] prompt = randomTokens(10, model.vocabSize(), 5);
            float[] contiguous = model.forward(List.of(new SequenceChunk(prompt, 0, new int[] {0, 1, 2, 3}, true)),
                    model.createKvCache(10, 3, false));
            float[] shuffled = model.forward(List.of(new SequenceChunk(prompt, 0, new int[] {8, 2, 9, 5}, true)),
                    model.createKvCache(10, 3, false));
            assertArrayEquals(contiguous, shuffled);
        }
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void aSequenceGetsBitIdenticalLogitsAloneOrBatchedWithOthers(Variant variant) {
        try (Transformer model = Models.load(TestModels.file(variant, GgmlType.Q4_K), POOL)) {
            int v = model.vocabSize();
            int[] a = randomTokens(7, v, 6);
            int[] b = randomTokens(5, v, 7);
            int[] c = randomTokens(9, v, 8);
            int[] tableA = {0, 1}, tableB = {2, 3}, tableC = {4, 5, 6};

            // Alone: each sequence in its own cache; c first prefills 8 tokens, then decodes its 9th.
            float[] aliceA = model.forward(List.of(new SequenceChunk(a, 0, tableA, true)), model.createKvCache(7, 4, false));
            float[] aloneB = model.forward(List.of(new SequenceChunk(b, 0, tableB, false)), model.createKvCache(7, 4, false));
            PagedKvCache cacheC = model.createKvCache(7, 4, false);
            model.forward(List.of(new SequenceChunk(Arrays.copyOf(c, 8), 0, tableC, false)), cacheC);
            float[] aloneC = model.forward(List.of(new SequenceChunk(new int[] {c[8]}, 8, tableC, false)), cacheC);

            // Together: c's first 8 tokens are cached beforehand, then one pass mixes two prefills and a decode.
            PagedKvCache shared = model.createKvCache(7, 4, false);
            model.forward(List.of(new SequenceChunk(Arrays.copyOf(c, 8), 0, tableC, false)), shared);
            float[] together = model.forward(List.of(
                    new SequenceChunk(a, 0, tableA, true),
                    new SequenceChunk(new int[] {c[8]}, 8, tableC, false),
                    new SequenceChunk(b, 0, tableB, false)), shared);

            assertThat(together).hasSize((a.length + 2) * v);
            float[] expected = concat(aliceA, aloneC, aloneB);
            assertArrayEquals(expected, together);
        }
    }

    @Test
    void batchesLargerThanOnePassRunAsSeveralPassesWithTheSameLogits() {
        try (GgufFile file = GgufReader.open(TestModels.file(Variant.QWEN2_BIAS_TIED, GgmlType.Q5_K));
             Transformer onePass = Models.load(file, POOL)) {
            ModelConfig config = ModelConfig.from(file.metadata());
            Transformer fivePerPass = new Transformer(config, ModelWeights.load(file, config), POOL, null, 5);
            int v = config.vocabSize();
            List<SequenceChunk> batch = List.of(
                    new SequenceChunk(randomTokens(12, v, 11), 0, new int[] {0, 1, 2}, true),
                    new SequenceChunk(randomTokens(3, v, 12), 0, new int[] {3}, false),
                    new SequenceChunk(randomTokens(7, v, 13), 0, new int[] {4, 5}, false));
            float[] expected = onePass.forward(batch, onePass.createKvCache(6, 4, false));
            float[] split = fivePerPass.forward(batch, fivePerPass.createKvCache(6, 4, false));
            assertThat(split).hasSize((12 + 1 + 1) * v);
            assertArrayEquals(expected, split);
        }
    }

    @Test
    void copiedBlockLetsASequenceDivergeFromASharedPrefix() {
        try (Transformer model = Models.load(TestModels.file(Variant.LLAMA_GQA, GgmlType.Q6_K), POOL)) {
            int[] prompt = randomTokens(6, model.vocabSize(), 9);
            PagedKvCache cache = model.createKvCache(4, 4, false);
            model.forward(List.of(new SequenceChunk(prompt, 0, new int[] {0, 1}, false)), cache);
            // A second sequence shares block 0 and gets a copy of the partly filled block 1.
            cache.copyBlock(1, 2);
            int next = 42;
            float[] original = model.forward(List.of(new SequenceChunk(new int[] {next}, 6, new int[] {0, 1}, false)), cache);
            float[] copy = model.forward(List.of(new SequenceChunk(new int[] {next}, 6, new int[] {0, 2}, false)), cache);
            assertArrayEquals(original, copy);
        }
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void f16KeysAndValuesStayCloseToF32(Variant variant) {
        try (Transformer model = Models.load(TestModels.file(variant, GgmlType.F32), POOL)) {
            int v = model.vocabSize();
            int[] prompt = randomTokens(12, v, 10);
            int[] table = {0, 1, 2};
            float[] f32 = model.forward(List.of(new SequenceChunk(prompt, 0, table, true)), model.createKvCache(3, 4, false));
            PagedKvCache halfCache = model.createKvCache(3, 4, true);
            assertThat(halfCache.isF16()).isTrue();
            float[] f16 = model.forward(List.of(new SequenceChunk(prompt, 0, table, true)), halfCache);
            assertThat(f16).isNotEqualTo(f32);
            for (int i = 0; i < prompt.length; i++) {
                float[] expected = row(f32, i, v);
                double[] e = new double[v];
                for (int j = 0; j < v; j++) e[j] = expected[j];
                assertClose(row(f16, i, v), e, F16_KV_TOLERANCE, "token " + i);
            }
        }
    }

    @Test
    void rejectsTokensOutsideTheVocabularyAndBlockTablesThatDoNotCoverTheChunk() {
        try (Transformer model = Models.load(TestModels.file(Variant.LLAMA_GQA, GgmlType.F32), POOL)) {
            PagedKvCache cache = model.createKvCache(4, 4, false);
            assertThatThrownBy(() -> model.forward(List.of(new SequenceChunk(new int[] {model.vocabSize()}, 0, new int[] {0}, false)), cache))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token id " + model.vocabSize());
            assertThatThrownBy(() -> model.forward(List.of(new SequenceChunk(new int[] {1, 2}, 3, new int[] {0}, false)), cache))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not cover position 4");
            assertThatThrownBy(() -> model.forward(List.of(new SequenceChunk(new int[] {1}, 0, new int[] {4}, false)), cache))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("block table entry 0 = 4");
        }
    }

    @Test
    void anEmptyBatchGivesNoLogits() {
        try (Transformer model = Models.load(TestModels.file(Variant.LLAMA_GQA, GgmlType.F32), POOL)) {
            assertThat(model.forward(List.of(), model.createKvCache(1, 4, false))).isEmpty();
        }
    }

    @Test
    void rejectsACacheMadeForAnotherModel() {
        try (Transformer llama = Models.load(TestModels.file(Variant.LLAMA_GQA, GgmlType.F32), POOL);
             Transformer qwen3 = Models.load(TestModels.file(Variant.QWEN3_QK_NORM, GgmlType.F32), POOL)) {
            PagedKvCache cache = qwen3.createKvCache(2, 4, false);
            assertThatThrownBy(() -> llama.forward(List.of(new SequenceChunk(new int[] {1}, 0, new int[] {0}, false)), cache))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("KV cache");
        }
    }

    @Test
    void reportsItsConfigurationAndKvCacheSize() {
        try (Transformer model = Models.load(TestModels.file(Variant.QWEN3_QK_NORM, GgmlType.F32), POOL)) {
            assertThat(model.vocabSize()).isEqualTo(512);
            assertThat(model.contextLength()).isEqualTo(512);
            // 2 layers × 2 KV heads × (128 key + 128 value) elements.
            assertThat(model.kvBytesPerToken(false)).isEqualTo(2 * 2 * 256 * 4);
            assertThat(model.kvBytesPerToken(true)).isEqualTo(2 * 2 * 256 * 2);
            assertThat(model.createKvCache(3, 16, true).byteSize()).isEqualTo(3 * 16 * model.kvBytesPerToken(true));
        }
    }

    private static int[] randomTokens(int n, int vocab, long seed) {
        return new SplittableRandom(seed).ints(n, 0, vocab).toArray();
    }

    private static float[] row(float[] logits, int i, int vocab) {
        return Arrays.copyOfRange(logits, i * vocab, (i + 1) * vocab);
    }

    private static float[] concat(float[]... parts) {
        List<Float> all = new ArrayList<>();
        for (float[] p : parts) for (float f : p) all.add(f);
        float[] out = new float[all.size()];
        for (int i = 0; i < out.length; i++) out[i] = all.get(i);
        return out;
    }

    private static void assertClose(float[] actual, double[] expected, double tolerance, String what) {
        assertThat(actual).hasSize(expected.length);
        double scale = rms(expected);
        assertThat(scale).as("%s: reference logits are not degenerate", what).isGreaterThan(1e-3);
        assertThat(maxAbsDiff(actual, expected) / scale).as("%s: max |engine − reference| / RMS(reference)", what)
                .isLessThanOrEqualTo(tolerance);
    }

    private static double maxAbsDiff(float[] a, double[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }

    private static double rms(double[] x) {
        double s = 0;
        for (double v : x) s += v * v;
        return Math.sqrt(s / x.length);
    }
}
