package dev.quill.server.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * One construct per snippet ({@code src/test/resources/templates/snippets.txt}): Quill's output, or its failure,
 * must match what Jinja2 produced under transformers' configuration ({@code snippets.expected.json}, written by
 * {@code tools/template-goldens/render_goldens.py}). Errors must match Jinja2's message too.
 */
class SnippetGoldenTest {

    private static final Clock FIXED = Clock.fixed(LocalDateTime.parse("2025-03-07T14:05:09").toInstant(ZoneOffset.UTC),
            ZoneOffset.UTC);

    record Snippet(String name, Map<String, Object> context, String source) {}

    /** The snippet file format: "=== name {optional JSON context}" followed by the template lines. */
    static List<Snippet> parse(String text) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<Snippet> snippets = new ArrayList<>();
        String name = null;
        Map<String, Object> context = null;
        StringBuilder body = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            if (line.startsWith("=== ")) {
                if (name != null) snippets.add(new Snippet(name, context, body.substring(0, Math.max(0, body.length() - 1))));
                String header = line.substring(4).strip();
                int space = header.indexOf(' ');
                name = space < 0 ? header : header.substring(0, space);
                context = space < 0 ? new LinkedHashMap<>()
                        : json.readValue(header.substring(space + 1), new TypeReference<LinkedHashMap<String, Object>>() {});
                body.setLength(0);
            } else if (name != null) {
                body.append(line).append('\n');
            }
        }
        if (name != null) snippets.add(new Snippet(name, context, body.toString().replaceAll("\n+$", "")));
        return snippets;
    }

    @TestFactory
    Stream<DynamicTest> eachSnippetRendersLikeJinja2() throws Exception {
        Path root = Path.of(getClass().getResource("/templates/snippets.txt").toURI()).getParent();
        List<Snippet> snippets = parse(Files.readString(root.resolve("snippets.txt")));
        Map<String, Map<String, String>> expected = new ObjectMapper().readValue(
                root.resolve("snippets.expected.json").toFile(), new TypeReference<>() {});
        assertThat(snippets).extracting(Snippet::name).containsExactlyInAnyOrderElementsOf(expected.keySet());

        return snippets.stream().map(s -> DynamicTest.dynamicTest(s.name(), () -> {
            Map<String, String> jinja = expected.get(s.name());
            if (jinja.containsKey("output")) {
                assertThat(ChatTemplate.compile(s.source()).render(s.context(), FIXED)).isEqualTo(jinja.get("output"));
                return;
            }
            String error = jinja.get("error");
            String type = error.substring(0, error.indexOf(':'));
            String message = error.substring(error.indexOf(':') + 2);
            if (type.equals("TemplateSyntaxError") || type.equals("SyntaxError")) {
                assertThatThrownBy(() -> ChatTemplate.compile(s.source())).isInstanceOf(TemplateException.class);
                return;
            }
            TemplateException thrown = catchThrowableOfType(TemplateException.class,
                    () -> ChatTemplate.compile(s.source()).render(s.context(), FIXED));
            assertThat(thrown).as("Jinja2 raised %s", error).isNotNull();
            assertThat(thrown.raisedByTemplate()).isEqualTo(type.equals("TemplateError"));
            assertThat(thrown.reason()).isEqualTo(message);
        }));
    }
}
