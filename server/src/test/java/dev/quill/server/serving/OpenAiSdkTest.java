package dev.quill.server.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.UnauthorizedException;
import com.openai.errors.UnprocessableEntityException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The official OpenAI Java SDK pointed at the server: completions, chat, streaming and errors. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenAiSdkTest {

    private TestServer server;
    private OpenAIClient client;

    @BeforeAll
    void start() {
        ServerConfig config = ServerConfig.single(ServerConfig.DeploymentConfig.of("fake", Path.of("fake.gguf")))
                .withApiKeys(List.of("sk-test"));
        server = new TestServer(config, List.of(new FakeEngine()));
        client = OpenAIOkHttpClient.builder().baseUrl(server.server.address() + "/v1").apiKey("sk-test").maxRetries(0).build();
    }

    @AfterAll
    void stop() {
        client.close();
        server.close();
    }

    @Test
    void completions() {
        Completion completion = client.completions().create(CompletionCreateParams.builder()
                .model("fake").prompt("Hello").maxTokens(6L).temperature(0.0).logprobs(1L).build());
        assertThat(completion.id()).startsWith("cmpl-");
        assertThat(completion.model()).isEqualTo("fake");
        assertThat(completion.systemFingerprint()).hasValue("fp_fake_1");
        CompletionChoice choice = completion.choices().getFirst();
        assertThat(choice.text()).isNotEmpty();
        assertThat(choice.finishReason()).isEqualTo(CompletionChoice.FinishReason.LENGTH);
        assertThat(choice.logprobs().orElseThrow().tokens().orElseThrow()).hasSize(6);
        assertThat(completion.usage().orElseThrow().completionTokens()).isEqualTo(6);
    }

    @Test
    void streamedCompletionsAddUpToTheWholeOne() {
        CompletionCreateParams params = CompletionCreateParams.builder().model("fake").prompt("Hello").maxTokens(20L)
                .temperature(0.0).stop("lazy").build();
        String whole = client.completions().create(params).choices().getFirst().text();
        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<Completion> stream = client.completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(c -> streamed.append(c.text())));
        }
        assertThat(streamed.toString()).isEqualTo(whole);
    }

    @Test
    void chat() {
        ChatCompletion chat = client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("fake").addSystemMessage("Be brief.").addUserMessage("Hi!").maxCompletionTokens(8L)
                .temperature(0.0).logprobs(true).topLogprobs(2L).n(2L).build());
        assertThat(chat.id()).startsWith("chatcmpl-");
        assertThat(chat.choices()).hasSize(2);
        ChatCompletion.Choice first = chat.choices().getFirst();
        assertThat(first.message().content()).hasValueSatisfying(c -> assertThat(c).isNotEmpty());
        assertThat(first.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.LENGTH);
        assertThat(first.logprobs().orElseThrow().content().orElseThrow().getFirst().topLogprobs()).hasSize(2);
        assertThat(chat.usage().orElseThrow().completionTokens()).isEqualTo(16);
    }

    @Test
    void streamedChatWithUsage() {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("fake").addUserMessage("Hi!")
                .maxCompletionTokens(10L).temperature(0.0)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        String whole = client.chat().completions().create(ChatCompletionCreateParams.builder().model("fake")
                .addUserMessage("Hi!").maxCompletionTokens(10L).temperature(0.0).build()).choices().getFirst().message().content().orElseThrow();
        StringBuilder streamed = new StringBuilder();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> {
                chunks.add(chunk);
                chunk.choices().forEach(c -> c.delta().content().ifPresent(streamed::append));
            });
        }
        assertThat(streamed.toString()).isEqualTo(whole);
        assertThat(chunks.getFirst().choices().getFirst().delta().role()).isPresent();
        ChatCompletionChunk last = chunks.getLast();
        assertThat(last.choices()).isEmpty();
        assertThat(last.usage().orElseThrow().completionTokens()).isEqualTo(10);
    }

    @Test
    void errorsArriveAsTheSdksExceptions() {
        assertThatThrownBy(() -> client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("fake").addUserMessage("Hi").temperature(5.0).build()))
                .isInstanceOfSatisfying(UnprocessableEntityException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(422);
                    assertThat(e.code()).hasValue("invalid_value");
                    assertThat(e.param()).hasValue("temperature");
                    assertThat(e.getMessage()).contains("temperature");
                });
        assertThatThrownBy(() -> client.completions().create(CompletionCreateParams.builder().model("fake").prompt("x")
                .putAdditionalBodyProperty("context_length_exceeded_behavior", JsonValue.from("error"))
                .maxTokens(100_000L).build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> assertThat(e.code()).hasValue("context_length_exceeded"));
        OpenAIClient stranger = OpenAIOkHttpClient.builder().baseUrl(server.server.address() + "/v1").apiKey("sk-wrong")
                .maxRetries(0).build();
        try {
            assertThatThrownBy(() -> stranger.models().list()).isInstanceOf(UnauthorizedException.class);
        } finally {
            stranger.close();
        }
    }

    @Test
    void listsModels() {
        assertThat(client.models().list().data()).extracting(m -> m.id()).containsExactly("fake");
        assertThat(client.models().retrieve("fake").id()).isEqualTo("fake");
    }
}
