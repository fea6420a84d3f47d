package dev.quill.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quill.engine.fixture.ModelShape;
import dev.quill.engine.fixture.RandomModel;
import dev.quill.engine.model.Architecture;
import dev.quill.engine.tensor.GgmlType;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class GenerateCommandTest {

    @TempDir static Path dir;
    static Path model;

    @BeforeAll
    static void writeModel() {
        model = dir.resolve("tiny.gguf");
        new RandomModel(Architecture.LLAMA, ModelShape.TINY, GgmlType.Q8_0).seed(1).write(model, m -> { });
    }

    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new Main()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void streamsTheCompletionThenReportsTheSpeed() {
        Run r = run("generate", "-m", model.toString(), "-p", "the sea", "-n", "3", "--temperature", "0",
                "--ignore-eos", "--threads", "1");

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out().strip()).isNotEmpty();
        assertThat(r.err()).containsPattern("warmed up kernels in [0-9.]+ s")
                .contains("loaded quill-random-llama-q8_0")
                .containsPattern("prompt: +\\d+ tokens in +[0-9.]+ s = +[0-9.]+ tokens/s")
                .containsPattern("generation: +2 tokens in")
                .contains("stopped: length after 3 tokens");
    }

    @Test
    void noWarmupSkipsTheKernelWarmUp() {
        Run r = run("generate", "-m", model.toString(), "-p", "the sea", "-n", "2", "--temperature", "0", "--threads", "1",
                "--no-warmup");

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).contains("loaded quill-random-llama-q8_0").doesNotContain("warmed up");
    }

    @Test
    void explainsAMissingBuiltInModel() {
        String before = System.getProperty("quill.home");
        System.setProperty("quill.home", dir.toString());
        try {
            Run r = run("generate", "-p", "hello");
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.err()).contains("built-in model").contains("quill-tiny.gguf").contains("-m FILE");
        } finally {
            if (before == null) System.clearProperty("quill.home");
            else System.setProperty("quill.home", before);
        }
    }

    @Test
    void rejectsBadSamplingSettingsBeforeLoading() {
        Run r = run("generate", "-m", model.toString(), "-p", "hello", "--temperature", "5");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("temperature must be between 0 and 2");
    }

    @Test
    void namesAMissingModelFile() {
        Run r = run("generate", "-m", dir.resolve("absent.gguf").toString(), "-p", "hello");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("absent.gguf");
    }
}
