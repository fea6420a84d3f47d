package dev.quill.server.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PyTest {

    @Test
    void floatsPrintLikePythonRepr() {
        assertThat(Py.floatRepr(1.0)).isEqualTo("1.0");
        assertThat(Py.floatRepr(0.1 + 0.2)).isEqualTo("0.30000000000000004");
        assertThat(Py.floatRepr(1e16)).isEqualTo("1e+16");
        assertThat(Py.floatRepr(1e15)).isEqualTo("1000000000000000.0");
        assertThat(Py.floatRepr(1e-5)).isEqualTo("1e-05");
        assertThat(Py.floatRepr(0.0001)).isEqualTo("0.0001");
        assertThat(Py.floatRepr(-2.5e-300)).isEqualTo("-2.5e-300");
        assertThat(Py.floatRepr(-0.0)).isEqualTo("-0.0");
        assertThat(Py.floatRepr(Double.NaN)).isEqualTo("nan");
        assertThat(Py.floatRepr(Double.NEGATIVE_INFINITY)).isEqualTo("-inf");
    }

    @Test
    void containersPrintLikePythonStr() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("it's", List.of(1L, 2.5, true));
        m.put("n", null);
        assertThat(Py.str(m)).isEqualTo("{\"it's\": [1, 2.5, True], 'n': None}");
        assertThat(Py.str(PyTuple.of("a"))).isEqualTo("('a',)");
        assertThat(Py.repr("tab\t\u0001é\u2028")).isEqualTo("'tab\\t\\x01é\\u2028'");
        assertThat(Py.str(new Undefined("x"))).isEmpty();
    }

    @Test
    void equalityFollowsPythonAcrossNumericTypes() {
        assertThat(Py.eq(1L, 1.0)).isTrue();
        assertThat(Py.eq(true, 1L)).isTrue();
        assertThat(Py.eq(List.of(1L), PyTuple.of(1L))).isFalse();
        assertThat(Py.eq(Map.of("a", 1L), Map.of("a", 1.0))).isTrue();
        assertThat(Py.eq(null, false)).isFalse();
        assertThat(Py.eq("a", "a")).isTrue();
    }

    @Test
    void orderingRejectsMixedTypes() {
        assertThat(Py.compare("b", "a", "<")).isPositive();
        assertThat(Py.compare(List.of(1L, 2L), List.of(1L, 3L), "<")).isNegative();
        assertThatThrownBy(() -> Py.compare("a", 1L, "<"))
                .hasMessage("'<' not supported between instances of 'str' and 'int'");
    }

    @Test
    void arithmeticMatchesPython() {
        Limits limits = Limits.DEFAULT;
        assertThat(Py.binary("//", -7L, 2L, limits)).isEqualTo(-4L);
        assertThat(Py.binary("%", -7L, 3L, limits)).isEqualTo(2L);
        assertThat(Py.binary("%", 7.5, -2L, limits)).isEqualTo(-0.5);
        assertThat(Py.binary("/", 4L, 2L, limits)).isEqualTo(2.0);
        assertThat(Py.binary("+", Long.MAX_VALUE, 1L, limits)).hasToString("9223372036854775808");
        assertThat(Py.binary("*", "ab", 2L, limits)).isEqualTo("abab");
        assertThatThrownBy(() -> Py.binary("+", "a", 1L, limits))
                .hasMessage("can only concatenate str (not \"int\") to str");
        assertThatThrownBy(() -> Py.binary("/", 1L, 0L, limits)).hasMessage("division by zero");
    }

    @Test
    void indexingAndSlicingCountCodePoints() {
        String s = "a🙂b";
        assertThat(Py.length(s)).isEqualTo(3);
        assertThat(Py.getItem(s, 1L)).isEqualTo("🙂");
        assertThat(Py.getItem(s, -1L)).isEqualTo("b");
        assertThat(Py.slice(s, new Py.SliceValue(null, null, -1L))).isEqualTo("b🙂a");
        assertThat(Py.slice(List.of(1L, 2L, 3L), new Py.SliceValue(-2L, null, null))).isEqualTo(List.of(2L, 3L));
        assertThat(Py.getItem(List.of(1L), 5L)).isInstanceOf(Undefined.class);
    }

    @Test
    void attributeLookupPrefersMethodsAndItemLookupPrefersKeys() {
        Map<String, Object> m = Map.of("items", "value");
        assertThat(Py.getAttr(m, "items")).isInstanceOf(BuiltinMethods.BoundMethod.class);
        assertThat(Py.getItem(m, "items")).isEqualTo("value");
        assertThat(Py.getAttr(m, "missing")).isInstanceOf(Undefined.class);
        assertThatThrownBy(() -> Py.getAttr(Undefined.name("x"), "y")).hasMessage("'x' is undefined");
    }
}
