package dev.quill.server.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quill.server.tools.ToolCallParser.Event;
import dev.quill.server.tools.ToolCallParser.ToolCall;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ToolCallParserTest {

    private static final Set<String> FUNCTIONS = Set.of("get_weather", "search");

    /** The whole message at once. */
    private static ToolCallParser parse(ToolCallFormat format, String text) {
        return parse(format, text, Integer.MAX_VALUE);
    }

    private static ToolCallParser parse(ToolCallFormat format, String text, int maxCalls) {
        ToolCallParser parser = new ToolCallParser(format, FUNCTIONS, maxCalls, new SplittableRandom(1));
        parser.accept(text);
        parser.finish();
        return parser;
    }

    private static List<String> names(ToolCallParser p) {
        return p.calls().stream().map(ToolCall::name).toList();
    }

    private static List<String> arguments(ToolCallParser p) {
        return p.calls().stream().map(ToolCall::arguments).toList();
    }

    // ---- forced calls ----

    @Test
    void aForcedCallCutOffBeforeItsNameIsCompleteLeavesNoMarkupAsContent() {
        for (String cut : List.of("<tool_call>\n{\"name", "<tool_ca", "<tool_call>\n{\"name\": \"get_wea")) {
            ToolCallParser p = new ToolCallParser(ToolCallFormat.HERMES, FUNCTIONS, Integer.MAX_VALUE, new SplittableRandom(1), true);
            assertThat(p.accept(cut)).isEmpty();
            assertThat(p.finish()).as(cut).isEmpty();
            assertThat(p.content()).as(cut).isEmpty();
            assertThat(p.calls()).isEmpty();
        }
        // Unforced, the same text is what the model wrote: content.
        assertThat(parse(ToolCallFormat.HERMES, "<tool_call>\n{\"name").content()).isEqualTo("<tool_call>\n{\"name");
    }

    @Test
    void aForcedCallCutOffInItsArgumentsIsACallWithTheArgumentsSoFar() {
        ToolCallParser p = new ToolCallParser(ToolCallFormat.HERMES, FUNCTIONS, Integer.MAX_VALUE, new SplittableRandom(1), true);
        p.accept("<tool_call>\n{\"name\": \"search\", \"arguments\": {\"q\": \"ca");
        p.finish();
        assertThat(names(p)).containsExactly("search");
        assertThat(arguments(p)).containsExactly("{\"q\": \"ca");
        assertThat(p.content()).isNull();
    }

    // ---- Hermes / Qwen ----

    @Test
    void hermesCallAloneHasNullContent() {
        ToolCallParser p = parse(ToolCallFormat.HERMES,
                "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": [1, 2]}}\n</tool_call>");
        assertThat(p.content()).isNull();
        assertThat(names(p)).containsExactly("get_weather");
        assertThat(arguments(p)).containsExactly("{\"city\": \"Paris\", \"days\": [1, 2]}");
        assertThat(p.calls().getFirst().id()).matches("call_[A-Za-z0-9]{24}");
    }

    @Test
    void hermesContentAroundCallsIsKeptWithoutTheSeparatingWhitespace() {
        ToolCallParser p = parse(ToolCallFormat.HERMES, "Let me check.\n<tool_call>\n{\"name\": \"search\", \"arguments\": {\"q\": \"}{\"}}\n"
                + "</tool_call>\n<tool_call>{\"name\":\"get_weather\",\"arguments\":{}}</tool_call>\n\nDone.\n");
        assertThat(p.content()).isEqualTo("Let me check.Done.");
        assertThat(names(p)).containsExactly("search", "get_weather");
        assertThat(arguments(p)).containsExactly("{\"q\": \"}{\"}", "{}");
    }

    @Test
    void hermesCallWithoutClosingTagOrCutShortIsStillACall() {
        ToolCallParser unclosed = parse(ToolCallFormat.HERMES, "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"q\": 1}}");
        assertThat(arguments(unclosed)).containsExactly("{\"q\": 1}");
        ToolCallParser cut = parse(ToolCallFormat.HERMES, "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"q\": \"ab");
        assertThat(arguments(cut)).containsExactly("{\"q\": \"ab");
        assertThat(cut.content()).isNull();
    }

    @Test
    void hermesTextThatIsNotACallStaysContent() {
        for (String text : List.of(
                "<tool_call>{\"name\": \"launch_missiles\", \"arguments\": {}}</tool_call>", // not one of the tools
                "<tool_call>{\"arguments\": {}, \"name\": \"search\"}</tool_call>",          // not the family's shape
                "<tool_call>I would call search",
                "the tag <tool_c",                                                              // cut inside the tag
                "<tool_call>{\"name\": \"sea")) {                                               // cut inside the name
            ToolCallParser p = parse(ToolCallFormat.HERMES, text);
            assertThat(p.calls()).as(text).isEmpty();
            assertThat(p.content()).as(text).isEqualTo(text);
        }
    }

    @Test
    void withoutCallsTheContentIsTheTextExactly() {
        String text = "  Hello,\n world! {\"name\": \"search\"}  \n";
        for (ToolCallFormat format : ToolCallFormat.values()) {
            assertThat(parse(format, text).content()).as(format.name()).isEqualTo(text);
            assertThat(parse(format, "").content()).isEmpty();
        }
    }

    @Test
    void callsBeyondTheLimitStayContent() {
        String second = "<tool_call>{\"name\": \"search\", \"arguments\": {}}</tool_call>";
        ToolCallParser p = parse(ToolCallFormat.HERMES, "<tool_call>{\"name\": \"get_weather\", \"arguments\": {}}</tool_call>\n" + second, 1);
        assertThat(names(p)).containsExactly("get_weather");
        assertThat(p.content()).isEqualTo(second);
    }

    // ---- Llama 3 JSON ----

    @Test
    void llamaJsonCallWithOrWithoutPythonTag() {
        for (String prefix : List.of("", "<|python_tag|>", "\n ")) {
            ToolCallParser p = parse(ToolCallFormat.LLAMA3_JSON, prefix + "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}");
            assertThat(names(p)).as(prefix).containsExactly("get_weather");
            assertThat(arguments(p)).containsExactly("{\"city\": \"Oslo\"}");
            assertThat(p.content()).isNull();
        }
    }

    @Test
    void llamaJsonSeveralCallsSeparatedBySemicolons() {
        ToolCallParser p = parse(ToolCallFormat.LLAMA3_JSON,
                "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}; {\"name\": \"search\", \"arguments\": {\"q\": \"x\"}}");
        assertThat(names(p)).containsExactly("get_weather", "search");
        assertThat(arguments(p)).containsExactly("{\"city\": \"Oslo\"}", "{\"q\": \"x\"}");
    }

    @Test
    void llamaJsonOnlyAtTheStartAndOnlyForKnownFunctions() {
        for (String text : List.of(
                "Sure: {\"name\": \"search\", \"parameters\": {}}",
                "{\"answer\": 42}",
                "{\"name\": \"other\", \"parameters\": {}}",
                "<|python_tag|>brave_search.call(query=\"x\")")) {
            ToolCallParser p = parse(ToolCallFormat.LLAMA3_JSON, text);
            assertThat(p.calls()).as(text).isEmpty();
            assertThat(p.content()).isEqualTo(text);
        }
    }

    // ---- Mistral ----

    @Test
    void mistralCallList() {
        ToolCallParser p = parse(ToolCallFormat.MISTRAL, "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}, "
                + "\"id\": \"abcdefghi\"}, {\"name\": \"search\", \"arguments\": {\"q\": \"[x]\"}}]");
        assertThat(names(p)).containsExactly("get_weather", "search");
        assertThat(arguments(p)).containsExactly("{\"city\": \"Rome\"}", "{\"q\": \"[x]\"}");
        assertThat(p.content()).isNull();
        assertThat(p.calls()).allSatisfy(c -> assertThat(c.id()).matches("[A-Za-z0-9]{9}"));
    }

    @Test
    void mistralMarkerWithoutAListIsContent() {
        ToolCallParser p = parse(ToolCallFormat.MISTRAL, "[TOOL_CALLS] none today");
        assertThat(p.calls()).isEmpty();
        assertThat(p.content()).isEqualTo("[TOOL_CALLS] none today");
    }

    // ---- incremental ----

    /** Messages covering every mode and outcome, for the chunking property. */
    private static final List<Object[]> SAMPLES = List.of(
            new Object[] {ToolCallFormat.HERMES, "Let me check.\n<tool_call>\n{\"name\": \"search\", \"arguments\": {\"q\": \"a\\\"}<\"}}\n</tool_call>\n"
                    + "<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"c\":[1,{\"d\":null}]}}</tool_call> bye "},
            new Object[] {ToolCallFormat.HERMES, "<tool_call>{\"name\": \"nope\", \"arguments\": {}}</tool_call> and <tool_call>\n{\"name\": \"search\", \"arguments\": \"{}\"}"},
            new Object[] {ToolCallFormat.HERMES, "plain text with < and <tool and tool_call> and trailing space  "},
            new Object[] {ToolCallFormat.LLAMA3_JSON, "<|python_tag|>{\"name\": \"search\", \"parameters\": {\"q\": \"x;y\"}};\n{\"name\": \"get_weather\", \"parameters\": {}} extra"},
            new Object[] {ToolCallFormat.LLAMA3_JSON, "  {\"name\": \"search\", \"parameters\": 12} "},
            new Object[] {ToolCallFormat.LLAMA3_JSON, "<|python_tag"},
            new Object[] {ToolCallFormat.MISTRAL, "Ok [TOOL_CALLS][{\"name\": \"search\", \"arguments\": {\"q\": \"]\"}, \"id\": \"123456789\"},{\"name\": \"get_weather\", \"arguments\": {}}] after"},
            new Object[] {ToolCallFormat.MISTRAL, "[TOOL_CALLS][{\"name\": \"search\", \"arguments\": {\"q\": \"unfinished"});

    @Test
    void anySplitOfTheMessageGivesTheSameResultAndTheEventsAddUpToIt() {
        Random random = new Random(7);
        for (Object[] sample : SAMPLES) {
            ToolCallFormat format = (ToolCallFormat) sample[0];
            String text = (String) sample[1];
            ToolCallParser whole = parse(format, text);
            for (int trial = 0; trial < 60; trial++) {
                ToolCallParser p = new ToolCallParser(format, FUNCTIONS, Integer.MAX_VALUE, new SplittableRandom(1));
                List<Event> events = new ArrayList<>();
                int at = 0;
                while (at < text.length()) {
                    int next = trial == 0 ? at + 1 : Math.min(text.length(), at + 1 + random.nextInt(8));
                    events.addAll(p.accept(text.substring(at, next)));
                    at = next;
                }
                events.addAll(p.finish());
                assertThat(p.content()).as(text).isEqualTo(whole.content());
                assertThat(p.calls()).as(text).isEqualTo(whole.calls());
                assertThat(replay(events, p.calls().size())).isEqualTo(replay(whole, text, format));
            }
        }
    }

    /** The events folded back into content and calls, as a streaming client does. */
    private static List<String> replay(List<Event> events, int calls) {
        StringBuilder content = new StringBuilder();
        List<StringBuilder> parts = new ArrayList<>();
        for (int i = 0; i < calls; i++) parts.add(new StringBuilder());
        for (Event e : events) {
            switch (e) {
                case Event.Content c -> content.append(c.text());
                case Event.CallStart s -> {
                    assertThat(parts.get(s.index())).isEmpty();
                    parts.get(s.index()).append(s.id()).append(' ').append(s.name()).append(' ');
                }
                case Event.Arguments a -> parts.get(a.index()).append(a.text());
            }
        }
        List<String> out = new ArrayList<>();
        out.add(content.toString());
        parts.forEach(b -> out.add(b.toString()));
        return out;
    }

    private static List<String> replay(ToolCallParser whole, String text, ToolCallFormat format) {
        List<String> out = new ArrayList<>();
        out.add(whole.content() == null ? "" : whole.content());
        for (ToolCall c : whole.calls()) out.add(c.id() + " " + c.name() + " " + c.arguments());
        return out;
    }
}
