package dev.quill.server.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quill.server.template.Ast.*;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ParserTest {

    private static Expr expression(String source) {
        List<Stmt> body = Parser.parse("{{ " + source + " }}");
        return ((Output) body.get(0)).expr();
    }

    private static String render(String source) {
        return ChatTemplate.compile(source).render(Map.of());
    }

    @Test
    void filtersAndTestsBindTighterThanArithmetic() {
        Binary minus = (Binary) expression("messages|length - 1");
        assertThat(minus.op()).isEqualTo("-");
        assertThat(minus.left()).isInstanceOf(Filter.class);
        assertThat(expression("not x is defined")).isInstanceOf(Not.class);
        assertThat(((Not) expression("not x is defined")).operand()).isInstanceOf(Ast.Test.class);
    }

    @Test
    void followsPythonPrecedence() {
        assertThat(render("{{ 2 + 3 * 4 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 1 or 0 and 0 }} {{ 'a' ~ 2 * 3 }} {{ 3 - 1 - 1 }}"))
                .isEqualTo("14 64 4 1 a6 1");
    }

    @Test
    void parsesSlicesTuplesAndConditionals() {
        Slice slice = (Slice) ((GetItem) expression("m[::-1]")).key();
        assertThat(slice.start()).isNull();
        assertThat(slice.stop()).isNull();
        assertThat(slice.step()).isInstanceOf(Unary.class);
        assertThat(expression("1, 2")).isInstanceOf(TupleLiteral.class);
        Conditional c = (Conditional) expression("a if b");
        assertThat(c.orElse()).isNull();
    }

    @Test
    void forLoopHeaderTakesTargetsFilterAndRecursive() {
        For loop = (For) Parser.parse("{% for k, v in d|items if k recursive %}{% endfor %}").get(0);
        assertThat(loop.target()).isInstanceOf(TupleTarget.class);
        assertThat(loop.iterable()).isInstanceOf(Filter.class);
        assertThat(loop.filter()).isInstanceOf(Name.class);
        assertThat(loop.recursive()).isTrue();
    }

    @Test
    void macroSignatureRecordsDefaultsAndImplicitNames() {
        Macro m = (Macro) Parser.parse("{% macro f(a, b=1) %}{{ varargs }}{{ caller() }}{% endmacro %}").get(0);
        assertThat(m.signature().params()).containsExactly("a", "b");
        assertThat(m.signature().defaults()).hasSize(1);
        assertThat(m.signature().usesVarargs()).isTrue();
        assertThat(m.signature().usesCaller()).isTrue();
        assertThat(m.signature().usesKwargs()).isFalse();
    }

    @Test
    void syntaxErrorsNameTheProblemAndItsPosition() {
        assertThatThrownBy(() -> Parser.parse("line 1\n{% if x %}\nline 3"))
                .hasMessageContaining("Unexpected end of template")
                .hasMessageContaining("'endif'")
                .hasMessageContaining("The innermost block that needs to be closed is 'if'");
        TemplateException unknown = (TemplateException) org.assertj.core.api.Assertions.catchThrowable(
                () -> Parser.parse("a\nb\n  {% frobnicate %}"));
        assertThat(unknown.reason()).isEqualTo("Encountered unknown tag 'frobnicate'.");
        assertThat(unknown.line()).isEqualTo(3);
        assertThat(unknown.column()).isEqualTo(6);
        assertThat(unknown.getMessage()).endsWith("(template line 3, column 6)");
        assertThatThrownBy(() -> Parser.parse("{{ 1 + }}")).hasMessageContaining("unexpected 'end of print statement'");
        assertThatThrownBy(() -> Parser.parse("{% break %}")).hasMessageContaining("'break' outside of a loop");
        assertThatThrownBy(() -> Parser.parse("{% set 1 = 2 %}")).hasMessageContaining("can't assign to 'const'");
        assertThatThrownBy(() -> Parser.parse("{% include 'x' %}")).hasMessageContaining("not supported");
        assertThatThrownBy(() -> Parser.parse("{% macro f(a=1, b) %}{% endmacro %}"))
                .hasMessageContaining("non-default argument follows default argument");
    }

    @Test
    void deepNestingFailsCleanlyInsteadOfOverflowingTheStack() {
        String deep = "{{ " + "(".repeat(5000) + "1" + ")".repeat(5000) + " }}";
        assertThatThrownBy(() -> Parser.parse(deep)).isInstanceOf(TemplateException.class)
                .hasMessageContaining("nesting is deeper than");
        String deepBlocks = "{% if x %}".repeat(500) + "{% endif %}".repeat(500);
        assertThatThrownBy(() -> Parser.parse(deepBlocks)).isInstanceOf(TemplateException.class);
    }
}
