package dev.quill.engine.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.BitSet;
import java.util.Map;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class SamplerTest {

    private static SamplingParams sampling(double temperature, int topK, double topP, double minP, Long seed) {
        return new SamplingParams(temperature, topP, topK, minP, 0, 0, 1, Map.of(), seed);
    }

    private static SamplingParams penalties(double presence, double frequency, double repetition) {
        return new SamplingParams(0, 1, 0, 0, presence, frequency, repetition, Map.of(), 1L);
    }

    private static SamplingParams biased(double temperature, Map<Integer, Double> bias) {
        return new SamplingParams(temperature, 1, 0, 0, 0, 0, 1, bias, 3L);
    }

    private static float[] randomLogits(SplittableRandom random, int vocab, double scale) {
        float[] logits = new float[vocab];
        for (int i = 0; i < vocab; i++) logits[i] = (float) (random.nextGaussian() * scale);
        return logits;
    }

    private static int[] counts(Sampler sampler, float[] logits, int draws) {
        int[] counts = new int[logits.length];
        for (int i = 0; i < draws; i++) counts[sampler.sample(logits, 0)]++;
        return counts;
    }

    private static double chiSquare(int[] observed, double[] probabilities) {
        int n = Arrays.stream(observed).sum();
        double chi = 0;
        for (int i = 0; i < observed.length; i++) {
            double expected = n * probabilities[i];
            chi += (observed[i] - expected) * (observed[i] - expected) / expected;
        }
        return chi;
    }

    private static double[] softmax(float[] logits, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) max = Math.max(max, x);
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) sum += p[i] = Math.exp((logits[i] - max) / temperature);
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }

    // ---- greedy ----

    @Test
    void greedyPicksTheArgmaxAndTheLowestIdOnTies() {
        var sampler = new Sampler(SamplingParams.GREEDY, 5, null);
        assertThat(sampler.sample(new float[] {0.1f, 3f, -2f, 2.9f, 0f}, 0)).isEqualTo(1);
        assertThat(sampler.sample(new float[] {1f, 4f, 2f, 4f, 4f}, 0)).isEqualTo(1);
        assertThat(sampler.sample(new float[] {Float.NaN, -1f, Float.NaN, -0.5f, -3f}, 0)).isEqualTo(3);
    }

    @Test
    void readsTheRowAtItsOffsetAndLeavesTheCallersArrayAlone() {
        float[] batch = {9, 9, 9, /* row: */ 1, 5, 2, /* next row: */ 7, 7, 7};
        float[] before = batch.clone();
        var sampler = new Sampler(new SamplingParams(0, 1, 0, 0, 0.5, 0.5, 1.5, Map.of(1, -10.0), 1L), 3, new int[] {0});
        sampler.accept(2);
        assertThat(sampler.sample(batch, 3, TokenMask.allowing(0, 1))).isZero();
        new Sampler(sampling(1, 2, 0.9, 0.1, 5L), 3, null).sample(batch, 3);
        assertThat(batch).containsExactly(before);
    }

    @Test
    void aRowOutsideTheArrayIsRejectedWithItsBounds() {
        var sampler = new Sampler(SamplingParams.GREEDY, 4, null);
        assertThatThrownBy(() -> sampler.sample(new float[6], 3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("logits row [3, 7) is outside an array of length 6");
        assertThatThrownBy(() -> sampler.sample(new float[6], -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("logits row [-1, 3) is outside an array of length 6");
    }

    // ---- logit_bias ----

    @Test
    void biasIsAddedToTheLogit() {
        var sampler = new Sampler(biased(0, Map.of(0, -1.5, 2, 0.5)), 3, null);
        float[] row = {1, 2, 3};
        sampler.adjust(row, null);
        assertThat(row).containsExactly(-0.5f, 2f, 3.5f);
    }

    @Test
    void biasMinus100BansAToken() {
        float[] logits = {5, 4.9f, 0};
        assertThat(new Sampler(biased(0, Map.of(0, -100.0)), 3, null).sample(logits, 0)).isEqualTo(1);
        var sampler = new Sampler(biased(1, Map.of(0, -100.0, 1, -100.0)), 3, null);
        for (int i = 0; i < 2000; i++) assertThat(sampler.sample(logits, 0)).isEqualTo(2);
    }

    @Test
    void biasPlus100ForcesAToken() {
        float[] logits = randomLogits(new SplittableRandom(2), 1000, 3);
        var sampler = new Sampler(biased(1.5, Map.of(777, 100.0)), 1000, null);
        for (int i = 0; i < 2000; i++) assertThat(sampler.sample(logits, 0)).isEqualTo(777);
    }

    @Test
    void biasTokensMustBeInTheVocabulary() {
        assertThatThrownBy(() -> new Sampler(biased(1, Map.of(3, 1.0)), 3, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("logit_bias token id 3 is outside the vocabulary (size 3)");
    }

    // ---- penalties ----

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfContextTokensOnce() {
        var sampler = new Sampler(penalties(0, 0, 2), 6, new int[] {0, 1, 0});
        sampler.accept(2);
        sampler.accept(2);
        sampler.accept(3);
        float[] row = {2, -2, 1, -1, 0.5f, -0.5f};
        sampler.adjust(row, null);
        // prompt 0 and 1, generated 2 (twice) and 3; 4 and 5 never seen.
        assertThat(row).containsExactly(1f, -4f, 0.5f, -2f, 0.5f, -0.5f);
    }

    @Test
    void presenceAndFrequencyPenaltiesFollowTheOpenAiFormulaOverGeneratedTokensOnly() {
        var sampler = new Sampler(penalties(0.5, 0.25, 1), 4, new int[] {2, 2, 2});
        sampler.accept(0);
        sampler.accept(1);
        sampler.accept(1);
        sampler.accept(1);
        float[] row = {1, 1, 1, 1};
        sampler.adjust(row, null);
        // logit -= count * frequency + (count > 0) * presence; prompt token 2 is not counted.
        assertThat(row).containsExactly(1 - (1 * 0.25f + 0.5f), 1 - (3 * 0.25f + 0.5f), 1f, 1f);
    }

    @Test
    void negativePenaltiesEncourageRepetition() {
        var sampler = new Sampler(penalties(-1, -0.5, 1), 2, null);
        sampler.accept(1);
        float[] row = {0, 0};
        sampler.adjust(row, null);
        assertThat(row).containsExactly(0f, 1.5f);
    }

    @Test
    void stepsRunInTheDocumentedOrderMaskBiasRepetitionPresence() {
        var params = new SamplingParams(0, 1, 0, 0, 0.5, 0, 2, Map.of(0, 1.0, 1, 100.0), 1L);
        var sampler = new Sampler(params, 3, null);
        sampler.accept(0);
        float[] row = {1, 1, 1};
        sampler.adjust(row, TokenMask.allowing(0, 2));
        // token 0: (1 + 1) / 2 - 0.5 = 0.5 (repetition before bias would give 1.0); token 1: masked, the bias
        // cannot bring it back.
        assertThat(row).containsExactly(0.5f, Float.NEGATIVE_INFINITY, 1f);
    }

    @Test
    void penaltiesChangeTheGreedyChoiceOnceTheFormulaSaysSo() {
        float[] logits = {1.0f, 0.5f};
        var mild = new Sampler(new SamplingParams(0, 1, 0, 0, 0, 0.2, 1, Map.of(), null), 2, null);
        var strong = new Sampler(new SamplingParams(0, 1, 0, 0, 0, 0.3, 1, Map.of(), null), 2, null);
        for (Sampler s : new Sampler[] {mild, strong}) {
            assertThat(s.sample(logits, 0)).isZero();
            s.accept(0);
            s.accept(0);
        }
        assertThat(mild.sample(logits, 0)).as("1.0 - 2 * 0.2 = 0.6 > 0.5").isZero();
        assertThat(strong.sample(logits, 0)).as("1.0 - 2 * 0.3 = 0.4 < 0.5").isEqualTo(1);
    }

    @Test
    void onlyAcceptChangesThePenaltyState() {
        float[] logits = {1.0f, 0.5f};
        var sampler = new Sampler(new SamplingParams(0, 1, 0, 0, 0, 1, 1, Map.of(), null), 2, null);
        for (int i = 0; i < 5; i++) assertThat(sampler.sample(logits, 0)).as("sampling alone never penalises").isZero();
        sampler.accept(0);
        assertThat(sampler.sample(logits, 0)).isEqualTo(1);
    }

    @Test
    void acceptedAndPromptTokensMustBeInTheVocabulary() {
        var sampler = new Sampler(penalties(0.1, 0, 1), 10, null);
        assertThatThrownBy(() -> sampler.accept(10)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("accepted token 10 is outside the vocabulary (size 10)");
        assertThatThrownBy(() -> sampler.accept(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("accepted token -1 is outside the vocabulary (size 10)");
        assertThatThrownBy(() -> new Sampler(penalties(0, 0, 1.2), 10, new int[] {1, 2, 12}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("prompt token 12 at position 2 is outside the vocabulary (size 10)");
        assertThatThrownBy(() -> new Sampler(SamplingParams.GREEDY, 0, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("vocabulary size must be positive, got 0");
    }

    // ---- token mask ----

    @Test
    void theMaskRestrictsGreedyAndSampledChoices() {
        float[] logits = randomLogits(new SplittableRandom(4), 500, 2);
        var allowed = new BitSet();
        allowed.set(10);
        allowed.set(20);
        allowed.set(30);
        var mask = TokenMask.of(allowed);
        int best = logits[10] >= logits[20] && logits[10] >= logits[30] ? 10 : logits[20] >= logits[30] ? 20 : 30;
        assertThat(new Sampler(SamplingParams.GREEDY, 500, null).sample(logits, 0, mask)).isEqualTo(best);
        var sampler = new Sampler(sampling(2, 0, 1, 0, 9L), 500, null);
        var drawn = new BitSet();
        for (int i = 0; i < 1000; i++) drawn.set(sampler.sample(logits, 0, mask));
        assertThat(drawn).isEqualTo(allowed);
    }

    @Test
    void aMaskThatAllowsNothingIsAnError() {
        var sampler = new Sampler(sampling(1, 0, 1, 0, 1L), 4, null);
        assertThatThrownBy(() -> sampler.sample(new float[4], 0, TokenMask.allowing()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("no token can be sampled: all 4 logits are -Infinity or NaN (after the token mask, bias and penalties)");
        assertThatThrownBy(() -> new Sampler(SamplingParams.GREEDY, 4, null).sample(new float[4], 0, t -> false))
                .isInstanceOf(IllegalStateException.class);
    }

    // ---- filters through the sampler ----

    @Test
    void topK1IsGreedy() {
        var random = new SplittableRandom(5);
        var sampler = new Sampler(sampling(2, 1, 1, 0, 8L), 2000, null);
        for (int i = 0; i < 50; i++) {
            float[] logits = randomLogits(random, 2000, 1);
            assertThat(sampler.sample(logits, 0)).isEqualTo(Candidates.argmax(logits, 0, 2000));
        }
    }

    @Test
    void aTemperatureTooSmallToDivideByInFloatIsGreedy() {
        var random = new SplittableRandom(7);
        for (double t : new double[] {1e-39, 5e-39, 1e-38, Float.MIN_NORMAL, Float.MIN_NORMAL / 2, Float.MIN_VALUE,
                Double.MIN_VALUE, 1e-300}) {
            var sampler = new Sampler(sampling(t, 0, 1, 0, 3L), 2000, null);
            for (int i = 0; i < 20; i++) {
                float[] logits = randomLogits(random, 2000, 1);
                assertThat(sampler.sample(logits, 0)).as("temperature %s", t).isEqualTo(Candidates.argmax(logits, 0, 2000));
            }
        }
        assertThat(sampling(1e-39, 0, 1, 0, 3L).greedy()).as("1/1e-39 overflows a float").isTrue();
        assertThat(sampling(1e-30, 0, 1, 0, 3L).greedy()).as("1/1e-30 is a float").isFalse();
    }

    @Test
    void aTinyTopPIsGreedy() {
        var random = new SplittableRandom(6);
        var sampler = new Sampler(sampling(2, 0, 1e-9, 0, 8L), 2000, null);
        for (int i = 0; i < 50; i++) {
            float[] logits = randomLogits(random, 2000, 1);
            assertThat(sampler.sample(logits, 0)).isEqualTo(Candidates.argmax(logits, 0, 2000));
        }
    }

    @Test
    void minPNeverDrawsATokenBelowTheThresholdAndDrawsTheOthers() {
        // Relative probabilities at T = 1: 1, 0.5, 0.31, 0.29, 0.1.
        float[] logits = {0, (float) Math.log(0.5), (float) Math.log(0.31), (float) Math.log(0.29), (float) Math.log(0.1)};
        int[] counts = counts(new Sampler(sampling(1, 0, 1, 0.3, 12L), 5, null), logits, 5000);
        assertThat(counts[0]).isPositive();
        assertThat(counts[1]).isPositive();
        assertThat(counts[2]).isPositive();
        assertThat(counts[3]).isZero();
        assertThat(counts[4]).isZero();
    }

    // ---- randomness ----

    @Test
    void theSameSeedGivesTheSameTokensAndDifferentSeedsDiffer() {
        float[] logits = randomLogits(new SplittableRandom(3), 5000, 2);
        int[][] runs = new int[3][];
        long[] seeds = {42, 42, 43};
        for (int r = 0; r < 3; r++) {
            var params = new SamplingParams(1, 0.95, 0, 0.01, 0.1, 0.1, 1.1, Map.of(), seeds[r]);
            var sampler = new Sampler(params, 5000, new int[] {1, 2, 3});
            assertThat(sampler.seed()).isEqualTo(seeds[r]);
            runs[r] = new int[200];
            for (int i = 0; i < 200; i++) {
                runs[r][i] = sampler.sample(logits, 0);
                sampler.accept(runs[r][i]);
            }
        }
        assertThat(runs[1]).isEqualTo(runs[0]);
        assertThat(runs[2]).isNotEqualTo(runs[0]);
    }

    @Test
    void seededOutputIsStableAcrossVersions() {
        // Users rely on a seed reproducing their output. If this test has to change, so does every seeded result:
        // that is a breaking change to announce, not a number to update.
        float[] logits = new float[1000];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) (4 * Math.sin(i * 0.37) + 0.001 * i);
        var sampler = new Sampler(sampling(0.8, 0, 0.95, 0, 20240501L), logits.length, null);
        int[] tokens = new int[12];
        for (int i = 0; i < tokens.length; i++) tokens[i] = sampler.sample(logits, 0);
        assertThat(tokens).containsExactly(GOLDEN);
    }

    private static final int[] GOLDEN = {649, 835, 683, 785, 854, 530, 955, 413, 430, 836, 193, 242};

    @Test
    void withoutASeedEachSamplerDrawsItsOwn() {
        var a = new Sampler(sampling(1, 0, 1, 0, null), 10, null);
        var b = new Sampler(sampling(1, 0, 1, 0, null), 10, null);
        assertThat(a.seed()).isNotEqualTo(b.seed());
    }

    @Test
    void temperature1DrawsMatchTheSoftmax() {
        float[] logits = {1.2f, 0.4f, -0.3f, 2.0f, 0f, -1.5f, 0.9f, 0.1f};
        int[] observed = counts(new Sampler(sampling(1, 0, 1, 0, 2024L), 8, null), logits, 20_000);
        // 7 degrees of freedom: P(chi2 > 24.32) = 0.001.
        assertThat(chiSquare(observed, softmax(logits, 1))).isLessThan(24.32);
    }

    @Test
    void temperatureHalfSharpensToPSquaredRenormalised() {
        float[] logits = {1.2f, 0.4f, -0.3f, 2.0f, 0f, -1.5f, 0.9f, 0.1f};
        double[] p = softmax(logits, 1);
        double[] sharpened = new double[p.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) sum += sharpened[i] = p[i] * p[i];
        for (int i = 0; i < p.length; i++) sharpened[i] /= sum;
        int[] observed = counts(new Sampler(sampling(0.5, 0, 1, 0, 77L), 8, null), logits, 20_000);
        assertThat(chiSquare(observed, sharpened)).isLessThan(24.32);
        assertThat(sharpened).usingElementComparator((x, y) -> Math.abs(x - y) < 1e-12 ? 0 : 1)
                .containsExactly(softmax(logits, 0.5));
    }

    @Test
    void topKDrawsAreRenormalisedOverTheSurvivors() {
        float[] logits = {1.2f, 0.4f, -0.3f, 2.0f, 0f, -1.5f, 0.9f, 0.1f};
        double[] p = softmax(logits, 1);
        double kept = p[3] + p[0] + p[6];
        int[] observed = counts(new Sampler(sampling(1, 3, 1, 0, 5L), 8, null), logits, 20_000);
        assertThat(observed[1] + observed[2] + observed[4] + observed[5] + observed[7]).isZero();
        // 2 degrees of freedom: P(chi2 > 13.82) = 0.001.
        assertThat(chiSquare(new int[] {observed[0], observed[3], observed[6]},
                new double[] {p[0] / kept, p[3] / kept, p[6] / kept})).isLessThan(13.82);
    }

    @Test
    void drawsOverALargeVocabularyFollowTheDistribution() {
        // 32k tokens (32 blocks): four likely ones and a flat tail that holds about half of the mass.
        int vocab = 32_000;
        float[] logits = new float[vocab];
        Arrays.fill(logits, -6.6f);
        logits[100] = 3f;
        logits[15_000] = 2.5f;
        logits[25_000] = 2f;
        logits[31_999] = 1f;
        double[] p = softmax(logits, 1);
        double tail = 1 - p[100] - p[15_000] - p[25_000] - p[31_999];
        var sampler = new Sampler(sampling(1, 0, 1, 0, 99L), vocab, null);
        int[] grouped = new int[5];
        for (int i = 0; i < 4_000; i++) {
            int token = sampler.sample(logits, 0);
            grouped[switch (token) { case 100 -> 0; case 15_000 -> 1; case 25_000 -> 2; case 31_999 -> 3; default -> 4; }]++;
        }
        // 4 degrees of freedom: P(chi2 > 18.47) = 0.001.
        assertThat(chiSquare(grouped, new double[] {p[100], p[15_000], p[25_000], p[31_999], tail})).isLessThan(18.47);
        assertThat(tail).isCloseTo(0.5, Offset.offset(0.1));
    }
}
