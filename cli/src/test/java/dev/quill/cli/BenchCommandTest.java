package dev.quill.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quill.engine.fixture.ModelShape;
import dev.quill.engine.fixture.RandomModel;
import dev.quill.engine.model.Architecture;
import dev.quill.engine.tensor.GgmlType;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchCommandTest {

    @TempDir Path dir;

    @Test
    void printsAPromptAndAGenerationLineWithMeanAndDeviation() {
        Path model = dir.resolve("tiny.gguf");
        new RandomModel(Architecture.LLAMA, ModelShape.TINY, GgmlType.Q4_0).seed(2).write(model, m -> { });

        GenerateCommandTest.Run r = GenerateCommandTest.run("bench", "-m", model.toString(), "-p", "16", "-n", "4",
                "-r", "2", "-t", "1");

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("\\| quill-random-llama-q4_0 +\\| +[0-9.]+ MiB \\| +[0-9.]+ M \\| +1 \\| +pp16 \\| +[0-9.]+ ± +[0-9.]+ \\|")
                .containsPattern("\\| +tg4 \\| +[0-9.]+ ± +[0-9.]+ \\|");
        assertThat(r.err()).containsPattern("warmed up kernels in [0-9.]+ s").contains("pp16: warm-up", "pp16: run 2/2", "tg4: run 1/2");
    }

    @Test
    void batchedGenerationCountsTheTokensOfEverySequence() {
        Path model = dir.resolve("tiny.gguf");
        new RandomModel(Architecture.LLAMA, ModelShape.TINY, GgmlType.Q8_0).seed(2).write(model, m -> { });

        GenerateCommandTest.Run r = GenerateCommandTest.run("bench", "-m", model.toString(), "-p", "0", "-n", "4",
                "-b", "3", "-r", "1", "-t", "1", "--no-warmup");

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("\\| +tg4x3 \\| +[0-9.]+ ± +[0-9.]+ \\|").doesNotContain("pp");
        assertThat(r.err()).contains("tg4x3: run 1/1");

        GenerateCommandTest.Run bad = GenerateCommandTest.run("bench", "-m", model.toString(), "-b", "0");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("--batch");
    }

    @Test
    void depthFillsEverySequencesCacheFirstAndNamesTheTests() {
        Path model = dir.resolve("tiny.gguf");
        new RandomModel(Architecture.LLAMA, ModelShape.TINY, GgmlType.Q8_0).seed(2).write(model, m -> { });

        GenerateCommandTest.Run r = GenerateCommandTest.run("bench", "-m", model.toString(), "-p", "8", "-n", "4",
                "-b", "2", "-d", "40", "-r", "1", "-t", "1", "--no-warmup");

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("\\| +pp8 @ d40 \\| +[0-9.]+ ± +[0-9.]+ \\|")
                .containsPattern("\\| +tg4x2 @ d40 \\| +[0-9.]+ ± +[0-9.]+ \\|");
        assertThat(r.err()).contains("filling the KV cache: 40 tokens × 2 sequences");

        GenerateCommandTest.Run tooDeep = GenerateCommandTest.run("bench", "-m", model.toString(), "-d", "500", "-p", "16",
                "-n", "0", "--no-warmup");
        assertThat(tooDeep.exit()).isEqualTo(2);
        assertThat(tooDeep.err()).contains("--depth 500", "context of 512");
    }

    @Test
    void skipsATestOfZeroTokensAndRejectsNonsense() {
        Path model = dir.resolve("tiny.gguf");
        new RandomModel(Architecture.LLAMA, ModelShape.TINY, GgmlType.Q8_0).seed(2).write(model, m -> { });

        GenerateCommandTest.Run r = GenerateCommandTest.run("bench", "-m", model.toString(), "-p", "8", "-n", "0", "-r", "1", "-t", "1",
                "--no-warmup");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("pp8").doesNotContain("tg");
        assertThat(r.err()).doesNotContain("warmed up");

        GenerateCommandTest.Run bad = GenerateCommandTest.run("bench", "-m", model.toString(), "-r", "0");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("--repetitions");
    }
}
