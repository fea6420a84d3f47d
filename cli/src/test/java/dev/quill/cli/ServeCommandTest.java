package dev.quill.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quill.engine.EngineOptions;
import dev.quill.server.serving.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ServeCommandTest {

    @TempDir Path dir;

    private ServerConfig parse(String... args) throws Exception {
        ServeCommand command = new ServeCommand();
        new CommandLine(command).parseArgs(args);
        return command.serverConfig();
    }

    @Test
    void theEngineOptionsBecomeTheDeploymentsEngineSettings() throws Exception {
        Path model = Files.createFile(dir.resolve("m.gguf"));
        ServerConfig c = parse("-m", model.toString(), "--kv-cache", "256MB", "--block-size", "32", "--max-batch-tokens", "128",
                "--max-sequences", "8", "--max-queue", "3", "--kv-f32", "--no-prefix-caching", "--no-warmup",
                "--speculative-tokens", "0");
        assertThat(c.deployments().getFirst().engine())
                .isEqualTo(new ServerConfig.EngineSettings(256L << 20, 32, 128, 8, 3, true, false, false, 0));
        assertThat(c.deployments().getFirst().engine().applyTo(EngineOptions.defaults()).speculativeTokens()).isZero();
        assertThat(c.deployments().getFirst().engine().applyTo(EngineOptions.defaults()).warmup()).isFalse();
        assertThat(parse("-m", model.toString()).deployments().getFirst().engine()).isEqualTo(ServerConfig.EngineSettings.DEFAULTS);
    }

    @Test
    void theOptionsOverrideTheConfigFile() throws Exception {
        Path config = dir.resolve("quill.yaml");
        Files.writeString(config, "deployments: [{name: a, model: a.gguf, max_queue: 9, block_size: 8}]");
        ServerConfig c = parse("--config", config.toString(), "--max-queue", "2");
        assertThat(c.deployments().getFirst().engine().maxQueue()).isEqualTo(2);
        assertThat(c.deployments().getFirst().engine().blockSize()).isEqualTo(8);
    }

    @Test
    void badValuesAreNamed() throws Exception {
        Path model = Files.createFile(dir.resolve("m.gguf"));
        assertThatThrownBy(() -> parse("-m", model.toString(), "--kv-cache", "lots")).hasMessageContaining("--kv-cache").hasMessageContaining("lots");
        assertThatThrownBy(() -> parse("-m", model.toString(), "--max-queue", "0")).hasMessageContaining("--max-queue must be at least 1");
        assertThatThrownBy(() -> parse("-m", model.toString(), "--speculative-tokens", "9"))
                .hasMessageContaining("--speculative-tokens must be between 0 (off) and 8, got 9");
    }

    @Test
    void aPortInUseIsSaidBeforeTheModelsLoad(@TempDir Path dir) throws Exception {
        Path notAModel = Files.writeString(dir.resolve("x.gguf"), "not a model: loading it would fail with exit 1 too");
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            assertThat(ServeCommand.portInUse("127.0.0.1", taken.getLocalPort())).isNotNull();
            var out = new java.io.ByteArrayOutputStream();
            var err = new java.io.ByteArrayOutputStream();
            java.io.PrintStream stdout = System.out, stderr = System.err;
            System.setOut(new java.io.PrintStream(out, true));
            System.setErr(new java.io.PrintStream(err, true));
            int exit;
            try {
                exit = new CommandLine(new Main()).execute("serve", "-m", notAModel.toString(), "--port",
                        String.valueOf(taken.getLocalPort()));
            } finally {
                System.setOut(stdout);
                System.setErr(stderr);
            }
            assertThat(exit).isEqualTo(1);
            assertThat(err.toString()).contains("cannot listen on 127.0.0.1:" + taken.getLocalPort());
            assertThat(out.toString()).doesNotContain("loading");
        }
        assertThat(ServeCommand.portInUse("127.0.0.1", 0)).isNull();
    }
}
