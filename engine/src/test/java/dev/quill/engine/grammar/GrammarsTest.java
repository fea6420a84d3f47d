package dev.quill.engine.grammar;

import static dev.quill.engine.grammar.GrammarMatcherTest.matches;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GrammarsTest {

    @Test
    void choiceIsExactlyOneOfTheStrings() {
        Grammar g = Grammars.choice(List.of("yes", "no", "not sure", ""));
        assertThat(matches(g, "yes")).isTrue();
        assertThat(matches(g, "not sure")).isTrue();
        assertThat(matches(g, "")).isTrue();
        assertThat(matches(g, "no ")).isFalse();
        assertThat(matches(g, "maybe")).isFalse();
        assertThatThrownBy(() -> Grammars.choice(List.of())).hasMessageContaining("at least one");
    }

    @Test
    void anyJsonIsEveryKindOfValue() {
        Grammar g = Grammars.anyJson();
        for (String json : List.of("1", "-0.5", "\"s\"", "true", "null", "[]", "{\"a\":[{}]}")) {
            assertThat(matches(g, json)).as(json).isTrue();
        }
        assertThat(matches(g, "tru")).isFalse();
    }

    @Test
    void grammarsComposeThroughTheBuilder() {
        Grammar arguments = Grammars.jsonSchema(Map.of("type", "object", "properties", Map.of("city", Map.of("type", "string")),
                "required", List.of("city")));
        Grammar.Builder b = Grammar.builder();
        Expr args = b.include("args", arguments);
        b.rule("root", Expr.seq(new Expr.Literal("<tool_call>{\"name\":\"weather\",\"arguments\":"), args,
                new Expr.Literal("}</tool_call>")));
        Grammar call = b.build("root");
        assertThat(matches(call, "<tool_call>{\"name\":\"weather\",\"arguments\":{\"city\":\"Oslo\"}}</tool_call>")).isTrue();
        assertThat(matches(call, "<tool_call>{\"name\":\"weather\",\"arguments\":{}}</tool_call>")).isFalse();
        assertThat(call.rules().keySet()).contains("root", "args-root");
    }

    @Test
    void minLengthIsTheShortestMatch() {
        assertThat(Grammars.gbnf("root ::= \"ab\" [0-9]* (\"xyz\" | \"q\")").minLength()).isEqualTo(3);
        assertThat(Grammars.anyJsonObject().minLength()).isEqualTo(2);
    }
}
