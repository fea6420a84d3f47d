package dev.quill.server.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quill.server.protocol.Json;
import dev.quill.server.tools.SchemaCheck;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The documented fallback for the built-in model, which cannot decide to call tools: with a named function the grammar
 * makes it write a well-formed call, and the call and its result go back through its ChatML template.
 */
class BuiltinModelToolFlowTest {

    private static final Path MODEL = Path.of("../models/quill-tiny.gguf");
    private static final String PARAMETERS = """
            {"type":"object","properties":{"city":{"type":"string","minLength":1,"maxLength":12}},
             "required":["city"],"additionalProperties":false}""";

    private static HttpResponse<String> send(TestServer server, JsonNode body) {
        return server.send(HttpRequest.newBuilder(URI.create(server.url("/v1/chat/completions")))
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(body))).header("Content-Type", "application/json").build());
    }

    private static JsonNode post(TestServer server, JsonNode body) {
        HttpResponse<String> response = send(server, body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return Json.parse(response.body().getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aNamedFunctionGivesAWellFormedCallThatGoesBackInTheHistory() {
        assumeTrue(Files.exists(MODEL), "the built-in model is not in this checkout");
        var deployment = new ServerConfig.DeploymentConfig("quill-tiny", MODEL, List.of(), List.of(), "quill", 0, 8L << 20, 4);
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 1, ServerConfig.DEFAULT_MAX_BODY_BYTES, List.of(), List.of(deployment));
        Deployments deployments = Deployments.load(config, m -> { });
        try (TestServer server = new TestServer(config, deployments)) {
            ObjectNode body = Json.MAPPER.createObjectNode();
            ArrayNode messages = body.putArray("messages");
            messages.addObject().put("role", "user").put("content", "What is the weather in Jerusalem?");
            ObjectNode function = body.putArray("tools").addObject().put("type", "function").putObject("function");
            function.put("name", "get_weather").set("parameters", Json.parse(PARAMETERS.getBytes()));
            body.putObject("tool_choice").put("type", "function").putObject("function").put("name", "get_weather");
            body.put("seed", 1).put("max_tokens", 200);

            JsonNode first = post(server, body).get("choices").get(0);
            assertThat(first.get("finish_reason").asText()).isEqualTo("tool_calls");
            JsonNode call = first.get("message").get("tool_calls").get(0);
            assertThat(SchemaCheck.errors(PARAMETERS, call.get("function").get("arguments").asText())).isEmpty();

            messages.add(first.get("message"));
            messages.addObject().put("role", "tool").put("tool_call_id", call.get("id").asText()).put("content", "Sunny");
            // Its template does not show tools, so it cannot choose (auto is a 422): the answer turn turns them off.
            body.remove("tool_choice");
            assertThat(send(server, body).statusCode()).isEqualTo(422);
            body.put("tool_choice", "none");
            JsonNode second = post(server, body).get("choices").get(0);
            assertThat(second.get("message").get("content").isTextual()).isTrue();
        } finally {
            deployments.close();
        }
    }
}
