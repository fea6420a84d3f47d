package dev.quill.server.serving;

import static dev.quill.server.serving.MetricsTest.sample;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.quill.engine.Engine;
import dev.quill.engine.EngineStats;
import dev.quill.engine.FinishReason;
import dev.quill.engine.GeneratedToken;
import dev.quill.engine.GenerationHandle;
import dev.quill.engine.GenerationListener;
import dev.quill.engine.GenerationRequest;
import dev.quill.engine.fixture.ModelShape;
import dev.quill.engine.fixture.RandomModel;
import dev.quill.engine.model.Architecture;
import dev.quill.engine.sampling.SamplingParams;
import dev.quill.engine.tensor.GgmlType;
import dev.quill.server.protocol.Json;
import java.io.BufferedReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The server on the real engine when requests pile up: metrics, a full queue, disconnects and shutdown. A tiny
 * random-weight model; the engine is held with a {@link Pacer} wherever a test needs it busy, so nothing depends on
 * how fast this machine is.
 */
class ServingUnderLoadTest {

    private static final String COMPLETION = "{'prompt':'%s','max_tokens':%d,'temperature':0,'ignore_eos':true%s}";
    /** More than one 16-token KV block of the synthetic vocabulary, so that a repeat finds a cached block. */
    private static final String LONG_PROMPT = "the quick brown fox jumps over the lazy dog and then the quick brown fox "
            + "jumps over the lazy dog once more";

    @TempDir
    static Path dir;
    private static Path model;
    private Deployments deployments;
    private Engine engine;
    private TestServer client;

    @BeforeAll
    static void writeModel() {
        model = dir.resolve("tiny.gguf");
        new RandomModel(Architecture.LLAMA, ModelShape.TINY, GgmlType.Q8_0).seed(11).weightStd(0.1f).write(model, m -> { });
    }

