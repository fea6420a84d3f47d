package dev.quill.server.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quill.engine.EngineOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {

    @TempDir
    Path dir;

    private ServerConfig load(String yaml) throws IOException {
        Path file = dir.resolve("quill.yaml");
        Files.writeString(file, yaml);
        return ServerConfig.load(file);
    }

    @Test
    void readsEverySetting() throws IOException {
        ServerConfig c = load("""
                host: 0.0.0.0
                port: 9000
                threads: 2
                max_body_bytes: 1000
                api_keys: [k1, k2]
                deployments:
                  - name: main
                    model: models/a.gguf
                    aliases: [a, default]
                    tags: [small]
                    vendor: acme
                    context_length: 1024
                    kv_cache: 64MB
                    max_concurrent_requests: 4
                  - name: other
                    model: /abs/b.gguf
                """);
        assertThat(c.host()).isEqualTo("0.0.0.0");
        assertThat(c.port()).isEqualTo(9000);
        assertThat(c.threads()).isEqualTo(2);
        assertThat(c.maxBodyBytes()).isEqualTo(1000);
        assertThat(c.apiKeys()).containsExactly("k1", "k2");
        ServerConfig.DeploymentConfig main = c.deployments().getFirst();
        assertThat(main).isEqualTo(new ServerConfig.DeploymentConfig("main", dir.resolve("models/a.gguf"), List.of("a", "default"),
                List.of("small"), "acme", 1024, 64L << 20, 4));
        ServerConfig.DeploymentConfig other = c.deployments().get(1);
        assertThat(other.model()).isEqualTo(Path.of("/abs/b.gguf"));
        assertThat(other.vendor()).isEqualTo("quill");
        assertThat(other.maxConcurrentRequests()).isEqualTo(ServerConfig.DeploymentConfig.DEFAULT_MAX_CONCURRENT_REQUESTS);
    }

    @Test
    void appliesDefaults() throws IOException {
        ServerConfig c = load("deployments: [{name: m, model: m.gguf}]");
        assertThat(c.host()).isEqualTo("127.0.0.1");
        assertThat(c.port()).isEqualTo(8080);
        assertThat(c.maxBodyBytes()).isEqualTo(10L * 1024 * 1024);
        assertThat(c.apiKeys()).isEmpty();
    }

    @Test
    void readsTheEngineSettingsAndTheCommandLineOverridesThem() throws IOException {
        ServerConfig c = load("""
                deployments:
                  - name: main
                    model: a.gguf
                    kv_cache: 1GB
                    block_size: 32
                    max_batch_tokens: 256
                    max_sequences: 8
                    max_queue: 4
                    kv_f32: true
                    prefix_caching: false
                  - name: plain
                    model: b.gguf
                """);
        ServerConfig.EngineSettings main = c.deployments().getFirst().engine();
        assertThat(main).isEqualTo(new ServerConfig.EngineSettings(1L << 30, 32, 256, 8, 4, true, false));
        EngineOptions options = main.applyTo(EngineOptions.defaults());
        assertThat(options.kvCacheBytes()).isEqualTo(1L << 30);
        assertThat(options.blockSize()).isEqualTo(32);
        assertThat(options.maxBatchTokens()).isEqualTo(256);
        assertThat(options.maxSequences()).isEqualTo(8);
        assertThat(options.maxQueue()).isEqualTo(4);
        assertThat(options.kvF16()).isFalse();
        assertThat(options.prefixCaching()).isFalse();
        assertThat(c.deployments().get(1).engine().applyTo(EngineOptions.defaults())).isEqualTo(EngineOptions.defaults());

        ServerConfig overridden = c.withEngineOverrides(new ServerConfig.EngineSettings(0, 0, 0, 0, 2, null, true));
        assertThat(overridden.deployments().getFirst().engine()).isEqualTo(new ServerConfig.EngineSettings(1L << 30, 32, 256, 8, 2, true, true));
        assertThat(overridden.deployments().get(1).engine()).isEqualTo(new ServerConfig.EngineSettings(0, 0, 0, 0, 2, null, true));
    }

    @Test
    void readsTheWarmupSettingWhichTheCommandLineOverrides() throws IOException {
        ServerConfig c = load("deployments: [{name: main, model: a.gguf, warmup: false}, {name: plain, model: b.gguf}]");
        assertThat(c.deployments().getFirst().engine().applyTo(EngineOptions.defaults()).warmup()).isFalse();
        assertThat(c.deployments().get(1).engine().warmup()).isNull();

        ServerConfig overridden = c.withEngineOverrides(new ServerConfig.EngineSettings(0, 0, 0, 0, 0, null, null, true));
        assertThat(overridden.deployments().getFirst().engine().warmup()).isTrue();
    }

    @Test
    void readsTheSpeculativeTokensAndRejectsTooMany() throws IOException {
        ServerConfig c = load("deployments: [{name: main, model: a.gguf, speculative_tokens: 0}, {name: plain, model: b.gguf}]");
        assertThat(c.deployments().getFirst().engine().applyTo(EngineOptions.defaults()).speculativeTokens()).isZero();
        assertThat(c.deployments().get(1).engine().applyTo(EngineOptions.defaults()).speculativeTokens())
                .isEqualTo(EngineOptions.DEFAULT_SPECULATIVE_TOKENS);
        assertThatThrownBy(() -> load("deployments: [{name: main, model: a.gguf, speculative_tokens: 12}]"))
                .hasMessageContaining("speculative_tokens");
    }

    @Test
    void aDeploymentsContentFilterAddsItsTermsToTheServerWideOnes() throws IOException {
        ServerConfig c = load("""
                content_filter:
                  blocked_terms: [Everywhere, shared]
                deployments:
                  - name: strict
                    model: a.gguf
                    content_filter: {blocked_terms: [shared, only-here]}
                  - name: plain
                    model: b.gguf
                """);
        assertThat(c.deployments().getFirst().contentFilter().blockedTerms()).containsExactly("Everywhere", "shared", "only-here");
        assertThat(c.deployments().get(1).contentFilter().blockedTerms()).containsExactly("Everywhere", "shared");
        assertThat(load("deployments: [{name: m, model: m.gguf}]").deployments().getFirst().contentFilter().isEmpty()).isTrue();
    }

    @Test
    void readsTheCorsOriginsAndRefusesAnythingButOrigins() throws IOException {
        ServerConfig c = load("cors_origins: ['https://app.example.com', 'http://localhost:3000']\n"
                + "deployments: [{name: m, model: m.gguf}]");
        assertThat(c.corsOrigins()).containsExactly("https://app.example.com", "http://localhost:3000");
        assertThat(load("deployments: [{name: m, model: m.gguf}]").corsOrigins()).isEmpty();
        assertThatThrownBy(() -> load("cors_origins: ['app.example.com']\ndeployments: [{name: m, model: m.gguf}]"))
                .hasMessageContaining("config.cors_origins[0] must be '*' or scheme://host[:port]");
    }

    @Test
    void namesWhatIsWrong() {
        assertThatThrownBy(() -> load("port: 8080")).hasMessageContaining("deployments");
        assertThatThrownBy(() -> load("deployments: [{model: m.gguf}]")).hasMessageContaining("config.deployments[0].name");
        assertThatThrownBy(() -> load("deployments: [{name: m, model: m.gguf, colour: red}]")).hasMessageContaining("colour");
        assertThatThrownBy(() -> load("port: 99999\ndeployments: [{name: m, model: m.gguf}]")).hasMessageContaining("port");
        assertThatThrownBy(() -> load("deployments: [{name: m, model: m.gguf, kv_cache: lots}]")).hasMessageContaining("kv_cache");
        assertThatThrownBy(() -> load("deployments: [{name: m, model: a.gguf}, {name: n, model: b.gguf, aliases: [m]}]"))
                .hasMessageContaining("'m' is used twice");
        assertThatThrownBy(() -> load("deployments: [{name: m, model: m.gguf, block_size: 0}]")).hasMessageContaining("block_size");
        assertThatThrownBy(() -> load("deployments: [{name: m, model: m.gguf, max_queue: many}]")).hasMessageContaining("max_queue");
        assertThatThrownBy(() -> load("deployments: [{name: m, model: m.gguf, kv_f32: 1}]")).hasMessageContaining("kv_f32");
        assertThatThrownBy(() -> load("content_filter: {blocked_terms: ['']}\ndeployments: [{name: m, model: m.gguf}]"))
                .hasMessageContaining("config.content_filter.blocked_terms[0] must not be empty");
        assertThatThrownBy(() -> load("deployments: [{name: m, model: m.gguf, content_filter: {terms: [x]}}]"))
                .hasMessageContaining("config.deployments[0].content_filter.terms");
        assertThatThrownBy(() -> load("deployments: [{name: m, model: m.gguf, content_filter: {blocked_terms: x}}]"))
                .hasMessageContaining("blocked_terms");
    }
}
