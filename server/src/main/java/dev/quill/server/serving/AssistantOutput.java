package dev.quill.server.serving;

import dev.quill.server.protocol.ChatCompletionChunk;
import dev.quill.server.protocol.ChatCompletionResponse;
import dev.quill.server.tools.ToolCallFormat;
import dev.quill.server.tools.ToolCallParser;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One choice's assistant message, built from the released text as it arrives: plain content, or (when the request
 * has tools the model may call) content and tool calls. Streaming and non-streaming responses both come from here,
 * so their tool calls agree exactly.
 */
final class AssistantOutput {

    /** Splits the text into content and calls, or null when the text is all content. */
    private final ToolCallParser parser;
    private final StringBuilder text = new StringBuilder();

    private AssistantOutput(ToolCallParser parser) {
        this.parser = parser;
    }

    static AssistantOutput plain() {
        return new AssistantOutput(null);
    }

    /** @param maxCalls 1 for {@code parallel_tool_calls: false} */
    static AssistantOutput withTools(ToolCallFormat format, Set<String> functions, int maxCalls) {
        return new AssistantOutput(new ToolCallParser(format, functions, maxCalls, ThreadLocalRandom.current()));
    }

    /** The delta for the next released text, or null when nothing became certain. */
    ChatCompletionChunk.Delta accept(String piece) {
        if (parser == null) {
            text.append(piece);
            return piece.isEmpty() ? null : new ChatCompletionChunk.Delta(null, piece);
        }
        return delta(parser.accept(piece));
    }

    /** The delta for whatever the end of the text decides, or null. */
    ChatCompletionChunk.Delta finish() {
        return parser == null ? null : delta(parser.finish());
    }

    /** The whole message; call after {@link #finish()}. */
    ChatCompletionResponse.Message message() {
        if (parser == null) return new ChatCompletionResponse.Message("assistant", text.toString(), null, List.of());
        List<ChatCompletionResponse.ToolCall> calls = new ArrayList<>();
        for (ToolCallParser.ToolCall c : parser.calls()) {
            calls.add(new ChatCompletionResponse.ToolCall(c.id(), "function", new ChatCompletionResponse.Function(c.name(), c.arguments())));
        }
        return new ChatCompletionResponse.Message("assistant", parser.content(), null, calls);
    }

    /** A message with tool calls that ended normally finishes with {@code tool_calls}, as OpenAI reports it. */
    String finishReason(String generationReason) {
        boolean called = parser != null && !parser.calls().isEmpty();
        return called && "stop".equals(generationReason) ? "tool_calls" : generationReason;
    }

    /** Content and call fragments of one step, fragments of the same call merged into one entry. */
    private static ChatCompletionChunk.Delta delta(List<ToolCallParser.Event> events) {
        if (events.isEmpty()) return null;
        StringBuilder content = null;
        Map<Integer, String[]> calls = new LinkedHashMap<>(); // index -> id, name, arguments
        for (ToolCallParser.Event e : events) {
            switch (e) {
                case ToolCallParser.Event.Content c -> {
                    if (content == null) content = new StringBuilder();
                    content.append(c.text());
                }
                case ToolCallParser.Event.CallStart s -> calls.put(s.index(), new String[] {s.id(), s.name(), ""});
                case ToolCallParser.Event.Arguments a -> {
                    String[] call = calls.computeIfAbsent(a.index(), i -> new String[] {null, null, ""});
                    call[2] += a.text();
                }
            }
        }
        List<ChatCompletionChunk.ToolCallDelta> toolCalls = null;
        if (!calls.isEmpty()) {
            toolCalls = new ArrayList<>();
            for (Map.Entry<Integer, String[]> entry : calls.entrySet()) {
                String[] call = entry.getValue();
                toolCalls.add(new ChatCompletionChunk.ToolCallDelta(entry.getKey(), call[0], call[0] == null ? null : "function",
                        new ChatCompletionChunk.FunctionDelta(call[1], call[2])));
            }
        }
        return new ChatCompletionChunk.Delta(null, content == null ? null : content.toString(), toolCalls);
    }
}