    @BeforeEach
    void start() {
        var engineSettings = new ServerConfig.EngineSettings(4L << 20, 16, 0, 4, 1, null, null);
        var deployment = new ServerConfig.DeploymentConfig("tiny", model, List.of(), List.of(), "quill", 0, 16, engineSettings);
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 1, ServerConfig.DEFAULT_MAX_BODY_BYTES, List.of(), List.of(deployment));
        deployments = Deployments.load(config, m -> { });
        engine = deployments.all().getFirst().engine();
        client = new TestServer(config, deployments);
    }

    private final List<ListAppender<ILoggingEvent>> capturedLogs = new ArrayList<>();

    @AfterEach
    void stop() {
        client.close();
        deployments.close();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        capturedLogs.forEach(root::detachAppender);
    }

    /**
     * A sequence submitted straight to the engine whose listener lets the engine loop take one step per permit (it
     * blocks the loop on purpose): while it holds no permit, nothing else the engine runs moves either.
     */
    private static final class Pacer implements GenerationListener {
        final Semaphore steps = new Semaphore(0);
        final GenerationHandle handle;
        private final Engine engine;

        Pacer(Engine engine) {
            this.engine = engine;
            handle = engine.submit(new GenerationRequest(new int[] {1, 2, 3}, SamplingParams.GREEDY, 400, -1, false,
                    Set.of(), true), this);
        }

        @Override
        public void onToken(GeneratedToken token) {
            steps.acquireUninterruptibly();
        }

        @Override
        public void onFinish(FinishReason reason, int stopTokenId, float stopTokenLogprob, int promptTokens, int generatedTokens,
                             int cachedPromptTokens) {}

        @Override
        public void onError(Throwable error) {}

        /**
         * Grants the engine one step at a time, each once the previous one was taken (so every grant is a step, however
         * fast this machine is), until the engine's figures satisfy the condition or {@code limit} steps were granted
         * and taken; returns the last figures.
         */
        EngineStats stepUntil(Predicate<EngineStats> condition, int limit) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            int granted = 0;
            EngineStats s;
            while (!condition.test(s = engine.stats())) {
                if (steps.availablePermits() == 0) {
                    if (granted == limit) return s;
                    steps.release();
                    granted++;
                }
                if (System.nanoTime() > deadline) throw new AssertionError("the engine stalled; last: " + s);
                Thread.sleep(1);
            }
            return s;
        }

        /** Lets the engine run freely and ends this sequence. */
        void stop() {
            handle.cancel();
            steps.release(1_000_000);
        }
    }

    private String completion(String prompt, int maxTokens, String more) {
        return COMPLETION.formatted(prompt, maxTokens, more);
    }

    private CompletableFuture<HttpResponse<String>> postAsync(String path, String json) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(client.url(path)))
                .POST(HttpRequest.BodyPublishers.ofString(json.replace('\'', '"')))
                .header("Content-Type", "application/json").header("extra-parameters", "pass-through").build();
        return client.http.sendAsync(request, HttpResponse.BodyHandlers.ofString());
    }

    /** Waits (without timing anything) until the engine's figures satisfy the condition. */
    private EngineStats awaitStats(Predicate<EngineStats> condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        EngineStats s;
        while (!condition.test(s = engine.stats())) {
            if (System.nanoTime() > deadline) throw new AssertionError("engine never got there; last: " + s);
            Thread.sleep(5);
        }
        return s;
    }

    /** The JSON events of an SSE body, and whether it ended with [DONE]. */
    private static List<JsonNode> events(String body) {
        List<JsonNode> out = new ArrayList<>();
        for (String line : body.split("\n")) {
            if (line.isEmpty() || line.equals("data: [DONE]")) continue;
            assertThat(line).startsWith("data: ");
            out.add(Json.parse(line.substring(6).getBytes(StandardCharsets.UTF_8)));
        }
        return out;
    }

    private String scrape() {
        HttpResponse<String> r = client.get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElseThrow()).startsWith("text/plain; version=0.0.4");
        return r.body();
    }

    @Test
    void theMetricsMoveWithTheRequestsServed() throws Exception {
        String before = scrape();
        String series = "{deployment=\"tiny\"}";
        assertThat(sample(before, "quill_generated_tokens_total" + series)).isZero();
        assertThat(sample(before, "quill_time_to_first_token_seconds_count" + series)).isZero();

        assertThat(client.post("/v1/completions", completion(LONG_PROMPT, 8, ""), "extra-parameters", "pass-through").statusCode()).isEqualTo(200);
        TestServer.Stream stream = client.stream("/v1/completions", completion(LONG_PROMPT, 8, ",'stream':true"),
                "extra-parameters", "pass-through");
        assertThat(stream.done()).isTrue();
        assertThat(client.get("/no/such/route").statusCode()).isEqualTo(404);
        awaitStats(s -> s.running() == 0);

        String after = scrape();
        assertThat(sample(after, "quill_requests_total{endpoint=\"/v1/completions\",method=\"POST\",status=\"200\"}")).isEqualTo(2);
        assertThat(sample(after, "quill_requests_total{endpoint=\"/metrics\",method=\"GET\",status=\"200\"}")).isEqualTo(1);
        assertThat(sample(after, "quill_requests_total{endpoint=\"unmatched\",method=\"GET\",status=\"404\"}")).isEqualTo(1);
        assertThat(sample(after, "quill_generated_tokens_total" + series)).isEqualTo(16);
        assertThat(sample(after, "quill_prompt_tokens_total" + series)).isPositive();
        assertThat(sample(after, "quill_time_to_first_token_seconds_count" + series)).isEqualTo(2);
        assertThat(sample(after, "quill_time_per_output_token_seconds_count" + series)).isEqualTo(2);
        assertThat(sample(after, "quill_e2e_request_latency_seconds_count" + series)).isEqualTo(2);
        // The second request found the first one's prompt blocks cached.
        assertThat(sample(after, "quill_prefix_cache_hit_ratio" + series)).isBetween(0.1, 0.5);
        assertThat(sample(after, "quill_kv_cache_blocks{deployment=\"tiny\",state=\"used\"}")).isZero();
        assertThat(sample(after, "quill_kv_cache_blocks{deployment=\"tiny\",state=\"cached\"}")).isPositive();
        assertThat(sample(after, "quill_running_sequences" + series)).isZero();
        assertThat(sample(after, "quill_queued_requests" + series)).isZero();
    }

    @Test
    void cachePromptFalseComputesTheWholePromptAndReportsNoCachedTokens() throws Exception {
        String prompt = LONG_PROMPT + " once more";
        JsonNode first = Json.parse(client.post("/v1/completions", completion(prompt, 4, ""), "extra-parameters",
                "pass-through").body().getBytes(StandardCharsets.UTF_8));
        awaitStats(st -> st.running() == 0);
        JsonNode cold = Json.parse(client.post("/v1/completions", completion(prompt, 4, ",'cache_prompt':false"),
                "extra-parameters", "pass-through").body().getBytes(StandardCharsets.UTF_8));
        awaitStats(st -> st.running() == 0);
        JsonNode warm = Json.parse(client.post("/v1/completions", completion(prompt, 4, ""), "extra-parameters",
                "pass-through").body().getBytes(StandardCharsets.UTF_8));

        assertThat(cold.at("/usage/prompt_tokens_details/cached_tokens").asInt()).isZero();
        assertThat(warm.at("/usage/prompt_tokens_details/cached_tokens").asInt()).isPositive();
        assertThat(cold.at("/choices/0/text").asText()).isEqualTo(first.at("/choices/0/text").asText())
                .isEqualTo(warm.at("/choices/0/text").asText());
    }

    @Test
    void aPredictedOutputIsGuessedFromButTheOutputStaysTheSame() throws Exception {
        Map<String, Object> request = new java.util.LinkedHashMap<>(Map.of("prompt", LONG_PROMPT, "max_tokens", 24,
                "temperature", 0, "ignore_eos", true, "logprobs", 2));
        HttpResponse<String> plain = client.post("/v1/completions", Json.write(request), "extra-parameters", "pass-through");
        assertThat(plain.statusCode()).isEqualTo(200);
        JsonNode expected = Json.parse(plain.body().getBytes(StandardCharsets.UTF_8)).get("choices").get(0);
        awaitStats(st -> st.running() == 0);
        long guessedBefore = engine.stats().guessedTokens();

        request.put("prediction", Map.of("type", "content", "content", expected.get("text").asText()));
        HttpResponse<String> predicted = client.post("/v1/completions", Json.write(request), "extra-parameters", "pass-through");

        assertThat(predicted.statusCode()).as(predicted.body()).isEqualTo(200);
        JsonNode got = Json.parse(predicted.body().getBytes(StandardCharsets.UTF_8)).get("choices").get(0);
        assertThat(got.get("text")).isEqualTo(expected.get("text"));
        assertThat(got.get("logprobs")).isEqualTo(expected.get("logprobs"));
        awaitStats(st -> st.running() == 0);
        // The random model's output is not how its text tokenizes back, so few guesses hold here; SchedulerTest
        // checks what a prediction in the model's own tokens saves.
        assertThat(engine.stats().guessedTokens() - guessedBefore).as("guesses were made").isPositive();
    }

    @Test
    void aStreamThatEndsInAnErrorCountsWithTheErrorsStatus() throws Exception {
        Pacer pacer = new Pacer(engine);
        try {
            awaitStats(s -> s.queued() == 0); // the pacer holds the engine: the request below gets no step at all
            HttpResponse<String> r = client.post("/v1/completions", completion("once", 4, ",'stream':true,'timeout':0.2"),
                    "extra-parameters", "pass-through");
            assertThat(r.statusCode()).as("the headers went out when the engine accepted it").isEqualTo(200);
            assertThat(events(r.body()).getLast().get("error").get("code").asText()).isEqualTo("timeout");
        } finally {
            pacer.stop();
        }
        String timedOut = "quill_requests_total{endpoint=\"/v1/completions\",method=\"POST\",status=\"408\"}";
        awaitScrape(m -> m.contains(timedOut));
        String metrics = scrape();
        assertThat(sample(metrics, timedOut)).isEqualTo(1);
        assertThat(metrics).doesNotContain("quill_requests_total{endpoint=\"/v1/completions\",method=\"POST\",status=\"200\"}");
    }

    @Test
    void aFullQueueAnswers429WithRetryAfterEvenToAStream() throws Exception {
        Pacer pacer = new Pacer(engine);
        try {
            awaitStats(s -> s.queued() == 0); // the pacer started, and holds the engine
            CompletableFuture<HttpResponse<String>> waiting = postAsync("/v1/completions", completion("once", 4, ",'stream':true"));
            awaitStats(s -> s.queued() == 1); // the queue (max 1) is full

            HttpResponse<String> refusedStream = client.post("/v1/completions", completion("twice", 4, ",'stream':true"),
                    "extra-parameters", "pass-through");
            HttpResponse<String> refused = client.post("/v1/chat/completions",
                    "{'messages':[{'role':'user','content':'hi'}],'max_tokens':4}");
            for (HttpResponse<String> r : List.of(refusedStream, refused)) {
                assertThat(r.statusCode()).as(r.body()).isEqualTo(429);
                assertThat(r.headers().firstValue("content-type").orElseThrow()).startsWith("application/json");
                assertThat(Integer.parseInt(r.headers().firstValue("retry-after").orElseThrow())).isBetween(1, 60);
                assertThat(Json.parse(r.body().getBytes()).get("error").get("code").asText()).isEqualTo("too_many_requests");
            }

            pacer.stop();
            HttpResponse<String> served = waiting.get(20, TimeUnit.SECONDS);
            assertThat(served.statusCode()).isEqualTo(200);
            assertThat(served.body()).endsWith("data: [DONE]\n\n");
            assertThat(events(served.body())).allSatisfy(e -> assertThat(e.has("error")).isFalse());
        } finally {
            pacer.stop();
        }
        assertThat(sample(scrape(), "quill_requests_total{endpoint=\"/v1/completions\",method=\"POST\",status=\"429\"}")).isEqualTo(1);
    }

    @Test
    void aClientThatLeavesAStreamFreesItsKvBlocks() throws Exception {
        Pacer pacer = new Pacer(engine);
        try {
            awaitStats(s -> s.queued() == 0);
            // 400 tokens take 400 engine steps; the test grants far fewer, so only the disconnect can end it.
            try (BufferedReader reader = client.openStream("/v1/completions", completion(LONG_PROMPT, 400, ",'stream':true"),
                    "extra-parameters", "pass-through")) {
                pacer.steps.release(3);
                assertThat(reader.readLine()).startsWith("data: ");
            }
            assertThat(pacer.stepUntil(s -> s.running() == 1, 197).running())
                    .as("only the pacer runs once the stream is cancelled").isEqualTo(1);
        } finally {
            pacer.stop();
        }
        EngineStats idle = awaitStats(s -> s.running() == 0 && s.queued() == 0);
        assertThat(idle.kvBlocksUsed()).isZero();
        assertThat(idle.kvBlocksFree() + idle.kvBlocksCached()).isEqualTo(idle.kvBlocksTotal());
        String closedRequest = "quill_requests_total{endpoint=\"/v1/completions\",method=\"POST\",status=\"499\"}";
        awaitScrape(m -> m.contains(closedRequest));
        assertThat(scrape()).as("not counted as answered")
                .doesNotContain("quill_requests_total{endpoint=\"/v1/completions\",method=\"POST\",status=\"200\"}");
    }

    @Test
    void aClientThatLeavesANonStreamingRequestCancelsItQuietly() throws Exception {
        ListAppender<ILoggingEvent> log = captureLog();
        Pacer pacer = new Pacer(engine);
        try {
            awaitStats(s -> s.queued() == 0);
            // Nothing is written back before the end of a non-streaming request: only the closed socket tells.
            try (Socket socket = new Socket("127.0.0.1", client.server.port())) {
                byte[] body = completion(LONG_PROMPT, 400, "").replace('\'', '"').getBytes(StandardCharsets.UTF_8);
                String head = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + "extra-parameters: pass-through\r\nContent-Length: " + body.length + "\r\n\r\n";
                socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().write(body);
                socket.getOutputStream().flush();
                awaitStats(s -> s.queued() == 1); // the engine has it
                assertThat(pacer.stepUntil(s -> s.running() == 2, 10).running()).as("the request generates").isEqualTo(2);
            }
            // 400 tokens take 400 engine steps; the test grants at most 200, so only the disconnect can end it.
            assertThat(pacer.stepUntil(s -> s.running() == 1, 200).running())
                    .as("only the pacer runs once the request is cancelled").isEqualTo(1);
        } finally {
            pacer.stop();
        }
        EngineStats idle = awaitStats(s -> s.running() == 0 && s.queued() == 0);
        assertThat(idle.kvBlocksUsed()).isZero();
        String closedRequest = "quill_requests_total{endpoint=\"/v1/completions\",method=\"POST\",status=\"499\"}";
        awaitScrape(m -> m.contains(closedRequest));
        assertThat(sample(scrape(), closedRequest)).isEqualTo(1);
        assertThat(log.list).as("a client leaving is not a server problem").noneMatch(e -> e.getLevel().isGreaterOrEqual(Level.WARN));
    }

    @Test
    void shutdownLetsRequestsInFlightFinishAndRefusesNewOnes() throws Exception {
        Pacer pacer = new Pacer(engine);
        Thread closer;
        try {
            awaitStats(s -> s.queued() == 0);
            CompletableFuture<HttpResponse<String>> inFlight = postAsync("/v1/completions", completion("once", 6, ",'stream':true"));
            awaitStats(s -> s.queued() == 1);
            closer = Thread.startVirtualThread(() -> client.server.close(Duration.ofSeconds(60)));
            awaitReadyStatus(503);
            HttpResponse<String> late = client.post("/v1/completions", completion("late", 2, ""), "extra-parameters", "pass-through");
            assertThat(late.statusCode()).isEqualTo(503);
            assertThat(late.body()).contains("service_unavailable");

            pacer.stop();
            HttpResponse<String> finished = inFlight.get(20, TimeUnit.SECONDS);
            assertThat(finished.statusCode()).isEqualTo(200);
            assertThat(finished.body()).endsWith("data: [DONE]\n\n");
            List<JsonNode> events = events(finished.body());
            assertThat(events).allSatisfy(e -> assertThat(e.has("error")).isFalse());
            assertThat(events.getLast().get("choices").get(0).get("finish_reason").asText()).isEqualTo("length");
        } finally {
            pacer.stop();
        }
        assertThat(closer.join(Duration.ofSeconds(20))).as("close() returned").isTrue();
    }

    @Test
    void shutdownCancelsWhatOutlastsTheGraceWithAnErrorEventAndDone() throws Exception {
        Pacer pacer = new Pacer(engine);
        Thread closer;
        try {
            awaitStats(s -> s.queued() == 0);
            CompletableFuture<HttpResponse<String>> inFlight = postAsync("/v1/completions", completion("once", 480, ",'stream':true"));
            awaitStats(s -> s.queued() == 1);
            closer = Thread.startVirtualThread(() -> client.server.close(Duration.ZERO));
            awaitReadyStatus(503);
            pacer.stop();
            HttpResponse<String> cut = inFlight.get(20, TimeUnit.SECONDS);
            assertThat(cut.statusCode()).isEqualTo(200);
            assertThat(cut.body()).endsWith("data: [DONE]\n\n");
            assertThat(events(cut.body()).getLast().get("error").get("code").asText()).isEqualTo("service_unavailable");
        } finally {
            pacer.stop();
        }
        assertThat(closer.join(Duration.ofSeconds(20))).as("close() returned").isTrue();
    }

    /** Waits until a scrape of /metrics satisfies the condition (the request logger counts after the response). */
    private void awaitScrape(Predicate<String> condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.test(scrape())) {
            if (System.nanoTime() > deadline) throw new AssertionError("the metrics never got there:\n" + scrape());
            Thread.sleep(5);
        }
    }

    /** Records what the server logs from now until the test ends. */
    private ListAppender<ILoggingEvent> captureLog() {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        root.addAppender(appender);
        capturedLogs.add(appender);
        return appender;
    }

    private void awaitReadyStatus(int status) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (client.get("/ready").statusCode() != status) {
            if (System.nanoTime() > deadline) throw new AssertionError("/ready never answered " + status);
            Thread.sleep(5);
        }
    }
}
