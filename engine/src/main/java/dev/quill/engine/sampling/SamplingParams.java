package dev.quill.engine.sampling;

import java.util.HashMap;
import java.util.Map;

/**
 * Everything that decides how the next token is chosen from the logits, as one validated value. A {@link Sampler}
 * applies it; the order of the steps is documented there.
 *
 * @param temperature       0 means greedy (argmax); otherwise logits are divided by it before the filters, in (0, 2]
 * @param topP              nucleus filter: keep the most likely tokens whose cumulative probability first reaches
 *                          it, in [0, 1]; 1 is off, 0 keeps only the most likely token
 * @param topK              keep the k most likely tokens; 0 is off
 * @param minP              drop tokens whose probability is below {@code minP} times the most likely one's, in
 *                          [0, 1]; 0 is off
 * @param presencePenalty   OpenAI presence penalty over generated tokens, in [-2, 2]; 0 is off
 * @param frequencyPenalty  OpenAI frequency penalty over generated tokens, in [-2, 2]; 0 is off
 * @param repetitionPenalty CTRL/llama.cpp repetition penalty over prompt and generated tokens, in (0, 10]; 1 is off
 * @param logitBias         token id to a bias in [-100, 100] added to its logit; null means none
 * @param seed              seed of the request's random generator; null means a fresh random seed per request
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
        logitBias = copyBias(logitBias);
        // Written as "ok" conditions so that NaN fails every one of them.
        check(temperature >= 0 && temperature <= 2, "temperature must be between 0 and 2, got " + temperature);
        check(topP >= 0 && topP <= 1, "top_p must be between 0 and 1, got " + topP);
        check(topK >= 0, "top_k must be 0 (off) or positive, got " + topK);
        check(minP >= 0 && minP <= 1, "min_p must be between 0 and 1, got " + minP);
        check(presencePenalty >= -2 && presencePenalty <= 2, "presence_penalty must be between -2 and 2, got " + presencePenalty);
        check(frequencyPenalty >= -2 && frequencyPenalty <= 2, "frequency_penalty must be between -2 and 2, got " + frequencyPenalty);
        check(repetitionPenalty > 0 && repetitionPenalty <= 10, "repetition_penalty must be in (0, 10], got " + repetitionPenalty);
    }

    private static Map<Integer, Double> copyBias(Map<Integer, Double> logitBias) {
        if (logitBias == null || logitBias.isEmpty()) return Map.of();
        var copy = new HashMap<Integer, Double>();
        for (var e : logitBias.entrySet()) {
            Integer token = e.getKey();
            Double bias = e.getValue();
            check(token != null, "logit_bias has a null token id");
            check(token >= 0, "logit_bias token id must be >= 0, got " + token);
            check(bias != null, "logit_bias for token " + token + " must be a number, got null");
            check(bias >= -100 && bias <= 100, "logit_bias for token " + token + " must be between -100 and 100, got " + bias);
            copy.put(token, bias);
        }
        return Map.copyOf(copy);
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    /**
     * True when the next token is the argmax: temperature 0, or one so small that 1/temperature overflows a float
     * (the logits are scaled in float; such a temperature is the argmax anyway). The filters and the seed then play
     * no part.
     */
    public boolean greedy() {
        return temperature == 0 || Float.isInfinite((float) (1 / temperature));
    }

    /** True when any penalty is on, i.e. the sampler has to remember which tokens it has seen. */
    public boolean penalized() {
        return presencePenalty != 0 || frequencyPenalty != 0 || repetitionPenalty != 1;
    }

    /**
     * Checks what can only be checked against a model: every {@code logitBias} token id must be in the vocabulary.
     * Call it when the request arrives so a bad id is reported before generation starts.
     *
     * @throws IllegalArgumentException naming the smallest offending token id
     */
    public void validateFor(int vocabSize) {
        int worst = -1;
        for (int token : logitBias.keySet()) {
            if (token >= vocabSize && (worst < 0 || token < worst)) worst = token;
        }
        check(worst < 0, "logit_bias token id " + worst + " is outside the vocabulary (size " + vocabSize + ")");
    }
}
