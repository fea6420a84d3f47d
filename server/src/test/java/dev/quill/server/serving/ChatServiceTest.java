package dev.quill.server.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quill.engine.GenerationRequest;
import dev.quill.server.protocol.Json;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** {@code /v1/chat/completions} over HTTP against fake engines. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ChatServiceTest {

    private static final String USER = "{'messages':[{'role':'system','content':'Be brief.'},{'role':'user','content':'Hi!'}]";

    private FakeEngine engine;
    private FakeEngine slowEngine;
    private FakeEngine templatedEngine;
    private TestServer server;

    /** A model template in the Hugging Face style: no system role, upper-cased role tags. */
    private static final String TEMPLATE = "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}"
            + "{{ raise_exception('System messages are not supported') }}{% endif %}"
            + "[{{ m['role'] | upper }}] {{ m['content'] | trim }}\n{% endfor %}{% if add_generation_prompt %}[ASSISTANT] {% endif %}";

    @BeforeAll
    void start() {
        engine = new FakeEngine();
        slowEngine = new FakeEngine(new FakeTokenizer(false), 4096, Duration.ofMillis(25));
        templatedEngine = new FakeEngine(new FakeTokenizer(false), 4096, Duration.ZERO, TEMPLATE);
        server = new TestServer(new ServerConfig("127.0.0.1", 0, 0, ServerConfig.DEFAULT_MAX_BODY_BYTES, List.of(),
                List.of(ServerConfig.DeploymentConfig.of("fake", Path.of("f.gguf")),
                        ServerConfig.DeploymentConfig.of("slow", Path.of("s.gguf")),
                        ServerConfig.DeploymentConfig.of("templated", Path.of("t.gguf")))),
                List.of(engine, slowEngine, templatedEngine));
    }

    @AfterAll
    void stop() {
        server.close();
    }

    private List<GenerationRequest> requestsOf(FakeEngine e, Runnable call) {
        int before = e.requests.size();
        call.run();
        return new ArrayList<>(e.requests.subList(before, e.requests.size()));
    }

    private JsonNode chat(String body, String... headers) {
        HttpResponse<String> response = server.post("/v1/chat/completions", body, headers);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return Json.parse(response.body().getBytes());
    }

    private static String before(String text, String stop) {
        int at = text.indexOf(stop);
        return at < 0 ? text : text.substring(0, at);
    }

    @Test
    void rendersTheConversationWithTheChatTemplateAndAnswersAsTheAssistant() {
        JsonNode[] response = new JsonNode[1];
        List<GenerationRequest> sent = requestsOf(engine, () -> response[0] = chat(USER + ",'temperature':0}"));
        FakeTokenizer tokenizer = new FakeTokenizer(false);
        String prompt = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n";
        assertThat(sent.getFirst().prompt()).containsExactly(tokenizer.encode(prompt, false, true));
        // No max_tokens: the rest of the context.
        assertThat(sent.getFirst().maxTokens()).isEqualTo(4096 - sent.getFirst().prompt().length);

        JsonNode r = response[0];
        assertThat(r.get("id").asText()).startsWith("chatcmpl-");
        assertThat(r.get("object").asText()).isEqualTo("chat.completion");
        assertThat(r.get("model").asText()).isEqualTo("fake");
        assertThat(r.get("system_fingerprint").asText()).isEqualTo("fp_fake_1");
        JsonNode choice = r.get("choices").get(0);
        assertThat(choice.get("message").get("role").asText()).isEqualTo("assistant");
        assertThat(choice.get("message").get("content").asText()).isEqualTo(engine.recite(sent.getFirst()));
        assertThat(choice.get("message").has("tool_calls")).isFalse();
        assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");
        assertThat(choice.get("logprobs").isNull()).isTrue();
        assertThat(r.get("usage").get("prompt_tokens").asInt()).isEqualTo(sent.getFirst().prompt().length);
    }

    @Test
    void usesTheModelsOwnChatTemplate() {
        List<GenerationRequest> sent = requestsOf(templatedEngine, () -> chat(
                "{'model':'templated','messages':[{'role':'user','content':' Hi! '},{'role':'assistant','content':'Yo'},"
                        + "{'role':'user','content':'More'}],'max_tokens':2}"));
        assertThat(new FakeTokenizer(false).decode(sent.getFirst().prompt()))
                .isEqualTo("<s>[USER] Hi!\n[ASSISTANT] Yo\n[USER] More\n[ASSISTANT] ");
    }

    @Test
    void aConversationTheTemplateRejectsIs422() {
        HttpResponse<String> response = server.post("/v1/chat/completions", "{'model':'templated','messages':"
                + "[{'role':'system','content':'s'},{'role':'user','content':'u'}]}");
        assertThat(response.statusCode()).isEqualTo(422);
        assertThat(response.body()).contains("System messages are not supported").contains("\"loc\":[\"body\",\"messages\"]");
    }

    @Test
    void contentPartsAreJoinedAndToolHistoryReachesTheTemplate() {
        List<GenerationRequest> sent = requestsOf(engine, () -> chat("{'messages':[{'role':'user','content':[{'type':'text','text':'one'},"
                + "{'type':'text','text':'two'}]},{'role':'assistant','tool_calls':[{'id':'c1','type':'function','function':"
                + "{'name':'f','arguments':'{}'}}]},{'role':'tool','tool_call_id':'c1','content':'42'}],'max_tokens':2}"));
        String prompt = new FakeTokenizer(false).decode(sent.getFirst().prompt());
        assertThat(prompt).isEqualTo("<|im_start|>user\none\ntwo<|im_end|>\n<|im_start|>assistant\n<|im_end|>\n"
                + "<|im_start|>tool\n42<|im_end|>\n<|im_start|>assistant\n");
    }

    @Test
    void streamingStartsWithARoleDeltaAndMatchesNonStreaming() {
        String body = USER + ",'n':3,'temperature':0.8,'seed':21,'stop':['fox','og.'],'logprobs':true,'top_logprobs':2";
        JsonNode whole = chat(body + "}");
        TestServer.Stream stream = server.stream("/v1/chat/completions", body + ",'stream':true}");
        assertThat(stream.done()).isTrue();
        for (int index = 0; index < 3; index++) {
            List<JsonNode> chunks = new ArrayList<>();
            for (JsonNode event : stream.events()) {
                assertThat(event.get("object").asText()).isEqualTo("chat.completion.chunk");
                if (event.get("choices").get(0).get("index").asInt() == index) chunks.add(event.get("choices").get(0));
            }
            assertThat(chunks.getFirst().get("delta").get("role").asText()).isEqualTo("assistant");
            assertThat(chunks.getFirst().get("delta").get("content").asText()).isEmpty();
            StringBuilder text = new StringBuilder();
            List<String> tokens = new ArrayList<>();
            for (JsonNode c : chunks.subList(1, chunks.size())) {
                assertThat(c.get("delta").has("role")).isFalse();
                if (c.get("delta").has("content")) text.append(c.get("delta").get("content").asText());
                if (!c.get("logprobs").isNull()) c.get("logprobs").get("content").forEach(t -> tokens.add(t.get("token").asText()));
            }
            JsonNode last = chunks.getLast();
            JsonNode expected = whole.get("choices").get(index);
            assertThat(text.toString()).isEqualTo(expected.get("message").get("content").asText());
            assertThat(last.get("finish_reason").asText()).isEqualTo(expected.get("finish_reason").asText());
            assertThat(last.get("delta").size()).isZero();
            List<String> expectedTokens = new ArrayList<>();
            expected.get("logprobs").get("content").forEach(t -> expectedTokens.add(t.get("token").asText()));
            assertThat(tokens).isEqualTo(expectedTokens);
        }
    }

    @Test
    void stopStringsEndTheMessageAndAreNamedInStopReason() {
        JsonNode[] response = new JsonNode[1];
        List<GenerationRequest> sent = requestsOf(engine, () -> response[0] = chat(USER + ",'temperature':0,'stop':'ow'}"));
        JsonNode choice = response[0].get("choices").get(0);
        String full = engine.recite(sent.getFirst());
        assertThat(choice.get("message").get("content").asText()).isEqualTo(before(full, "ow"));
        if (full.contains("ow")) assertThat(choice.get("stop_reason").asText()).isEqualTo("ow");
    }

    @Test
    void logprobsHaveTheChatShape() {
        JsonNode r = chat(USER + ",'temperature':0,'max_tokens':4,'logprobs':true,'top_logprobs':3}");
        JsonNode content = r.get("choices").get(0).get("logprobs").get("content");
        assertThat(content).hasSize(4);
        StringBuilder text = new StringBuilder();
        for (JsonNode t : content) {
            String token = t.get("token").asText();
            text.append(token);
            assertThat(t.get("logprob").isNumber()).isTrue();
            List<Integer> bytes = new ArrayList<>();
            t.get("bytes").forEach(b -> bytes.add(b.asInt()));
            assertThat(bytes).isEqualTo(token.chars().boxed().toList());
            assertThat(t.get("top_logprobs")).hasSize(3);
            assertThat(t.get("top_logprobs").get(0).get("token").asText()).isEqualTo(token);
            assertThat(t.get("top_logprobs").get(1).get("logprob").floatValue()).isLessThan(t.get("logprob").floatValue());
            assertThat(t.get("top_logprobs").get(1).has("bytes")).isTrue();
        }
        assertThat(text.toString()).isEqualTo(r.get("choices").get(0).get("message").get("content").asText());
        assertThat(r.get("choices").get(0).get("logprobs").has("refusal")).isTrue();
    }

    @Test
    void includeUsageEndsTheStreamWithAUsageChunk() {
        TestServer.Stream stream = server.stream("/v1/chat/completions",
                USER + ",'max_tokens':3,'stream':true,'stream_options':{'include_usage':true}}");
        JsonNode last = stream.events().getLast();
        assertThat(last.get("choices")).isEmpty();
        assertThat(last.get("usage").get("completion_tokens").asInt()).isEqualTo(3);
        assertThat(last.get("usage").get("total_tokens").asInt()).isEqualTo(3 + last.get("usage").get("prompt_tokens").asInt());
        assertThat(stream.events().subList(0, stream.events().size() - 1)).allSatisfy(e -> assertThat(e.get("usage").isNull()).isTrue());
    }

    @Test
    void bestOfPicksTheMostLikelyCandidate() {
        List<GenerationRequest> sent = requestsOf(engine, () -> {
            JsonNode r = chat(USER + ",'n':2,'best_of':3,'temperature':1,'seed':5}");
            assertThat(r.get("choices")).hasSize(2);
            assertThat(r.get("choices").get(1).get("index").asInt()).isEqualTo(1);
        });
        assertThat(sent).hasSize(3);
        assertThat(sent).extracting(g -> g.sampling().seed()).containsExactly(5L, 6L, 7L);
    }

    @Test
    void imageAndAudioPartsAreRefusedNamingThePart() {
        HttpResponse<String> image = server.post("/v1/chat/completions", "{'messages':[{'role':'system','content':'s'},"
                + "{'role':'user','content':[{'type':'text','text':'look'},{'type':'image_url','image_url':{'url':'https://x/y.png'}}]}]}");
        assertThat(image.statusCode()).isEqualTo(422);
        JsonNode error = Json.parse(image.body().getBytes()).get("error");
        assertThat(error.get("detail").get("loc").toString()).isEqualTo("[\"body\",\"messages\",1,\"content\",1]");
        assertThat(error.get("message").asText()).contains("image_url");
        HttpResponse<String> audio = server.post("/v1/chat/completions", "{'messages':[{'role':'user','content':"
                + "[{'type':'input_audio','input_audio':{'data':'AA','format':'wav'}}]}]}");
        assertThat(audio.statusCode()).isEqualTo(422);
        assertThat(audio.body()).contains("input_audio");
        HttpResponse<String> modality = server.post("/v1/chat/completions", USER + ",'modalities':['audio']}");
        assertThat(modality.statusCode()).isEqualTo(422);
        assertThat(modality.body()).contains("\"loc\":[\"body\",\"modalities\",0]");
    }

    @Test
    void toolsForAModelWhoseTemplateCannotShowThemAre422UnlessTheCallIsForcedOrOff() {
        // The fake model has no chat template (ChatML, which has no tools): it could never choose to call one.
        String tools = ",'tools':[{'type':'function','function':{'name':'f'}}]";
        for (String choice : List.of("", ",'tool_choice':'auto'")) {
            HttpResponse<String> auto = server.post("/v1/chat/completions", USER + tools + choice + ",'max_tokens':2}");
            assertThat(auto.statusCode()).isEqualTo(422);
            JsonNode error = Json.parse(auto.body().getBytes()).get("error");
            assertThat(error.get("param").asText()).isEqualTo("tools");
            assertThat(error.get("message").asText()).contains("cannot decide to call tools").contains("required");
        }
        assertThat(server.post("/v1/chat/completions", USER + tools + ",'tool_choice':'none','max_tokens':2}").statusCode())
                .isEqualTo(200);
    }

    @Test
    void toolsAndResponseFormatAreValidatedAndAccepted() {
        String tools = ",'tools':[{'type':'function','function':{'name':'get_weather','parameters':{'type':'object',"
                + "'properties':{'city':{'type':'string'}}}}}],'parallel_tool_calls':true";
        assertThat(chat(USER + tools + ",'tool_choice':'none','max_tokens':2,'response_format':{'type':'json_object'}}")
                .get("choices")).hasSize(1);
        HttpResponse<String> bad = server.post("/v1/chat/completions", USER + ",'tools':[{'type':'function','function':{'name':'get weather'}}]}");
        assertThat(bad.statusCode()).isEqualTo(422);
        assertThat(bad.body()).contains("\"loc\":[\"body\",\"tools\",0,\"function\",\"name\"]");
    }

    @Test
    void aPredictionDoesNotChangeTheOutput() {
        JsonNode plain = chat(USER + ",'temperature':0,'max_tokens':12}");
        JsonNode predicted = chat(USER + ",'temperature':0,'max_tokens':12,'prediction':{'type':'content','content':'Hello world'}}");
        assertThat(predicted.get("choices").get(0).get("message")).isEqualTo(plain.get("choices").get(0).get("message"));
    }

    @Test
    void guardrailContextAndTheCacheRefreshHeaderAreAccepted() {
        HttpResponse<String> response = server.post("/v1/chat/completions", USER + ",'max_tokens':1,'context':'source text','user':'u-1'}",
                "x-refresh-cache", "true");
        assertThat(response.statusCode()).isEqualTo(200);
    }

    @Test
    void azureChatPathWorksWithApiVersion() {
        HttpResponse<String> response = server.post("/chat/completions?api-version=2024-05-01-preview", USER + ",'max_tokens':2}",
                "azureml-model-deployment", "fake");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(Json.parse(response.body().getBytes()).get("object").asText()).isEqualTo("chat.completion");
    }

    @Test
    void aDisconnectedStreamCancelsGeneration() throws Exception {
        int before = slowEngine.cancellations.get();
        // ignore_eos keeps the slow engine busy for 500 tokens, so only the disconnect can end it early.
        try (var reader = server.openStream("/v1/chat/completions", USER + ",'model':'slow','max_tokens':500,'stream':true,'ignore_eos':true}",
                "extra-parameters", "pass-through")) {
            assertThat(reader.readLine()).startsWith("data: ");
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (slowEngine.cancellations.get() == before && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(slowEngine.cancellations.get()).isGreaterThan(before);
    }
}
