package dev.quill.engine.grammar;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quill.engine.tokenizer.Tokenizer;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The token mask a matcher computes over its trie equals the brute-force mask (every token tried on a copy of the
 * matcher), on real vocabularies, in many states reached by random walks.
 */
class GrammarMatcherMaskTest {

    static Stream<Arguments> cases() {
        Map<String, Grammar> grammars = Map.of(
                "person schema", Grammars.jsonSchema(JsonSchemaCompilerTest.json("""
                        {"type":"object","properties":{"name":{"type":"string","maxLength":12},
                         "age":{"type":"integer","minimum":0,"maximum":130},
                         "tags":{"type":"array","items":{"enum":["a","bé","c d"]}}},"required":["name"]}""")),
                "any json object", Grammars.anyJsonObject(),
                "unicode gbnf", Grammars.gbnf("root ::= ([α-ωa-z]+ \" \")* [日本語😀]{1,3} \"\\n\"?"),
                "regex", Grammars.regex("(ab|c[0-9]{2,3})+x?"));
        return Stream.of("llama2", "llama3").flatMap(v -> grammars.entrySet().stream()
                .map(e -> Arguments.of(v, e.getKey(), e.getValue())));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("cases")
    void maskEqualsBruteForceAlongRandomWalks(String vocabulary, String name, Grammar grammar) {
        Tokenizer tokenizer = Vocabularies.load(vocabulary);
        Random random = new Random(name.hashCode() * 31L + vocabulary.hashCode());
        BitSet mask = new BitSet();
        for (int walk = 0; walk < 2; walk++) {
            GrammarMatcher m = grammar.matcher(tokenizer);
            for (int step = 0; step < 12; step++) {
                BitSet expected = bruteForce(m, tokenizer, Integer.MAX_VALUE);
                m.fillMaskUncached(mask, Integer.MAX_VALUE);
                assertThat(mask).as("step %d, walked", step).isEqualTo(expected);
                m.fillMask(mask);
                assertThat(mask).as("step %d, remembered", step).isEqualTo(expected);
                int budget = 2 + random.nextInt(6);
                m.fillMask(mask, budget);
                assertThat(mask).as("step %d with %d tokens left", step, budget).isEqualTo(bruteForce(m, tokenizer, budget));
                m.fillMask(mask);
                int token = pickText(mask, tokenizer, random);
                if (token < 0) break;
                assertThat(m.acceptToken(token)).isTrue();
            }
        }
    }

    static Stream<Arguments> chosenStates() {
        String schema = """
                {"type":"object","properties":{"short":{"type":"string","maxLength":6},"long":{"type":"string","maxLength":300},
                 "free":{"type":"string"},"code":{"type":"string","pattern":"^[a-zé]{2,40}$"}},"required":["short","long","free","code"]}""";
        Grammar g = Grammars.jsonSchema(JsonSchemaCompilerTest.json(schema));
        List<byte[]> prefixes = List.of(
                utf8("{\"short\":\""), utf8("{\"short\":\"abcd"), utf8("{\"short\":\"abcdef"), utf8("{\"short\":\"ab日"),
                bytes("{\"short\":\"a", 0xE6), bytes("{\"short\":\"a", 0xE6, 0x97),
                utf8("{\"short\":\"\",\"long\":\""), utf8("{\"short\":\"\",\"long\":\"" + "x".repeat(290)),
                bytes("{\"short\":\"\",\"long\":\"" + "é".repeat(200), 0xC3),
                utf8("{\"short\":\"\",\"long\":\"\",\"free\":\"Grüße "), utf8("{\"short\":\"\",\"long\":\"\",\"free\":\"a\\"),
                utf8("{\"short\":\"\",\"long\":\"\",\"free\":\"\",\"code\":\"éa"));
        return Stream.of("llama2", "llama3").flatMap(v -> prefixes.stream().map(p -> Arguments.of(v, g, p)));
    }

    /** States inside bounded and free strings, next to their ends, and in the middle of a character. */
    @ParameterizedTest(name = "{0}: {2}")
    @MethodSource("chosenStates")
    void maskEqualsBruteForceInChosenStates(String vocabulary, Grammar grammar, byte[] prefix) {
        Tokenizer tokenizer = Vocabularies.load(vocabulary);
        GrammarMatcher m = grammar.matcher(tokenizer);
        assertThat(m.acceptBytes(prefix)).isTrue();
        BitSet mask = new BitSet();
        for (int budget : new int[] {Integer.MAX_VALUE, 40, 3}) {
            m.fillMaskUncached(mask, budget);
            assertThat(mask).as("budget %d", budget).isEqualTo(bruteForce(m, tokenizer, budget));
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String s, int... more) {
        byte[] head = utf8(s);
        byte[] out = java.util.Arrays.copyOf(head, head.length + more.length);
        for (int i = 0; i < more.length; i++) out[head.length + i] = (byte) more[i];
        return out;
    }

    /** Tries every token on a copy: the definition the trie walk must reproduce. */
    static BitSet bruteForce(GrammarMatcher m, Tokenizer tokenizer, int tokensLeft) {
        BitSet valid = new BitSet(), inBudget = new BitSet();
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            if (tokenizer.endOfGenerationIds().contains(id)) continue;
            byte[] bytes = tokenizer.tokenBytes(id);
            if (tokenizer.isSpecial(id) || bytes.length == 0) continue;
            GrammarMatcher copy = m.copy();
            if (!copy.acceptBytes(bytes)) continue;
            valid.set(id);
            if ((long) copy.minBytesToComplete() <= (long) tokensLeft - 1) inBudget.set(id);
        }
        BitSet result = inBudget.isEmpty() && !m.isComplete() ? valid : inBudget;
        if (m.isComplete()) tokenizer.endOfGenerationIds().forEach(result::set);
        return result;
    }

    /** A random allowed token that is not end-of-generation, or -1. */
    static int pickText(BitSet mask, Tokenizer tokenizer, Random random) {
        List<Integer> text = mask.stream().filter(t -> !tokenizer.endOfGenerationIds().contains(t)).boxed().toList();
        return text.isEmpty() ? -1 : text.get(random.nextInt(text.size()));
    }
}
