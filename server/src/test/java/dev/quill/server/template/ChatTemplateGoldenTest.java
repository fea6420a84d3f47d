package dev.quill.server.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Real model chat templates rendered by Quill must equal what Jinja2 renders under transformers' configuration,
 * byte for byte, for every template × conversation in {@code src/test/resources/templates} (expected outputs are
 * produced by {@code tools/template-goldens/render_goldens.py}). Where Jinja2 raises, Quill must raise too; for
 * {@code raise_exception} with the same message.
 */
class ChatTemplateGoldenTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path root() throws URISyntaxException {
        return Path.of(ChatTemplateGoldenTest.class.getResource("/templates/templates.json").toURI()).getParent();
    }

    private static Map<String, Object> readJson(Path file) throws IOException {
        return JSON.readValue(file.toFile(), new TypeReference<LinkedHashMap<String, Object>>() {});
    }

    @TestFactory
    Stream<DynamicTest> everyTemplateRendersEveryConversationLikeJinja2() throws Exception {
        Path root = root();
        Map<String, Object> manifest = readJson(root.resolve("templates.json"));
        Clock clock = Clock.fixed(LocalDateTime.parse((String) manifest.get("fixed_now")).toInstant(ZoneOffset.UTC),
                ZoneOffset.UTC);
        Map<String, Map<String, Object>> templates = cast(manifest.get("templates"));
        List<Path> conversations;
        try (Stream<Path> files = Files.list(root.resolve("conversations"))) {
            conversations = files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        assertThat(conversations).hasSizeGreaterThanOrEqualTo(15);

        List<DynamicTest> tests = new ArrayList<>();
        for (Map.Entry<String, Map<String, Object>> template : templates.entrySet()) {
            String name = template.getKey();
            ChatTemplate compiled = ChatTemplate.compile(Files.readString(root.resolve(name + ".jinja")));
            Map<String, Object> specialTokens = cast(template.getValue().get("special_tokens"));
            for (Path conversation : conversations) {
                String conversationName = conversation.getFileName().toString().replace(".json", "");
                tests.add(DynamicTest.dynamicTest(name + " × " + conversationName, () -> {
                    Map<String, Object> context = readJson(conversation);
                    context.putAll(specialTokens);
                    Path expectedDir = root.resolve("expected").resolve(name);
                    Path output = expectedDir.resolve(conversationName + ".txt");
                    Path error = expectedDir.resolve(conversationName + ".error.txt");
                    if (Files.exists(output)) {
                        assertThat(compiled.render(context, clock)).isEqualTo(Files.readString(output));
                    } else {
                        assertThat(error).as("golden for %s × %s", name, conversationName).exists();
                        String jinjaError = Files.readString(error);
                        TemplateException thrown = catchThrowableOfType(TemplateException.class,
                                () -> compiled.render(context, clock));
                        assertThat(thrown).as("Jinja2 raised %s", jinjaError).isNotNull();
                        if (jinjaError.startsWith("TemplateError: ")) {
                            assertThat(thrown.raisedByTemplate()).isTrue();
                            assertThat(thrown.reason()).isEqualTo(jinjaError.substring("TemplateError: ".length()));
                        } else {
                            assertThat(thrown.raisedByTemplate()).isFalse();
                        }
                    }
                }));
            }
        }
        return tests.stream();
    }

    @Test
    void builtInChatmlIsTheGoldenChatmlTemplate() throws Exception {
        assertThat(ChatTemplate.CHATML.source()).isEqualTo(Files.readString(root().resolve("chatml.jinja")));
    }

    @SuppressWarnings("unchecked")
    private static <T> T cast(Object o) {
        return (T) o;
    }
}
