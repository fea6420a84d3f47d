package dev.quill.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PagedKvCacheTest {

    /** 3 layers, 2 KV heads of 24 (not a multiple of the vector width, so the scalar tail runs too). */
    private static final ModelConfig CONFIG = new ModelConfig(Architecture.LLAMA, 96, 3, 4, 2, 24, 24, 128, 100, 64,
            10000f, 24, 1f, 1e-5f);

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void storedKeysAndValuesReadBackThroughDotAndAccumulate(boolean f16) {
        PagedKvCache cache = new PagedKvCache(CONFIG, 5, 4, f16);
        SplittableRandom rnd = new SplittableRandom(1);
        float[] k = random(rnd, 2 * 24);
        float[] v = random(rnd, 2 * 24);
        float[] q = random(rnd, 24);
        cache.store(1, 3, 2, k, 0, v, 0);

        for (int head = 0; head < 2; head++) {
            double expectedDot = 0;
            for (int d = 0; d < 24; d++) expectedDot += (double) q[d] * stored(k[head * 24 + d], f16);
            assertThat((double) cache.dotKey(1, 3, 2, head, q, 0)).isCloseTo(expectedDot, org.assertj.core.data.Offset.offset(1e-5));

            float[] out = new float[24];
            java.util.Arrays.fill(out, 1f);
            cache.addValue(1, 3, 2, head, 0.5f, out, 0);
            for (int d = 0; d < 24; d++) {
                assertThat(out[d]).isEqualTo(Math.fma(stored(v[head * 24 + d], f16), 0.5f, 1f));
            }
        }
        // Nothing leaked into a neighbouring slot, layer or block.
        assertThat(cache.dotKey(1, 3, 1, 0, q, 0)).isZero();
        assertThat(cache.dotKey(0, 3, 2, 0, q, 0)).isZero();
        assertThat(cache.dotKey(1, 2, 2, 0, q, 0)).isZero();
    }

    @Test
    void f16StorageRoundsLikeFloatToFloat16IncludingSubnormalsAndSigns() {
        PagedKvCache cache = new PagedKvCache(CONFIG, 1, 1, true);
        float[] k = new float[48];
        float[] special = {0f, -0f, 1f, -2.5f, 65504f, -65504f, 6.0e-8f, -3.0e-5f, 1e-3f, 0.333333f, 1234.5f, -7e-6f};
        System.arraycopy(special, 0, k, 0, special.length);
        cache.store(0, 0, 0, k, 0, new float[48], 0);
        for (int d = 0; d < 24; d++) {
            float[] unit = new float[24];
            unit[d] = 1f;
            assertThat(cache.dotKey(0, 0, 0, 0, unit, 0)).as("element %d", d).isEqualTo(stored(k[d], true));
        }
    }

    @Test
    void copyBlockCopiesEveryLayerOfKeysAndValues() {
        PagedKvCache cache = new PagedKvCache(CONFIG, 4, 2, false);
        SplittableRandom rnd = new SplittableRandom(2);
        float[][] keys = new float[3][];
        float[][] values = new float[3][];
        for (int l = 0; l < 3; l++) {
            keys[l] = random(rnd, 48);
            values[l] = random(rnd, 48);
            cache.store(l, 1, 1, keys[l], 0, values[l], 0);
        }
        cache.copyBlock(1, 3);
        float[] q = random(rnd, 24);
        for (int l = 0; l < 3; l++) {
            for (int h = 0; h < 2; h++) {
                assertThat(cache.dotKey(l, 3, 1, h, q, 0)).isEqualTo(cache.dotKey(l, 1, 1, h, q, 0));
                float[] a = new float[24];
                float[] b = new float[24];
                cache.addValue(l, 1, 1, h, 1f, a, 0);
                cache.addValue(l, 3, 1, h, 1f, b, 0);
                assertThat(b).isEqualTo(a).isNotEqualTo(new float[24]);
            }
        }
        assertThat(cache.dotKey(0, 2, 1, 0, q, 0)).as("other blocks untouched").isZero();
    }

    @Test
    void sizeFollowsTheModelAndElementType() {
        assertThat(PagedKvCache.bytesPerToken(CONFIG, false)).isEqualTo(3 * 2 * (24 + 24) * 4);
        assertThat(new PagedKvCache(CONFIG, 7, 16, true).byteSize()).isEqualTo(7 * 16 * PagedKvCache.bytesPerToken(CONFIG, true));
        assertThat(new PagedKvCache(CONFIG, 7, 16, true).numBlocks()).isEqualTo(7);
        assertThat(new PagedKvCache(CONFIG, 7, 16, true).blockSize()).isEqualTo(16);
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
