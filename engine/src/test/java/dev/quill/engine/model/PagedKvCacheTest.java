package dev.quill.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PagedKvCacheTest {

    /** 3 layers, 2 KV heads of 24 (not a multiple of the vector width, so value tails run too). */
    private static final ModelConfig CONFIG = new ModelConfig(Architecture.LLAMA, 96, 3, 4, 2, 24, 24, 128, 100, 64,
            10000f, 24, 1f, 1e-5f);
    /** Not a multiple of any vector width: positions are covered by vector lanes and the scalar tail. */
    private static final int BLOCK = 40;

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void scoresAreTheOrderedFmaChainOverTheHeadDimension(boolean f16) {
        PagedKvCache cache = new PagedKvCache(CONFIG, 3, BLOCK, f16);
        SplittableRandom rnd = new SplittableRandom(1);
        float[][] keys = new float[BLOCK][];
        for (int slot = 0; slot < BLOCK; slot++) {
            keys[slot] = random(rnd, 48);
            cache.store(1, 2, slot, keys[slot], 0, random(rnd, 48), 0);
        }
        float[] q = random(rnd, 24);
        for (int head = 0; head < 2; head++) {
            float[] scores = new float[BLOCK];
            cache.keyScores(1, 2, head, BLOCK, q, 0, 0.125f, scores, 0);
            for (int slot = 0; slot < BLOCK; slot++) {
                float acc = 0;
                for (int d = 0; d < 24; d++) acc = Math.fma(stored(keys[slot][head * 24 + d], f16), q[d], acc);
                assertThat(scores[slot]).as("head %d slot %d", head, slot).isEqualTo(acc * 0.125f);
            }
        }
    }

    /**
     * The whole-sequence calls (several fma chains in flight) give exactly the bits of block-by-block calls, for
     * head sizes that take the fast paths (64: four vectors) and that do not (24), and block sizes that are and are
     * not multiples of the vector width.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"64,16,false", "64,16,true", "64,32,true", "24,16,true", "64,40,false", "24,40,true"})
    void wholeSequenceAttentionMatchesBlockByBlockCalls(int headDim, int blockSize, boolean f16) {
        ModelConfig config = new ModelConfig(Architecture.LLAMA, 2 * headDim, 2, 2, 2, headDim, headDim, 128, 100, 512,
                10000f, headDim, 1f, 1e-5f);
        int blocks = 9;
        PagedKvCache cache = new PagedKvCache(config, blocks, blockSize, f16);
        int[] table = {7, 2, 5, 0, 8, 1, 6, 3, 4};
        SplittableRandom rnd = new SplittableRandom(headDim * 31L + blockSize);
        int kv = 2 * headDim;
        for (int p = 0; p < blocks * blockSize; p++) {
            cache.store(1, table[p / blockSize], p % blockSize, random(rnd, kv), 0, random(rnd, kv), 0);
        }
        float[] q = random(rnd, 2 * headDim);
        for (int len : new int[]{1, 15, 16, 17, 63, 64, 65, 100, blocks * blockSize}) {
            for (int head = 0; head < 2; head++) {
                float[] expected = new float[blocks * blockSize];
                for (int b = 0; b * blockSize < len; b++) {
                    cache.keyScores(1, table[b], head, Math.min(blockSize, len - b * blockSize), q, headDim, 0.125f,
                            expected, b * blockSize);
                }
                float[] actual = new float[blocks * blockSize];
                cache.keyScores(1, table, head, len, q, headDim, 0.125f, actual);
                assertThat(Arrays.copyOf(actual, len)).as("scores, len %d head %d", len, head)
                        .isEqualTo(Arrays.copyOf(expected, len));

                float[] weights = random(rnd, len);
                float[] outExpected = random(rnd, headDim + 5);
                float[] outActual = outExpected.clone();
                for (int b = 0; b * blockSize < len; b++) {
                    cache.accumulateValues(1, table[b], head, Math.min(blockSize, len - b * blockSize), weights,
                            b * blockSize, outExpected, 5);
                }
                cache.accumulateValues(1, table, head, len, weights, outActual, 5);
                assertThat(outActual).as("values, len %d head %d", len, head).isEqualTo(outExpected);
            }
        }
    }

    /**
     * Four queries attended to together give exactly the bits of four single-query calls: four consecutive tokens of a
     * prompt (step 1: query i over its own positions [0, len + i)) and four query heads of one token sharing a KV head
     * (step 0: all over [0, len)), scores and weighted sums of values.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"64,16,false,1", "64,16,true,1", "64,32,true,1", "128,16,true,1",
            "64,64,false,1", "64,16,true,0", "128,32,false,0"})
    void fourQueriesAtOnceMatchFourSingleQueries(int headDim, int blockSize, boolean f16, int step) {
        ModelConfig config = new ModelConfig(Architecture.LLAMA, 2 * headDim, 2, 2, 2, headDim, headDim, 128, 100, 512,
                10000f, headDim, 1f, 1e-5f);
        int blocks = 9;
        PagedKvCache cache = new PagedKvCache(config, blocks, blockSize, f16);
        assertThat(cache.hasQueryTile()).isTrue();
        int[] table = {7, 2, 5, 0, 8, 1, 6, 3, 4};
        SplittableRandom rnd = new SplittableRandom(headDim * 17L + blockSize + step);
        int kv = 2 * headDim;
        for (int p = 0; p < blocks * blockSize; p++) {
            cache.store(1, table[p / blockSize], p % blockSize, random(rnd, kv), 0, random(rnd, kv), 0);
        }
        int capacity = blocks * blockSize;
        for (int len : new int[]{1, 2, 13, 16, 17, 30, 31, 32, 33, 64, 65, 100, capacity - 3}) {
            for (int head = 0; head < 2; head++) {
                float[] q = random(rnd, 4 * headDim);
                float[] tiled = new float[4 * capacity];
                cache.keyScores4(1, table, head, len, step, q, 0, headDim, 2 * headDim, 3 * headDim, 0.125f, tiled,
                        capacity);
                float[] weights = new float[4 * capacity];
                for (int i = 0; i < 4; i++) {
                    int own = len + i * step;
                    float[] single = new float[capacity];
                    cache.keyScores(1, table, head, own, q, i * headDim, 0.125f, single);
                    assertThat(Arrays.copyOfRange(tiled, i * capacity, i * capacity + own))
                            .as("scores of query %d, len %d head %d", i, own, head)
                            .isEqualTo(Arrays.copyOf(single, own));
                    System.arraycopy(random(rnd, own), 0, weights, i * capacity, own);
                }
                float[] outTiled = random(rnd, 4 * headDim + 3);
                float[] outSingle = outTiled.clone();
                cache.accumulateValues4(1, table, head, len, step, weights, capacity, outTiled, 3, 3 + headDim,
                        3 + 2 * headDim, 3 + 3 * headDim);
                for (int i = 0; i < 4; i++) {
                    cache.accumulateValues(1, table, head, len + i * step,
                            Arrays.copyOfRange(weights, i * capacity, (i + 1) * capacity), outSingle, 3 + i * headDim);
                }
                assertThat(outTiled).as("values, len %d head %d", len, head).isEqualTo(outSingle);
            }
        }
    }

    @Test
    void theFourQueryPathNeedsWholeVectorsPerBlock() {
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        assertThat(new PagedKvCache(CONFIG, 3, BLOCK, true).hasQueryTile()).as("blocks of 40").isFalse();
        ModelConfig config = new ModelConfig(Architecture.LLAMA, 128, 2, 2, 2, 64, 64, 128, 100, 512, 10000f, 64, 1f, 1e-5f);
        assertThat(new PagedKvCache(config, 3, lanes * 2, true).hasQueryTile()).isTrue();
        assertThat(new PagedKvCache(config, 3, lanes + 1, true).hasQueryTile()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void valuesAccumulateInPositionOrderOntoTheOutput(boolean f16) {
        PagedKvCache cache = new PagedKvCache(CONFIG, 3, BLOCK, f16);
        SplittableRandom rnd = new SplittableRandom(2);
        float[][] values = new float[BLOCK][];
        for (int slot = 0; slot < BLOCK; slot++) {
            values[slot] = random(rnd, 48);
            cache.store(2, 0, slot, random(rnd, 48), 0, values[slot], 0);
        }
        float[] weights = random(rnd, BLOCK);
        int count = 29;
        float[] out = random(rnd, 30);
        float[] before = out.clone();
        cache.accumulateValues(2, 0, 1, count, weights, 0, out, 3);
        for (int d = 0; d < 24; d++) {
            float acc = before[3 + d];
            for (int i = 0; i < count; i++) acc = Math.fma(stored(values[i][24 + d], f16), weights[i], acc);
            assertThat(out[3 + d]).as("element %d", d).isEqualTo(acc);
        }
        assertThat(Arrays.copyOf(out, 3)).isEqualTo(Arrays.copyOf(before, 3));
        assertThat(out[27]).isEqualTo(before[27]);
    }

    @Test
    void f16StorageRoundsLikeFloatToFloat16IncludingSubnormalsAndSigns() {
        PagedKvCache cache = new PagedKvCache(CONFIG, 1, 16, true);
        float[] special = {0f, -0f, 1f, -2.5f, 65504f, -65504f, 6.0e-8f, -3.0e-5f, 1e-3f, 0.333333f, 1234.5f, -7e-6f,
                3.14159f, -1e-7f, 42f, 0.1f};
        for (int slot = 0; slot < 16; slot++) {
            float[] k = new float[48];
            k[5] = special[slot];
            cache.store(0, 0, slot, k, 0, new float[48], 0);
        }
        float[] unit = new float[24];
        unit[5] = 1f;
        float[] scores = new float[16];
        cache.keyScores(0, 0, 0, 16, unit, 0, 1f, scores, 0);
        for (int slot = 0; slot < 16; slot++) {
            assertThat(scores[slot]).as("value %s", special[slot]).isEqualTo(stored(special[slot], true));
        }
    }

    @Test
    void storedPositionsStayInTheirOwnSlotLayerAndBlock() {
        PagedKvCache cache = new PagedKvCache(CONFIG, 3, 4, false);
        float[] ones = new float[48];
        Arrays.fill(ones, 1f);
        cache.store(1, 1, 2, ones, 0, ones, 0);
        float[] scores = new float[4];
        cache.keyScores(1, 1, 0, 4, ones, 0, 1f, scores, 0);
        assertThat(scores).containsExactly(0f, 0f, 24f, 0f);
        for (int[] elsewhere : new int[][] {{0, 1}, {2, 1}, {1, 0}, {1, 2}}) {
            cache.keyScores(elsewhere[0], elsewhere[1], 0, 4, ones, 0, 1f, scores, 0);
            assertThat(scores).as("layer %d block %d", elsewhere[0], elsewhere[1]).containsOnly(0f);
        }
    }

    @Test
    void copyBlockCopiesEveryLayerOfKeysAndValues() {
        PagedKvCache cache = new PagedKvCache(CONFIG, 4, 2, false);
        SplittableRandom rnd = new SplittableRandom(3);
        for (int l = 0; l < 3; l++) {
            for (int slot = 0; slot < 2; slot++) cache.store(l, 1, slot, random(rnd, 48), 0, random(rnd, 48), 0);
        }
        cache.copyBlock(1, 3);
        float[] q = random(rnd, 24);
        float[] w = {0.25f, 0.75f};
        for (int l = 0; l < 3; l++) {
            for (int h = 0; h < 2; h++) {
                float[] original = new float[2];
                float[] copy = new float[2];
                cache.keyScores(l, 1, h, 2, q, 0, 1f, original, 0);
                cache.keyScores(l, 3, h, 2, q, 0, 1f, copy, 0);
                assertThat(copy).isEqualTo(original).isNotEqualTo(new float[2]);
                float[] a = new float[24];
                float[] b = new float[24];
                cache.accumulateValues(l, 1, h, 2, w, 0, a, 0);
                cache.accumulateValues(l, 3, h, 2, w, 0, b, 0);
                assertThat(b).isEqualTo(a).isNotEqualTo(new float[24]);
            }
        }
        float[] untouched = new float[2];
        cache.keyScores(0, 2, 0, 2, q, 0, 1f, untouched, 0);
        assertThat(untouched).containsOnly(0f);
    }

    @Test
    void sizeFollowsTheModelAndElementType() {
        assertThat(PagedKvCache.bytesPerToken(CONFIG, false)).isEqualTo(3 * 2 * (24 + 24) * 4);
        PagedKvCache cache = new PagedKvCache(CONFIG, 7, 16, true);
        assertThat(cache.byteSize()).isEqualTo(7 * 16 * PagedKvCache.bytesPerToken(CONFIG, true));
        assertThat(cache.numBlocks()).isEqualTo(7);
        assertThat(cache.blockSize()).isEqualTo(16);
    }

    @Test
    void rejectsEmptyCachesAndUnknownBlocks() {
        assertThatThrownBy(() -> new PagedKvCache(CONFIG, 0, 16, false)).hasMessageContaining("0 blocks");
        PagedKvCache cache = new PagedKvCache(CONFIG, 2, 4, false);
        assertThatThrownBy(() -> cache.copyBlock(0, 2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("block 2");
    }

    private static float stored(float x, boolean f16) {
        return f16 ? Float.float16ToFloat(Float.floatToFloat16(x)) : x;
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }
}
