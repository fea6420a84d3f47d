package dev.quill.engine.sampling;

import java.util.Map;

/**
 * Everything that decides how the next token is chosen from the logits, as one validated value.
 *
 * <p>temperature 0 means greedy. topK 0 means no top-k filter; topP 1 and minP 0 mean no filter. Penalties of 0 (and
 * repetitionPenalty 1) are off. {@code logitBias} maps token id to a bias added to its logit. {@code seed} null means
 * a fresh random seed per request.
 */
public record SamplingParams(
        double temperature,
        double topP,
        int topK,
        double minP,
        double presencePenalty,
        double frequencyPenalty,
        double repetitionPenalty,
        Map<Integer, Double> logitBias,
        Long seed) {

    public static final SamplingParams GREEDY = new SamplingParams(0, 1, 0, 0, 0, 0, 1, Map.of(), null);

    public SamplingParams {
        logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
        check(temperature >= 0 && temperature <= 2, "temperature must be between 0 and 2, got " + temperature);
        check(topP >= 0 && topP <= 1, "top_p must be between 0 and 1, got " + topP);
        check(topK >= 0, "top_k must be 0 (off) or positive, got " + topK);
        check(minP >= 0 && minP <= 1, "min_p must be between 0 and 1, got " + minP);
        check(presencePenalty >= -2 && presencePenalty <= 2, "presence_penalty must be between -2 and 2, got " + presencePenalty);
        check(frequencyPenalty >= -2 && frequencyPenalty <= 2, "frequency_penalty must be between -2 and 2, got " + frequencyPenalty);
        check(repetitionPenalty > 0 && repetitionPenalty <= 10, "repetition_penalty must be in (0, 10], got " + repetitionPenalty);
        for (var e : logitBias.entrySet()) {
            check(e.getValue() >= -100 && e.getValue() <= 100,
                    "logit_bias for token " + e.getKey() + " must be between -100 and 100, got " + e.getValue());
        }
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    public boolean greedy() {
        return temperature == 0;
    }
}
