package dev.quill.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quill.engine.fixture.ModelShape;
import dev.quill.engine.fixture.RandomModel;
import dev.quill.engine.model.Architecture;
import dev.quill.engine.tensor.GgmlType;
import dev.quill.server.serving.Deployments;
import dev.quill.server.serving.QuillServer;
import dev.quill.server.serving.ServerConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoadTestCommandTest {

    @TempDir Path dir;

    /** A server on a free port serving a random tiny model as {@code tiny}. */
    private ServerConfig tinyServer() {
        Path model = dir.resolve("tiny.gguf");
        new RandomModel(Architecture.LLAMA, ModelShape.TINY, GgmlType.Q8_0).seed(2).write(model, m -> { });
        return ServerConfig.single(ServerConfig.DeploymentConfig.of("tiny", model)).withListen("127.0.0.1", 0).withThreads(1);
    }

    @Test
    void reportsEveryRoundAndASummaryLinePerConcurrency() {
        ServerConfig config = tinyServer();
        try (Deployments deployments = Deployments.load(config, m -> { });
             QuillServer server = QuillServer.start(config, deployments)) {
            GenerateCommandTest.Run r = GenerateCommandTest.run("loadtest", "--url", server.address(), "--model", "tiny",
                    "--concurrency", "1,3", "--rounds", "2", "--max-tokens", "5", "--distinct");

            assertThat(r.exit()).as(r.err()).isZero();
            List<String> lines = r.out().lines().toList();
            assertThat(lines).filteredOn(l -> l.matches("\\s+3\\s+[01]\\s+.*")).as("two rounds of three streams").hasSize(2);
            int summary = lines.indexOf("# summary");
            assertThat(summary).isPositive();
            assertThat(lines.subList(summary + 2, lines.size()))
                    .satisfiesExactly(
                            l -> assertThat(l).matches("\\s+1\\s+[0-9.]+ ± [0-9.]+\\s+.*\\s0"),
                            l -> assertThat(l).matches("\\s+3\\s+[0-9.]+ ± [0-9.]+\\s+.*\\s0"));
        }
    }

    @Test
    void aRefusedRequestFailsTheWarmUpWithTheServersError() {
        ServerConfig config = tinyServer();
        try (Deployments deployments = Deployments.load(config, m -> { });
             QuillServer server = QuillServer.start(config, deployments)) {
            // More tokens than the model's context holds: the server answers 400 context_length_exceeded.
            GenerateCommandTest.Run r = GenerateCommandTest.run("loadtest", "--url", server.address(), "--model", "tiny",
                    "--concurrency", "1", "--rounds", "1", "--max-tokens", "1000000");

            assertThat(r.exit()).isEqualTo(1);
            assertThat(r.err()).contains("warm-up request failed: HTTP 400").contains("context_length_exceeded");
        }
        GenerateCommandTest.Run bad = GenerateCommandTest.run("loadtest", "--model", "x", "--concurrency", "0");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("--concurrency");
    }
}
