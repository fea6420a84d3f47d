package dev.quill.engine.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class CandidatesTest {

    /** Runs the filter chain and returns the surviving ids. */
    private static int[] survivors(float[] logits, double temperature, int topK, double topP, double minP) {
        var c = Candidates.forThread(logits.length);
        c.filter(logits, 0, logits.length, new SamplingParams(temperature, topP, topK, minP, 0, 0, 1, null, null));
        return ids(c);
    }

    private static int[] ids(Candidates c) {
        return c.survivors();
    }

    /** The specification, the slow way: rank everything, cut prefixes. */
    private static int[] reference(float[] logits, double temperature, int topK, double topP, double minP) {
        float max = Float.NEGATIVE_INFINITY;
        for (float x : logits) max = Math.max(max, x);
        float[] p = new float[logits.length];
        List<Integer> ranked = new ArrayList<>();
        for (int i = 0; i < logits.length; i++) {
            p[i] = Candidates.expNonPositive((logits[i] - max) * (float) (1 / temperature));
            if (p[i] > 0) ranked.add(i);
        }
        ranked.sort(Comparator.<Integer>comparingDouble(i -> -p[i]).thenComparingInt(i -> i));
        int n = ranked.size();
        if (topK > 0) n = Math.min(n, topK);
        if (topP < 1) {
            double total = 0;
            for (int j = 0; j < n; j++) total += p[ranked.get(j)];
            double cumulative = 0;
            for (int j = 0; j < n; j++) {
                cumulative += p[ranked.get(j)];
                if (cumulative >= topP * total) {
                    n = j + 1;
                    break;
                }
            }
        }
        List<Integer> kept = new ArrayList<>();
        for (int j = 0; j < n; j++) if (p[ranked.get(j)] >= (float) minP) kept.add(ranked.get(j));
        return kept.stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    private static float[] logitsOfProbabilities(double... probabilities) {
        float[] logits = new float[probabilities.length];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) Math.log(probabilities[i]);
        return logits;
    }

    @Test
    void expNonPositiveIsWithinTwoFloatUlpsOfStrictMath() {
        var random = new SplittableRandom(1);
        for (int i = 0; i < 200_000; i++) {
            float x = (float) (-random.nextDouble() * 87);
            int expectedBits = Float.floatToIntBits((float) StrictMath.exp(x));
            int actualBits = Float.floatToIntBits(Candidates.expNonPositive(x));
            assertThat(Math.abs(actualBits - expectedBits)).as("float ulps off at e^%s", x).isLessThanOrEqualTo(2);
        }
        assertThat(Candidates.expNonPositive(0f)).isEqualTo(1f);
        assertThat(Candidates.expNonPositive(-0f)).isEqualTo(1f);
        assertThat(Candidates.expNonPositive(-1e-30f)).isEqualTo(1f);
        assertThat(Candidates.expNonPositive(-87f)).isPositive();
        assertThat(Candidates.expNonPositive(Math.nextDown(-87f))).isZero();
        assertThat(Candidates.expNonPositive(Float.NEGATIVE_INFINITY)).isZero();
        assertThat(Candidates.expNonPositive(Float.NaN)).isZero();
    }

    @Test
    void vectorLanesComputeTheSameBitsAsTheScalarExp() {
        // Determinism across CPUs rests on this: whatever the vector width, each token gets the scalar function's bits.
        var random = new SplittableRandom(2);
        for (int vocab : new int[] {1, 7, 64, 1000, 4099}) {
            float[] logits = new float[vocab];
            for (int i = 0; i < vocab; i++) logits[i] = (float) (random.nextGaussian() * 20);
            if (vocab > 5) logits[3] = Float.NaN;
            if (vocab > 5) logits[4] = Float.NEGATIVE_INFINITY;
            float max = Candidates.maxLogit(logits, 0, vocab);
            double temperature = 0.7;
            var c = Candidates.forThread(vocab);
            c.fromLogits(logits, 0, vocab, temperature, Float.MIN_VALUE);
            float scale = (float) (1 / temperature);
            for (int i = 0; i < vocab; i++) {
                assertThat(c.relativeProbability(i)).as("token %d of %d", i, vocab)
                        .isEqualTo(Candidates.expNonPositive((logits[i] - max) * scale));
            }
        }
    }

    @Test
    void maxAndArgmaxIgnoreNaNAndPreferTheLowestId() {
        float[] logits = new float[100];
        Arrays.fill(logits, -1f);
        logits[0] = Float.NaN;
        logits[37] = 2f;
        logits[61] = 2f;
        logits[99] = 1f;
        assertThat(Candidates.maxLogit(logits, 0, 100)).isEqualTo(2f);
        assertThat(Candidates.argmax(logits, 0, 100)).isEqualTo(37);
        assertThat(Candidates.argmax(logits, 38, 62)).isEqualTo(23);   // token 61 of the full row
        assertThat(Candidates.argmax(logits, 90, 10)).isEqualTo(9);
        assertThatThrownBy(() -> Candidates.argmax(new float[] {Float.NaN, Float.NEGATIVE_INFINITY}, 0, 2))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void withoutFiltersEveryTokenWithNonZeroProbabilityIsACandidate() {
        float[] logits = {0, Float.NEGATIVE_INFINITY, -200, Float.NaN, 1};
        var c = Candidates.forThread(logits.length);
        c.fromLogits(logits, 0, logits.length, 1, Float.MIN_VALUE);
        assertThat(ids(c)).containsExactly(0, 4);
        assertThat(c.relativeProbability(4)).isEqualTo(1f);
        assertThat(c.mass()).isCloseTo(1 + Math.exp(-1), Offset.offset(1e-7));
    }

    @Test
    void readsTheRowAtItsOffset() {
        float[] logits = {9, 9, 0, 5, 0, 9};
        var c = Candidates.forThread(3);
        c.fromLogits(logits, 2, 3, 1, 1f);
        assertThat(ids(c)).containsExactly(1);
    }

    @Test
    void topKKeepsTheKMostLikelyAndBreaksTiesByLowerId() {
        float[] logits = {1, 2, 2, 2, 0};
        assertThat(survivors(logits, 1, 2, 1, 0)).containsExactly(1, 2);
        assertThat(survivors(logits, 1, 4, 1, 0)).containsExactly(0, 1, 2, 3);
        assertThat(survivors(logits, 1, 1, 1, 0)).containsExactly(1);
        assertThat(survivors(logits, 1, 99, 1, 0)).containsExactly(0, 1, 2, 3, 4);
    }

    @Test
    void bothTopKPathsAgree() {
        // Small k comes straight from the logits; the general path (any k) selects on probabilities.
        var random = new SplittableRandom(8);
        for (int trial = 0; trial < 100; trial++) {
            int vocab = 1 + random.nextInt(5000);
            float[] logits = new float[vocab];
            for (int i = 0; i < vocab; i++) logits[i] = Math.round(random.nextGaussian() * 6) / 2f;
            int k = 1 + random.nextInt(Candidates.SMALL_TOP_K);
            var c = Candidates.forThread(vocab);
            c.fromTopLogits(logits, 0, vocab, 0.9, k);
            int[] fromLogits = c.survivors();
            double mass = c.mass();
            c.fromLogits(logits, 0, vocab, 0.9, Float.MIN_VALUE);
            c.keepTop(k);
            assertThat(fromLogits).as("vocab %d, k %d", vocab, k).containsExactly(c.survivors());
            assertThat(mass).isEqualTo(c.mass());
        }
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingP() {
        float[] logits = logitsOfProbabilities(0.2, 0.5, 0.3);
        assertThat(survivors(logits, 1, 0, 0.49, 0)).containsExactly(1);
        assertThat(survivors(logits, 1, 0, 0.79, 0)).containsExactly(1, 2);
        assertThat(survivors(logits, 1, 0, 0.81, 0)).containsExactly(0, 1, 2);
        assertThat(survivors(logits, 1, 0, 0, 0)).as("top_p 0 keeps the top token").containsExactly(1);
    }

    @Test
    void topPIsMeasuredAfterTemperature() {
        // At T = 0.5 the probabilities 0.2/0.5/0.3 become 0.105/0.658/0.237: 0.6 of the mass is one token.
        float[] logits = logitsOfProbabilities(0.2, 0.5, 0.3);
        assertThat(survivors(logits, 1, 0, 0.6, 0)).containsExactly(1, 2);
        assertThat(survivors(logits, 0.5, 0, 0.6, 0)).containsExactly(1);
    }

    @Test
    void topPIsRenormalisedOverWhatTopKKept() {
        // Over all four, 0.4 + 0.3 = 0.7 < 0.75; over the top two, 0.4 / 0.7 = 0.57 < 0.75 <= 1.
        float[] logits = logitsOfProbabilities(0.4, 0.3, 0.2, 0.1);
        assertThat(survivors(logits, 1, 0, 0.75, 0)).containsExactly(0, 1, 2);
        assertThat(survivors(logits, 1, 2, 0.75, 0)).containsExactly(0, 1);
        assertThat(survivors(logits, 1, 2, 0.5, 0)).containsExactly(0);
    }

    @Test
    void topPTiesAtTheBoundaryGoToLowerIds() {
        float[] logits = new float[10];   // ten equal tokens: 0.35 of the mass needs four of them
        assertThat(survivors(logits, 1, 0, 0.35, 0)).containsExactly(0, 1, 2, 3);
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheTopProbability() {
        float[] logits = logitsOfProbabilities(0.05, 0.5, 0.25, 0.2);   // relative: 0.1, 1, 0.5, 0.4
        assertThat(survivors(logits, 1, 0, 1, 0.45)).containsExactly(1, 2);
        assertThat(survivors(logits, 1, 0, 1, 0.09)).containsExactly(0, 1, 2, 3);
        assertThat(survivors(logits, 1, 0, 1, 1)).containsExactly(1);
        // Relative to the top token after temperature: at T = 0.5, 0.4 becomes 0.16 and 0.5 becomes 0.25.
        assertThat(survivors(logits, 0.5, 0, 1, 0.2)).containsExactly(1, 2);
    }

    @Test
    void minPAppliesAfterTopPSoTopPSeesTheUnfilteredMass() {
        float[] logits = logitsOfProbabilities(0.3, 0.5, 0.2);   // relative: 0.6, 1, 0.4
        // top_p 0.6 over the full mass needs 0.5 + 0.3; min_p 0.5 then drops nothing more. Had min_p come first,
        // token 1 alone would hold 0.5 / 0.8 = 0.625 >= 0.6 and be the only survivor.
        assertThat(survivors(logits, 1, 0, 0.6, 0.5)).containsExactly(0, 1);
        assertThat(survivors(logits, 1, 0, 0.9, 0.5)).containsExactly(0, 1);
        assertThat(survivors(logits, 1, 0, 0.9, 0)).containsExactly(0, 1, 2);
    }

    @Test
    void filtersAgreeWithTheSortingReferenceOnRandomRows() {
        var random = new SplittableRandom(7);
        int[] topKs = {0, 1, 2, 5, 40, 128, 129, 1000};
        double[] topPs = {1, 0, 0.1, 0.5, 0.9, 0.95, 0.999};
        double[] minPs = {0, 0.01, 0.1, 0.5};
        double[] temperatures = {0.1, 0.7, 1, 1.5, 2};
        for (int trial = 0; trial < 300; trial++) {
            int vocab = 1 + random.nextInt(3000);
            float[] logits = new float[vocab];
            boolean coarse = random.nextBoolean();   // coarse logits make many exact ties
            for (int i = 0; i < vocab; i++) {
                double x = random.nextGaussian() * 3;
                logits[i] = coarse ? Math.round(x * 2) / 2f : (float) x;
            }
            int topK = topKs[random.nextInt(topKs.length)];
            double topP = topPs[random.nextInt(topPs.length)];
            double minP = minPs[random.nextInt(minPs.length)];
            double temperature = temperatures[random.nextInt(temperatures.length)];
            assertThat(survivors(logits, temperature, topK, topP, minP))
                    .as("vocab %d, T %s, top_k %d, top_p %s, min_p %s", vocab, temperature, topK, topP, minP)
                    .containsExactly(reference(logits, temperature, topK, topP, minP));
        }
    }

    @Test
    void aLargeVocabularyAgreesWithTheReference() {
        var random = new SplittableRandom(11);
        float[] logits = new float[152_064];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) (random.nextGaussian() * 2.5);
        assertThat(survivors(logits, 1, 0, 0.9, 0)).containsExactly(reference(logits, 1, 0, 0.9, 0));
        assertThat(survivors(logits, 0.8, 40, 0.95, 0.05)).containsExactly(reference(logits, 0.8, 40, 0.95, 0.05));
    }

    @Test
    void positiveInfinityTakesAllTheProbability() {
        float[] logits = {1, Float.POSITIVE_INFINITY, 3, Float.POSITIVE_INFINITY};
        var c = Candidates.forThread(logits.length);
        c.fromLogits(logits, 0, logits.length, 1, Float.MIN_VALUE);
        assertThat(ids(c)).containsExactly(1, 3);
        assertThat(c.mass()).isEqualTo(2);
    }

    @Test
    void noFiniteLogitIsAnError() {
        float[] logits = {Float.NEGATIVE_INFINITY, Float.NaN};
        assertThatThrownBy(() -> Candidates.forThread(2).fromLogits(logits, 0, 2, 1, Float.MIN_VALUE))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("no token can be sampled: all 2 logits are -Infinity or NaN (after the token mask, bias and penalties)");
    }

    @Test
    void drawWalksTheCumulativeMassInIdOrder() {
        float[] logits = logitsOfProbabilities(0.25, 0.5, 0.25);
        var c = Candidates.forThread(3);
        c.fromLogits(logits, 0, 3, 1, Float.MIN_VALUE);
        assertThat(c.draw(0)).isZero();
        assertThat(c.draw(0.2499)).isZero();
        assertThat(c.draw(0.2501)).isEqualTo(1);
        assertThat(c.draw(0.7499)).isEqualTo(1);
        assertThat(c.draw(0.7501)).isEqualTo(2);
        assertThat(c.draw(Math.nextDown(1.0))).isEqualTo(2);
    }

    @Test
    void drawingAcrossBlocksMatchesASequentialWalk() {
        var random = new SplittableRandom(3);
        int vocab = 10 * Candidates.BLOCK + 17;
        float[] logits = randomRow(random, vocab);
        for (int b = 2; b < 5; b++) Arrays.fill(logits, b * Candidates.BLOCK, (b + 1) * Candidates.BLOCK, Float.NEGATIVE_INFINITY);
        var c = Candidates.forThread(vocab);
        c.fromLogits(logits, 0, vocab, 1, Float.MIN_VALUE);
        double total = 0;
        for (int i = 0; i < vocab; i++) total += c.relativeProbability(i);
        for (int trial = 0; trial < 2000; trial++) {
            double u = random.nextDouble();
            double target = u * total, cumulative = 0;
            int expected = -1;
            for (int i = 0; i < vocab && expected < 0; i++) {
                cumulative += c.relativeProbability(i);
                if (cumulative > target) expected = i;
            }
            assertThat(c.draw(u)).as("u = %s", u).isEqualTo(expected);
        }
        assertThat(c.draw(Math.nextDown(1.0))).isEqualTo(vocab - 1);
    }

    private static float[] randomRow(SplittableRandom random, int vocab) {
        float[] logits = new float[vocab];
        for (int i = 0; i < vocab; i++) logits[i] = (float) random.nextGaussian();
        return logits;
    }
}
