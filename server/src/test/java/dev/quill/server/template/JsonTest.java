package dev.quill.server.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code tojson} is Python's json.dumps with transformers' defaults. */
class JsonTest {

    private static String dumps(Object v, String indent, String[] separators, boolean ensureAscii, boolean sort) {
        return new Json(ensureAscii, indent, separators, sort, Limits.DEFAULT).dumps(v);
    }

    private static Map<String, Object> sample() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("b", List.of(1L, 2.0, true));
        m.put("a", "é\"\n\u0001");
        m.put("e", Map.of());
        m.put("n", null);
        return m;
    }

    @Test
    void defaultsUsePythonSeparatorsAndKeepNonAscii() {
        assertThat(dumps(sample(), null, null, false, false))
                .isEqualTo("{\"b\": [1, 2.0, true], \"a\": \"é\\\"\\n\\u0001\", \"e\": {}, \"n\": null}");
    }

    @Test
    void indentSeparatorsSortingAndAsciiEscaping() {
        assertThat(dumps(sample(), "  ", null, false, true)).isEqualTo("""
                {
                  "a": "é\\"\\n\\u0001",
                  "b": [
                    1,
                    2.0,
                    true
                  ],
                  "e": {},
                  "n": null
                }""");
        assertThat(dumps(List.of("ü", 1L), null, new String[] {",", ":"}, true, false)).isEqualTo("[\"\\u00fc\",1]");
        assertThat(dumps("🙂", null, null, true, false)).isEqualTo("\"\\ud83d\\ude42\"");
    }

    @Test
    void nonSerializableValuesFailLikePython() {
        assertThatThrownBy(() -> dumps(Undefined.name("x"), null, null, false, false))
                .hasMessage("Object of type Undefined is not JSON serializable");
        assertThatThrownBy(() -> dumps(Map.of(List.of(), 1L), null, null, false, false))
                .hasMessageContaining("keys must be str, int, float, bool or None");
    }
}
