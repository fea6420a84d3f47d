package dev.quill.server.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quill.engine.GenerationRequest;
import dev.quill.server.protocol.Json;
import java.io.BufferedReader;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** {@code /v1/completions} over HTTP against fake engines whose output is predictable. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CompletionServiceTest {

    private FakeEngine engine;
    private FakeEngine fimEngine;
    private FakeEngine smallEngine;
    private FakeEngine slowEngine;
    private TestServer server;

    @BeforeAll
    void start() {
        engine = new FakeEngine();
        fimEngine = new FakeEngine(new FakeTokenizer(true), 4096, Duration.ZERO);
        smallEngine = new FakeEngine(new FakeTokenizer(false), 16, Duration.ZERO);
        slowEngine = new FakeEngine(new FakeTokenizer(false), 4096, Duration.ofMillis(25));
        List<ServerConfig.DeploymentConfig> deployments = List.of(
                ServerConfig.DeploymentConfig.of("fake", Path.of("f.gguf")),
                ServerConfig.DeploymentConfig.of("fim", Path.of("fim.gguf")),
                ServerConfig.DeploymentConfig.of("small", Path.of("s.gguf")),
                ServerConfig.DeploymentConfig.of("slow", Path.of("slow.gguf")));
        server = new TestServer(new ServerConfig("127.0.0.1", 0, 0, ServerConfig.DEFAULT_MAX_BODY_BYTES, List.of(), deployments),
                List.of(engine, fimEngine, smallEngine, slowEngine));
    }

    @AfterAll
    void stop() {
        server.close();
    }

    /** The engine requests a call made (in submission order). */
    private List<GenerationRequest> requestsOf(FakeEngine e, Runnable call) {
        int before = e.requests.size();
        call.run();
        return new ArrayList<>(e.requests.subList(before, e.requests.size()));
    }

    private JsonNode ok(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return Json.parse(response.body().getBytes());
    }

    private JsonNode complete(String body, String... headers) {
        return ok(server.post("/v1/completions", body, headers));
    }

    private static String expectedBeforeStop(String text, String stop) {
        int at = text.indexOf(stop);
        return at < 0 ? text : text.substring(0, at);
    }

    @Test
    void returnsTheOpenAiShape() {
        JsonNode[] response = new JsonNode[1];
        List<GenerationRequest> sent = requestsOf(engine, () -> response[0] = complete("{'prompt':'Say hi','temperature':0}"));
        JsonNode r = response[0];
        assertThat(r.get("id").asText()).startsWith("cmpl-");
        assertThat(r.get("object").asText()).isEqualTo("text_completion");
        assertThat(r.get("created").asLong()).isPositive();
        assertThat(r.get("model").asText()).isEqualTo("fake");
        assertThat(r.get("system_fingerprint").asText()).isEqualTo("fp_fake_1");
        JsonNode choice = r.get("choices").get(0);
        assertThat(choice.get("index").asInt()).isZero();
        assertThat(choice.get("text").asText()).isEqualTo(engine.recite(sent.getFirst()));
        assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");
        assertThat(choice.get("logprobs").isNull()).isTrue();
        assertThat(choice.has("stop_reason")).isTrue();
        JsonNode usage = r.get("usage");
        assertThat(usage.get("prompt_tokens").asInt()).isEqualTo(sent.getFirst().prompt().length);
        assertThat(usage.get("total_tokens").asInt())
                .isEqualTo(usage.get("prompt_tokens").asInt() + usage.get("completion_tokens").asInt());
        // The text tokens plus the end-of-sequence token.
        int textTokens = new FakeTokenizer(false).encode(choice.get("text").asText(), false, false).length;
        assertThat(usage.get("completion_tokens").asInt()).isEqualTo(textTokens + 1);
        // The prompt was tokenized with BOS and every request setting reached the engine.
        assertThat(sent.getFirst().prompt()[0]).isEqualTo(FakeTokenizer.BOS);
        assertThat(sent.getFirst().maxTokens()).isEqualTo(256);
        assertThat(sent.getFirst().logprobs()).isEqualTo(-1);
    }

    @Test
    void passesSamplingSettingsToTheEngine() {
        List<GenerationRequest> sent = requestsOf(engine, () -> complete("{'prompt':'x','max_tokens':2,'temperature':0.7,"
                + "'top_p':0.9,'top_k':40,'frequency_penalty':0.5,'presence_penalty':-0.5,'seed':42,'logit_bias':{'7':-100}}"));
        var s = sent.getFirst().sampling();
        assertThat(s.temperature()).isEqualTo(0.7);
        assertThat(s.topP()).isEqualTo(0.9);
        assertThat(s.topK()).isEqualTo(40);
        assertThat(s.frequencyPenalty()).isEqualTo(0.5);
        assertThat(s.presencePenalty()).isEqualTo(-0.5);
        assertThat(s.seed()).isEqualTo(42L);
        assertThat(s.logitBias()).containsEntry(7, -100.0);
        assertThat(sent.getFirst().maxTokens()).isEqualTo(2);

        List<GenerationRequest> passed = requestsOf(engine, () -> complete("{'prompt':'x','max_tokens':2,'min_p':0.2,"
                + "'repetition_penalty':1.3,'ignore_eos':true,'stop_token_ids':[9],'cache_prompt':false}",
                "extra-parameters", "pass-through"));
        GenerationRequest g = passed.getFirst();
        assertThat(g.sampling().minP()).isEqualTo(0.2);
        assertThat(g.sampling().repetitionPenalty()).isEqualTo(1.3);
        assertThat(g.ignoreEos()).isTrue();
        assertThat(g.stopTokenIds()).containsExactly(9);
        assertThat(g.reuseCachedPrefix()).isFalse();
        assertThat(sent.getFirst().reuseCachedPrefix()).as("the default").isTrue();
    }

    @Test
    void maxTokensEndsWithLength() {
        JsonNode r = complete("{'prompt':'x','max_tokens':4,'temperature':0}");
        JsonNode choice = r.get("choices").get(0);
        assertThat(choice.get("finish_reason").asText()).isEqualTo("length");
        assertThat(choice.get("stop_reason").isNull()).isTrue();
        assertThat(r.get("usage").get("completion_tokens").asInt()).isEqualTo(4);
    }

    @Test
    void streamingReturnsExactlyWhatNonStreamingReturns() {
        String body = "{'prompt':['alpha','beta'],'n':2,'temperature':0.9,'seed':7,'max_tokens':40,'logprobs':2,'stop':['lazy','ck b']";
        JsonNode whole = complete(body + "}");
        TestServer.Stream stream = server.stream("/v1/completions", body + ",'stream':true}");
        assertThat(stream.status()).isEqualTo(200);
        assertThat(stream.response().headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/event-stream"));
        assertThat(stream.done()).isTrue();
        for (int index = 0; index < 4; index++) {
            StringBuilder text = new StringBuilder();
            List<String> tokens = new ArrayList<>();
            List<Double> logprobs = new ArrayList<>();
            List<Integer> offsets = new ArrayList<>();
            String finish = null;
            String stopReason = null;
            for (JsonNode event : stream.events()) {
                assertThat(event.get("object").asText()).isEqualTo("text_completion");
                assertThat(event.get("id").asText()).isEqualTo(stream.events().getFirst().get("id").asText());
                JsonNode choice = event.get("choices").get(0);
                if (choice.get("index").asInt() != index) continue;
                text.append(choice.get("text").asText());
                if (!choice.get("logprobs").isNull()) {
                    choice.get("logprobs").get("tokens").forEach(t -> tokens.add(t.asText()));
                    choice.get("logprobs").get("token_logprobs").forEach(t -> logprobs.add(t.asDouble()));
                    choice.get("logprobs").get("text_offset").forEach(t -> offsets.add(t.asInt()));
                }
                if (!choice.get("finish_reason").isNull()) {
                    finish = choice.get("finish_reason").asText();
                    stopReason = choice.get("stop_reason").isNull() ? null : choice.get("stop_reason").asText();
                }
            }
            JsonNode expected = whole.get("choices").get(index);
            assertThat(text.toString()).isEqualTo(expected.get("text").asText());
            assertThat(finish).isEqualTo(expected.get("finish_reason").asText());
            assertThat(stopReason).isEqualTo(expected.get("stop_reason").isNull() ? null : expected.get("stop_reason").asText());
            List<String> expectedTokens = new ArrayList<>();
            expected.get("logprobs").get("tokens").forEach(t -> expectedTokens.add(t.asText()));
            assertThat(tokens).isEqualTo(expectedTokens);
            List<Double> expectedLogprobs = new ArrayList<>();
            expected.get("logprobs").get("token_logprobs").forEach(t -> expectedLogprobs.add(t.asDouble()));
            assertThat(logprobs).isEqualTo(expectedLogprobs);
            List<Integer> expectedOffsets = new ArrayList<>();
            expected.get("logprobs").get("text_offset").forEach(t -> expectedOffsets.add(t.asInt()));
            assertThat(offsets).isEqualTo(expectedOffsets);
        }
    }

    @Test
    void stopStringsSplitAcrossTokensAreCutAndNeverStreamed() {
        // "brown" is b·r·ow·n in the fake vocabulary: "rown" spans three tokens and ends inside one.
        for (String stop : List.of("rown", "o", "ck brown f", "lazy dog.")) {
            String body = "{'prompt':'x','temperature':0,'stop':'" + stop + "'";
            JsonNode[] whole = new JsonNode[1];
            List<GenerationRequest> sent = requestsOf(engine, () -> whole[0] = complete(body + "}"));
            String full = engine.recite(sent.getFirst());
            JsonNode choice = whole[0].get("choices").get(0);
            assertThat(choice.get("text").asText()).as(stop).isEqualTo(expectedBeforeStop(full, stop));
            if (full.contains(stop)) {
                assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");
                assertThat(choice.get("stop_reason").asText()).isEqualTo(stop);
            }
            TestServer.Stream stream = server.stream("/v1/completions", body + ",'stream':true}");
            StringBuilder streamed = new StringBuilder();
            for (JsonNode event : stream.events()) {
                JsonNode streamedChoice = event.get("choices").get(0);
                String piece = streamedChoice.get("text").asText();
                // Without logprobs a chunk says something: text, or the end.
                assertThat(!piece.isEmpty() || streamedChoice.hasNonNull("finish_reason")).as("empty chunk for %s", stop).isTrue();
                streamed.append(piece);
                // No part of the stop string ever leaves the server, even transiently.
                assertThat(streamed.toString()).as(stop).isEqualTo(expectedBeforeStop(full, stop).substring(0, streamed.length()));
            }
            assertThat(streamed.toString()).isEqualTo(choice.get("text").asText());
        }
    }

    @Test
    void aPartialStopMatchThatFailsIsReleased() {
        JsonNode[] whole = new JsonNode[1];
        List<GenerationRequest> sent = requestsOf(engine, () -> whole[0] = complete("{'prompt':'x','temperature':0,'stop':['quiet','brown cat']}"));
        assertThat(whole[0].get("choices").get(0).get("text").asText()).isEqualTo(engine.recite(sent.getFirst()));
    }

    @Test
    void keepsTheStopStringWhenAsked() {
        JsonNode[] whole = new JsonNode[1];
        List<GenerationRequest> sent = requestsOf(engine, () -> whole[0] = complete(
                "{'prompt':'x','temperature':0,'stop':'fox','include_stop_str_in_output':true}", "extra-parameters", "pass-through"));
        String full = engine.recite(sent.getFirst());
        assertThat(whole[0].get("choices").get(0).get("text").asText()).isEqualTo(expectedBeforeStop(full, "fox") + "fox");
    }

    @Test
    void stopTokenIdsEndWithTheTokenAsStopReason() {
        int space = new FakeTokenizer(false).tokenId(" ");
        JsonNode[] whole = new JsonNode[1];
        List<GenerationRequest> sent = requestsOf(engine, () -> whole[0] = complete(
                "{'prompt':'x','temperature':0,'stop_token_ids':[" + space + "]}", "extra-parameters", "pass-through"));
        JsonNode choice = whole[0].get("choices").get(0);
        assertThat(choice.get("text").asText()).isEqualTo(expectedBeforeStop(engine.recite(sent.getFirst()), " "));
        assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");
        assertThat(choice.get("stop_reason").asInt()).isEqualTo(space);
    }

    @Test
    void choicesAreIndexedPromptMajor() {
        JsonNode[] whole = new JsonNode[1];
        List<GenerationRequest> sent = requestsOf(engine, () -> whole[0] = complete(
                "{'prompt':['first prompt','second','third'],'n':2,'temperature':1,'seed':3}"));
        assertThat(sent).hasSize(6);
        JsonNode choices = whole[0].get("choices");
        assertThat(choices).hasSize(6);
        for (int k = 0; k < 6; k++) {
            assertThat(choices.get(k).get("index").asInt()).isEqualTo(k);
            // Choice k is prompt k / n, candidate k % n (whose seed is seed + candidate).
            GenerationRequest g = sent.get(k);
            assertThat(g.sampling().seed()).isEqualTo(3L + k % 2);
            assertThat(choices.get(k).get("text").asText()).isEqualTo(engine.recite(g));
        }
        assertThat(sent.get(4).prompt()).containsExactly(new FakeTokenizer(false).encode("third", true, true));
        // Prompt tokens count once per prompt, completion tokens for every choice.
        int promptTokens = sent.get(0).prompt().length + sent.get(2).prompt().length + sent.get(4).prompt().length;
        assertThat(whole[0].get("usage").get("prompt_tokens").asInt()).isEqualTo(promptTokens);
    }

    @Test
    void logprobsHaveTheOpenAiShape() {
        JsonNode[] whole = new JsonNode[1];
        List<GenerationRequest> sent = requestsOf(engine, () -> whole[0] = complete("{'prompt':'x','temperature':0,'max_tokens':6,'logprobs':2}"));
        assertThat(sent.getFirst().logprobs()).isEqualTo(2);
        JsonNode choice = whole[0].get("choices").get(0);
        String text = choice.get("text").asText();
        JsonNode lp = choice.get("logprobs");
        assertThat(lp.get("tokens")).hasSize(6);
        int promptLength = sent.getFirst().prompt().length;
        for (int k = 0; k < 6; k++) {
            String token = lp.get("tokens").get(k).asText();
            int offset = lp.get("text_offset").get(k).asInt();
            assertThat(text.substring(offset)).startsWith(token);
            int id = new FakeTokenizer(false).tokenId(token);
            assertThat(lp.get("token_logprobs").get(k).floatValue()).isEqualTo(FakeEngine.logprob(promptLength + k, id));
            JsonNode top = lp.get("top_logprobs").get(k);
            assertThat(top.size()).isBetween(2, 3);
            assertThat(top.has(token)).isTrue();
        }
    }

    @Test
    void echoWithLogprobsScoresThePromptAndTheFirstTokenHasNone() {
        JsonNode[] whole = new JsonNode[1];
        List<GenerationRequest> sent = requestsOf(engine, () -> whole[0] = complete(
                "{'prompt':'abc','temperature':0,'max_tokens':2,'echo':true,'logprobs':1}"));
        assertThat(sent.getFirst().promptLogprobs()).isTrue();
        JsonNode choice = whole[0].get("choices").get(0);
        assertThat(choice.get("text").asText()).isEqualTo("abc" + engine.recite(sent.getFirst()));
        JsonNode lp = choice.get("logprobs");
        assertThat(lp.get("tokens").get(0).asText()).isEqualTo("<s>");
        assertThat(lp.get("token_logprobs").get(0).isNull()).isTrue();
        assertThat(lp.get("top_logprobs").get(0).isNull()).isTrue();
        assertThat(lp.get("tokens").get(1).asText()).isEqualTo("a");
        assertThat(lp.get("token_logprobs").get(1).floatValue()).isEqualTo(FakeEngine.logprob(1, new FakeTokenizer(false).tokenId("a")));
        assertThat(lp.get("tokens")).hasSize(4 + 2);
        assertThat(lp.get("text_offset").toString()).startsWith("[0,0,1,2,3,");
    }

    @Test
    void maxTokensZeroWithEchoReturnsOnlyThePromptAndItsLogprobs() {
        JsonNode r = complete("{'prompt':'The cat','max_tokens':0,'echo':true,'logprobs':0}");
        JsonNode choice = r.get("choices").get(0);
        assertThat(choice.get("text").asText()).isEqualTo("The cat");
        assertThat(choice.get("finish_reason").asText()).isEqualTo("length");
        assertThat(choice.get("logprobs").get("tokens")).hasSize(1 + new FakeTokenizer(false).encode("The cat", false, false).length);
        assertThat(r.get("usage").get("completion_tokens").asInt()).isZero();

        TestServer.Stream stream = server.stream("/v1/completions", "{'prompt':'The cat','max_tokens':0,'echo':true,'logprobs':0,'stream':true}");
        assertThat(stream.events().getFirst().get("choices").get(0).get("text").asText()).isEqualTo("The cat");
        assertThat(stream.events().getFirst().get("choices").get(0).get("logprobs").get("token_logprobs").get(0).isNull()).isTrue();
    }

    @Test
    void echoWithoutLogprobsAlsoStreamsThePromptFirst() {
        TestServer.Stream stream = server.stream("/v1/completions", "{'prompt':'Hey','max_tokens':3,'echo':true,'temperature':0,'stream':true}");
        assertThat(stream.events().getFirst().get("choices").get(0).get("text").asText()).isEqualTo("Hey");
        JsonNode whole = complete("{'prompt':'Hey','max_tokens':3,'echo':true,'temperature':0}");
        StringBuilder text = new StringBuilder();
        stream.events().forEach(e -> text.append(e.get("choices").get(0).get("text").asText()));
        assertThat(text.toString()).isEqualTo(whole.get("choices").get(0).get("text").asText());
    }

    @Test
    void bestOfReturnsTheCandidateWithTheHighestMeanLogprob() {
        JsonNode[] whole = new JsonNode[1];
        List<GenerationRequest> sent = requestsOf(engine, () -> whole[0] = complete("{'prompt':'pick','best_of':4,'n':1,'temperature':1,'seed':11}"));
        assertThat(sent).hasSize(4);
        assertThat(sent.getFirst().logprobs()).isZero(); // ranking needs the logprobs even though the client did not ask
        double bestMean = Double.NEGATIVE_INFINITY;
        String bestText = null;
        int completionTokens = 0;
        for (int seed = 11; seed < 15; seed++) {
            JsonNode single = complete("{'prompt':'pick','temperature':1,'seed':" + seed + ",'logprobs':0}");
            JsonNode lps = single.get("choices").get(0).get("logprobs").get("token_logprobs");
            double sum = 0;
            for (JsonNode lp : lps) sum += lp.asDouble();
            int scored = lps.size();
            if (single.get("choices").get(0).get("finish_reason").asText().equals("stop")) {
                // The end-of-generation token is part of the candidate too, though not shown among its tokens.
                int promptTokens = single.get("usage").get("prompt_tokens").asInt();
                sum += FakeEngine.logprob(promptTokens + lps.size(), FakeTokenizer.EOS);
                scored++;
            }
            double mean = sum / scored;
            if (mean > bestMean) {
                bestMean = mean;
                bestText = single.get("choices").get(0).get("text").asText();
            }
            completionTokens += single.get("usage").get("completion_tokens").asInt();
        }
        assertThat(whole[0].get("choices")).hasSize(1);
        assertThat(whole[0].get("choices").get(0).get("text").asText()).isEqualTo(bestText);
        assertThat(whole[0].get("choices").get(0).get("logprobs").isNull()).isTrue();
        assertThat(whole[0].get("usage").get("completion_tokens").asInt()).isEqualTo(completionTokens);
    }

    @Test
    void streamOptionsIncludeUsageAddsAFinalChunkWithoutChoices() {
        TestServer.Stream stream = server.stream("/v1/completions",
                "{'prompt':'x','max_tokens':5,'temperature':0,'n':2,'stream':true,'stream_options':{'include_usage':true}}");
        JsonNode last = stream.events().getLast();
        assertThat(last.get("choices")).isEmpty();
        JsonNode whole = complete("{'prompt':'x','max_tokens':5,'temperature':0,'n':2}");
        assertThat(last.get("usage")).isEqualTo(whole.get("usage"));
        // As OpenAI streams it: every other chunk says "usage": null.
        assertThat(stream.events().subList(0, stream.events().size() - 1)).allSatisfy(e -> assertThat(e.get("usage").isNull()).isTrue());
        TestServer.Stream plain = server.stream("/v1/completions", "{'prompt':'x','max_tokens':5,'temperature':0,'stream':true}");
        assertThat(plain.events()).allSatisfy(e -> assertThat(e.has("usage")).isFalse());
    }

    @Test
    void theFireworksVariantPutsUsageOnTheLastContentChunk() {
        TestServer.Stream stream = server.stream("/v1/completions",
                "{'prompt':'x','max_tokens':5,'temperature':0,'stream':true,'usage_in_last_chunk':true}", "extra-parameters", "pass-through");
        JsonNode last = stream.events().getLast();
        assertThat(last.get("choices").get(0).get("finish_reason").asText()).isEqualTo("length");
        assertThat(last.get("usage").get("completion_tokens").asInt()).isEqualTo(5);
    }

    @Test
    void noPromptGeneratesFromTheStartOfADocument() {
        List<GenerationRequest> sent = requestsOf(engine, () -> complete("{'max_tokens':2}"));
        assertThat(sent.getFirst().prompt()).containsExactly(FakeTokenizer.BOS);
    }

    @Test
    void suffixNeedsFillInTheMiddleTokens() {
        HttpResponse<String> refused = server.post("/v1/completions", "{'prompt':'def f(','suffix':'return x'}");
        assertThat(refused.statusCode()).isEqualTo(422);
        assertThat(refused.body()).contains("\"loc\":[\"body\",\"suffix\"]");

        FakeTokenizer fim = new FakeTokenizer(true);
        List<GenerationRequest> sent = requestsOf(fimEngine, () -> complete("{'model':'fim','prompt':'ab','suffix':'cd','max_tokens':2}"));
        int[] expected = {FakeTokenizer.BOS, fim.tokenId("<|fim_prefix|>"), fim.tokenId("a"), fim.tokenId("b"),
                fim.tokenId("<|fim_suffix|>"), fim.tokenId("c"), fim.tokenId("d"), fim.tokenId("<|fim_middle|>")};
        assertThat(sent.getFirst().prompt()).containsExactly(expected);
    }

    @Test
    void aTextModelRefusesImagesAndAudio() {
        assertThat(server.post("/v1/completions", "{'prompt':'<image>','images':['data:image/png;base64,AA']}").body())
                .contains("\"loc\":[\"body\",\"images\",0]");
        HttpResponse<String> audio = server.post("/v1/completions", "{'prompt':'x','modalities':['text','audio']}");
        assertThat(audio.statusCode()).isEqualTo(422);
        assertThat(audio.body()).contains("\"loc\":[\"body\",\"modalities\",1]");
        assertThat(server.post("/v1/completions", "{'prompt':'x','audio':{'voice':'alloy','format':'wav'}}").statusCode()).isEqualTo(422);
        assertThat(server.post("/v1/completions", "{'prompt':'x','max_tokens':1,'modalities':['text']}").statusCode()).isEqualTo(200);
    }

    @Test
    void tokenIdsMustBeInTheVocabulary() {
        HttpResponse<String> prompt = server.post("/v1/completions", "{'prompt':[[1,2],[3,99999]]}");
        assertThat(prompt.statusCode()).isEqualTo(422);
        assertThat(prompt.body()).contains("\"loc\":[\"body\",\"prompt\",1,1]").contains("\"value\":99999");
        HttpResponse<String> bias = server.post("/v1/completions", "{'prompt':'x','logit_bias':{'99999':1}}");
        assertThat(bias.statusCode()).isEqualTo(422);
        assertThat(bias.body()).contains("\"loc\":[\"body\",\"logit_bias\",\"99999\"]");
    }

    @Test
    void anExplicitMaxTokensBeyondTheContextFailsUnlessTruncationIsAsked() {
        // "small" holds 16 tokens; "hello" is BOS + h·e·l·l·o... = 5 tokens with the "he" pair.
        HttpResponse<String> error = server.post("/v1/completions", "{'model':'small','prompt':'hello','max_tokens':100}");
        assertThat(error.statusCode()).isEqualTo(400);
        JsonNode e = Json.parse(error.body().getBytes()).get("error");
        assertThat(e.get("code").asText()).isEqualTo("context_length_exceeded");
        assertThat(e.get("param").asText()).isEqualTo("max_tokens");
        HttpResponse<String> named = server.post("/v1/completions",
                "{'model':'small','prompt':'hello','max_completion_tokens':100,'context_length_exceeded_behavior':'error'}");
        assertThat(named.statusCode()).isEqualTo(400);
        assertThat(Json.parse(named.body().getBytes()).get("error").get("param").asText()).isEqualTo("max_completion_tokens");
        assertThat(named.body()).contains("plus max_completion_tokens (100)");

        List<GenerationRequest> sent = requestsOf(smallEngine, () -> complete(
                "{'model':'small','prompt':'hello','max_tokens':100,'context_length_exceeded_behavior':'truncate'}"));
        assertThat(sent.getFirst().maxTokens()).isEqualTo(16 - sent.getFirst().prompt().length);
        // The endpoint's default (256) is lowered to fit whatever the behaviour: the client did not ask for it.
        sent = requestsOf(smallEngine, () -> complete("{'model':'small','prompt':'hello','context_length_exceeded_behavior':'error'}"));
        assertThat(sent.getFirst().maxTokens()).isEqualTo(16 - sent.getFirst().prompt().length);
        HttpResponse<String> tooLong = server.post("/v1/completions", "{'model':'small','prompt':'" + "z".repeat(40) + "'}");
        assertThat(tooLong.statusCode()).isEqualTo(400);
        assertThat(tooLong.body()).contains("context_length_exceeded");
    }

    @Test
    void toolsOnARawPromptAreReportedAsIgnored() {
        HttpResponse<String> response = server.post("/v1/completions",
                "{'prompt':'x','max_tokens':1,'tools':[{'type':'function','function':{'name':'f'}}]}");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("x-quill-ignored-params")).hasValue("tools");
    }

    @Test
    void aFullEngineQueueIs429WithItsRetryAfter() {
        engine.queueFull = true;
        try {
            HttpResponse<String> response = server.post("/v1/completions", "{'prompt':'x','max_tokens':1}");
            assertThat(response.statusCode()).isEqualTo(429);
            assertThat(response.headers().firstValue("retry-after")).hasValue("3");
            assertThat(response.body()).contains("TooManyRequestsError");
        } finally {
            engine.queueFull = false;
        }
    }

    @Test
    void aTimeoutStopsGenerationAndFailsTheRequest() {
        int cancelsBefore = slowEngine.cancellations.get();
        HttpResponse<String> response = server.post("/v1/completions", "{'model':'slow','prompt':'x','max_tokens':200,'timeout':0.1}");
        assertThat(response.statusCode()).isEqualTo(408);
        assertThat(response.body()).contains("\"code\":\"timeout\"");
        assertThat(slowEngine.cancellations.get()).isGreaterThan(cancelsBefore);

        TestServer.Stream stream = server.stream("/v1/completions",
                "{'model':'slow','prompt':'x','max_tokens':200,'timeout':0.1,'stream':true}");
        assertThat(stream.done()).isTrue();
        assertThat(stream.events().getLast().get("error").get("code").asText()).isEqualTo("timeout");
    }

    @Test
    void aClientThatDisconnectsCancelsItsGeneration() throws Exception {
        int cancelsBefore = slowEngine.cancellations.get();
        try (BufferedReader reader = server.openStream("/v1/completions",
                "{'model':'slow','prompt':'x','max_tokens':500,'temperature':0,'stream':true,'ignore_eos':true}",
                "extra-parameters", "pass-through")) {
            assertThat(reader.readLine()).startsWith("data: ");
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (slowEngine.cancellations.get() == cancelsBefore && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(slowEngine.cancellations.get()).isGreaterThan(cancelsBefore);
    }
}
