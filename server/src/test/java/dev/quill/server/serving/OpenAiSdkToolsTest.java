package dev.quill.server.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The OpenAI Java SDK's tool-calling helpers against Quill: tools from classes, typed arguments, streaming, round trip. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenAiSdkToolsTest {

    /** A tool the SDK describes from the class (name GetWeather, a JSON schema of its fields). */
    static class GetWeather {
        @JsonPropertyDescription("The city")
        public String city;
        public int days;
    }

    private final AtomicReference<String> script = new AtomicReference<>("");
    private ScriptedEngine engine;
    private TestServer server;
    private OpenAIClient client;

    @BeforeAll
    void start() {
        String template;
        try (InputStream in = getClass().getResourceAsStream("/templates/qwen2.5.jinja")) {
            template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        engine = new ScriptedEngine(template, r -> script.get());
        ServerConfig.DeploymentConfig deployment = ServerConfig.DeploymentConfig.of("qwen", Path.of("qwen.gguf"));
        ServerConfig config = ServerConfig.single(deployment);
        server = new TestServer(config, new Deployments(List.of(new Deployment(deployment, engine))));
        client = OpenAIOkHttpClient.builder().baseUrl(server.server.address() + "/v1").apiKey("none").maxRetries(0).build();
    }

    @AfterAll
    void stop() {
        client.close();
        server.close();
    }

    private ChatCompletionCreateParams.Builder weatherQuestion() {
        return ChatCompletionCreateParams.builder().model("qwen").addUserMessage("Weather in Paris for 2 days?").addTool(GetWeather.class);
    }

    @Test
    void toolCallsArriveAsTypedArgumentsAndGoBackInTheHistory() {
        script.set("<tool_call>\n{\"name\": \"GetWeather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>");
        ChatCompletion first = client.chat().completions().create(weatherQuestion().build());
        ChatCompletion.Choice choice = first.choices().getFirst();
        assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
        assertThat(choice.message().content()).isEmpty();
        ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().getFirst().asFunction();
        assertThat(call.function().name()).isEqualTo("GetWeather");
        GetWeather arguments = call.function().arguments(GetWeather.class);
        assertThat(arguments.city).isEqualTo("Paris");
        assertThat(arguments.days).isEqualTo(2);
        assertThat(engine.prompt(engine.requests.getLast())).contains("\"name\": \"GetWeather\"");

        script.set("Sunny, 21 °C.");
        ChatCompletion second = client.chat().completions().create(weatherQuestion()
                .addMessage(choice.message())
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("{\"c\": 21}").build())
                .build());
        assertThat(second.choices().getFirst().message().content()).hasValue("Sunny, 21 °C.");
        assertThat(engine.prompt(engine.requests.getLast())).contains(
                "<tool_call>\n{\"name\": \"GetWeather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>",
                "<tool_response>\n{\"c\": 21}\n</tool_response>");
    }

    @Test
    void theSdksAccumulatorRebuildsStreamedToolCallsExactly() {
        script.set("One moment.\n<tool_call>\n{\"name\": \"GetWeather\", \"arguments\": {\"city\": \"Köln\", \"days\": 3}}\n</tool_call>");
        ChatCompletion whole = client.chat().completions().create(weatherQuestion().build());
        ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(weatherQuestion().build())) {
            stream.stream().forEach(accumulator::accumulate);
        }
        ChatCompletion.Choice streamed = accumulator.chatCompletion().choices().getFirst();
        ChatCompletion.Choice expected = whole.choices().getFirst();
        assertThat(streamed.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
        assertThat(streamed.message().content()).isEqualTo(expected.message().content()).hasValue("One moment.");
        var streamedCall = streamed.message().toolCalls().orElseThrow().getFirst().asFunction().function();
        var expectedCall = expected.message().toolCalls().orElseThrow().getFirst().asFunction().function();
        assertThat(streamedCall.name()).isEqualTo(expectedCall.name());
        assertThat(streamedCall.arguments()).isEqualTo(expectedCall.arguments()).isEqualTo("{\"city\": \"Köln\", \"days\": 3}");
    }
}
