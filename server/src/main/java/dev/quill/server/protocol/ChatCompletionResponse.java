package dev.quill.server.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** A chat completions response ({@code object} = {@code chat.completion}). */
public record ChatCompletionResponse(String id, String object, long created, String model, String systemFingerprint,
                                     List<Choice> choices, Usage usage) {

    public static final String OBJECT = "chat.completion";

    public record Choice(int index, Message message, ChatLogprobs logprobs, String finishReason, Object stopReason) {}

    /** @param refusal always null: Quill does not refuse (the field is part of OpenAI's message shape) */
    public record Message(String role, String content, Object refusal,
                          @JsonInclude(JsonInclude.Include.NON_EMPTY) List<ToolCall> toolCalls) {}

    public record ToolCall(String id, String type, Function function) {}

    public record Function(String name, String arguments) {}
}
