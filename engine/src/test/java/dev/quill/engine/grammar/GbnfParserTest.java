package dev.quill.engine.grammar;

import static dev.quill.engine.grammar.GrammarMatcherTest.matches;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class GbnfParserTest {

    @Test
    void readsLlamaCppStyleGrammars() {
        Grammar g = Grammars.gbnf("""
                # a comment line
                root   ::= object
                object ::= "{" ws ( pair ( "," ws pair )* )? "}"   # trailing comment
                pair   ::= key ":" ws value
                key    ::= [a-z_]+
                value  ::= [0-9]+
                         | "\\"" [^"\\\\]* "\\""
                ws     ::= [ \\t\\n]{0,2}
                """);
        assertThat(matches(g, "{}")).isTrue();
        assertThat(matches(g, "{ a: 1, b_c:\"x\\\\\"}")).isFalse(); // backslash not allowed in the string
        assertThat(matches(g, "{ a: 1, b_c:\"x y\"}")).isTrue();
        assertThat(matches(g, "{a:1,\n\tb:2}")).isTrue();
    }

    @Test
    void escapes() {
        Grammar g = Grammars.gbnf("root ::= \"\\x41\\u00e9\\U0001F600\\n\\t\\\\\\\"\" [\\]\\-\\[]");
        assertThat(matches(g, "Aé😀\n\t\\\"]")).isTrue();
        assertThat(matches(g, "Aé😀\n\t\\\"-")).isTrue();
        assertThat(matches(g, "Aé😀\n\t\\\"[")).isTrue();
    }

    @Test
    void aRuleBodyMaySpanLines() {
        Grammar g = Grammars.gbnf("root ::= \"a\"\n    \"b\"\n  | \"c\"\nother ::= \"x\"");
        assertThat(matches(g, "ab")).isTrue();
        assertThat(matches(g, "c")).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiterString = " => ", quoteCharacter = '`', textBlock = """
            root ::= "abc => 1 => 10 => unterminated string literal
            root ::= [a- => 1 => 10 => unterminated character class
            root ::= x => 1 => 10 => undefined rule 'x'
            root ::= ("a" | "b" => 1 => 20 => expected ')'
            other ::= "a" => 1 => 1 => no 'root' rule
            root ::= "a"\\nroot ::= "b" => 2 => 1 => defined twice
            root ::= "a" ) "b" => 1 => 14 => found ')'
            root ::= "a"{3,1} => 1 => 13 => max < min
            root ::= [z-a] => 1 => 11 => backwards
            root ::= "\\q" => 1 => 11 => unknown escape
            root = "a" => 1 => 6 => expected '::='
            root ::= "a"\\n  b ::= b "c" | "d" => 2 => 3 => left-recursive
            """)
    void errorsSayWhatAndWhere(String text, int line, int column, String message) {
        String grammar = text.replace("\\n", "\n");
        assertThatThrownBy(() -> Grammars.gbnf(grammar))
                .isInstanceOfSatisfying(GrammarSyntaxException.class, e -> {
                    assertThat(e.line()).as("line").isEqualTo(line);
                    assertThat(e.column()).as("column").isEqualTo(column);
                })
                .hasMessageContaining(message);
    }
}
