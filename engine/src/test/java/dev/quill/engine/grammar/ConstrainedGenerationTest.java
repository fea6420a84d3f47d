package dev.quill.engine.grammar;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quill.engine.Engine;
import dev.quill.engine.EngineOptions;
import dev.quill.engine.Engines;
import dev.quill.engine.FinishReason;
import dev.quill.engine.GeneratedToken;
import dev.quill.engine.GenerationListener;
import dev.quill.engine.GenerationRequest;
import dev.quill.engine.TokenLogprob;
import dev.quill.engine.sampling.SamplingParams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Grammar-constrained generation through the engine with the built-in model (quill-tiny, trained on the King James
 * Bible, with no idea what JSON is) at temperature 1: the outputs must still validate and finish.
 */
class ConstrainedGenerationTest {

    private static final Path MODEL = Path.of("..", "models", "quill-tiny.gguf");
    private static Engine engine;

    @BeforeAll
    static void load() {
        engine = Engines.load(MODEL, EngineOptions.defaults().withThreads(2).withMaxSequences(16).withKvCacheBytes(64L << 20));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    /** One sequence's output. */
    record Output(String text, FinishReason reason, List<GeneratedToken> tokens) {}

    private static final class Collector implements GenerationListener {
        final StringBuilder text = new StringBuilder();
        final List<GeneratedToken> tokens = new ArrayList<>();
        final CompletableFuture<Output> done = new CompletableFuture<>();

        @Override
        public void onToken(GeneratedToken token) {
            tokens.add(token);
            text.append(token.text());
        }

        @Override
        public void onFinish(FinishReason reason, int stopTokenId, float stopTokenLogprob, int promptTokens, int generatedTokens,
                             int cachedPromptTokens) {
            done.complete(new Output(text.toString(), reason, List.copyOf(tokens)));
        }

        @Override
        public void onError(Throwable error) {
            done.completeExceptionally(error);
        }
    }

    static List<Output> generate(String instruction, Grammar grammar, int n, long seed, int maxTokens, int logprobs) {
        String chat = "<|im_start|>user\n" + instruction + "<|im_end|>\n<|im_start|>assistant\n";
        int[] prompt = engine.tokenizer().encode(chat, true, true);
        SamplingParams sampling = new SamplingParams(1.0, 1.0, 0, 0.0, 0.0, 0.0, 1.0, Map.of(), seed);
        GenerationRequest request = new GenerationRequest(prompt, sampling, maxTokens, logprobs, false, Set.of(), false)
                .withGrammar(grammar);
        List<Collector> collectors = new ArrayList<>();
        for (int i = 0; i < n; i++) collectors.add(new Collector());
        engine.submit(request, List.copyOf(collectors));
        return collectors.stream().map(c -> {
            try {
                return c.done.get(120, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).toList();
    }

    static final List<String> SCHEMAS = List.of(
            """
            {"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0,"maximum":120},
             "city":{"type":"string"}},"required":["name","age","city"]}""",
            """
            {"type":"object","properties":{"verses":{"type":"array","items":{"type":"object","properties":{
             "book":{"enum":["Genesis","Exodus","Psalms","John"]},"chapter":{"type":"integer","minimum":1},
             "text":{"type":"string"}},"required":["book","chapter","text"]}}},"required":["verses"]}""",
            """
            {"type":"object","properties":{"answer":{"type":"string"},"confidence":{"type":"number","minimum":0,"maximum":1},
             "tags":{"type":"array","items":{"type":"string"}},"date":{"type":"string","format":"date"}},
             "required":["answer","confidence","tags"],"additionalProperties":false}""",
            """
            {"type":"object","properties":{"name":{"const":"lookup"},"arguments":{"type":"object",
             "properties":{"query":{"type":"string"},"limit":{"type":["integer","null"]}},"required":["query"]}},
             "required":["name","arguments"]}""",
            """
            {"type":"object"}""");

    @Test
    void schemaConstrainedGenerationsFinishAndValidate() {
        int stopped = 0, total = 0;
        List<String> failures = new ArrayList<>();
        for (int k = 0; k < SCHEMAS.size(); k++) {
            String schema = SCHEMAS.get(k);
            Grammar grammar = Grammars.jsonSchema(JsonSchemaCompilerTest.json(schema));
            for (Output out : generate("Answer in JSON: who was the first king of Israel?", grammar, 8, 100 + k, 300, -1)) {
                total++;
                if (out.reason() == FinishReason.STOP) stopped++;
                List<String> errors = JsonSchemaCompilerTest.errors(schema, out.text());
                if (!errors.isEmpty()) failures.add(out.text() + " " + errors);
            }
        }
        System.out.printf("quill-tiny, temperature 1, max_tokens 300: %d of %d schema-constrained generations stopped%n", stopped, total);
        assertThat(failures).isEmpty();
        assertThat((double) stopped / total).isGreaterThanOrEqualTo(0.975);
    }

    @Test
    void choicesAndRegexes() {
        for (Output out : generate("Yes or no?", Grammars.choice(List.of("yes", "no", "it is written")), 4, 7, 50, -1)) {
            assertThat(out.reason()).isEqualTo(FinishReason.STOP);
            assertThat(out.text()).isIn("yes", "no", "it is written");
        }
        for (Output out : generate("A phone number?", Grammars.regex("\\(\\d{3}\\) \\d{3}-\\d{4}"), 4, 8, 50, -1)) {
            assertThat(out.reason()).isEqualTo(FinishReason.STOP);
            assertThat(out.text()).matches("\\(\\d{3}\\) \\d{3}-\\d{4}");
        }
    }

    @Test
    void logprobsDescribeTheConstrainedDistribution() {
        Grammar grammar = Grammars.gbnf("root ::= (\"In the beginning\" | \"And\") [ a-z]{1,12} \".\"");
        GrammarMatcher check = grammar.matcher(engine.tokenizer());
        for (Output out : generate("Begin a verse.", grammar, 2, 9, 40, 5)) {
            for (GeneratedToken token : out.tokens()) {
                double total = 0;
                for (TokenLogprob alternative : token.topLogprobs()) {
                    if (alternative.logprob() > Double.NEGATIVE_INFINITY) {
                        GrammarMatcher probe = check.copy();
                        assertThat(probe.acceptToken(alternative.id())).as("alternative %s is allowed", alternative.id()).isTrue();
                    }
                    total += Math.exp(alternative.logprob());
                }
                assertThat(total).isLessThanOrEqualTo(1.0001);
                assertThat(check.acceptToken(token.id())).isTrue();
            }
            check = grammar.matcher(engine.tokenizer());
        }
    }

    @Test
    void aBudgetTooSmallEndsWithLengthAndAValidPrefix() {
        Grammar grammar = Grammars.jsonSchema(JsonSchemaCompilerTest.json(SCHEMAS.get(1)));
        for (Output out : generate("JSON please.", grammar, 2, 11, 4, -1)) {
            assertThat(out.reason()).isEqualTo(FinishReason.LENGTH);
            assertThat(grammar.matcher().acceptString(out.text())).as(out.text()).isTrue();
        }
    }
}
