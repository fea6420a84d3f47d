package dev.quill.server.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * A completions response; streamed chunks have the same shape ({@code object} is {@code text_completion} in both).
 *
 * @param usage null in stream chunks (then omitted)
 */
public record CompletionResponse(String id, String object, long created, String model, String systemFingerprint,
                                 List<Choice> choices, @JsonInclude(JsonInclude.Include.NON_NULL) Usage usage) {

    public static final String OBJECT = "text_completion";

    /**
     * @param finishReason stop, length, content_filter or tool_calls; null while streaming
     * @param stopReason   the matched stop string or stop token id; null for end-of-generation or length
     */
    public record Choice(int index, String text, Logprobs logprobs, String finishReason, Object stopReason) {}

    /**
     * The OpenAI completions logprobs: parallel lists, one entry per token. The first prompt token's logprob and
     * alternatives are null (nothing precedes it).
     *
     * @param textOffset where each token's text starts in the choice's text
     */
    public record Logprobs(List<String> tokens, List<Float> tokenLogprobs, List<Map<String, Float>> topLogprobs,
                           List<Integer> textOffset) {}
}
