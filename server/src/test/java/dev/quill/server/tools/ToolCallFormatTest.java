package dev.quill.server.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ToolCallFormatTest {

    private static String template(String name) {
        try (var in = ToolCallFormatTest.class.getResourceAsStream("/templates/" + name + ".jinja")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void theFormatComesFromTheTemplate() {
        assertThat(ToolCallFormat.detect(template("qwen2.5"))).isEqualTo(ToolCallFormat.HERMES);
        assertThat(ToolCallFormat.detect(template("qwen3"))).isEqualTo(ToolCallFormat.HERMES);
        assertThat(ToolCallFormat.detect(template("hermes3-tool-use"))).isEqualTo(ToolCallFormat.HERMES);
        assertThat(ToolCallFormat.detect(template("llama3.2-instruct"))).isEqualTo(ToolCallFormat.LLAMA3_JSON);
        assertThat(ToolCallFormat.detect(template("llama3.3-instruct"))).isEqualTo(ToolCallFormat.LLAMA3_JSON);
        assertThat(ToolCallFormat.detect(template("mistral-v0.3"))).isEqualTo(ToolCallFormat.MISTRAL);
        assertThat(ToolCallFormat.detect(template("mistral-nemo"))).isEqualTo(ToolCallFormat.MISTRAL);
    }

    @Test
    void templatesWithoutToolSupportGetTheChatMlConvention() {
        assertThat(ToolCallFormat.detect(null)).isEqualTo(ToolCallFormat.HERMES);
        assertThat(ToolCallFormat.detect(template("chatml"))).isEqualTo(ToolCallFormat.HERMES);
        assertThat(ToolCallFormat.detect(template("llama3"))).isEqualTo(ToolCallFormat.HERMES);
        assertThat(ToolCallFormat.detect(template("gemma2"))).isEqualTo(ToolCallFormat.HERMES);
    }

    @Test
    void callIdsFollowWhatTheFamilysTemplatesAccept() {
        SplittableRandom random = new SplittableRandom(3);
        assertThat(ToolCallFormat.HERMES.newCallId(random)).matches("call_[A-Za-z0-9]{24}");
        assertThat(ToolCallFormat.LLAMA3_JSON.newCallId(random)).matches("call_[A-Za-z0-9]{24}");
        assertThat(ToolCallFormat.MISTRAL.newCallId(random)).matches("[A-Za-z0-9]{9}");
        assertThat(ToolCallFormat.HERMES.newCallId(random)).isNotEqualTo(ToolCallFormat.HERMES.newCallId(random));
    }
}
