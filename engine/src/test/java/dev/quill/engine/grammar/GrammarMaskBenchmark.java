package dev.quill.engine.grammar;

import dev.quill.engine.tokenizer.Tokenizer;
import java.util.BitSet;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Token-mask computation on the real Llama 2 (32k) and Llama 3 (128k) vocabularies.
 *
 * <ul>
 *   <li>{@code replay}: a fresh matcher (cold caches, as for a new request) replays a JSON document token by token,
 *       computing the mask before every token with a 300-token budget. Time per operation / {@code steps} (printed
 *       at setup) is the average cost of one decode step's mask.</li>
 *   <li>{@code walkInsideString}: one mask inside a free-text JSON string, where nearly every token is allowed and
 *       nearly the whole trie is walked: the worst common case. {@code maskInsideString} is the same when the
 *       state recurs, as it does after each whole character of a free string, and its mask is remembered.</li>
 *   <li>{@code maskAfterKey}: one mask right after a property name, where the structure prunes almost everything.</li>
 * </ul>
 * Run: {@code mvn -pl engine test-compile} then
 * {@code java --add-modules jdk.incubator.vector -cp <test classpath> org.openjdk.jmh.Main GrammarMaskBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class GrammarMaskBenchmark {

    static final String SCHEMA = """
            {"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0,"maximum":150},
             "email":{"type":"string","format":"email"},"bio":{"type":"string","maxLength":400},
             "tags":{"type":"array","items":{"type":"string"},"maxItems":8},
             "address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"},
              "zip":{"type":"string","pattern":"^[0-9]{5}$"}},"required":["street","city","zip"]},
             "score":{"type":"number","minimum":0,"maximum":1}},
             "required":["name","age","bio","tags","address"]}""";

    static final String DOCUMENT = "{\"name\":\"Ada Lovelace\",\"age\":36,\"email\":\"ada@example.org\",\"bio\":\"English "
            + "mathematician and writer, chiefly known for her work on Charles Babbage's proposed mechanical general-purpose "
            + "computer, the Analytical Engine. She was the first to recognise that the machine had applications beyond pure "
            + "calculation.\",\"tags\":[\"math\",\"computing\",\"poetry\"],\"address\":{\"street\":\"12 St James's Square\","
            + "\"city\":\"London\",\"zip\":\"12345\"},\"score\":0.97}";

    @Param({"llama2", "llama3"})
    public String vocabulary;

    private Tokenizer tokenizer;
    private Grammar grammar;
    private int[] document;
    private final BitSet mask = new BitSet();
    private GrammarMatcher insideString;
    private GrammarMatcher afterKey;

    @Setup(Level.Trial)
    public void setUp() {
        tokenizer = Vocabularies.load(vocabulary);
        grammar = Grammars.jsonSchema(JsonSchemaCompilerTest.json(SCHEMA));
        document = greedyTokens(tokenizer, DOCUMENT);
        GrammarMatcher check = grammar.matcher(tokenizer);
        for (int token : document) {
            if (!check.acceptToken(token)) throw new IllegalStateException("the document does not match the schema");
        }
        if (!check.isComplete()) throw new IllegalStateException("the document is incomplete");
        System.out.printf("%n%s: %d trie nodes, replay = %d steps%n", vocabulary, TokenTrie.of(tokenizer).nodeCount(), document.length);
        insideString = grammar.matcher(tokenizer);
        insideString.acceptString("{\"name\":\"Ada");
        afterKey = grammar.matcher(tokenizer);
        afterKey.acceptString("{\"name\":\"Ada\",\"age\"");
    }

    /** Longest-match tokenization on the tokens' bytes (a SentencePiece encoder would add a leading space). */
    static int[] greedyTokens(Tokenizer tokenizer, String text) {
        java.util.Map<String, Integer> byBytes = new java.util.HashMap<>();
        for (int id = tokenizer.vocabSize() - 1; id >= 0; id--) {
            byte[] b = tokenizer.tokenBytes(id);
            if (!tokenizer.isSpecial(id) && b.length > 0) byBytes.put(new String(b, java.nio.charset.StandardCharsets.ISO_8859_1), id);
        }
        String bytes = new String(text.getBytes(java.nio.charset.StandardCharsets.UTF_8), java.nio.charset.StandardCharsets.ISO_8859_1);
        var out = new IntList();
        for (int at = 0; at < bytes.length(); ) {
            int end = Math.min(bytes.length(), at + 64);
            while (!byBytes.containsKey(bytes.substring(at, end))) end--;
            out.add(byBytes.get(bytes.substring(at, end)));
            at = end;
        }
        return out.toArray();
    }

    @Benchmark
    public int replay() {
        GrammarMatcher m = grammar.matcher(tokenizer);
        int allowed = 0;
        for (int i = 0; i < document.length; i++) {
            m.fillMask(mask, 300 - i);
            allowed += mask.cardinality();
            m.acceptToken(document[i]);
        }
        return allowed;
    }

    @Benchmark
    public BitSet maskInsideString() {
        insideString.fillMask(mask, 300);
        return mask;
    }

    @Benchmark
    public BitSet walkInsideString() {
        insideString.fillMaskUncached(mask, 300);
        return mask;
    }

    @Benchmark
    public BitSet maskAfterKey() {
        afterKey.fillMask(mask, 300);
        return mask;
    }
}
