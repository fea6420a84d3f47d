package dev.quill.server.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quill.engine.Engine;
import dev.quill.engine.fixture.ModelShape;
import dev.quill.engine.fixture.RandomModel;
import dev.quill.engine.model.Architecture;
import dev.quill.engine.tensor.GgmlType;
import dev.quill.server.protocol.Json;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The content filter, over HTTP on a tiny random-weight model. The blocked terms are taken from what the model
 * generates unfiltered (the "plain" server), then a second server serves the same engine through deployments whose
 * filters block them, one deployment per case so that each case's expected text follows from its one term.
 */
class ContentFilterTest {

    private static final String PASS_THROUGH = "extra-parameters";
    private static final String COMPLETION = "{'model':'%s','prompt':'the quick brown fox','max_tokens':24,'temperature':0,"
            + "'ignore_eos':true%s}";
    private static final String CHAT = "{'model':'%s','messages':[{'role':'user','content':'hello there'}],'max_tokens':24,"
            + "'temperature':0,'ignore_eos':true%s}";
    private static final String CHOICES = "{'model':'%s','prompt':'the quick brown fox','max_tokens':24,'temperature':1,"
            + "'seed':5,'n':2,'ignore_eos':true%s}";
    private static final Pattern WORD = Pattern.compile("[A-Za-z]{3,}");

    @TempDir
    static Path dir;
    private static Deployments deployments;
    private static TestServer plain;
    private static TestServer filtered;
    /** A term the greedy completion produces across a token boundary. */
    private static String splitTerm;
    private static String chatTerm;
    /** A term only the first of the two seeded choices produces. */
    private static String choiceTerm;
    private static JsonNode completion;
    private static JsonNode chat;
    private static JsonNode choices;

    @BeforeAll
    static void start() {
        Path model = dir.resolve("tiny.gguf");
        new RandomModel(Architecture.LLAMA, ModelShape.TINY, GgmlType.Q8_0).seed(7).weightStd(0.1f).write(model, m -> { });
        var tiny = new ServerConfig.DeploymentConfig("tiny", model, List.of(), List.of(), "quill", 0, 8L << 20, 16);
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 1, ServerConfig.DEFAULT_MAX_BODY_BYTES, List.of(), List.of(tiny));
        deployments = Deployments.load(config, m -> { });
        plain = new TestServer(config, deployments);

        completion = ok(plain.post("/v1/completions", COMPLETION.formatted("tiny", ",'logprobs':1"), PASS_THROUGH, "pass-through"));
        splitTerm = termAcrossTokens(completion.get("choices").get(0));
        chat = ok(plain.post("/v1/chat/completions", CHAT.formatted("tiny", ""), PASS_THROUGH, "pass-through"));
        chatTerm = firstWordStart(chat.get("choices").get(0).get("message").get("content").asText(), "hello there");
        choices = ok(plain.post("/v1/completions", CHOICES.formatted("tiny", ""), PASS_THROUGH, "pass-through"));
        choiceTerm = firstWordStart(text(choices, 0), text(choices, 1) + " the quick brown fox");

