package dev.quill.server.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quill.engine.fixture.ModelShape;
import dev.quill.server.protocol.Json;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The server on the real engine: a tiny random-weight model (synthetic vocabulary, ChatML template). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EndToEndTest {

    @TempDir
    static Path dir;
    private QuillServer server;
    private TestServer client;

    @BeforeAll
    void start() {
        client = TestServer.onRandomTinyModel(dir, 5, 4L << 20);
        server = client.server;
    }

    @AfterAll
    void stop() {
        client.close();
    }

    private JsonNode ok(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return Json.parse(response.body().getBytes());
    }

    @Test
    void servesTheModelWithItsContextLengthAndFingerprint() {
        JsonNode model = ok(client.get("/v1/models/tiny"));
        assertThat(model.get("context_length").asInt()).isEqualTo(ModelShape.TINY.contextLength());
        JsonNode r = ok(client.post("/v1/chat/completions", "{'messages':[{'role':'user','content':'Hello there'}],'max_tokens':5,'temperature':0}"));
        assertThat(r.get("system_fingerprint").asText()).startsWith("fp_");
        assertThat(r.get("choices").get(0).get("message").get("role").asText()).isEqualTo("assistant");
        assertThat(r.get("usage").get("completion_tokens").asInt()).isBetween(1, 5);
    }

    @Test
    void streamingEqualsNonStreamingOnTheRealEngine() {
        String body = "{'prompt':['The quick brown','A lazy dog'],'n':2,'temperature':0.8,'seed':9,'max_tokens':12,'logprobs':1";
        JsonNode whole = ok(client.post("/v1/completions", body + "}"));
        TestServer.Stream stream = client.stream("/v1/completions", body + ",'stream':true}");
        assertThat(stream.done()).isTrue();
        for (int index = 0; index < 4; index++) {
            StringBuilder text = new StringBuilder();
            for (JsonNode event : stream.events()) {
                JsonNode choice = event.get("choices").get(0);
                if (choice.get("index").asInt() == index) text.append(choice.get("text").asText());
            }
            assertThat(text.toString()).isEqualTo(whole.get("choices").get(index).get("text").asText());
        }
    }

    @Test
    void theSameSeedGivesTheSameTextAndTheFirstCandidateEqualsASingleRequest() {
        JsonNode a = ok(client.post("/v1/completions", "{'prompt':'Once upon','temperature':1,'seed':123,'max_tokens':10,'n':2}"));
        JsonNode b = ok(client.post("/v1/completions", "{'prompt':'Once upon','temperature':1,'seed':123,'max_tokens':10}"));
        assertThat(b.get("choices").get(0).get("text")).isEqualTo(a.get("choices").get(0).get("text"));
    }

    @Test
    void echoWithMaxTokensZeroScoresThePrompt() {
        JsonNode r = ok(client.post("/v1/completions", "{'prompt':'The quick brown fox','max_tokens':0,'echo':true,'logprobs':2}"));
        JsonNode choice = r.get("choices").get(0);
        assertThat(choice.get("text").asText()).isEqualTo("The quick brown fox");
        JsonNode lp = choice.get("logprobs").get("token_logprobs");
        assertThat(lp.size()).isEqualTo(r.get("usage").get("prompt_tokens").asInt());
        assertThat(lp.get(0).isNull()).isTrue();
        for (int k = 1; k < lp.size(); k++) assertThat(lp.get(k).asDouble()).isNegative();
        // Offsets stay inside the echoed text and never go backwards.
        JsonNode offsets = choice.get("logprobs").get("text_offset");
        for (int k = 0; k < offsets.size(); k++) {
            assertThat(offsets.get(k).asInt()).isBetween(k == 0 ? 0 : offsets.get(k - 1).asInt(), "The quick brown fox".length());
        }
        assertThat(r.get("usage").get("completion_tokens").asInt()).isZero();
    }

    @Test
    void stopStringsWorkOnRealTokens() {
        JsonNode plain = ok(client.post("/v1/completions", "{'prompt':'The quick brown','temperature':0,'max_tokens':16}"));
        String text = plain.get("choices").get(0).get("text").asText();
        assertThat(text).hasSizeGreaterThanOrEqualTo(4);
        String stop = text.substring(2, 4);
        JsonNode cut = ok(client.post("/v1/completions", "{'prompt':'The quick brown','temperature':0,'max_tokens':16,'stop':"
                + Json.write(stop).replace('"', '\'') + "}"));
        assertThat(cut.get("choices").get(0).get("text").asText()).isEqualTo(text.substring(0, text.indexOf(stop)));
        assertThat(cut.get("choices").get(0).get("finish_reason").asText()).isEqualTo("stop");
    }
}
