package dev.quill.engine.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quill.engine.TokenLogprob;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class LogprobsTest {

    private static float[] randomRow(long seed, int vocab, double scale) {
        var random = new SplittableRandom(seed);
        float[] logits = new float[vocab];
        for (int i = 0; i < vocab; i++) logits[i] = (float) (random.nextGaussian() * scale);
        return logits;
    }

    @Test
    void probabilitiesSumToOne() {
        float[] logits = randomRow(1, 1000, 3);
        double sum = 0;
        for (int token = 0; token < logits.length; token++) sum += Math.exp(Logprobs.of(logits, 0, 1000, token, 0).chosen().logprob());
        assertThat(sum).isCloseTo(1, Offset.offset(1e-6));
    }

    @Test
    void matchesTheTextbookFormulaInDoublePrecision() {
        float[] logits = randomRow(2, 5000, 2);
        double sum = 0;
        for (float x : logits) sum += Math.exp(x);   // no overflow at this scale, so no shift needed here
        double logSumExp = Math.log(sum);
        for (int token : new int[] {0, 17, 2500, 4999}) {
            var result = Logprobs.of(logits, 0, logits.length, token, 0);
            assertThat(result.chosen().id()).isEqualTo(token);
            assertThat((double) result.chosen().logprob()).isCloseTo(logits[token] - logSumExp, Offset.offset(2e-6));
        }
    }

    @Test
    void hugeLogitsDoNotOverflow() {
        float[] logits = {1000, 999, -1000};
        // log(1 + e^-1) = 0.3132617, relative to the top logit.
        assertThat(Logprobs.of(logits, 0, 3, 0, 0).chosen().logprob()).isCloseTo(-0.3132617f, Offset.offset(1e-6f));
        assertThat(Logprobs.of(logits, 0, 3, 1, 0).chosen().logprob()).isCloseTo(-1.3132617f, Offset.offset(1e-6f));
        assertThat(Logprobs.of(logits, 0, 3, 2, 0).chosen().logprob()).isCloseTo(-2000.3132617f, Offset.offset(1e-3f));
    }

    @Test
    void topAlternativesAreMostLikelyFirstWithTiesToTheLowerId() {
        float[] logits = {1, 3, 3, 2, 3, 0};
        var result = Logprobs.of(logits, 0, 6, 5, 4);
        assertThat(result.top()).extracting(TokenLogprob::id).containsExactly(1, 2, 4, 3);
        assertThat(result.top().get(0).logprob()).isEqualTo(result.top().get(1).logprob());
        assertThat(result.top().get(3).logprob()).isLessThan(result.top().get(2).logprob());
        assertThat(result.chosen().logprob()).isLessThan(result.top().get(3).logprob());
    }

    @Test
    void topAlternativesOfALargeRowAgreeWithTheChosenLogprobs() {
        float[] logits = randomRow(3, 32_000, 2.5);
        var result = Logprobs.of(logits, 0, logits.length, 0, Logprobs.MAX_TOP);
        assertThat(result.top()).hasSize(20);
        float previous = Float.POSITIVE_INFINITY;
        for (TokenLogprob alternative : result.top()) {
            assertThat(alternative.logprob()).isLessThanOrEqualTo(previous);
            assertThat(alternative.logprob()).isEqualTo(Logprobs.of(logits, 0, logits.length, alternative.id(), 0).chosen().logprob());
            previous = alternative.logprob();
        }
        // Nothing outside the list beats its last entry.
        int better = 0;
        for (float x : logits) if (x > logits[result.top().get(19).id()]) better++;
        assertThat(better).isEqualTo(19);
    }

    @Test
    void aRowIsReadAtItsOffset() {
        float[] batch = {50, 50, /* row: */ 0, 1, /* next: */ 50};
        var result = Logprobs.of(batch, 2, 2, 0, 2);
        assertThat(result.chosen().logprob()).isCloseTo((float) -Math.log(1 + Math.E), Offset.offset(1e-6f));
        assertThat(result.top()).extracting(TokenLogprob::id).containsExactly(1, 0);
    }

    @Test
    void fewerAlternativesThanAskedWhenTheVocabularyIsSmaller() {
        assertThat(Logprobs.of(new float[] {0, 1, 2}, 0, 3, 0, 10).top()).extracting(TokenLogprob::id).containsExactly(2, 1, 0);
        assertThat(Logprobs.of(new float[] {0, 1, 2}, 0, 3, 0, 0).top()).isEmpty();
    }

    @Test
    void nanCountsAsImpossibleAndInfinityTakesEverything() {
        var withNaN = Logprobs.of(new float[] {Float.NaN, 0, 0}, 0, 3, 0, 3);
        assertThat(withNaN.chosen().logprob()).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(withNaN.top()).extracting(TokenLogprob::id).containsExactly(1, 2, 0);
        assertThat(withNaN.top().get(0).logprob()).isCloseTo((float) -Math.log(2), Offset.offset(1e-7f));

        var withInfinity = Logprobs.of(new float[] {Float.POSITIVE_INFINITY, 5, Float.POSITIVE_INFINITY}, 0, 3, 1, 1);
        assertThat(withInfinity.chosen().logprob()).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(withInfinity.top()).containsExactly(new TokenLogprob(0, (float) -Math.log(2)));
    }

    @Test
    void badArgumentsAreNamed() {
        float[] logits = new float[10];
        assertThatThrownBy(() -> Logprobs.of(logits, 0, 10, 10, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("token 10 is outside the vocabulary (size 10)");
        assertThatThrownBy(() -> Logprobs.of(logits, 0, 10, 0, 21)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("number of top logprobs must be between 0 and 20, got 21");
        assertThatThrownBy(() -> Logprobs.of(logits, 0, 10, 0, -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("number of top logprobs must be between 0 and 20, got -1");
        assertThatThrownBy(() -> Logprobs.of(logits, 5, 10, 0, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("logits row [5, 15) is outside an array of length 10");
        assertThatThrownBy(() -> Logprobs.of(logits, 0, 0, 0, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("vocabulary size must be positive, got 0");
        assertThatThrownBy(() -> Logprobs.of(new float[] {Float.NEGATIVE_INFINITY}, 0, 1, 0, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("cannot compute logprobs: all 1 logits are -Infinity or NaN");
    }
}
