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

    /** @param toolCalls fragments of tool calls, or null */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Delta(String role, String content, List<ToolCallDelta> toolCalls) {
        public Delta(String role, String content) {
            this(role, content, null);
        }
    }

    /**
     * A fragment of tool call {@code index}: the first one carries id, type and the function name (with empty
     * arguments), later ones pieces of the arguments. Concatenating the pieces gives the call's arguments.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ToolCallDelta(int index, String id, String type, FunctionDelta function) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record FunctionDelta(String name, String arguments) {}
}
