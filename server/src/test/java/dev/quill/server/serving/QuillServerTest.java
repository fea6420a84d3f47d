package dev.quill.server.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quill.server.protocol.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Routes, errors, deployments and authentication, over HTTP. */
class QuillServerTest {

    private static final String CHAT = "{'messages':[{'role':'user','content':'hi'}],'max_tokens':3,'temperature':0}";
    private static final String COMPLETION = "{'prompt':'hi','max_tokens':3,'temperature':0}";

    private static JsonNode json(HttpResponse<String> response) {
        return Json.parse(response.body().getBytes());
    }

    /** Asserts the envelope: status, type, code header, and (when given) the detail location. */
    private static JsonNode assertError(HttpResponse<String> response, int status, String type) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        JsonNode error = json(response).get("error");
        assertThat(error.get("status").asInt()).isEqualTo(status);
        assertThat(error.get("type").asText()).isEqualTo(type);
        assertThat(error.get("message").asText()).isNotBlank();
        assertThat(response.headers().firstValue("x-ms-error-code")).hasValue(error.get("code").asText());
        assertThat(response.body()).doesNotContain("Exception").doesNotContain("\tat ");
        return error;
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class OneModel {
        private TestServer server;

        @BeforeAll
        void start() {
            server = TestServer.of(new FakeEngine());
        }

        @AfterAll
        void stop() {
            server.close();
        }

        @Test
        void healthReadyAndInfo() {
            assertThat(json(server.get("/health")).get("status").asText()).isEqualTo("ok");
            HttpResponse<String> ready = server.get("/ready");
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(json(ready).get("models").get(0).asText()).isEqualTo("fake");
            JsonNode info = json(server.get("/info"));
            assertThat(info.get("model_name").asText()).isEqualTo("fake");
            assertThat(info.get("model_provider_name").asText()).isEqualTo("quill");
            assertThat(info.get("model_type").asText()).isEqualTo("chat-completion");
        }

        @Test
        void listsModelsWithTheirContextLength() {
            JsonNode list = json(server.get("/v1/models"));
            assertThat(list.get("object").asText()).isEqualTo("list");
            JsonNode model = list.get("data").get(0);
            assertThat(model.get("id").asText()).isEqualTo("fake");
            assertThat(model.get("object").asText()).isEqualTo("model");
            assertThat(model.get("context_length").asInt()).isEqualTo(4096);
            assertThat(json(server.get("/v1/models/fake")).get("context_length").asInt()).isEqualTo(4096);
            assertThat(json(server.get("/v1/models/quill/fake")).get("id").asText()).isEqualTo("fake");
            JsonNode missing = assertError(server.get("/v1/models/gpt-4"), 404, "NotFoundError");
            assertThat(missing.get("message").asText()).contains("fake");
        }

        @Test
        void unknownPathIs404AndWrongMethodIs405WithTheEnvelope() {
            assertError(server.get("/v2/nothing"), 404, "NotFoundError");
            assertError(server.post("/v1/nothing", "{}"), 404, "NotFoundError");
            assertError(server.get("/v1/completions"), 405, "MethodNotAllowedError");
            assertError(server.post("/v1/models", "{}"), 405, "MethodNotAllowedError");
            HttpResponse<String> delete = server.send(HttpRequest.newBuilder(URI.create(server.url("/v1/chat/completions"))).DELETE().build());
            assertError(delete, 405, "MethodNotAllowedError");
        }

        @Test
        void a405SaysWhichMethodsAreAllowed() {
            assertThat(server.get("/v1/completions").headers().firstValue("allow")).hasValue("POST");
            assertThat(server.get("/chat/completions").headers().firstValue("allow")).hasValue("POST");
            HttpResponse<String> post = server.post("/v1/models", "{}");
            assertThat(post.headers().firstValue("allow")).hasValue("GET, HEAD");
            assertThat(assertError(post, 405, "MethodNotAllowedError").get("message").asText()).endsWith("allowed: GET, HEAD");
            assertThat(server.post("/v1/models/quill/fake", "{}").headers().firstValue("allow")).hasValue("GET, HEAD");
        }

        @Test
        void headAnswersWithTheHeadersOfGet() {
            for (String path : List.of("/health", "/v1/models", "/v1/models/fake", "/info", "/metrics")) {
                HttpResponse<String> get = server.get(path);
                HttpResponse<String> head = server.send(HttpRequest.newBuilder(URI.create(server.url(path)))
                        .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
                assertThat(head.statusCode()).as(path).isEqualTo(get.statusCode());
                assertThat(head.headers().firstValue("content-type")).as(path).isEqualTo(get.headers().firstValue("content-type"));
                assertThat(head.body()).isEmpty();
            }
            HttpResponse<String> head = server.send(HttpRequest.newBuilder(URI.create(server.url("/v1/models")))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
            assertThat(head.headers().firstValue("content-length")).hasValue(String.valueOf(server.get("/v1/models").body().length()));
        }

        @Test
        void malformedJsonAndWrongContentTypeAre400() {
            JsonNode bad = assertError(server.post("/v1/completions", "{'prompt': "), 400, "BadRequestError");
            assertThat(bad.get("code").asText()).isEqualTo("invalid_json");
            assertError(server.post("/v1/chat/completions", ""), 400, "BadRequestError");
            JsonNode surrogate = assertError(server.post("/v1/chat/completions",
                    "{'messages':[{'role':'user','content':'a\\ud800b'}]}"), 400, "BadRequestError");
            assertThat(surrogate.get("code").asText()).isEqualTo("invalid_json");
            assertThat(surrogate.get("detail").get("loc").toString()).isEqualTo("[\"body\",\"messages\",0,\"content\"]");
            JsonNode blank = assertError(server.post("/v1/chat/completions", "  \n "), 400, "BadRequestError");
            assertThat(blank.get("code").asText()).isEqualTo("invalid_json");
            HttpResponse<String> form = server.send(HttpRequest.newBuilder(URI.create(server.url("/v1/completions")))
                    .POST(HttpRequest.BodyPublishers.ofString("prompt=hi")).header("Content-Type", "application/x-www-form-urlencoded").build());
            JsonNode type = assertError(form, 400, "BadRequestError");
            assertThat(type.get("code").asText()).isEqualTo("unsupported_content_type");
            // A body that is JSON but not an object is a validation error.
            assertThat(assertError(server.post("/v1/completions", "[1]"), 422, "UnprocessableContentError").get("detail").get("loc").toString())
                    .isEqualTo("[\"body\"]");
        }

        private HttpResponse<String> postBytes(String path, byte[] body, String... headers) {
            return server.send(HttpRequest.newBuilder(URI.create(server.url(path))).POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .header("Content-Type", "application/json").headers(headers).build());
        }

        private static byte[] gzip(byte[] plain) throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream zip = new GZIPOutputStream(out)) {
                zip.write(plain);
            }
            return out.toByteArray();
        }

        @Test
        void aGzipBodyIsDecompressed() throws IOException {
            byte[] body = gzip(COMPLETION.replace('\'', '"').getBytes(StandardCharsets.UTF_8));
            HttpResponse<String> response = postBytes("/v1/completions", body, "Content-Encoding", "gzip");
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            assertThat(postBytes("/v1/completions", body, "Content-Encoding", "x-gzip").statusCode()).isEqualTo(200);
            assertThat(postBytes("/v1/completions", COMPLETION.replace('\'', '"').getBytes(StandardCharsets.UTF_8),
                    "Content-Encoding", "identity").statusCode()).isEqualTo(200);
        }

        @Test
        void aBodyLabelledGzipThatIsNotIs400() {
            HttpResponse<String> response = postBytes("/v1/completions", COMPLETION.replace('\'', '"').getBytes(StandardCharsets.UTF_8),
                    "Content-Encoding", "gzip");
            JsonNode error = assertError(response, 400, "BadRequestError");
            assertThat(error.get("code").asText()).isEqualTo("invalid_body");
            assertThat(error.get("message").asText()).contains("not valid gzip");
        }

        @Test
        void aGzipBodyThatDecompressesBeyondTheLimitIs413() throws IOException {
            byte[] bomb = gzip(new byte[11 * 1024 * 1024]);
            assertThat(bomb.length).isLessThan(64 * 1024);
            assertError(postBytes("/v1/completions", bomb, "Content-Encoding", "gzip"), 413, "ContentTooLargeError");
        }

        @Test
        void anotherContentEncodingIs415NamingTheHeader() {
            HttpResponse<String> response = postBytes("/v1/completions", new byte[] {1, 2, 3}, "Content-Encoding", "br");
            JsonNode error = assertError(response, 415, "UnsupportedMediaTypeError");
            assertThat(error.get("code").asText()).isEqualTo("unsupported_content_encoding");
            assertThat(error.get("detail").get("loc").toString()).isEqualTo("[\"header\",\"content-encoding\"]");
            assertThat(error.get("message").asText()).contains("'br'");
            assertThat(response.headers().firstValue("accept-encoding")).hasValue("gzip, identity");
        }

        @Test
        void bodiesOverTheLimitAre413() {
            String big = "{'prompt':'" + "a".repeat(11 * 1024 * 1024) + "'}";
            assertError(server.post("/v1/completions", big), 413, "ContentTooLargeError");
        }

        @Test
        void validationErrorsAre422WithLocationAndValue() {
            JsonNode error = assertError(server.post("/v1/chat/completions",
                    "{'messages':[{'role':'user','content':'a'},{'role':'assistant','content':'b'},{'role':'user','content':7}]}"),
                    422, "UnprocessableContentError");
            assertThat(error.get("detail").get("loc").toString()).isEqualTo("[\"body\",\"messages\",2,\"content\"]");
            assertThat(error.get("detail").get("value").asInt()).isEqualTo(7);
            assertThat(error.get("param").asText()).isEqualTo("messages[2].content");

            JsonNode range = assertError(server.post("/v1/completions", "{'prompt':'x','temperature':3}"), 422, "UnprocessableContentError");
            assertThat(range.get("detail").get("loc").toString()).isEqualTo("[\"body\",\"temperature\"]");
            assertThat(range.get("detail").get("value").asInt()).isEqualTo(3);
        }

        @Test
        void aValidationErrorAboutADeeplyNestedValueDescribesItInsteadOfEchoingIt() {
            String deep = "[".repeat(998) + "]".repeat(998);
            for (String path : List.of("/v1/chat/completions", "/v1/completions")) {
                JsonNode error = assertError(server.post(path, "{'prompt':'x','messages':[{'role':'user','content':'x'}],"
                        + "'stop':" + deep + "}", "extra-parameters", "drop"), 422, "UnprocessableContentError");
                assertThat(error.get("detail").get("loc").toString()).startsWith("[\"body\",\"stop\"");
                assertThat(error.get("detail").get("value").asText()).isEqualTo("(array nested more than 16 levels deep; not echoed)");
            }
        }

        @Test
        void azurePathsNeedAWellFormedApiVersion() {
            JsonNode missing = assertError(server.post("/chat/completions", CHAT), 400, "BadRequestError");
            assertThat(missing.get("code").asText()).isEqualTo("missing_api_version");
            JsonNode malformed = assertError(server.post("/completions?api-version=2024-5-1", COMPLETION), 400, "BadRequestError");
            assertThat(malformed.get("code").asText()).isEqualTo("invalid_api_version");
            assertThat(malformed.get("detail").get("value").asText()).isEqualTo("2024-5-1");
            // A badly percent-encoded api-version: see MalformedHttpTest (java.net.URI cannot send one).
            JsonNode notADate = assertError(server.post("/chat/completions?api-version=2024-13-45", CHAT), 400, "BadRequestError");
            assertThat(notADate.get("code").asText()).isEqualTo("invalid_api_version");
            assertThat(notADate.get("message").asText()).contains("'2024-13-45' is not a date");
            assertThat(assertError(server.post("/completions?api-version=2023-02-29-preview", COMPLETION), 400, "BadRequestError")
                    .get("code").asText()).isEqualTo("invalid_api_version");
            assertThat(assertError(server.post("/completions?api-version=", COMPLETION), 400, "BadRequestError")
                    .get("code").asText()).isEqualTo("missing_api_version");
            assertThat(server.post("/completions?api-version=2024-02-29-preview", COMPLETION).statusCode()).isEqualTo(200);
            assertThat(server.post("/chat/completions?api-version=2024-05-01-preview", CHAT).statusCode()).isEqualTo(200);
            assertThat(server.post("/completions?api-version=2024-04-01", COMPLETION).statusCode()).isEqualTo(200);
        }

        @Test
        void extraParametersFollowTheHeader() {
            String body = "{'prompt':'hi','max_tokens':2,'temperature':0,'min_p':0.1,'mystery':1}";
            JsonNode error = assertError(server.post("/v1/completions", body), 400, "BadRequestError");
            assertThat(error.get("message").asText()).contains("min_p").contains("mystery");

            HttpResponse<String> dropped = server.post("/v1/completions", body, "extra-parameters", "drop");
            assertThat(dropped.statusCode()).isEqualTo(200);
            assertThat(dropped.headers().firstValue("x-quill-ignored-params")).hasValue("min_p, mystery");

            HttpResponse<String> passed = server.post("/v1/completions", body, "extra-parameters", "pass-through");
            assertThat(passed.statusCode()).isEqualTo(200);
            assertThat(passed.headers().firstValue("x-quill-ignored-params")).hasValue("mystery");

            assertError(server.post("/v1/completions", body, "extra-parameters", "sometimes"), 400, "BadRequestError");
        }

        @Test
        void theOnlyDeploymentAnswersWhateverModelIsNamed() {
            for (String model : List.of("fake", "quill/fake", "gpt-4", "openai/fake")) {
                HttpResponse<String> response = server.post("/v1/completions", "{'prompt':'x','max_tokens':1,'model':'" + model + "'}");
                assertThat(response.statusCode()).as(model).isEqualTo(200);
                assertThat(json(response).get("model").asText()).isEqualTo("fake");
            }
        }

        @Test
        void withoutCorsOriginsAPreflightIs405AndResponsesHaveNoCorsHeaders() {
            HttpResponse<String> preflight = server.send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create(server.url("/v1/chat/completions")))
                    .method("OPTIONS", java.net.http.HttpRequest.BodyPublishers.noBody())
                    .header("Origin", "https://app.example.com").header("Access-Control-Request-Method", "POST").build());
            assertThat(preflight.statusCode()).isEqualTo(405);
            assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
            HttpResponse<String> post = server.post("/v1/completions", COMPLETION, "Origin", "https://app.example.com");
            assertThat(post.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        }

