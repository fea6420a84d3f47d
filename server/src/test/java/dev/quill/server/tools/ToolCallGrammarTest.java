package dev.quill.server.tools;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.quill.engine.grammar.Grammar;
import dev.quill.engine.grammar.GrammarMatcher;
import dev.quill.engine.grammar.Grammars;
import dev.quill.server.protocol.Json;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ToolCallGrammarTest {

    /** Parameter schemas by function name. */
    private static final Map<String, String> TOOLS = new LinkedHashMap<>();

    static {
        TOOLS.put("get_weather", """
                {"type":"object","properties":{"city":{"type":"string","minLength":1,"maxLength":12},
                 "unit":{"enum":["celsius","fahrenheit"]},"days":{"type":"integer","minimum":1,"maximum":14}},
                 "required":["city"],"additionalProperties":false}""");
        TOOLS.put("search", """
                {"type":"object","properties":{"q":{"type":"string","maxLength":8},"tags":{"type":"array",
                 "items":{"type":"string","maxLength":4},"maxItems":3},"exact":{"type":["boolean","null"]}},
                 "required":["q","tags"],"additionalProperties":false}""");
        TOOLS.put("ping", """
                {"type":"object","properties":{},"additionalProperties":false}""");
    }

    private static Map<String, Grammar> argumentGrammars() {
        Map<String, Grammar> grammars = new LinkedHashMap<>();
        TOOLS.forEach((name, schema) -> grammars.put(name,
                Grammars.jsonSchema(Json.MAPPER.convertValue(Json.parse(schema.getBytes()), new TypeReference<Map<String, Object>>() {}))));
        return grammars;
    }

    private static boolean matches(Grammar g, String text) {
        GrammarMatcher m = g.matcher();
        return m.acceptString(text) && m.isComplete();
    }

    @Test
    void eachFamilyWritesCallsTheWayItsTemplatesShowThem() {
        Map<String, Grammar> args = argumentGrammars();
        assertThat(matches(ToolCallGrammar.of(ToolCallFormat.HERMES, args, 2),
                "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\":\"Oslo\"}}\n</tool_call>\n"
                        + "<tool_call>\n{\"name\": \"ping\", \"arguments\": {}}\n</tool_call>")).isTrue();
        assertThat(matches(ToolCallGrammar.of(ToolCallFormat.LLAMA3_JSON, args, 2),
                "{\"name\": \"ping\", \"parameters\": {}}; {\"name\": \"search\", \"parameters\": {\"q\":\"x\",\"tags\":[]}}")).isTrue();
        assertThat(matches(ToolCallGrammar.of(ToolCallFormat.MISTRAL, args, 2),
                "[TOOL_CALLS][{\"name\": \"ping\", \"arguments\": {}}, {\"name\": \"ping\", \"arguments\": {}}]")).isTrue();
    }

    @Test
    void callsOutsideTheToolsOrTheirSchemasOrTheLimitAreImpossible() {
        Grammar one = ToolCallGrammar.of(ToolCallFormat.HERMES, argumentGrammars(), 1);
        String ping = "<tool_call>\n{\"name\": \"ping\", \"arguments\": {}}\n</tool_call>";
        assertThat(matches(one, ping)).isTrue();
        assertThat(matches(one, ping + "\n" + ping)).isFalse();
        assertThat(matches(one, "<tool_call>\n{\"name\": \"pong\", \"arguments\": {}}\n</tool_call>")).isFalse();
        assertThat(matches(one, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"days\":3}}\n</tool_call>")).isFalse();
        assertThat(matches(one, "Sure! " + ping)).isFalse();
    }

    /** Every random text of the grammar reads back, through the parser, as calls of the tools with valid arguments. */
    @Test
    void everyTextOfTheGrammarParsesAsValidCalls() {
        Map<String, Grammar> args = argumentGrammars();
        Random random = new Random(11);
        for (ToolCallFormat format : ToolCallFormat.values()) {
            for (int maxCalls : List.of(1, 3, Integer.MAX_VALUE)) {
                Grammar grammar = ToolCallGrammar.of(format, args, maxCalls);
                for (int seed = 0; seed < 25; seed++) {
                    String text = GrammarSampler.sample(grammar, random, 150);
                    ToolCallParser parser = new ToolCallParser(format, TOOLS.keySet(), maxCalls, new SplittableRandom(seed));
                    parser.accept(text);
                    parser.finish();
                    assertThat(parser.content()).as(text).isNull();
                    assertThat(parser.calls()).as(text).isNotEmpty().hasSizeLessThanOrEqualTo(maxCalls);
                    for (ToolCallParser.ToolCall call : parser.calls()) {
                        assertThat(SchemaCheck.errors(TOOLS.get(call.name()), call.arguments())).as(text).isEmpty();
                    }
                }
            }
        }
    }
}
