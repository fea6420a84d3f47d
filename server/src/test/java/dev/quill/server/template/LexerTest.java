package dev.quill.server.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quill.server.template.Token.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

class LexerTest {

    private static List<String> texts(String source) {
        return Lexer.tokenize(source).stream().filter(t -> t.is(Kind.TEXT)).map(Token::text).toList();
    }

    private static List<Kind> kinds(String source) {
        return Lexer.tokenize(source).stream().map(Token::kind).toList();
    }

    @Test
    void splitsTextVariablesAndBlocksWithPositions() {
        List<Token> tokens = Lexer.tokenize("Hi {{ name }}!\n{% if x %}y{% endif %}");
        assertThat(tokens).extracting(Token::kind).containsExactly(
                Kind.TEXT, Kind.VAR_BEGIN, Kind.NAME, Kind.VAR_END, Kind.TEXT,
                Kind.BLOCK_BEGIN, Kind.NAME, Kind.NAME, Kind.BLOCK_END, Kind.TEXT,
                Kind.BLOCK_BEGIN, Kind.NAME, Kind.BLOCK_END, Kind.EOF);
        Token name = tokens.get(2);
        assertThat(name.text()).isEqualTo("name");
        assertThat(name.line()).isEqualTo(1);
        assertThat(name.column()).isEqualTo(7);
        Token ifTag = tokens.get(6);
        assertThat(ifTag.line()).isEqualTo(2);
        assertThat(ifTag.column()).isEqualTo(4);
    }

    @Test
    void trimBlocksRemovesOneNewlineAfterABlockOrCommentTag() {
        assertThat(texts("{% if x %}\n\nA{# c #}\nB{{ v }}\nC")).containsExactly("\nA", "B", "\nC");
    }

    @Test
    void lstripBlocksRemovesIndentationBeforeBlockTagsOnly() {
        assertThat(texts("a\n    {% if x %}b\n    {{ v }}")).containsExactly("a\n", "b\n    ");
        assertThat(texts("text   {% if x %}")).containsExactly("text   ");
    }

    @Test
    void dashStripsAllWhitespaceAndPlusKeepsIt() {
        assertThat(texts("a \n\t {{- v -}} \n b")).containsExactly("a", "b");
        assertThat(texts("a\n    {%+ if x +%}\nb")).containsExactly("a\n    ", "\nb");
    }

    @Test
    void closingBracesInsideAnExpressionDoNotEndTheTag() {
        assertThat(kinds("{{ {'a': {'b': 1}} }}")).endsWith(Kind.OPERATOR, Kind.OPERATOR, Kind.VAR_END, Kind.EOF);
    }

    @Test
    void normalizesNewlinesAndDropsOneTrailingNewline() {
        assertThat(texts("a\r\nb\rc\n\n")).containsExactly("a\nb\nc\n");
    }

    @Test
    void decodesPythonStringEscapesAndNumberLiterals() {
        List<Token> tokens = Lexer.tokenize("{{ 'a\\n\\t\\'\\x41\\u00e9\\q' 0x1F 1_000 2.5e3 }}");
        assertThat(tokens.get(1).value()).isEqualTo("a\n\t'Aé\\q");
        assertThat(tokens.get(2).value()).isEqualTo(31L);
        assertThat(tokens.get(3).value()).isEqualTo(1000L);
        assertThat(tokens.get(4).value()).isEqualTo(2500.0);
    }

    @Test
    void rawBlocksAreText() {
        assertThat(texts("{% raw %}{{ x }}{% endraw %}")).containsExactly("{{ x }}");
    }

    @Test
    void reportsLexicalErrorsWithTheirLine() {
        assertThatThrownBy(() -> Lexer.tokenize("ok\n{# never closed"))
                .isInstanceOf(TemplateException.class).hasMessageContaining("Missing end of comment tag")
                .satisfies(e -> assertThat(((TemplateException) e).line()).isEqualTo(2));
        assertThatThrownBy(() -> Lexer.tokenize("\n\n{{ 'abc }}"))
                .isInstanceOf(TemplateException.class).hasMessageContaining("unterminated string")
                .satisfies(e -> assertThat(((TemplateException) e).line()).isEqualTo(3));
        assertThatThrownBy(() -> Lexer.tokenize("{{ a ! b }}")).hasMessageContaining("unexpected char '!'");
        assertThatThrownBy(() -> Lexer.tokenize("{{ (a ] }}")).hasMessageContaining("unexpected ']', expected ')'");
        assertThatThrownBy(() -> Lexer.tokenize("{% if x")).hasMessageContaining("unexpected end of template");
    }
}
