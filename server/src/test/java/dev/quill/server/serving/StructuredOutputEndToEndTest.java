package dev.quill.server.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quill.engine.fixture.ModelShape;
import dev.quill.engine.grammar.GrammarMatcher;
import dev.quill.engine.grammar.Grammars;
import dev.quill.server.protocol.Json;
import dev.quill.server.tools.SchemaCheck;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.StructuredChatCompletion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Constrained decoding over HTTP on the real engine with a tiny random-weight model: whatever the weights prefer,
 * every output follows its response_format, grammar or forced tool call.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StructuredOutputEndToEndTest {

    /** Schemas covering the supported keywords; every output must validate. */
    static final List<String> SCHEMAS = List.of(
            """
            {"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0,"maximum":120}},
             "required":["name","age"],"additionalProperties":false}""",
            """
            {"type":"object","properties":{"tags":{"type":"array","items":{"type":"string","enum":["red","green","blue"]},"minItems":1,"maxItems":3},
             "score":{"type":"number","minimum":-1,"maximum":1}},"required":["tags"],"additionalProperties":false}""",
            """
            {"type":"object","properties":{"kind":{"const":"point"},"x":{"type":"integer"},"y":{"type":["integer","null"]},
             "ok":{"type":"boolean"}},"required":["kind","x","y","ok"],"additionalProperties":false}""",
            """
            {"type":"object","properties":{"id":{"type":"string","format":"uuid"},"when":{"type":"string","format":"date"},
             "code":{"type":"string","pattern":"^[A-Z]{2}[0-9]{2}$"}},"required":["id","when","code"],"additionalProperties":false}""",
            """
            {"$defs":{"leaf":{"type":"object","properties":{"v":{"type":"integer","minimum":1,"maximum":9}},"required":["v"],
             "additionalProperties":false}},"type":"object","properties":{"item":{"anyOf":[{"$ref":"#/$defs/leaf"},{"type":"string","minLength":1,"maxLength":5}]}},
             "required":["item"],"additionalProperties":false}""",
            """
            {"type":"array","items":{"type":"object","properties":{"a":{"type":"boolean"}},"required":["a"],"additionalProperties":false},"maxItems":4}""");

    @TempDir
    static Path dir;
    private TestServer client;
    private QuillServer server;

    @BeforeAll
    void start() {
        client = TestServer.onRandomTinyModel(dir, 21, 8L << 20);
        server = client.server;
    }

    @AfterAll
    void stop() {
        client.close();
    }

    private JsonNode post(String path, JsonNode body) {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(client.url(path)))
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(body))).header("Content-Type", "application/json")
                .header("extra-parameters", "pass-through").build());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return Json.parse(response.body().getBytes(StandardCharsets.UTF_8));
    }

    private static ObjectNode chat(String user, int seed) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.putArray("messages").addObject().put("role", "user").put("content", user);
        body.put("temperature", 1.0).put("seed", seed).put("max_tokens", 300);
        return body;
    }

    /** A class the OpenAI SDK turns into a JSON schema (response format) or a tool. */
    static class Person {
        public String name;
        public int age;
        public boolean member;
    }

    @Test
    void theOpenAiSdksStructuredOutputsAndToolsWork() {
        OpenAIClient sdk = OpenAIOkHttpClient.builder().baseUrl(server.address() + "/v1").apiKey("none").maxRetries(0).build();
        try {
            StructuredChatCompletion<Person> people = sdk.chat().completions().create(ChatCompletionCreateParams.builder()
                    .model("tiny").addUserMessage("Describe a person as JSON").seed(4).temperature(1.0).maxCompletionTokens(200)
                    .responseFormat(Person.class).build());
            Person person = people.choices().getFirst().message().content().orElseThrow();
            assertThat(person.name).isNotNull();

            ChatCompletion call = sdk.chat().completions().create(ChatCompletionCreateParams.builder()
                    .model("tiny").addUserMessage("Register someone").seed(4).temperature(1.0).maxCompletionTokens(200)
                    .addTool(Person.class)
                    .toolChoice(ChatCompletionNamedToolChoice.builder()
                            .function(ChatCompletionNamedToolChoice.Function.builder().name("Person").build()).build())
                    .build());
            var function = call.choices().getFirst().message().toolCalls().orElseThrow().getFirst().asFunction().function();
            assertThat(function.name()).isEqualTo("Person");
            assertThat(function.arguments(Person.class).name).isNotNull();
        } finally {
            sdk.close();
        }
    }

    @Test
    void everyJsonSchemaOutputValidates() {
        int stopped = 0;
        int total = 0;
        for (String schema : SCHEMAS) {
            for (int seed = 0; seed < 4; seed++) {
                ObjectNode body = chat("Answer in JSON.", seed);
                ObjectNode format = body.putObject("response_format").put("type", "json_schema");
                format.putObject("json_schema").put("name", "answer").put("strict", true).set("schema", Json.parse(schema.getBytes()));
                JsonNode choice = post("/v1/chat/completions", body).get("choices").get(0);
                String content = choice.get("message").get("content").asText();
                total++;
                if (choice.get("finish_reason").asText().equals("stop")) {
                    stopped++;
                    assertThat(SchemaCheck.errors(schema, content)).as(content).isEmpty();
                }
            }
        }
        assertThat(stopped).as("constrained generations that finished").isEqualTo(total);
    }

    @Test
    void jsonObjectModeGivesAnObjectAndStreamsTheSameText() {
        ObjectNode body = chat("JSON please", 3);
        body.putObject("response_format").put("type", "json_object");
        String content = post("/v1/chat/completions", body).get("choices").get(0).get("message").get("content").asText();
        assertThat(Json.parse(content.getBytes(StandardCharsets.UTF_8)).isObject()).isTrue();
        body.put("stream", true);
        HttpResponse<String> streamed = client.send(HttpRequest.newBuilder(URI.create(client.url("/v1/chat/completions")))
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(body))).header("Content-Type", "application/json").build());
        StringBuilder text = new StringBuilder();
        for (String line : streamed.body().split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode delta = Json.parse(line.substring(6).getBytes(StandardCharsets.UTF_8)).get("choices").get(0).get("delta");
            if (delta.hasNonNull("content")) text.append(delta.get("content").asText());
        }
        assertThat(text.toString()).isEqualTo(content);
    }

    @Test
    void aLengthStopReturnsAValidPrefix() {
        ObjectNode body = chat("JSON", 5);
        body.put("max_tokens", 6);
        body.putObject("response_format").put("type", "json_schema").putObject("json_schema").put("name", "a")
                .set("schema", Json.parse(SCHEMAS.getFirst().getBytes()));
        JsonNode choice = post("/v1/chat/completions", body).get("choices").get(0);
        assertThat(choice.get("finish_reason").asText()).isEqualTo("length");
        String content = choice.get("message").get("content").asText();
        // A valid prefix: the schema's grammar can still complete it.
        Map<String, Object> schema = Json.MAPPER.convertValue(Json.parse(SCHEMAS.getFirst().getBytes()),
                new TypeReference<Map<String, Object>>() {});
        GrammarMatcher matcher = Grammars.jsonSchema(schema).matcher();
        assertThat(content).startsWith("{\"name");
        assertThat(matcher.acceptString(content)).as(content).isTrue();
        assertThat(matcher.isComplete()).isFalse();
    }

    @Test
    void choiceRegexAndGrammarOnCompletions() {
        for (int seed = 0; seed < 3; seed++) {
            ObjectNode body = Json.MAPPER.createObjectNode().put("prompt", "The answer is").put("seed", seed).put("max_tokens", 40);
            body.putArray("choice").add("yes").add("no").add("maybe so");
            assertThat(post("/v1/completions", body).get("choices").get(0).get("text").asText()).isIn("yes", "no", "maybe so");

            body.remove("choice");
            body.put("regex", "[A-Z][a-z]{2,5}-[0-9]{3}");
            assertThat(post("/v1/completions", body).get("choices").get(0).get("text").asText()).matches("[A-Z][a-z]{2,5}-[0-9]{3}");

            body.remove("regex");
            body.put("grammar", "root ::= \"(\" list \")\"\nlist ::= num (\",\" num)*\nnum ::= [1-9] [0-9]?");
            assertThat(post("/v1/completions", body).get("choices").get(0).get("text").asText()).matches("\\([1-9][0-9]?(,[1-9][0-9]?)*\\)");
        }
    }

    private static final String TOOLS = """
            [{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{
              "city":{"type":"string","minLength":1,"maxLength":10},"days":{"type":"integer","minimum":1,"maximum":7}},
              "required":["city","days"],"additionalProperties":false}}},
             {"type":"function","function":{"name":"ping"}}]""";

    private static final String WEATHER_SCHEMA = """
            {"type":"object","properties":{"city":{"type":"string","minLength":1,"maxLength":10},
             "days":{"type":"integer","minimum":1,"maximum":7}},"required":["city","days"],"additionalProperties":false}""";

    @Test
    void requiredAndNamedToolChoicesForceWellFormedCallsEvenFromARandomModel() {
        for (int seed = 0; seed < 4; seed++) {
            ObjectNode body = chat("What's the weather in Oslo?", seed);
            body.set("tools", Json.parse(TOOLS.getBytes()));
            body.put("tool_choice", "required");
            JsonNode choice = post("/v1/chat/completions", body).get("choices").get(0);
            assertThat(choice.get("finish_reason").asText()).isEqualTo("tool_calls");
            assertThat(choice.get("message").get("content").isNull()).isTrue();
            for (JsonNode call : choice.get("message").get("tool_calls")) {
                String name = call.get("function").get("name").asText();
                String arguments = call.get("function").get("arguments").asText();
                assertThat(name).isIn("get_weather", "ping");
                if (name.equals("ping")) assertThat(arguments).isEqualTo("{}");
                else assertThat(SchemaCheck.errors(WEATHER_SCHEMA, arguments)).as(arguments).isEmpty();
            }

            body.putObject("tool_choice").put("type", "function").putObject("function").put("name", "get_weather");
            JsonNode named = post("/v1/chat/completions", body).get("choices").get(0).get("message").get("tool_calls");
            assertThat(named).hasSize(1);
            assertThat(named.get(0).get("function").get("name").asText()).isEqualTo("get_weather");
            assertThat(SchemaCheck.errors(WEATHER_SCHEMA, named.get(0).get("function").get("arguments").asText())).isEmpty();
        }
    }

    @Test
    void streamedForcedCallsEqualTheNonStreamedOnes() {
        for (int seed = 0; seed < 3; seed++) {
            ObjectNode body = chat("Weather?", seed);
            body.set("tools", Json.parse(TOOLS.getBytes()));
            body.put("tool_choice", "required").put("n", 2);
            JsonNode whole = post("/v1/chat/completions", body);
            body.put("stream", true);
            HttpResponse<String> streamed = client.send(HttpRequest.newBuilder(URI.create(client.url("/v1/chat/completions")))
                    .POST(HttpRequest.BodyPublishers.ofString(Json.write(body))).header("Content-Type", "application/json").build());
            Map<String, StringBuilder> calls = new TreeMap<>(); // "choice/call" -> name + arguments
            for (String line : streamed.body().split("\n")) {
                if (!line.startsWith("data: {")) continue;
                JsonNode event = Json.parse(line.substring(6).getBytes(StandardCharsets.UTF_8));
                if (event.get("choices").isEmpty()) continue;
                JsonNode choice = event.get("choices").get(0);
                if (!choice.get("delta").has("tool_calls")) continue;
                for (JsonNode fragment : choice.get("delta").get("tool_calls")) {
                    StringBuilder call = calls.computeIfAbsent(choice.get("index").asInt() + "/" + fragment.get("index").asInt(),
                            k -> new StringBuilder());
                    if (fragment.get("function").has("name")) call.append(fragment.get("function").get("name").asText()).append(' ');
                    call.append(fragment.get("function").get("arguments").asText());
                }
            }
            Map<String, String> expected = new TreeMap<>();
            for (JsonNode choice : whole.get("choices")) {
                JsonNode toolCalls = choice.get("message").get("tool_calls");
                for (int i = 0; i < toolCalls.size(); i++) {
                    JsonNode f = toolCalls.get(i).get("function");
                    expected.put(choice.get("index").asInt() + "/" + i, f.get("name").asText() + " " + f.get("arguments").asText());
                }
            }
            Map<String, String> actual = new TreeMap<>();
            calls.forEach((k, v) -> actual.put(k, v.toString()));
            assertThat(actual).isEqualTo(expected);
            List<String> choices = new ArrayList<>(expected.keySet());
            assertThat(choices).anyMatch(k -> k.startsWith("1/"));
        }
    }
}
