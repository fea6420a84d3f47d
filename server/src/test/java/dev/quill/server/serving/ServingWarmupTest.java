package dev.quill.server.serving;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quill.engine.GenerationRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The requests a server sends itself before serving (QuillServer.warmUp). */
class ServingWarmupTest {

    private static TestServer serverWithKey(FakeEngine engine) {
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 0, ServerConfig.DEFAULT_MAX_BODY_BYTES, List.of("sk-secret"),
                List.of(ServerConfig.DeploymentConfig.of("fake", Path.of("fake.gguf"))));
        return new TestServer(config, List.of(engine));
    }

    @Test
    void realRequestsReachTheEngineWithoutAKey() {
        FakeEngine engine = new FakeEngine();
        try (TestServer server = serverWithKey(engine)) {
            List<String> progress = new ArrayList<>();
            server.server.warmUp(Duration.ofSeconds(30), progress::add);

            assertThat(progress).singleElement().asString()
                    .startsWith("warmed up serving fake in").contains("(7 requests)").doesNotContain("failed");
            // Streamed and plain completions and chats, one alone and several at once, all distinct prompts.
            assertThat(engine.requests).hasSize(7);
            assertThat(engine.requests).extracting(GenerationRequest::maxTokens).contains(64);
            assertThat(engine.requests.stream().map(r -> List.of(r.prompt()).hashCode()).distinct()).hasSize(7);
        }
    }

    @Test
    void failedRequestsAreCountedAndTheFirstReasonKeptButNothingStops() {
        FakeEngine full = new FakeEngine();
        full.queueFull = true; // every request is refused with a 429
        try (TestServer server = TestServer.of(full)) {
            ServingWarmup.Outcome o = ServingWarmup.run(java.net.URI.create(server.server.address()), "x-none", "none",
                    "fake", 0, Duration.ofSeconds(30), 4096, text -> 0);

            assertThat(o.requests()).isEqualTo(7);
            assertThat(o.failed()).isEqualTo(7);
            assertThat(o.cutShort()).isFalse();
            assertThat(o.firstFailure()).startsWith("HTTP 429 ").contains("too_many_requests");
            full.queueFull = false;
            assertThat(server.post("/v1/completions", "{'prompt':'hi','max_tokens':1}").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aModelWithAShortContextGetsShorterPromptsAndOutputs() {
        FakeEngine small = new FakeEngine(new FakeTokenizer(false), 64, Duration.ZERO);
        try (TestServer server = TestServer.of(small)) {
            List<String> progress = new ArrayList<>();
            server.server.warmUp(Duration.ofSeconds(30), progress::add);

            assertThat(progress).singleElement().asString().contains("(7 requests)").doesNotContain("failed");
            assertThat(small.requests).allSatisfy(r -> assertThat(r.prompt().length + r.maxTokens()).isLessThanOrEqualTo(64));
        }
        assertThat(ServingWarmup.fitted(1000, String::length)).startsWith("The river").endsWith("of bread.");
        assertThat(ServingWarmup.fitted(20, String::length)).isEqualTo("The river");
        assertThat(ServingWarmup.fitted(0, String::length)).isEqualTo("The");
    }

    @Test
    void theWarmupHeaderWithoutTheServersTokenOpensNothing() {
        try (TestServer server = serverWithKey(new FakeEngine())) {
            HttpResponse<String> forged = server.post("/v1/completions", "{'prompt':'x','max_tokens':1}",
                    QuillServer.WARMUP_HEADER, "guess");
            assertThat(forged.statusCode()).isEqualTo(401);
        }
    }

    @Test
    void stopsAtItsBudgetCancellingWhatIsStillGenerating() throws Exception {
        FakeEngine slow = new FakeEngine(new FakeTokenizer(false), 4096, Duration.ofMillis(50));
        try (TestServer server = TestServer.of(slow)) {
            List<String> progress = new ArrayList<>();
            long start = System.nanoTime();
            server.server.warmUp(Duration.ofMillis(600), progress::add);
            long millis = (System.nanoTime() - start) / 1_000_000;

            assertThat(millis).as("a 64-token request at 50 ms a token would take 3 s").isLessThan(2_500);
            assertThat(progress).singleElement().asString().contains("stopped at the 0.6 s budget");
            // The abandoned request's connection was closed, so the engine was told to stop it.
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (slow.cancellations.get() == 0 && System.nanoTime() < deadline) Thread.sleep(20);
            assertThat(slow.cancellations.get()).isPositive();
        }
    }
}
