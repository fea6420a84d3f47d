package dev.quill.server.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * The request fields completions and chat completions share. Null means "not given" wherever the default depends
 * on the endpoint or the model.
 *
 * @param model             the requested model or deployment name, or null
 * @param maxTokens         {@code max_tokens} / {@code max_completion_tokens}, or null for the endpoint default
 * @param maxTokensField    which of the two the client sent (for error messages), or null
 * @param topK              0 = off
 * @param n                 choices per prompt
 * @param bestOf            candidates per prompt (≥ n), or null for n
 * @param stop              stop strings (at most 4, none empty)
 * @param timeoutSeconds    the request fails when generation takes longer, or null
 * @param truncateToContext {@code context_length_exceeded_behavior}: true = truncate (lower an explicit max_tokens to
 *                          fit), false = error (the default, as OpenAI and Azure)
 * @param modalities        requested output modalities, or null
 * @param audio             the {@code audio} output parameters, or null
 * @param prediction        predicted output text (validated; does not change the output), or null
 * @param guardrailContext  the gateway {@code context} field (accepted for output guardrails), or null
 * @param constraints       grammar / regex / choice constraints (pass-through extensions)
 * @param ignoredParams     body fields that were dropped or not understood, for the {@code x-quill-ignored-params}
 *                          header
 */
public record GenerationOptions(
        String model,
        Integer maxTokens,
        String maxTokensField,
        Double temperature,
        Double topP,
        int topK,
        Double frequencyPenalty,
        Double presencePenalty,
        Map<Integer, Double> logitBias,
        int n,
        Integer bestOf,
        Long seed,
        List<String> stop,
        boolean stream,
        boolean includeUsage,
        String user,
        Double timeoutSeconds,
        boolean truncateToContext,
        ResponseFormat responseFormat,
        List<Tool> tools,
        ToolChoice toolChoice,
        Boolean parallelToolCalls,
        List<String> modalities,
        JsonNode audio,
        String prediction,
        JsonNode guardrailContext,
        Extensions extensions,
        OutputConstraints constraints,
        List<String> ignoredParams) {

    /** Sequences generated per prompt. */
    public int candidates() {
        return bestOf == null ? n : bestOf;
    }
}