        Engine engine = deployments.all().getFirst().engine();
        List<ServerConfig.DeploymentConfig> filters = List.of(filtering("split", model, splitTerm.toUpperCase(Locale.ROOT)),
                filtering("chat", model, chatTerm), filtering("choices", model, choiceTerm));
        filtered = new TestServer(new ServerConfig("127.0.0.1", 0, 1, ServerConfig.DEFAULT_MAX_BODY_BYTES, List.of(), filters),
                new Deployments(filters.stream().map(c -> new Deployment(c, engine)).toList()));
    }

    private static ServerConfig.DeploymentConfig filtering(String name, Path model, String term) {
        return new ServerConfig.DeploymentConfig(name, model, List.of(), List.of(), "quill", 0, 16,
                ServerConfig.EngineSettings.DEFAULTS, new ContentFilter(List.of(term)));
    }

    @AfterAll
    static void stop() {
        if (filtered != null) filtered.close();
        if (plain != null) plain.close();
        if (deployments != null) deployments.close();
    }

    private static JsonNode ok(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return Json.parse(response.body().getBytes());
    }

    private static String text(JsonNode response, int choice) {
        return response.get("choices").get(choice).get("text").asText();
    }

    /** Two characters each side of a boundary between two tokens of at least two characters, all letters or spaces. */
    private static String termAcrossTokens(JsonNode choice) {
        String text = choice.get("text").asText();
        JsonNode offsets = choice.get("logprobs").get("text_offset");
        for (int k = 1; k < offsets.size(); k++) {
            int start = offsets.get(k - 1).asInt(), boundary = offsets.get(k).asInt();
            int end = k + 1 < offsets.size() ? offsets.get(k + 1).asInt() : text.length();
            if (boundary - start < 2 || end - boundary < 2) continue;
            String term = text.substring(boundary - 2, boundary + 2);
            if (term.matches("[A-Za-z ]{4}") && term.replace(" ", "").length() >= 2) return term;
        }
        throw new AssertionError("the model's output has no two adjacent tokens to split a term across: " + text);
    }

    /** The first three letters of a word in {@code text} that {@code elsewhere} does not contain (ignoring case). */
    private static String firstWordStart(String text, String elsewhere) {
        Matcher m = WORD.matcher(text);
        while (m.find()) {
            String term = m.group().substring(0, 3);
            if (!lower(elsewhere).contains(lower(term))) return term;
        }
        throw new AssertionError("no word of '" + text + "' is missing from '" + elsewhere + "'");
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    /** The text up to where the term first occurs, ignoring case: what a filter blocking it must return. */
    private static String before(String text, String term) {
        int at = lower(text).indexOf(lower(term));
        assertThat(at).as("'%s' occurs in the unfiltered output '%s'", term, text).isNotNegative();
        return text.substring(0, at);
    }

    @Test
    void aCompletionStopsBeforeATermSplitAcrossTokens() {
        String unfiltered = text(completion, 0);
        JsonNode r = ok(filtered.post("/v1/completions", COMPLETION.formatted("split", ",'logprobs':1"), PASS_THROUGH, "pass-through"));
        JsonNode choice = r.get("choices").get(0);
        assertThat(choice.get("text").asText()).isEqualTo(before(unfiltered, splitTerm));
        assertThat(choice.get("finish_reason").asText()).isEqualTo("content_filter");
        assertThat(choice.get("stop_reason").isNull()).isTrue();
        String shown = String.join("", Json.MAPPER.convertValue(choice.get("logprobs").get("tokens"), String[].class));
        assertThat(lower(shown)).as("logprobs show no part of the term's tokens").doesNotContain(lower(splitTerm.strip()));
        assertThat(completion.get("choices").get(0).get("finish_reason").asText()).as("unfiltered").isEqualTo("length");
    }

    @Test
    void aStreamedCompletionSendsExactlyTheTextOfTheNonStreamedOne() {
        TestServer.Stream stream = filtered.stream("/v1/completions", COMPLETION.formatted("split", ",'stream':true"),
                PASS_THROUGH, "pass-through");
        assertThat(stream.done()).isTrue();
        StringBuilder text = new StringBuilder();
        for (JsonNode event : stream.events()) text.append(event.get("choices").get(0).get("text").asText());
        assertThat(text.toString()).isEqualTo(before(text(completion, 0), splitTerm));
        assertThat(stream.events().getLast().get("choices").get(0).get("finish_reason").asText()).isEqualTo("content_filter");
    }

    @Test
    void aChatMessageStopsBeforeATermStreamedOrNot() {
        String expected = before(chat.get("choices").get(0).get("message").get("content").asText(), chatTerm);
        JsonNode whole = ok(filtered.post("/v1/chat/completions", CHAT.formatted("chat", ""), PASS_THROUGH, "pass-through"));
        assertThat(whole.get("choices").get(0).get("message").get("content").asText()).isEqualTo(expected);
        assertThat(whole.get("choices").get(0).get("finish_reason").asText()).isEqualTo("content_filter");

        TestServer.Stream stream = filtered.stream("/v1/chat/completions", CHAT.formatted("chat", ",'stream':true"),
                PASS_THROUGH, "pass-through");
        StringBuilder text = new StringBuilder();
        for (JsonNode event : stream.events()) {
            JsonNode content = event.get("choices").get(0).get("delta").get("content");
            if (content != null && !content.isNull()) text.append(content.asText());
        }
        assertThat(text.toString()).isEqualTo(expected);
        assertThat(stream.events().getLast().get("choices").get(0).get("finish_reason").asText()).isEqualTo("content_filter");
    }

    @Test
    void ofSeveralChoicesOnlyTheOneThatProducedATermIsFiltered() {
        JsonNode r = ok(filtered.post("/v1/completions", CHOICES.formatted("choices", ""), PASS_THROUGH, "pass-through"));
        assertThat(text(r, 0)).isEqualTo(before(text(choices, 0), choiceTerm));
        assertThat(r.get("choices").get(0).get("finish_reason").asText()).isEqualTo("content_filter");
        assertThat(text(r, 1)).isEqualTo(text(choices, 1));
        assertThat(r.get("choices").get(1).get("finish_reason").asText()).isEqualTo("length");

        TestServer.Stream stream = filtered.stream("/v1/completions", CHOICES.formatted("choices", ",'stream':true"),
                PASS_THROUGH, "pass-through");
        StringBuilder[] texts = {new StringBuilder(), new StringBuilder()};
        String[] finish = new String[2];
        for (JsonNode event : stream.events()) {
            JsonNode choice = event.get("choices").get(0);
            texts[choice.get("index").asInt()].append(choice.get("text").asText());
            if (!choice.get("finish_reason").isNull()) finish[choice.get("index").asInt()] = choice.get("finish_reason").asText();
        }
        assertThat(texts[0].toString()).isEqualTo(text(r, 0));
        assertThat(texts[1].toString()).isEqualTo(text(r, 1));
        assertThat(finish).containsExactly("content_filter", "length");
    }

    private static void assertFiltered(HttpResponse<String> response, String param, String term) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        JsonNode error = Json.parse(response.body().getBytes()).get("error");
        assertThat(error.get("code").asText()).isEqualTo("content_filter");
        assertThat(error.get("type").asText()).isEqualTo("BadRequestError");
        assertThat(error.get("param").asText()).isEqualTo(param);
        assertThat(error.get("message").asText()).startsWith("The prompt was filtered");
        assertThat(lower(response.body())).as("the term is never echoed").doesNotContain(lower(term));
        assertThat(response.headers().firstValue("x-ms-error-code")).hasValue("content_filter");
    }

    @Test
    void aPromptThatContainsABlockedTermIsRefused() {
        String shouted = splitTerm.toUpperCase(Locale.ROOT);
        assertFiltered(filtered.post("/v1/completions", "{'model':'split','prompt':'say " + shouted + " now'}"), "prompt", splitTerm);
        assertFiltered(filtered.post("/v1/completions", "{'model':'split','prompt':['fine','and " + lower(splitTerm) + "'],'stream':true}"),
                "prompt[1]", splitTerm);
        assertFiltered(filtered.post("/v1/chat/completions", "{'model':'chat','messages':[{'role':'system','content':'be nice'},"
                + "{'role':'user','content':[{'type':'text','text':'ok'},{'type':'text','text':'x" + chatTerm + "x'}]}]}"),
                "messages[1].content[1]", chatTerm);
        assertFiltered(filtered.post("/v1/chat/completions", "{'model':'chat','messages':[{'role':'user','content':'say "
                + chatTerm + "'}],'stream':true}"), "messages[0].content", chatTerm);
        // The same prompts are fine where nothing is blocked.
        assertThat(plain.post("/v1/completions", "{'prompt':'say " + shouted + " now','max_tokens':2}").statusCode()).isEqualTo(200);
    }

    @Test
    void blockedTermsMustNotBeEmpty() {
        assertThatThrownBy(() -> new ContentFilter(List.of("ok", ""))).hasMessageContaining("must not be empty");
    }
}
