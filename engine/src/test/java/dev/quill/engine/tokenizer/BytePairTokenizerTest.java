package dev.quill.engine.tokenizer;

import static dev.quill.engine.tokenizer.TestVocabularies.CONTROL;
import static dev.quill.engine.tokenizer.TestVocabularies.NORMAL;
import static dev.quill.engine.tokenizer.TestVocabularies.USER_DEFINED;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class BytePairTokenizerTest {
    // Byte-level spelling: 'Ġ' is the space byte. Ids are list positions.
    private static final List<String> TOKENS = List.of(
            "a", "b", "c", "Ġ", "ab", "bc", "abc", "Ġa", "aa", "ca", "<|eot|>", "<think>", "Ċ");
    private static final List<Integer> TYPES = List.of(
            NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, CONTROL, USER_DEFINED, NORMAL);
    private static final List<String> MERGES = List.of("b c", "a b", "a bc", "Ġ a", "a a");

    private static Tokenizer tokenizer(String pre) {
        return Tokenizers.fromMetadata(TestVocabularies.bpe(pre, TOKENS, TYPES, MERGES));
    }

    private static int id(String piece) {
        return TOKENS.indexOf(piece);
    }

    @Test
    void appliesTheLowestRankedRuleFirst() {
        Tokenizer t = tokenizer("qwen2");
        // "b c" (rank 0) before "a b" (rank 1), then "a bc" (rank 2).
        assertThat(t.encode("abc", false, false)).containsExactly(id("abc"));
        // " ab": "a b" (rank 1) wins over "Ġ a" (rank 3), leaving no rule for "Ġ" + "ab".
        assertThat(t.encode(" ab", false, false)).containsExactly(id("Ġ"), id("ab"));
    }

    @Test
    void equalRanksMergeLeftmostFirst() {
        assertThat(tokenizer("qwen2").encode("aaa", false, false)).containsExactly(id("aa"), id("a"));
    }

    @Test
    void mergesOnlyWithinPreTokenizerWords() {
        // "ab ab" is two words, "ab" and " ab".
        assertThat(tokenizer("qwen2").encode("ab ab", false, false)).containsExactly(id("ab"), id("Ġ"), id("ab"));
    }

    @Test
    void llama3TakesAWordThatIsATokenWhole() {
        // No rule makes "ca", but the word is a token: Llama 3's ignore_merges takes it as is.
        assertThat(tokenizer("qwen2").encode("ca", false, false)).containsExactly(id("c"), id("a"));
        assertThat(tokenizer("llama-bpe").encode("ca", false, false)).containsExactly(id("ca"));
    }

    @Test
    void dropsBytesTheVocabularyCannotSpell() {
        assertThat(tokenizer("qwen2").encode("azb", false, false)).containsExactly(id("a"), id("b"));
    }

    @Test
    void recognisesControlTokensOnlyWhenAskedAndUserDefinedOnesAlways() {
        Tokenizer t = tokenizer("qwen2");
        assertThat(t.encode("a<|eot|>", false, true)).containsExactly(id("a"), id("<|eot|>"));
        assertThat(t.encode("a<|eot|>", false, false)).doesNotContain(id("<|eot|>"));
        assertThat(t.encode("a<think>b", false, false)).containsExactly(id("a"), id("<think>"), id("b"));
    }

    @Test
    void encodesTheSameWordTheSameWayEveryTime() {
        Tokenizer t = tokenizer("qwen2");
        int[] first = t.encode("abc abc abc", false, false);
        assertThat(t.encode("abc abc abc", false, false)).isEqualTo(first);
    }

    @Test
    void decodesTheByteLevelSpelling() {
        Tokenizer t = tokenizer("qwen2");
        assertThat(t.tokenBytes(id("Ġa"))).isEqualTo(" a".getBytes(StandardCharsets.UTF_8));
        assertThat(t.tokenBytes(id("Ċ"))).containsExactly((byte) '\n');
        assertThat(t.decode(new int[] {id("ab"), id("Ġa"), id("<|eot|>"), id("Ċ")})).isEqualTo("ab a<|eot|>\n");
        assertThat(t.decode(new int[0])).isEmpty();
    }

    @Test
    void encodesTheEmptyStringToNothing() {
        assertThat(tokenizer("qwen2").encode("", true, true)).isEmpty();
    }
}
