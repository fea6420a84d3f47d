package dev.quill.server.tools;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Splits one assistant message, as it is generated, into content and tool calls in a family's {@link ToolCallFormat}.
 *
 * <p>The parser is incremental and append-only: {@link #accept} takes the next text and returns what became certain
 * (content, the start of a call with its id and name, pieces of a call's arguments); nothing it returned is ever taken
 * back. Text that could still turn out to be part of a call (a partial {@code <tool_call>} tag, a call whose name is not
 * complete yet) is held until the next text decides. The whole message fed at once and fed in any pieces therefore gives
 * the same result, which is what makes streamed tool calls add up to the non-streamed ones exactly.
 *
 * <p>A call is recognised once its opening (the family's marker, then {@code {"name": "f", "arguments":}, or
 * {@code "parameters"}) is complete, names one of the request's functions, and the request allows another call. From
 * then on its arguments are the raw text of the JSON value that follows, up to where that value ends (or the end of the
 * message, when generation stopped for length). An opening that does not qualify stays content.
 *
 * <p>Content is the text outside calls, without the whitespace that separates it from calls; when there are calls and
 * no other content, {@link #content()} is null, as in OpenAI's responses. Without calls the content is the text exactly.
 */
public final class ToolCallParser {

    /** A recognised call; arguments is the JSON text the model wrote. */
    public record ToolCall(String id, String name, String arguments) {}

    /** What became certain in one step, in order. */
    public sealed interface Event {
        record Content(String text) implements Event {}

        record CallStart(int index, String id, String name) implements Event {}

        record Arguments(int index, String text) implements Event {}
    }

    private enum Mode {
        /** Content that may contain the start of a call. */
        TEXT,
        /** Content that can no longer contain a call (Llama 3 calls only open a message). */
        PLAIN,
        /** Mistral: after [TOOL_CALLS], before the '['. */
        LIST_OPEN,
        /** Before a call's arguments: {"name": "f", "arguments": */
        HEAD,
        /** Inside the arguments value. */
        ARGUMENTS,
        /** After the arguments: the rest of the call object and the family's closing. */
        TAIL
    }

    private static final int NEED_MORE = -1;
    private static final int MISMATCH = -2;

    private final ToolCallFormat format;
    private final Set<String> functions;
    private final int maxCalls;
    private final RandomGenerator random;
    /** The call was forced by constrained decoding: every character is call markup, none is content. */
    private final boolean forced;

    /** Text received and not yet decided. */
    private final StringBuilder pending = new StringBuilder();
    private final StringBuilder content = new StringBuilder();
    private final List<String> ids = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    private final List<StringBuilder> arguments = new ArrayList<>();
    private List<Event> events = new ArrayList<>();
    private Mode mode = Mode.TEXT;
    /** Marker text consumed for a call that is not certain yet: content again if the call does not materialise. */
    private String opening = "";
    /** Trailing whitespace of the content: released when more content follows, dropped before a call. */
    private String heldSpace = "";
    /** The last thing released was a call: leading whitespace of the next content is dropped. */
    private boolean afterCall;
    private boolean finished;

    // The arguments value being scanned.
    private char valueKind;
    private int depth;
    private boolean inString;
    private boolean escaped;

    /**
     * @param functions the names a call may have (the request's tools)
     * @param maxCalls  at most this many calls are recognised (1 for {@code parallel_tool_calls: false})
     * @param random    source of call ids
     */
    public ToolCallParser(ToolCallFormat format, Set<String> functions, int maxCalls, RandomGenerator random) {
        this(format, functions, maxCalls, random, false);
    }

    /**
     * @param forced the output was constrained to be calls (tool_choice required or a named function): then the text
     *               of a call cut off before its name was complete (generation stopped for length) is markup, not
     *               content, so the message has no content at all
     */
    public ToolCallParser(ToolCallFormat format, Set<String> functions, int maxCalls, RandomGenerator random, boolean forced) {
        this.format = format;
        this.functions = Set.copyOf(functions);
        this.maxCalls = maxCalls;
        this.random = random;
        this.forced = forced;
    }

    /** Takes the next text of the message; returns what became certain. */
    public List<Event> accept(String text) {
        if (finished) throw new IllegalStateException("the message is finished");
        pending.append(text);
        return advance(false);
    }

    /** The message is complete: everything still held is decided. */
    public List<Event> finish() {
        if (finished) return List.of();
        List<Event> out = advance(true);
        if (ids.isEmpty() && !heldSpace.isEmpty()) {
            content.append(heldSpace);
            out.add(new Event.Content(heldSpace));
        }
        heldSpace = "";
        finished = true;
        return out;
    }

    /** The content so far; after {@link #finish()}, null when the message holds calls and nothing else. */
    public String content() {
        return finished && !ids.isEmpty() && content.isEmpty() ? null : content.toString();
    }

    /** The calls recognised so far, in order. */
    public List<ToolCall> calls() {
        List<ToolCall> out = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) out.add(new ToolCall(ids.get(i), names.get(i), arguments.get(i).toString()));
        return out;
    }

    private List<Event> advance(boolean end) {
        events = new ArrayList<>();
        boolean progress = true;
        while (progress) {
            progress = switch (mode) {
                case TEXT -> format == ToolCallFormat.LLAMA3_JSON ? llamaText(end) : text(end);
                case PLAIN -> plain();
                case LIST_OPEN -> listOpen(end);
                case HEAD -> head(end);
                case ARGUMENTS -> arguments(end);
                case TAIL -> tail(end);
            };
        }
        return events;
    }

    // ---- modes: each consumes what it can decide and says whether another round may decide more ----

    /** Hermes and Mistral: a call may open anywhere. */
    private boolean text(boolean end) {
        String marker = format == ToolCallFormat.MISTRAL ? ToolCallFormat.MISTRAL_OPEN : ToolCallFormat.HERMES_OPEN;
        int at = pending.indexOf(marker);
        if (at >= 0) {
            emitContent(take(at));
            take(marker.length());
            opening = marker;
            mode = format == ToolCallFormat.MISTRAL ? Mode.LIST_OPEN : Mode.HEAD;
            return true;
        }
        int keep = end ? 0 : partialMarkerLength(marker);
        emitContent(take(pending.length() - keep));
        return false;
    }

    /** Llama 3: calls open the message (after whitespace), with or without <|python_tag|>. */
    private boolean llamaText(boolean end) {
        if (!content.isEmpty()) {
            mode = Mode.PLAIN;
            return true;
        }
        int space = skipSpace(0);
        emitContent(take(space));
        if (pending.isEmpty()) return false;
        if (startsWith(ToolCallFormat.PYTHON_TAG)) {
            take(ToolCallFormat.PYTHON_TAG.length());
            opening = ToolCallFormat.PYTHON_TAG;
            mode = Mode.HEAD;
            return true;
        }
        if (pending.charAt(0) == '{') {
            mode = Mode.HEAD;
            return true;
        }
        if (!end && ToolCallFormat.PYTHON_TAG.startsWith(pending.toString())) return false;
        mode = Mode.PLAIN;
        return true;
    }

    private boolean plain() {
        emitContent(take(pending.length()));
        return false;
    }

    private boolean listOpen(boolean end) {
        int i = skipSpace(0);
        if (i == pending.length()) {
            if (!end) return false;
            return notACall();
        }
        if (pending.charAt(i) != '[') return notACall();
        opening += take(i + 1);
        mode = Mode.HEAD;
        return true;
    }

    private boolean head(boolean end) {
        StringBuilder name = new StringBuilder();
        int at = parseHead(name);
        if (at == NEED_MORE) return end && notACall();
        if (at == MISMATCH || !functions.contains(name.toString()) || ids.size() >= maxCalls) return notACall();
        take(at);
        opening = "";
        heldSpace = "";
        String id = format.newCallId(random);
        ids.add(id);
        names.add(name.toString());
        arguments.add(new StringBuilder());
        events.add(new Event.CallStart(ids.size() - 1, id, name.toString()));
        valueKind = 0;
        depth = 0;
        inString = false;
        escaped = false;
        mode = Mode.ARGUMENTS;
        return true;
    }

    private boolean arguments(boolean end) {
        int i = 0;
        int skipped = 0;
        boolean complete = false;
        while (i < pending.length() && !complete) {
            char c = pending.charAt(i);
            if (valueKind == 0) {
                if (isSpace(c)) { // whitespace before the value is not part of it
                    i++;
                    skipped = i;
                    continue;
                }
                valueKind = c == '{' || c == '[' ? 'c' : c == '"' ? 's' : 'v';
            }
            if (valueKind == 'v') {
                if (isSpace(c) || c == ',' || c == '}' || c == ']') {
                    complete = true;
                    continue;
                }
                i++;
                continue;
            }
            i++;
            if (inString) {
                if (escaped) {
                    escaped = false;
                } else if (c == '\\') {
                    escaped = true;
                } else if (c == '"') {
                    inString = false;
                    complete = valueKind == 's';
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
                complete = depth == 0;
            }
        }
        take(skipped);
        String piece = take(i - skipped);
        if (!piece.isEmpty()) {
            int index = ids.size() - 1;
            arguments.get(index).append(piece);
            events.add(new Event.Arguments(index, piece));
        }
        if (complete || (end && valueKind == 'v')) {
            mode = Mode.TAIL;
            return true;
        }
        return false;
    }

    /**
     * The rest of the call object (usually just '}', but extra members such as Mistral's "id" are skipped), then the
     * family's closing: Hermes' {@code </tool_call>}, Mistral's ',' (another call) or ']', Llama 3's ';' (another call).
     */
    private boolean tail(boolean end) {
        int close = objectEnd();
        if (close == NEED_MORE) {
            if (!end) return false;
            take(pending.length()); // the message stopped inside the call
            return callEnded(Mode.TEXT);
        }
        int i = skipSpace(close);
        String rest = pending.substring(i);
        switch (format) {
            case HERMES -> {
                if (rest.startsWith(ToolCallFormat.HERMES_CLOSE)) {
                    take(i + ToolCallFormat.HERMES_CLOSE.length());
                } else if (!end && ToolCallFormat.HERMES_CLOSE.startsWith(rest)) {
                    return false;
                } else {
                    take(close);
                }
                return callEnded(Mode.TEXT);
            }
            case MISTRAL -> {
                if (rest.isEmpty() && !end) return false;
                if (rest.startsWith(",")) {
                    take(i + 1);
                    opening = ",";
                    afterCall = true;
                    mode = Mode.HEAD;
                    return true;
                }
                take(rest.startsWith("]") ? i + 1 : close);
                return callEnded(Mode.TEXT);
            }
            case LLAMA3_JSON -> {
                if (rest.isEmpty() && !end) return false;
                if (rest.startsWith(";")) {
                    take(i + 1);
                    opening = ";";
                    afterCall = true;
                    mode = Mode.HEAD;
                    return true;
                }
                take(close);
                return callEnded(Mode.PLAIN);
            }
        }
        throw new IllegalStateException(format.toString());
    }

    private boolean callEnded(Mode next) {
        afterCall = true;
        mode = next;
        return true;
    }

    /**
     * What looked like the start of a call is not one: its marker text is content, and the text after it is read as
     * content again (Llama 3 calls only open a message, so after a failed one there are none).
     */
    private boolean notACall() {
        emitContent(opening);
        opening = "";
        mode = format == ToolCallFormat.LLAMA3_JSON ? Mode.PLAIN : Mode.TEXT;
        return true;
    }

    // ---- parsing helpers over the pending text ----

    /** {@code {"name": "<name>", "arguments":} (or "parameters") at the start: the index after it, or NEED_MORE / MISMATCH. */
    private int parseHead(StringBuilder name) {
        int i = skipSpace(0);
        i = expect(i, '{');
        if (i < 0) return i;
        StringBuilder key = new StringBuilder();
        i = string(skipSpace(i), key);
        if (i < 0) return i;
        if (!key.toString().equals("name")) return MISMATCH;
        i = expect(skipSpace(i), ':');
        if (i < 0) return i;
        i = string(skipSpace(i), name);
        if (i < 0) return i;
        i = expect(skipSpace(i), ',');
        if (i < 0) return i;
        key.setLength(0);
        i = string(skipSpace(i), key);
        if (i < 0) return i;
        if (!key.toString().equals("arguments") && !key.toString().equals("parameters")) return MISMATCH;
        return expect(skipSpace(i), ':');
    }

    private int expect(int i, char c) {
        if (i < 0) return i;
        if (i >= pending.length()) return NEED_MORE;
        return pending.charAt(i) == c ? i + 1 : MISMATCH;
    }

    /** A JSON string at i into {@code out} (escapes taken literally: names are plain); the index after it. */
    private int string(int i, StringBuilder out) {
        i = expect(i, '"');
        if (i < 0) return i;
        for (; i < pending.length(); i++) {
            char c = pending.charAt(i);
            if (c == '"') return i + 1;
            if (c == '\\') {
                if (++i >= pending.length()) return NEED_MORE;
                c = pending.charAt(i);
            }
            out.append(c);
        }
        return NEED_MORE;
    }

    /** The index just after the '}' that closes the call object (we are inside it, after the arguments), or NEED_MORE. */
    private int objectEnd() {
        int level = 0;
        boolean quoted = false;
        boolean escape = false;
        for (int i = 0; i < pending.length(); i++) {
            char c = pending.charAt(i);
            if (quoted) {
                if (escape) escape = false;
                else if (c == '\\') escape = true;
                else if (c == '"') quoted = false;
            } else if (c == '"') {
                quoted = true;
            } else if (c == '{' || c == '[') {
                level++;
            } else if (c == '}' || c == ']') {
                if (level == 0) return i + 1;
                level--;
            }
        }
        return NEED_MORE;
    }

    /** The longest end of the pending text that begins {@code marker} (and could still complete it). */
    private int partialMarkerLength(String marker) {
        for (int length = Math.min(marker.length() - 1, pending.length()); length > 0; length--) {
            if (marker.startsWith(pending.substring(pending.length() - length))) return length;
        }
        return 0;
    }

    private boolean startsWith(String s) {
        return pending.length() >= s.length() && pending.substring(0, s.length()).equals(s);
    }

    private int skipSpace(int i) {
        while (i < pending.length() && isSpace(pending.charAt(i))) i++;
        return i;
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\n' || c == '\t' || c == '\r';
    }

    private String take(int n) {
        String s = pending.substring(0, n);
        pending.delete(0, n);
        return s;
    }

    /** Releases content, holding back trailing whitespace and dropping whitespace that follows a call. */
    private void emitContent(String text) {
        if (text.isEmpty() || forced) return;
        String all = heldSpace + text;
        int last = all.length() - 1;
        while (last >= 0 && Character.isWhitespace(all.charAt(last))) last--;
        if (last < 0) {
            heldSpace = all;
            return;
        }
        int first = 0;
        if (afterCall) {
            while (Character.isWhitespace(all.charAt(first))) first++;
        }
        String out = all.substring(first, last + 1);
        heldSpace = all.substring(last + 1);
        afterCall = false;
        content.append(out);
        events.add(new Event.Content(out));
    }
}