        @Test
        void responsesCarryARequestId() {
            HttpResponse<String> response = server.post("/v1/completions", COMPLETION);
            assertThat(response.headers().firstValue("x-request-id")).hasValue(json(response).get("id").asText());
        }
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class SeveralDeployments {
        private TestServer server;

        @BeforeAll
        void start() {
            var alpha = new ServerConfig.DeploymentConfig("alpha", Path.of("a.gguf"), List.of("a"), List.of("small", "fast"), "acme", 0, 0, 8);
            var beta = new ServerConfig.DeploymentConfig("beta", Path.of("b.gguf"), List.of(), List.of("big"), "quill", 2048, 0, 1);
            ServerConfig config = new ServerConfig("127.0.0.1", 0, 0, ServerConfig.DEFAULT_MAX_BODY_BYTES, List.of(), List.of(alpha, beta));
            server = new TestServer(config, List.of(new FakeEngine(), new FakeEngine(new FakeTokenizer(false), 2048,
                    java.time.Duration.ofMillis(30))));
        }

        @AfterAll
        void stop() {
            server.close();
        }

        private String modelOf(HttpResponse<String> response) {
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            return json(response).get("model").asText();
        }

        @Test
        void picksTheDeploymentByHeaderModelOrDefault() {
            assertThat(modelOf(server.post("/v1/chat/completions", CHAT))).isEqualTo("alpha");
            assertThat(modelOf(server.post("/v1/chat/completions", CHAT, "azureml-model-deployment", "beta"))).isEqualTo("beta");
            assertThat(modelOf(server.post("/v1/chat/completions", CHAT, "x-deployment-name", "beta"))).isEqualTo("beta");
            assertThat(modelOf(server.post("/v1/completions", "{'prompt':'x','max_tokens':1,'model':'a'}"))).isEqualTo("alpha");
            assertThat(modelOf(server.post("/v1/completions", "{'prompt':'x','max_tokens':1,'model':'acme/a'}"))).isEqualTo("alpha");
            assertThat(modelOf(server.post("/v1/completions", "{'prompt':'x','max_tokens':1,'model':'quill/beta/beta'}"))).isEqualTo("beta");
            JsonNode error = assertError(server.post("/v1/chat/completions", CHAT, "azureml-model-deployment", "gamma"), 404, "NotFoundError");
            assertThat(error.get("message").asText()).contains("alpha").contains("beta");
            assertThat(error.get("detail").get("loc").toString()).isEqualTo("[\"header\",\"azureml-model-deployment\"]");
        }

        @Test
        void anUnknownModelIs404ListingTheAvailableOnes() {
            JsonNode error = assertError(server.post("/v1/completions", "{'prompt':'x','model':'gpt-4'}"), 404, "NotFoundError");
            assertThat(error.get("message").asText()).contains("gpt-4").contains("alpha").contains("beta");
            assertThat(error.get("code").asText()).isEqualTo("model_not_found");
            assertThat(error.get("param").asText()).isEqualTo("model");
            assertError(server.post("/v1/completions", "{'prompt':'x','model':'openai/beta'}"), 404, "NotFoundError");
        }

        @Test
        void tagsPickADeploymentAndMustMatchOneChosenByName() {
            assertThat(modelOf(server.post("/v1/chat/completions", CHAT, "x-tags", "fast, small"))).isEqualTo("alpha");
            assertThat(modelOf(server.post("/v1/chat/completions", CHAT, "x-tags", "big"))).isEqualTo("beta");
            assertThat(modelOf(server.post("/v1/chat/completions", CHAT, "x-deployment-name", "beta", "x-tags", "big"))).isEqualTo("beta");
            JsonNode none = assertError(server.post("/v1/chat/completions", CHAT, "x-tags", "big,fast"), 404, "NotFoundError");
            assertThat(none.get("detail").get("loc").toString()).isEqualTo("[\"header\",\"x-tags\"]");
            assertThat(none.get("message").asText()).contains("alpha: [small, fast]").contains("beta: [big]");
            JsonNode mismatch = assertError(server.post("/v1/chat/completions", CHAT, "x-deployment-name", "alpha", "x-tags", "big"),
                    404, "NotFoundError");
            assertThat(mismatch.get("detail").get("loc").toString()).isEqualTo("[\"header\",\"x-tags\"]");
        }

        @Test
        void theModelListShowsEveryDeployment() {
            JsonNode data = json(server.get("/v1/models")).get("data");
            assertThat(data).hasSize(2);
            assertThat(data.get(1).get("id").asText()).isEqualTo("beta");
            assertThat(data.get(1).get("context_length").asInt()).isEqualTo(2048);
            assertThat(data.get(0).get("aliases").get(0).asText()).isEqualTo("a");
            assertThat(data.get(0).get("owned_by").asText()).isEqualTo("acme");
        }

        @Test
        void aFullDeploymentAnswers429WithRetryAfter() throws Exception {
            // beta serves one request at a time and generates slowly: hold its slot with a long stream.
            try (var first = server.openStream("/v1/completions",
                    "{'prompt':'x','max_tokens':50,'stream':true,'temperature':0,'model':'beta'}")) {
                assertThat(first.readLine()).startsWith("data: ");
                HttpResponse<String> second = server.post("/v1/completions", "{'prompt':'x','max_tokens':1,'model':'beta'}");
                assertError(second, 429, "TooManyRequestsError");
                assertThat(second.headers().firstValue("retry-after")).hasValue("1");
            }
            // Hanging up frees the slot once the server notices (at its next write): beta answers again.
            long deadline = System.nanoTime() + 10_000_000_000L;
            int status;
            do {
                Thread.sleep(20);
                status = server.post("/v1/completions", "{'prompt':'x','max_tokens':1,'model':'beta'}").statusCode();
            } while (status == 429 && System.nanoTime() < deadline);
            assertThat(status).isEqualTo(200);
        }
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class Cors {
        private static final String APP = "https://app.example.com";
        private TestServer server;

        @BeforeAll
        void start() {
            ServerConfig config = ServerConfig.single(ServerConfig.DeploymentConfig.of("fake", Path.of("fake.gguf")))
                    .withApiKeys(List.of("sk-right")).withCorsOrigins(List.of(APP));
            server = new TestServer(config, List.of(new FakeEngine()));
        }

        @AfterAll
        void stop() {
            server.close();
        }

        private HttpResponse<String> preflight(String origin) {
            return server.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.url("/v1/chat/completions")))
                    .method("OPTIONS", java.net.http.HttpRequest.BodyPublishers.noBody())
                    .header("Origin", origin).header("Access-Control-Request-Method", "POST")
                    .header("Access-Control-Request-Headers", "authorization, content-type").build());
        }

        @Test
        void anAllowedOriginsPreflightIsAnsweredWithoutAKey() {
            HttpResponse<String> response = preflight(APP);
            assertThat(response.statusCode()).isBetween(200, 204);
            assertThat(response.headers().firstValue("Access-Control-Allow-Origin")).hasValue(APP);
            assertThat(response.headers().firstValue("Access-Control-Allow-Methods").orElse("")).containsIgnoringCase("POST");
            assertThat(response.headers().firstValue("Access-Control-Allow-Headers").orElse("")).containsIgnoringCase("authorization");
        }

        @Test
        void theRealRequestStillNeedsTheKeyAndNamesTheOriginAndQuillsHeaders() {
            HttpResponse<String> response = server.post("/v1/chat/completions", CHAT, "Origin", APP, "Authorization", "Bearer sk-right");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Access-Control-Allow-Origin")).hasValue(APP);
            assertThat(response.headers().firstValue("Access-Control-Expose-Headers").orElse("")).containsIgnoringCase("x-request-id");
            assertThat(server.post("/v1/chat/completions", CHAT, "Origin", APP).statusCode()).isEqualTo(401);
        }

        @Test
        void anotherOriginGetsNoCorsHeaders() {
            HttpResponse<String> response = server.post("/v1/chat/completions", CHAT, "Origin", "https://evil.example.com",
                    "Authorization", "Bearer sk-right");
            assertThat(response.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
            assertThat(preflight("https://evil.example.com").headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        }

        @Test
        void originsMustBeOriginsNotUrls() {
            ServerConfig base = ServerConfig.single(ServerConfig.DeploymentConfig.of("fake", Path.of("fake.gguf")));
            assertThatThrownBy(() -> base.withCorsOrigins(List.of("https://app.example.com/path")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scheme://host[:port]");
            assertThat(base.withCorsOrigins(List.of("*", "http://localhost:3000")).corsOrigins()).hasSize(2);
        }
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class Authentication {
        private TestServer server;

        @BeforeAll
        void start() {
            ServerConfig config = ServerConfig.single(ServerConfig.DeploymentConfig.of("fake", Path.of("fake.gguf")))
                    .withApiKeys(List.of("sk-right"));
            server = new TestServer(config, List.of(new FakeEngine()));
        }

        @AfterAll
        void stop() {
            server.close();
        }

        @Test
        void everyRouteButHealthNeedsAKey() {
            JsonNode missing = assertError(server.post("/v1/chat/completions", CHAT), 401, "UnauthorizedError");
            assertThat(missing.get("code").asText()).isEqualTo("missing_api_key");
            assertError(server.get("/v1/models"), 401, "UnauthorizedError");
            assertThat(server.get("/v1/models").headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
            assertError(server.get("/ready"), 401, "UnauthorizedError");
            assertThat(server.get("/health").statusCode()).isEqualTo(200);
        }

        @Test
        void acceptsTheKeyAsBearerTokenOrApiKeyHeader() {
            assertThat(server.post("/v1/chat/completions", CHAT, "Authorization", "Bearer sk-right").statusCode()).isEqualTo(200);
            assertThat(server.post("/v1/chat/completions", CHAT, "api-key", "sk-right").statusCode()).isEqualTo(200);
            assertThat(server.get("/v1/models", "Authorization", "bearer sk-right").statusCode()).isEqualTo(200);
            assertThat(server.get("/v1/models", "Authorization", "Bearer: sk-right").statusCode()).isEqualTo(200);
        }

        @Test
        void aWrongKeyIsRejectedWithoutEchoingIt() {
            HttpResponse<String> response = server.post("/v1/chat/completions", CHAT, "Authorization", "Bearer sk-wrong");
            JsonNode error = assertError(response, 401, "UnauthorizedError");
            assertThat(error.get("code").asText()).isEqualTo("invalid_api_key");
            assertThat(response.body()).doesNotContain("sk-wrong").doesNotContain("sk-right");
            JsonNode basic = assertError(server.post("/v1/chat/completions", CHAT, "Authorization", "Basic c2stcmlnaHQ="),
                    401, "UnauthorizedError");
            assertThat(basic.get("code").asText()).isEqualTo("invalid_api_key");
            assertThat(basic.get("message").asText()).contains("not a Bearer token");
        }
    }
}
