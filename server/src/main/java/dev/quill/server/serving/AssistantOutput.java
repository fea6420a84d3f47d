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

    /**
     * @param maxCalls 1 for {@code parallel_tool_calls: false}
     * @param forced   the output is constrained to be calls (tool_choice required or a named function)
     */
    static AssistantOutput withTools(ToolCallFormat format, Set<String> functions, int maxCalls, boolean forced) {
        return new AssistantOutput(new ToolCallParser(format, functions, maxCalls, ThreadLocalRandom.current(), forced));
    }

    /** The deltas for the next released text (none when nothing became certain). */
    List<ChatCompletionChunk.Delta> accept(String piece) {
        if (parser == null) {
            text.append(piece);
            return piece.isEmpty() ? List.of() : List.of(new ChatCompletionChunk.Delta(null, piece));
        }
        return deltas(parser.accept(piece));
    }

    /** The deltas for whatever the end of the text decides. */
    List<ChatCompletionChunk.Delta> finish() {
        return parser == null ? List.of() : deltas(parser.finish());
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

    /**
     * The events of one step as deltas, in OpenAI's shape: a call's first fragment is a delta of its own with index,
     * id, type, name and empty arguments; content and argument pieces between call starts are merged into one delta.
     */
    private static List<ChatCompletionChunk.Delta> deltas(List<ToolCallParser.Event> events) {
        List<ChatCompletionChunk.Delta> out = new ArrayList<>();
        StringBuilder content = new StringBuilder();
        Map<Integer, StringBuilder> arguments = new LinkedHashMap<>();
        for (ToolCallParser.Event e : events) {
            switch (e) {
                case ToolCallParser.Event.Content c -> content.append(c.text());
                case ToolCallParser.Event.Arguments a -> arguments.computeIfAbsent(a.index(), i -> new StringBuilder()).append(a.text());
                case ToolCallParser.Event.CallStart start -> {
                    flush(out, content, arguments);
                    out.add(new ChatCompletionChunk.Delta(null, null, List.of(new ChatCompletionChunk.ToolCallDelta(start.index(),
                            start.id(), "function", new ChatCompletionChunk.FunctionDelta(start.name(), "")))));
                }
            }
        }
        flush(out, content, arguments);
        return out;
    }

    private static void flush(List<ChatCompletionChunk.Delta> out, StringBuilder content, Map<Integer, StringBuilder> arguments) {
        if (content.isEmpty() && arguments.isEmpty()) return;
        List<ChatCompletionChunk.ToolCallDelta> calls = null;
        if (!arguments.isEmpty()) {
            calls = new ArrayList<>();
            for (Map.Entry<Integer, StringBuilder> a : arguments.entrySet()) {
                calls.add(new ChatCompletionChunk.ToolCallDelta(a.getKey(), null, null,
                        new ChatCompletionChunk.FunctionDelta(null, a.getValue().toString())));
            }
        }
        out.add(new ChatCompletionChunk.Delta(null, content.isEmpty() ? null : content.toString(), calls));
        content.setLength(0);
        arguments.clear();
    }
}
