package dev.quill.server.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One streamed chat event ({@code object} = {@code chat.completion.chunk}). Each choice's first chunk carries the
 * role; the usage chunk (stream_options.include_usage) has no choices.
 */
public record ChatCompletionChunk(String id, String object, long created, String model, String systemFingerprint,
                                  List<Choice> choices, @JsonInclude(JsonInclude.Include.NON_NULL) Usage usage) {

    public static final String OBJECT = "chat.completion.chunk";

    public record Choice(int index, Delta delta, ChatLogprobs logprobs, String finishReason, Object stopReason) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Delta(String role, String content) {}
}
