package dev.quill.engine.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SamplingParamsTest {

    private static SamplingParams params(double temperature, double topP, int topK, double minP, double presence,
                                         double frequency, double repetition, Map<Integer, Double> bias) {
        return new SamplingParams(temperature, topP, topK, minP, presence, frequency, repetition, bias, null);
    }

    private static void rejected(Runnable construction, String message) {
        assertThatThrownBy(construction::run).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    }

    @Test
    void greedyIsTemperatureZeroWithEveryFilterOff() {
        var g = SamplingParams.GREEDY;
        assertThat(g.greedy()).isTrue();
        assertThat(g.penalized()).isFalse();
        assertThat(g.logitBias()).isEmpty();
        assertThat(params(0.7, 1, 0, 0, 0, 0, 1, null).greedy()).isFalse();
    }

    @Test
    void eachRangeIsCheckedWithTheWireName() {
        rejected(() -> params(-0.1, 1, 0, 0, 0, 0, 1, null), "temperature must be between 0 and 2, got -0.1");
        rejected(() -> params(2.5, 1, 0, 0, 0, 0, 1, null), "temperature must be between 0 and 2, got 2.5");
        rejected(() -> params(1, 1.5, 0, 0, 0, 0, 1, null), "top_p must be between 0 and 1, got 1.5");
        rejected(() -> params(1, 1, -1, 0, 0, 0, 1, null), "top_k must be 0 (off) or positive, got -1");
        rejected(() -> params(1, 1, 0, -0.5, 0, 0, 1, null), "min_p must be between 0 and 1, got -0.5");
        rejected(() -> params(1, 1, 0, 0, 2.1, 0, 1, null), "presence_penalty must be between -2 and 2, got 2.1");
        rejected(() -> params(1, 1, 0, 0, 0, -3, 1, null), "frequency_penalty must be between -2 and 2, got -3.0");
        rejected(() -> params(1, 1, 0, 0, 0, 0, 0, null), "repetition_penalty must be in (0, 10], got 0.0");
        rejected(() -> params(1, 1, 0, 0, 0, 0, 11, null), "repetition_penalty must be in (0, 10], got 11.0");
    }

    @Test
    void nanIsRejectedEverywhere() {
        rejected(() -> params(Double.NaN, 1, 0, 0, 0, 0, 1, null), "temperature must be between 0 and 2, got NaN");
        rejected(() -> params(1, Double.NaN, 0, 0, 0, 0, 1, null), "top_p must be between 0 and 1, got NaN");
        rejected(() -> params(1, 1, 0, Double.NaN, 0, 0, 1, null), "min_p must be between 0 and 1, got NaN");
        rejected(() -> params(1, 1, 0, 0, Double.NaN, 0, 1, null), "presence_penalty must be between -2 and 2, got NaN");
        rejected(() -> params(1, 1, 0, 0, 0, Double.NaN, 1, null), "frequency_penalty must be between -2 and 2, got NaN");
        rejected(() -> params(1, 1, 0, 0, 0, 0, Double.NaN, null), "repetition_penalty must be in (0, 10], got NaN");
        rejected(() -> params(1, 1, 0, 0, 0, 0, 1, Map.of(3, Double.NaN)),
                "logit_bias for token 3 must be between -100 and 100, got NaN");
    }

    @Test
    void boundsAreInclusiveWhereTheApiSaysSo() {
        var edge = params(2, 0, 1, 1, -2, 2, 10, Map.of(0, -100.0, 1, 100.0));
        assertThat(edge.topP()).isZero();
        assertThat(params(0, 1, 0, 0, 0, 0, 1, null).greedy()).isTrue();
    }

    @Test
    void logitBiasEntriesAreChecked() {
        rejected(() -> params(1, 1, 0, 0, 0, 0, 1, Map.of(7, 100.5)),
                "logit_bias for token 7 must be between -100 and 100, got 100.5");
        rejected(() -> params(1, 1, 0, 0, 0, 0, 1, Map.of(-1, 1.0)), "logit_bias token id must be >= 0, got -1");
        var nullValue = new HashMap<Integer, Double>();
        nullValue.put(5, null);
        rejected(() -> params(1, 1, 0, 0, 0, 0, 1, nullValue), "logit_bias for token 5 must be a number, got null");
        var nullKey = new HashMap<Integer, Double>();
        nullKey.put(null, 1.0);
        rejected(() -> params(1, 1, 0, 0, 0, 0, 1, nullKey), "logit_bias has a null token id");
    }

    @Test
    void logitBiasIsCopiedAndImmutable() {
        var bias = new HashMap<Integer, Double>(Map.of(1, 2.0));
        var p = params(1, 1, 0, 0, 0, 0, 1, bias);
        bias.put(2, 3.0);
        assertThat(p.logitBias()).containsExactly(Map.entry(1, 2.0));
        assertThatThrownBy(() -> p.logitBias().put(4, 1.0)).isInstanceOf(UnsupportedOperationException.class);
        assertThat(params(1, 1, 0, 0, 0, 0, 1, null).logitBias()).isEmpty();
    }

    @Test
    void validateForNamesTheSmallestTokenOutsideTheVocabulary() {
        var p = params(1, 1, 0, 0, 0, 0, 1, Map.of(3, 1.0, 40_000, 1.0, 32_000, 1.0));
        rejected(() -> p.validateFor(32_000), "logit_bias token id 32000 is outside the vocabulary (size 32000)");
        p.validateFor(40_001);
    }

    @Test
    void penalizedWhenAnyPenaltyIsOn() {
        assertThat(params(1, 1, 0, 0, 0.1, 0, 1, null).penalized()).isTrue();
        assertThat(params(1, 1, 0, 0, 0, -0.1, 1, null).penalized()).isTrue();
        assertThat(params(1, 1, 0, 0, 0, 0, 1.1, null).penalized()).isTrue();
        assertThat(params(1, 1, 0, 0, 0, 0, 1, null).penalized()).isFalse();
    }
}
