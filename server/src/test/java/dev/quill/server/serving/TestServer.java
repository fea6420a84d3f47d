package dev.quill.server.serving;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quill.engine.fixture.ModelShape;
import dev.quill.engine.fixture.RandomModel;
import dev.quill.engine.model.Architecture;
import dev.quill.engine.tensor.GgmlType;
import dev.quill.server.protocol.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A running server on a random local port with fake engines behind it, and an HTTP client to talk to it. */
final class TestServer implements AutoCloseable {

    final QuillServer server;
    final HttpClient http = HttpClient.newHttpClient();
    /** Engines this test server loaded itself and so must close. */
    private boolean ownsDeployments;

    TestServer(ServerConfig config, List<FakeEngine> engines) {
        this(config, fakes(config, engines));
    }

    TestServer(ServerConfig config, Deployments deployments) {
        server = QuillServer.start(config.withListen("127.0.0.1", 0), deployments);
    }

    private static Deployments fakes(ServerConfig config, List<FakeEngine> engines) {
        List<Deployment> deployments = new ArrayList<>();
        for (int i = 0; i < engines.size(); i++) deployments.add(new Deployment(config.deployments().get(i), engines.get(i)));
        return new Deployments(deployments);
    }

    /** One deployment named "fake" of the given engine. */
    static TestServer of(FakeEngine engine) {
        return new TestServer(ServerConfig.single(ServerConfig.DeploymentConfig.of("fake", Path.of("fake.gguf"))), List.of(engine));
    }

    /**
     * One deployment named "tiny" of a real engine on a freshly written tiny random-weight Llama (synthetic vocabulary,
     * ChatML template), with a KV cache of {@code kvCacheBytes}; closing the server also closes the engine.
     */
    static TestServer onRandomTinyModel(Path dir, long seed, long kvCacheBytes) {
        Path model = dir.resolve("tiny.gguf");
        new RandomModel(Architecture.LLAMA, ModelShape.TINY, GgmlType.Q8_0).seed(seed).weightStd(0.1f).write(model, m -> { });
        var deployment = new ServerConfig.DeploymentConfig("tiny", model, List.of(), List.of(), "quill", 0, kvCacheBytes, 16);
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 1, ServerConfig.DEFAULT_MAX_BODY_BYTES, List.of(), List.of(deployment));
        TestServer server = new TestServer(config, Deployments.load(config, m -> { }));
        server.ownsDeployments = true;
        return server;
    }

    String url(String path) {
        return server.address() + path;
    }

    HttpResponse<String> post(String path, String json, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path)))
                .POST(HttpRequest.BodyPublishers.ofString(json.replace('\'', '"')))
                .header("Content-Type", "application/json");
        if (headers.length > 0) b.headers(headers);
        return send(b.build());
    }

    HttpResponse<String> get(String path, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).GET();
        if (headers.length > 0) b.headers(headers);
        return send(b.build());
    }

    HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new RuntimeException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
    }

    /** POSTs and returns the parsed JSON body (asserting nothing about the status). */
    JsonNode postJson(String path, String json, String... headers) {
        return Json.parse(post(path, json, headers).body().getBytes(StandardCharsets.UTF_8));
    }

    /** A streamed response: the JSON events in order, and whether it ended with data: [DONE]. */
    record Stream(int status, HttpResponse<String> response, List<JsonNode> events, boolean done) {}

    Stream stream(String path, String json, String... headers) {
        HttpResponse<String> response = post(path, json, headers);
        List<JsonNode> events = new ArrayList<>();
        boolean done = false;
        try (BufferedReader reader = new BufferedReader(new java.io.StringReader(response.body()))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isEmpty()) continue;
                if (!line.startsWith("data: ")) throw new AssertionError("not an SSE data line: " + line);
                if (done) throw new AssertionError("event after [DONE]: " + line);
                String data = line.substring(6);
                if (data.equals("[DONE]")) {
                    done = true;
                } else {
                    events.add(Json.parse(data.getBytes(StandardCharsets.UTF_8)));
                }
            }
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        return new Stream(response.statusCode(), response, events, done);
    }

    /** Opens a stream and returns a reader positioned at its start (for disconnect tests). */
    BufferedReader openStream(String path, String json, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path)))
                .POST(HttpRequest.BodyPublishers.ofString(json.replace('\'', '"')))
                .header("Content-Type", "application/json");
        if (headers.length > 0) b.headers(headers);
        HttpResponse<java.io.InputStream> response = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        return new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        server.close();
        http.close();
        if (ownsDeployments) server.deployments().close();
    }
}
